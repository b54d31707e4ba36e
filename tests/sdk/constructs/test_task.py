"""Container definitions: user strings reach the container as written, not as Terraform templates."""

import json

from sdk.constructs.task import container_definition
from sdk.specs import ContainerSpec, HealthCheckSpec, HuggingFaceModelSource, SecretRef


def test_dollar_brace_in_environment_command_and_health_check_is_escaped_for_terraform():
    # GIVEN a container whose strings contain shell-style ${...} and %{...}
    container = ContainerSpec(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
        cpu=1024,
        memory_mib=2048,
        environment={"CACHE": "${HOME}/cache", "PLAIN": "a"},
        command=("serve", "--port", "${PORT}"),
        health_check=HealthCheckSpec(command=("CMD-SHELL", "test -f %{x}")),
    )
    # WHEN its definition is built beside a blueprint-provided token
    definition = container_definition(
        container,
        network_mode="bridge",
        log_group="${aws_cloudwatch_log_group.x.name}",
        region="us-east-1",
        stream_prefix="x",
        extra_environment={"QUEUE": "${aws_sqs_queue.q.url}"},
    )
    # THEN Terraform will read the user's strings literally ($${ and %%{) while the token stays a reference
    env = {e["name"]: e["value"] for e in definition["environment"]}
    assert env == {"CACHE": "$${HOME}/cache", "PLAIN": "a", "QUEUE": "${aws_sqs_queue.q.url}"}
    assert definition["command"] == ["serve", "--port", "$${PORT}"]
    assert definition["healthCheck"]["command"] == ["CMD-SHELL", "test -f %%{x}"]
    assert "${aws_cloudwatch_log_group.x.name}" in json.dumps(definition)


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
