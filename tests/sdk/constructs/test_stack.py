"""GpuStack: a blueprint whose spec names another region than its stack is refused by name."""

import cdktf
import pytest

import sdk.constructs  # noqa: F401  (points jsii at a supported Node before cdktf starts it)
from sdk.constructs.stack import GpuStack, RegionMismatchError, check_region


def test_a_spec_in_another_region_than_its_stack_is_refused_with_the_fix():
    stack = GpuStack(cdktf.Testing.app(), "eu", region="eu-west-1")
    with pytest.raises(RegionMismatchError) as error:
        check_region(stack, "us-east-1")
    assert "region:" in str(error.value) and "Fix: region='eu-west-1'" in str(error.value)


def test_a_spec_in_the_stacks_region_passes():
    check_region(GpuStack(cdktf.Testing.app(), "us", region="us-east-1"), "us-east-1")
