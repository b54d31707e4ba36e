"""ECS task definition for one GPU container: GPU resourceRequirements, awslogs, read-only root with
task-scoped scratch volumes, no privileged mode, no added capabilities, secrets from SSM/Secrets Manager."""

import json
from typing import Any, Literal

from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from constructs import Construct

from sdk.constructs.structs import new
from sdk.specs import ContainerSpec, VolumeSpec

CONTAINER_NAME = "app"


def gpu_value(gpu: float) -> str:
    """ECS wants whole GPUs as integers ("1") and partitions as decimals ("0.125")."""
    return str(int(gpu)) if gpu == int(gpu) else format(gpu, "g")


def scratch_volume_name(index: int) -> str:
    return f"scratch-{index}"


SHARED_DOCKER_VOLUME = {"scope": "shared", "autoprovision": True, "driver": "local"}


def literal(text: str) -> str:
    """A user's string as Terraform must read it: `${` and `%{` escaped, so "${HOME}" reaches the container as is."""
    return text.replace("${", "$${").replace("%{", "%%{")


def volume(spec: VolumeSpec) -> dict[str, Any]:
    """A task definition volume: task-scoped, a host path, or a shared Docker volume ECS creates on first use."""
    if spec.host_path is not None:
        return {"name": spec.name, "host_path": spec.host_path}
    if spec.shared:
        return {"name": spec.name, "docker_volume_configuration": SHARED_DOCKER_VOLUME}
    return {"name": spec.name}


def container_definition(
    container: ContainerSpec,
    *,
    network_mode: str,
    log_group: str,
    region: str,
    stream_prefix: str,
    extra_environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One container definition as ECS RegisterTaskDefinition expects it (camelCase keys)."""
    container = container.with_model_source()
    env = {**{k: literal(v) for k, v in container.environment.items()}, **(extra_environment or {})}
    mounts = [
        {"sourceVolume": scratch_volume_name(i), "containerPath": path, "readOnly": False}
        for i, path in enumerate(container.scratch_paths if container.read_only_root else ())
    ]
    mounts += [
        {"sourceVolume": v.name, "containerPath": v.container_path, "readOnly": v.read_only} for v in container.volumes
    ]
    definition: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": container.image,
        "essential": True,
        "cpu": container.cpu,
        "memory": container.memory_mib,
        "resourceRequirements": [{"type": "GPU", "value": gpu_value(container.gpu)}],
        "environment": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "secrets": [{"name": s.name, "valueFrom": s.value_from} for s in container.secrets],
        "mountPoints": mounts,
        "readonlyRootFilesystem": container.read_only_root,
        "privileged": False,
        # Exec needs an init process; NET_RAW is dropped so a container cannot spoof the host network.
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["NET_RAW"]}},
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
    }
    if container.port is not None:
        host_port = container.port if network_mode == "awsvpc" else 0
        definition["portMappings"] = [{"containerPort": container.port, "hostPort": host_port, "protocol": "tcp"}]
    if container.command:
        definition["command"] = [literal(part) for part in container.command]
    if container.user:
        definition["user"] = container.user
    if container.stop_timeout_seconds is not None:
        definition["stopTimeout"] = container.stop_timeout_seconds
    if (hc := container.health_check) is not None:
        definition["healthCheck"] = {
            "command": [literal(part) for part in hc.command],
            "interval": hc.interval_seconds,
            "timeout": hc.timeout_seconds,
            "retries": hc.retries,
            "startPeriod": hc.start_period_seconds,
        }
    return definition


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
        )
        volumes: list[dict[str, Any]] = [
            {"name": scratch_volume_name(i)}
            for i in range(len(container.scratch_paths) if container.read_only_root else 0)
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
