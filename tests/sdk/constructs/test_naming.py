"""Account-global IAM names (iam_name): the same blueprint in two regions of one account must not collide."""

import json
from collections import Counter
from typing import Any

import pytest

from blueprints.alb_inference import AlbInferenceService
from blueprints.fractional_renderer import FallbackSpec, FractionalGpuRenderer, FractionalRendererSpec, RenderWorkerSpec
from examples import SDXL
from examples.renderer import WORKER_IMAGE
from sdk.constructs.engine import Testing
from sdk.constructs.naming import IAM_ROLE_NAME_MAX, iam_name
from sdk.constructs.stack import GpuStack
from sdk.specs import AlarmsSpec, CapacitySpec
from sdk.specs.load_balancer import AlbSpec

ACCOUNT = "123456789012"
GLOBAL_NAMED = ("aws_iam_role", "aws_iam_instance_profile", "aws_iam_policy")


def sdxl_in(region: str) -> Any:
    cert = f"arn:aws:acm:{region}:{ACCOUNT}:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55"
    return SDXL.model_copy(
        update={"region": region, "alb": AlbSpec(certificate_arn=cert, allowed_cidrs=("0.0.0.0/0",))}
    )


def renderer_in(region: str) -> FractionalRendererSpec:
    return FractionalRendererSpec(
        name="render-heavy",
        region=region,
        capacity=CapacitySpec(instance_types=("g6f.4xlarge",)),
        worker=RenderWorkerSpec(image=WORKER_IMAGE),
        fallback=FallbackSpec(),
        alarms=AlarmsSpec(create_topic=True),
    )


def global_names(stacks: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter(
        (kind, resource["name"])
        for tf in stacks
        for kind in GLOBAL_NAMED
        for resource in tf.get("resource", {}).get(kind, {}).values()
    )


@pytest.fixture(scope="module")
def two_regions() -> list[dict[str, Any]]:
    # GIVEN one app with the same blueprints in us-east-1 and eu-west-1 (one account)
    app = Testing.app()
    stacks = []
    for region in ("us-east-1", "eu-west-1"):
        stack = GpuStack(app, f"gpu-{region}", region=region)
        AlbInferenceService(stack, "sdxl", spec=sdxl_in(region))
        FractionalGpuRenderer(stack, "renderer", spec=renderer_in(region))
        stacks.append(json.loads(Testing.synth(stack)))
    return stacks


def test_the_same_blueprints_in_two_regions_share_no_iam_role_instance_profile_or_policy_name(two_regions):
    # WHEN both stacks are synthesized THEN no account-global name is used twice
    names = global_names(two_regions)
    assert {kind for kind, _ in names} == set(GLOBAL_NAMED)
    assert [name for name, count in names.items() if count > 1] == []
    # AND each name says its region
    for tf, region in zip(two_regions, ("us-east-1", "eu-west-1"), strict=True):
        assert all(f"-{region}-" in name for _, name in global_names([tf]))


def test_the_longest_blueprint_name_in_the_longest_region_fits_the_iam_role_limit():
    # GIVEN the longest blueprint name (27, AlbInferenceSpec) and a 14-character region
    longest = iam_name("a" * 27, "ap-southeast-1", "execution")
    # THEN the role name fits IAM's 64, and a name that would not is refused with the fix
    assert len(longest) <= IAM_ROLE_NAME_MAX
    with pytest.raises(ValueError, match="Fix:"):
        iam_name("a" * 50, "ap-southeast-1", "execution")
