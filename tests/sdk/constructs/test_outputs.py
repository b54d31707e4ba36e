"""Stable output names: `<blueprint id>_<name>`, no hash suffix, unique per stack."""

import json

import pytest

from sdk.constructs.engine import Construct, Testing
from sdk.constructs.outputs import stable_output
from sdk.constructs.stack import GpuStack


def synth_outputs(stack: GpuStack) -> dict:
    return json.loads(Testing.synth(stack))["output"]


def test_an_alb_service_and_a_queue_in_one_stack_output_names_a_ci_job_can_read():
    # GIVEN the SDXL service and a job queue in one stack
    from blueprints.alb_inference import AlbInferenceService
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
    from examples import SDXL

    stack = GpuStack(Testing.app(), "s", region="us-east-1")
    AlbInferenceService(stack, "sdxl", spec=SDXL)
    queue = IdleStopGpuQueueSpec(
        name="edits", capacity={"instance_types": ["g6.xlarge"]}, container={"image": SDXL.container.image}
    )
    IdleStopGpuQueue(stack, "edit-jobs", spec=queue)
    # WHEN synthesized
    outputs = synth_outputs(stack)
    # THEN every output is <blueprint id>_<name>: no hash suffix, the job resources named after their queue
    assert set(outputs) == {
        "sdxl_alb_dns_name",
        "sdxl_service_name",
        "sdxl_cluster_name",
        "sdxl_dashboard_url",
        "edit_jobs_queue_url",
        "edit_jobs_dlq_url",
        "edit_jobs_table_name",
        "edit_jobs_bucket_name",
        "edit_jobs_submitter_policy_arn",
        "edit_jobs_cluster_name",
        "edit_jobs_service_name",
        "edit_jobs_dashboard_url",
    }
    assert outputs["edit_jobs_queue_url"]["value"].startswith("${aws_sqs_queue.")


def test_a_nested_construct_names_its_output_after_the_path_from_the_stack():
    # GIVEN an output two constructs below the stack WHEN synthesized THEN its name joins their ids
    stack = GpuStack(Testing.app(), "s", region="us-east-1")
    stable_output(Construct(Construct(stack, "renderer"), "primary"), "queue_url", value="q")
    assert synth_outputs(stack) == {"renderer_primary_queue_url": {"value": "q"}}


def test_two_outputs_that_map_to_one_name_are_refused_with_the_fix():
    # GIVEN blueprint ids that differ only in '-' and '_' WHEN both add the same output
    stack = GpuStack(Testing.app(), "s", region="us-east-1")
    stable_output(Construct(stack, "a-b"), "queue_url", value="q")
    # THEN the second is refused instead of one silently replacing the other in the JSON
    with pytest.raises(ValueError, match=r"output 'a_b_queue_url' already exists .* Fix: "):
        stable_output(Construct(stack, "a_b"), "queue_url", value="q")


def test_a_blueprints_outputs_after_its_first_ask_jsii_nothing_but_the_output_and_its_name():
    # GIVEN a blueprint-like construct two levels below the stack with one output already
    from tests.jsii_requests import describe, recorded_requests

    stack = GpuStack(Testing.app(), "s", region="us-east-1")
    blueprint = Construct(Construct(stack, "renderer"), "primary")
    stable_output(blueprint, "queue_url", value="q")
    # WHEN it adds two more outputs, with every jsii kernel request recorded
    with recorded_requests() as requests:
        stable_output(blueprint, "dlq_url", value="d")
        stable_output(blueprint, "table_name", value="t")
    # THEN each costs its creation and its logical id only: no walk over the construct tree, no stack lookup
    assert [describe(r) for r in requests] == ["Create", "Invoke overrideLogicalId"] * 2
    assert set(synth_outputs(stack)) == {
        "renderer_primary_queue_url",
        "renderer_primary_dlq_url",
        "renderer_primary_table_name",
    }
