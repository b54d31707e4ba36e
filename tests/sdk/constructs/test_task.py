"""Container definitions: user strings reach the container as written, not as Terraform templates."""

import json

from sdk.constructs.task import container_definition
from sdk.specs import ContainerSpec, HealthCheckSpec


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
