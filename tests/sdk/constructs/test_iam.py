"""TaskRoles: a resource's grant lands in the task role's one inline policy, before the ECS Exec statements."""

import json

from sdk.constructs.engine import Testing
from sdk.constructs.iam import TaskRoles
from sdk.constructs.stack import GpuStack
from sdk.specs import ContainerSpec

REGION, ACCOUNT = "us-east-1", "123456789012"


def roles(stack: GpuStack, *, enable_exec: bool) -> TaskRoles:
    container = ContainerSpec(image="public.ecr.aws/x/y:1")
    return TaskRoles(
        stack,
        "roles",
        name="svc",
        container=container,
        log_group_arn="lg",
        region=REGION,
        account_id=ACCOUNT,
        enable_exec=enable_exec,
    )


def task_policies(stack: GpuStack) -> list[dict]:
    policies = json.loads(Testing.synth(stack))["resource"]["aws_iam_role_policy"].values()
    return [json.loads(p["policy"]) for p in policies if p["name"] == f"svc-{REGION}-task-policy"]


def test_a_grant_on_a_role_without_statements_creates_its_policy():
    # GIVEN task roles with no grants and ECS Exec off (no task policy)
    stack = GpuStack(Testing.app(), "iam", region=REGION)
    task = roles(stack, enable_exec=False)
    # WHEN a resource grants two statements, one of them holding a literal ${...}
    task.grant({"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/${x}"]})
    task.grant({"Sid": "B", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:aws:sqs:::q"]})
    # THEN one task policy holds both, in order, with the literal kept literal for Terraform
    [policy] = task_policies(stack)
    assert [s["Sid"] for s in policy["Statement"]] == ["A", "B"]
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::b/$${x}"]


def test_granted_statements_come_before_the_ecs_exec_ones():
    # GIVEN task roles with ECS Exec on WHEN a resource grants a statement
    stack = GpuStack(Testing.app(), "iam", region=REGION)
    task = roles(stack, enable_exec=True)
    task.grant({"Sid": "Jobs", "Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": ["q"]})
    # THEN the policy lists it first and the ECS Exec statements after it
    [policy] = task_policies(stack)
    assert [s["Sid"] for s in policy["Statement"]] == ["Jobs", "EcsExec", "EcsExecLogGroups", "EcsExecSessionLogs"]
    assert task.task_statements[0]["Sid"] == "Jobs"
