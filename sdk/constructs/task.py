"""ECS task definition for one GPU container: GPU resourceRequirements, awslogs, read-only root with
task-scoped scratch volumes, no privileged mode, no added capabilities, secrets from SSM/Secrets Manager."""

import json
from typing import Any, Literal

from sdk.constructs.engine import Construct, EcsTaskDefinition
from sdk.constructs.structs import new
from sdk.specs import ContainerSpec, VolumeSpec
from sdk.validation import REGION_VARIABLES, region_environment_problems

CONTAINER_NAME = "app"


def gpu_value(gpu: float) -> str:
    """ECS wants whole GPUs as integers ("1") and partitions as decimals ("0.125")."""
    return str(int(gpu)) if gpu == int(gpu) else format(gpu, "g")


def scratch_volume_name(index: int) -> str:
    return f"scratch-{index}"


# ECS Exec bind-mounts the SSM agent under /managed-agents and starts it in the container; the agent writes its
# state and logs under /var/lib/amazon/ssm and /var/log/amazon/ssm, so on a read-only root it dies at start
# (aws/containers-roadmap#1359, where these three writable volumes are the working configuration).
EXEC_AGENT_PATHS = {
    "ecs-exec-ssm-state": "/var/lib/amazon/ssm",
    "ecs-exec-ssm-logs": "/var/log/amazon/ssm",
    "ecs-exec-managed-agents": "/managed-agents",
}


def writable_volumes(container: ContainerSpec, *, enable_exec: bool) -> dict[str, str]:
    """Task-scoped writable volumes (name -> container path) a read-only root needs: scratch, and ECS Exec's."""
    if not container.read_only_root:
        return {}
    scratch = {scratch_volume_name(i): path for i, path in enumerate(container.scratch_paths)}
    return {**scratch, **(EXEC_AGENT_PATHS if enable_exec else {})}


SHARED_DOCKER_VOLUME = {"scope": "shared", "autoprovision": True, "driver": "local"}


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
    enable_exec: bool = False,
) -> dict[str, Any]:
    """One container definition as ECS RegisterTaskDefinition expects it (camelCase keys)."""
    container = container.with_model_source()
    if problems := region_environment_problems(container.environment, region, "container.environment"):
        raise ValueError(problems[0])
    env = {**container.environment, **(extra_environment or {}), **dict.fromkeys(REGION_VARIABLES, region)}
    mounts = [
        {"sourceVolume": name, "containerPath": path, "readOnly": False}
        for name, path in writable_volumes(container, enable_exec=enable_exec).items()
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
        "linuxParameters": {
            "initProcessEnabled": True,
            "capabilities": {"drop": ["NET_RAW"]},
            **({"sharedMemorySize": container.shared_memory_mib} if container.shared_memory_mib else {}),
        },
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
        definition["command"] = list(container.command)
    if container.user:
        definition["user"] = container.user
    if container.stop_timeout_seconds is not None:
        definition["stopTimeout"] = container.stop_timeout_seconds
    if (hc := container.health_check) is not None:
        definition["healthCheck"] = {
            "command": list(hc.command),
            "interval": hc.interval_seconds,
            "timeout": hc.timeout_seconds,
            "retries": hc.retries,
            "startPeriod": hc.start_period_seconds,
        }
    return definition


# RegisterTaskDefinition refuses a task definition over 64 KiB ("Task definition size", Amazon ECS service quotas:
# docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html). The container definition is all but a few
# hundred bytes of ours; the headroom covers the rest (family, role ARNs, volumes, placement) and the blueprint's own
# variables, whose tokens resolve to longer queue URLs and names at apply.
TASK_DEFINITION_MAX_BYTES = 64 * 1024
TASK_DEFINITION_HEADROOM_BYTES = 2048


LONGEST_REGION = "ap-southeast-4"


def _without_region(environment: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environment.items() if k not in REGION_VARIABLES}


def definition_size_problems(
    container: ContainerSpec, *, field: str, name: str, region: str | None, network_mode: str, enable_exec: bool
) -> list[str]:
    """The container definitions JSON we emit must leave the task definition under ECS's size limit (a spec that
    leaves its region to the stack is measured with the longest region name)."""
    definition = container_definition(
        container.model_copy(update={"environment": _without_region(container.environment)}),
        network_mode=network_mode,
        log_group=f"/ecs/{name}",
        region=region or LONGEST_REGION,
        stream_prefix=name,
        enable_exec=enable_exec,
    )
    size = len(json.dumps([definition], sort_keys=True).encode())
    budget = TASK_DEFINITION_MAX_BYTES - TASK_DEFINITION_HEADROOM_BYTES
    if size <= budget:
        return []
    return [
        f"{field}: the container definition is {size} bytes of JSON; ECS refuses task definitions over 64 KiB and "
        f"the rest of ours needs {TASK_DEFINITION_HEADROOM_BYTES}. Fix: shrink the environment by "
        f"{size - budget} bytes or more (put large values in S3 or SSM and pass their names)."
    ]


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
