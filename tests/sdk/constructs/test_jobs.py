"""JobResources: one job stream's resources, and the grants that let a consumer or a submitter use them."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from sdk.constructs.engine import IamRole, Testing
from sdk.constructs.iam import TaskRoles
from sdk.constructs.jobs import JobResources
from sdk.constructs.stack import GpuStack
from sdk.job_specs import JobResourcesSpec
from sdk.specs import ContainerSpec

ACCOUNT, REGION = "123456789012", "us-east-1"


def synth(stack: GpuStack) -> dict[str, Any]:
    return json.loads(Testing.synth(stack))["resource"]


def test_a_consumer_granted_the_stream_may_consume_its_jobs_and_protect_only_its_own_tasks():
    # GIVEN a job stream and a consumer's task roles with ECS Exec on
    stack = GpuStack(Testing.app(), "jobs", region=REGION)
    jobs = JobResources(stack, "jobs", spec=JobResourcesSpec(name="edits"))
    roles = TaskRoles(
        stack,
        "roles",
        name="edits",
        container=ContainerSpec(image="img:1"),
        log_group_arn="lg",
        region=REGION,
        account_id=ACCOUNT,
    )
    # WHEN the stream grants consumption to the roles
    jobs.grant_consume(roles, cluster_name="edits", account_id=ACCOUNT)
    # THEN the task policy holds the consumer statements, ahead of the ECS Exec ones, scoped to the cluster's tasks
    [policy] = [p for p in synth(stack)["aws_iam_role_policy"].values() if p["name"].endswith("-task-policy")]
    sids = [s["Sid"] for s in json.loads(policy["policy"])["Statement"]]
    assert sids[:2] == ["ConsumeJobs", "SweepDeadLetters"] and sids[-1] == "EcsExecSessionLogs"
    protection = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}["TaskProtection"]
    assert protection["Resource"] == [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/edits/*"]


def test_a_submitter_granted_the_stream_gets_the_submitter_policy_attached():
    # GIVEN a job stream and a role of whoever submits jobs
    stack = GpuStack(Testing.app(), "jobs", region=REGION)
    jobs = JobResources(stack, "jobs", spec=JobResourcesSpec(name="edits"))
    role = IamRole(stack, "submitter_role", name="api", assume_role_policy="{}")
    # WHEN the stream grants submission to it
    jobs.grant_submit(role)
    # THEN the submitter policy is attached to that role
    [attachment] = synth(stack)["aws_iam_role_policy_attachment"].values()
    assert attachment["policy_arn"].startswith("${aws_iam_policy.jobs_submitter")
    assert attachment["role"].startswith("${aws_iam_role.submitter_role")


def test_a_stream_built_on_its_own_without_a_name_names_the_field_and_the_fix():
    stack = GpuStack(Testing.app(), "jobs", region=REGION)
    with pytest.raises(ValidationError, match=r"name\n.*needs one. Fix: JobResourcesSpec\(name=...\)"):
        JobResources(stack, "jobs", spec=JobResourcesSpec())
