"""Container definitions: user strings reach the container as written, not as Terraform templates."""

import json

from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup

import sdk.constructs  # noqa: F401
from sdk.constructs.task import GpuTask
from sdk.specs import ContainerSpec, HealthCheckSpec


def test_dollar_brace_in_environment_command_and_health_check_reaches_the_task_definition_escaped_for_terraform():
    # GIVEN a container whose strings contain shell-style ${...} and %{...}
    container = ContainerSpec(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
        cpu=1024,
        memory_mib=2048,
        environment={"CACHE": "${HOME}/cache", "PLAIN": "a"},
        command=("serve", "--port", "${PORT}"),
        health_check=HealthCheckSpec(command=("CMD-SHELL", "test -f %{x}")),
    )
    # WHEN its task definition is synthesized beside a real reference (a log group in the same stack)
    stack = TerraformStack(Testing.app(), "s")
    group = CloudwatchLogGroup(stack, "group", name="g")
    task = GpuTask(
        stack,
        "task",
        family="x",
        container=container,
        network_mode="bridge",
        execution_role_arn="arn:aws:iam::123456789012:role/e",
        task_role_arn="arn:aws:iam::123456789012:role/t",
        log_group_name=group.name,
        region="us-east-1",
        extra_environment={"QUEUE": "q"},
    )
    (definition,) = json.loads(
        json.loads(Testing.synth(stack))["resource"]["aws_ecs_task_definition"][
            task.task_definition.friendly_unique_id
        ]["container_definitions"]
    )
    # THEN Terraform will read the user's strings literally ($${ and %%{) while the reference stays a reference
    env = {e["name"]: e["value"] for e in definition["environment"]}
    assert env == {"CACHE": "$${HOME}/cache", "PLAIN": "a", "QUEUE": "q"}
    assert definition["command"] == ["serve", "--port", "$${PORT}"]
    assert definition["healthCheck"]["command"] == ["CMD-SHELL", "test -f %%{x}"]
    assert definition["logConfiguration"]["options"]["awslogs-group"] == "${aws_cloudwatch_log_group.group.name}"
