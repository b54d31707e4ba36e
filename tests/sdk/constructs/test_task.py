"""Container definitions: user strings reach the container as written, not as Terraform templates."""

import json

import pytest
from pydantic import ValidationError

from sdk.constructs.engine import CloudwatchLogGroup, TerraformStack, Testing
from sdk.constructs.task import GpuTask
from sdk.container_definition import (
    TASK_DEFINITION_HEADROOM_BYTES,
    TASK_DEFINITION_MAX_BYTES,
    container_definition,
    definition_size_problems,
)
from sdk.specs import ContainerSpec, HealthCheckSpec, HuggingFaceModelSource, SecretRef


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
        enable_exec=True,
    )
    (definition,) = json.loads(
        json.loads(Testing.synth(stack))["resource"]["aws_ecs_task_definition"][
            task.task_definition.friendly_unique_id
        ]["container_definitions"]
    )
    # THEN Terraform will read the user's strings literally ($${ and %%{) while the reference stays a reference
    env = {e["name"]: e["value"] for e in definition["environment"]}
    assert env == {
        "CACHE": "$${HOME}/cache",
        "PLAIN": "a",
        "QUEUE": "q",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert definition["command"] == ["serve", "--port", "$${PORT}"]
    assert definition["healthCheck"]["command"] == ["CMD-SHELL", "test -f %%{x}"]
    assert definition["logConfiguration"]["options"]["awslogs-group"] == "${aws_cloudwatch_log_group.group.name}"


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"


def _definition(container: ContainerSpec, **settings: object) -> dict:
    return container_definition(
        container, network_mode="awsvpc", log_group="g", region="eu-west-1", stream_prefix="x", **settings
    )


def test_ecs_exec_on_a_read_only_root_gets_writable_volumes_where_the_ssm_agent_writes():
    # GIVEN a container with the default read-only root
    container = ContainerSpec(image=IMAGE)
    # WHEN its definition is built with ECS Exec on, and with it off
    with_exec = _definition(container, enable_exec=True)
    without = _definition(container, enable_exec=False)
    # THEN the agent's state, log and managed-agents folders are writable task volumes only when Exec is on
    mounted = {m["containerPath"]: m["readOnly"] for m in with_exec["mountPoints"]}
    assert mounted == {
        "/tmp": False,
        "/var/lib/amazon/ssm": False,
        "/var/log/amazon/ssm": False,
        "/managed-agents": False,
    }
    assert {m["containerPath"] for m in without["mountPoints"]} == {"/tmp"}
    assert with_exec["readonlyRootFilesystem"] is True


def test_a_writable_root_needs_no_exec_volumes():
    # GIVEN a container whose root is writable WHEN Exec is on THEN nothing extra is mounted
    definition = _definition(ContainerSpec(image=IMAGE, read_only_root=False), enable_exec=True)
    assert definition["mountPoints"] == []


def test_every_task_is_told_its_region_so_boto3_never_lacks_one():
    # GIVEN a container that sets no region WHEN its definition is built for eu-west-1
    env = {e["name"]: e["value"] for e in _definition(ContainerSpec(image=IMAGE))["environment"]}
    # THEN both variables boto3 and the AWS CLI read name the stack region
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("eu-west-1", "eu-west-1")


def test_a_user_region_that_disagrees_with_the_stack_is_refused_by_name():
    # GIVEN a container that pins another region
    container = ContainerSpec(image=IMAGE, environment={"AWS_DEFAULT_REGION": "us-east-1"})
    # WHEN its definition is built for eu-west-1 THEN the variable and the fix are named
    with pytest.raises(ValueError, match=r"container.environment: AWS_DEFAULT_REGION=.*Fix:"):
        _definition(container)
    # AND the same value for the stack region is accepted
    same = ContainerSpec(image=IMAGE, environment={"AWS_REGION": "eu-west-1"})
    assert {"name": "AWS_REGION", "value": "eu-west-1"} in _definition(same)["environment"]


def test_shared_memory_becomes_the_containers_dev_shm_size():
    # GIVEN a model server that asks for 4 GiB of /dev/shm WHEN its definition is built
    definition = _definition(ContainerSpec(image=IMAGE, memory_mib=16384, shared_memory_mib=4096))
    # THEN ECS sizes /dev/shm from linuxParameters, and without it Docker's default stays
    assert definition["linuxParameters"]["sharedMemorySize"] == 4096
    assert "sharedMemorySize" not in _definition(ContainerSpec(image=IMAGE))["linuxParameters"]


def test_shared_memory_that_does_not_fit_the_task_memory_is_refused_with_the_fix():
    with pytest.raises(ValidationError) as error:
        ContainerSpec(image=IMAGE, memory_mib=8192, shared_memory_mib=8192)
    assert error.value.error_count() == 1
    assert "container.shared_memory_mib" in str(error.value) and "Fix:" in str(error.value)


def test_a_model_source_reaches_the_definition_as_environment_token_secret_cache_mount_and_start_period():
    # GIVEN a container that downloads a gated Hub model (10 GiB) with a token from SSM
    token = "arn:aws:ssm:us-east-1:123456789012:parameter/hf-token"
    container = ContainerSpec(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
        health_check=HealthCheckSpec(command=("CMD-SHELL", "curl -f localhost:8000/health")),
        model_source=HuggingFaceModelSource(
            repo_id="meta-llama/Llama-3.1-8B-Instruct", token=SecretRef(name="HF_TOKEN", value_from=token), size_gib=3
        ),
    )
    # WHEN its definition is built
    definition = container_definition(
        container, network_mode="awsvpc", log_group="g", region="us-east-1", stream_prefix="x"
    )
    # THEN ECS injects the token, HF_HOME points at a writable cache mount beside /tmp, and the start period
    # covers 3 GiB at 50 MiB/s (62 s) on top of 120 s
    env = {e["name"]: e["value"] for e in definition["environment"]}
    assert env["HF_HOME"] == "/models" and env["MODEL_ID"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert definition["secrets"] == [{"name": "HF_TOKEN", "valueFrom": token}]
    assert {"sourceVolume": "model-cache", "containerPath": "/models", "readOnly": False} in definition["mountPoints"]
    assert definition["readonlyRootFilesystem"] is True
    assert definition["healthCheck"]["startPeriod"] == 182


def sized_container(value_bytes: int) -> ContainerSpec:
    return ContainerSpec(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1", environment={"BIG": "x" * value_bytes}
    )


def test_the_definition_size_check_measures_the_json_we_emit_against_ecs_64_kib_less_headroom():
    # GIVEN containers whose one variable grows a byte at a time around the budget
    args = {"field": "container.environment", "name": "svc", "region": "us-east-1", "network_mode": "awsvpc"}
    emitted = len(
        json.dumps(
            [
                container_definition(
                    sized_container(0),
                    network_mode="awsvpc",
                    log_group="/ecs/svc",
                    region="us-east-1",
                    stream_prefix="svc",
                    enable_exec=True,
                )
            ],
            sort_keys=True,
        ).encode()
    )
    fits = TASK_DEFINITION_MAX_BYTES - TASK_DEFINITION_HEADROOM_BYTES - emitted
    # WHEN each is checked
    # THEN the largest that fits passes and one byte more is refused with how much to cut
    assert definition_size_problems(sized_container(fits), enable_exec=True, **args) == []
    (problem,) = definition_size_problems(sized_container(fits + 1), enable_exec=True, **args)
    assert problem.startswith("container.environment:") and "Fix: shrink the environment by 1 bytes" in problem
