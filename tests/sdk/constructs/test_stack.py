"""GpuStack: a blueprint whose spec names another region than its stack is refused by name."""

import json

import cdktf
import pytest
from constructs import Construct

import sdk.constructs  # noqa: F401  (points jsii at a supported Node before cdktf starts it)
from sdk.constructs.stack import GpuStack, RegionMismatchError, check_region, claim_name


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


def synth_blueprints(*, destroyable: bool, alb: object = None) -> dict:
    """The SDXL example and a job queue in one stack."""
    import json

    from blueprints.alb_inference import AlbInferenceService
    from blueprints.examples import SDXL
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec

    stack = GpuStack(cdktf.Testing.app(), "s", region="us-east-1", destroyable=destroyable)
    AlbInferenceService(stack, "sdxl", spec=SDXL if alb is None else SDXL.model_copy(update={"alb": alb}))
    queue = IdleStopGpuQueueSpec(
        name="edits", capacity={"instance_types": ["g6.xlarge"]}, container={"image": SDXL.container.image}
    )
    IdleStopGpuQueue(stack, "edits", spec=queue)
    return json.loads(cdktf.Testing.synth(stack))["resource"]


def destroy_guards(resources: dict) -> dict[str, set]:
    return {
        "alb_protected": {lb["enable_deletion_protection"] for lb in resources["aws_lb"].values()},
        "table_protected": {t["deletion_protection_enabled"] for t in resources["aws_dynamodb_table"].values()},
        "bucket_force_destroy": {b["force_destroy"] for b in resources["aws_s3_bucket"].values()},
        "asg_force_delete": {a.get("force_delete", False) for a in resources["aws_autoscaling_group"].values()},
    }


def test_a_destroyable_stack_drops_every_guard_that_would_block_terraform_destroy():
    # GIVEN an ALB service and a job queue WHEN synthesized in a destroyable stack and in a default one
    destroyable, default = synth_blueprints(destroyable=True), synth_blueprints(destroyable=False)
    # THEN the destroyable stack has no deletion protection, emptied buckets and force-deleted ASGs
    assert destroy_guards(destroyable) == {
        "alb_protected": {False},
        "table_protected": {False},
        "bucket_force_destroy": {True},
        "asg_force_delete": {True},
    }
    # AND a default stack keeps every guard
    assert destroy_guards(default) == {
        "alb_protected": {True},
        "table_protected": {True},
        "bucket_force_destroy": {False},
        "asg_force_delete": {False},
    }


def test_a_destroyable_stack_refuses_an_alb_that_explicitly_asks_for_deletion_protection():
    from blueprints.examples import SDXL
    from sdk.constructs.load_balancer import AlbSpec

    # GIVEN an ALB spec that says deletion_protection=True WHEN it is added to a destroyable stack
    alb = AlbSpec(certificate_arn=SDXL.alb.certificate_arn, allowed_cidrs=("0.0.0.0/0",), deletion_protection=True)
    # THEN the contradiction is refused by field name, with the fix
    with pytest.raises(ValueError, match=r"alb.deletion_protection: .*Fix:"):
        synth_blueprints(destroyable=True, alb=alb)


def test_a_second_blueprint_name_in_one_stack_is_refused_and_names_apart_or_in_other_stacks_pass():
    # GIVEN two stacks and a construct in each that claimed a name
    app = cdktf.Testing.app()
    first, other = GpuStack(app, "one", region="us-east-1"), GpuStack(app, "two", region="us-east-1")
    claim_name(Construct(first, "a"), "svc")
    claim_name(Construct(other, "a"), "svc")
    claim_name(Construct(first, "b"), "svc-2")
    # WHEN another construct in the first stack claims the same name
    with pytest.raises(ValueError) as error:
        claim_name(Construct(first, "c"), "svc")
    # THEN it is refused by name, pointing at the holder, with the fix
    assert str(error.value).startswith("name: 'svc' is already the name of one/a in stack 'one'")
    assert "Fix: give one/c another spec name, e.g. name='svc-2'" in str(error.value)
