"""ECS task definition for one GPU container: GPU resourceRequirements, awslogs, read-only root with
task-scoped scratch volumes, no privileged mode, no added capabilities, secrets from SSM/Secrets Manager."""

import json
from typing import Any, Literal

from sdk.constructs.engine import Construct, EcsTaskDefinition
from sdk.constructs.structs import new
from sdk.container_definition import container_definition, volume, writable_volumes
from sdk.specs import ContainerSpec


class GpuTask(Construct):
    """`.task_definition`, `.container_definition` (dict), `.family`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        family: str,
        container: ContainerSpec,
        network_mode: Literal["awsvpc", "bridge"],
        execution_role_arn: str,
        task_role_arn: str,
        log_group_name: str,
        region: str,
        enable_exec: bool,
        extra_environment: dict[str, str] | None = None,
        placement_constraint: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.family = family
        container = container.with_model_source()
        self.container_definition = container_definition(
            container,
            network_mode=network_mode,
            log_group=log_group_name,
            region=region,
            stream_prefix=family,
            extra_environment=extra_environment,
            enable_exec=enable_exec,
        )
        volumes: list[dict[str, Any]] = [
            {"name": name} for name in writable_volumes(container, enable_exec=enable_exec)
        ]
        volumes += [volume(v) for v in container.volumes]
        self.task_definition = new(
            EcsTaskDefinition,
            self,
            "task_definition",
            family=family,
            network_mode=network_mode,
            requires_compatibilities=["EC2"],
            cpu=str(container.cpu),
            memory=str(container.memory_mib),
            execution_role_arn=execution_role_arn,
            task_role_arn=task_role_arn,
            container_definitions=json.dumps([self.container_definition], sort_keys=True),
            volume=volumes or None,
            placement_constraints=[{"type": "memberOf", "expression": placement_constraint}]
            if placement_constraint
            else None,
        )
