"""GpuStack: a blueprint whose spec names another region than its stack is refused by name."""

import json

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


def test_a_stack_region_the_catalog_does_not_know_is_refused_with_the_fix():
    # GIVEN a region that would be written into host scripts and ARNs
    # WHEN a stack is made in it
    with pytest.raises(ValueError) as error:
        GpuStack(cdktf.Testing.app(), "bad", region="us-east-1; reboot")
    # THEN it is refused by name, with the closest known regions as the fix
    assert "'us-east-1; reboot' is not an AWS region. Fix: one of" in str(error.value)
    assert "us-east-1" in str(error.value).split("Fix:")[1]


def test_default_tags_reach_terraform_literally():
    # GIVEN stack tags holding Terraform template syntax
    stack = GpuStack(cdktf.Testing.app(), "s", region="us-east-1", tags={"team": '${file("/etc/hostname")}%{ if 1 }'})
    # WHEN synthesized
    (provider,) = json.loads(cdktf.Testing.synth(stack))["provider"]["aws"]
    # THEN Terraform reads them back as the user wrote them (escaped), not as an expression to evaluate at plan
    assert provider["default_tags"][0]["tags"]["team"] == '$${file("/etc/hostname")}%%{ if 1 }'
