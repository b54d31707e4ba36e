"""Cross-field checks against the GPU catalog. Each problem names its field and the fix."""

from collections.abc import Sequence

from sdk import sizing
from sdk.catalog import CATALOG, GpuInstanceType
from sdk.specs import ContainerSpec


def unknown_instance_types(instance_types: Sequence[str], field: str) -> list[str]:
    return [
        f"{field}: {name!r} is not in the GPU catalog. Fix: use one of the families "
        f"{', '.join(sorted({i.family for i in CATALOG.instances.values()}))} (e.g. g5.xlarge)."
        for name in instance_types
        if name not in CATALOG
    ]


def task_fit_problems(
    instance_types: Sequence[str], container: ContainerSpec, *, types_field: str, container_field: str = "container"
) -> list[str]:
    """Why the task cannot run on each listed type (the ASG may launch any of them)."""
    problems = unknown_instance_types(instance_types, types_field)
    if problems:
        return problems
    for name in instance_types:
        instance = CATALOG.get(name)
        if (shape := sizing.gpu_shape_problem(instance, container.gpu, f"{container_field}.gpu")) is not None:
            problems.append(shape)
            continue
        problems += _resource_problems(instance, container, container_field)
    return problems


def _resource_problems(instance: GpuInstanceType, container: ContainerSpec, field: str) -> list[str]:
    name, problems = instance.instance_type, []
    if container.gpu_memory_mib is not None:
        offered = int(instance.gpu_memory_per_gpu_mib * (1 if instance.fractional else container.gpu))
        if container.gpu_memory_mib > offered:
            problems.append(
                f"{field}.gpu_memory_mib: {container.gpu_memory_mib} MiB is more than {container.gpu:g} "
                f"GPU of {name} has ({offered} MiB). Fix: more GPUs per task or a larger GPU type."
            )
    if container.cpu > instance.vcpu * sizing.ECS_CPU_UNITS_PER_VCPU:
        problems.append(
            f"{field}.cpu: {container.cpu} units is more than {name} has ({instance.vcpu} vCPU = "
            f"{instance.vcpu * sizing.ECS_CPU_UNITS_PER_VCPU}). Fix: lower cpu or a larger size."
        )
    if container.memory_mib > (registered := sizing.registered_memory_mib(instance)):
        problems.append(
            f"{field}.memory_mib: {container.memory_mib} MiB is more than ECS can place on {name} "
            f"({registered} MiB after OS/agent overhead). Fix: lower memory_mib or a larger size."
        )
    return problems


def min_tasks_per_host(instance_types: Sequence[str], container: ContainerSpec) -> int:
    """Tasks per host on the smallest listed type (sizing must hold whichever type the ASG launches)."""
    return min(
        sizing.tasks_per_host(
            CATALOG.get(name),
            gpus_per_task=container.gpu,
            cpu_units_per_task=container.cpu,
            memory_mib_per_task=container.memory_mib,
        )
        for name in instance_types
    )


def max_gpus_per_host(instance_types: Sequence[str]) -> float:
    return max(CATALOG.get(name).gpus for name in instance_types)


REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def region_environment_problems(environment: dict[str, str], region: str, field: str) -> list[str]:
    """Every task gets AWS_REGION and AWS_DEFAULT_REGION = the stack region (older ECS agents inject neither, and
    boto3 then raises NoRegionError); a user value naming another region would point the SDK elsewhere."""
    return [
        f"{field}: {name}={environment[name]!r} but the stack deploys to {region}; the blueprint sets {name} to the "
        f"stack region. Fix: drop {name} (or set it to {region!r})."
        for name in REGION_VARIABLES
        if environment.get(name, region) != region
    ]


def region_problem(arn: str, region: str, field: str) -> str | None:
    from sdk.specs import arn_parts

    parts = arn_parts(arn)
    if parts is not None and parts[1] and parts[1] != region:
        return (
            f"{field}: the ARN is in {parts[1]} but the stack deploys to {region}. "
            f"Fix: use a resource from {region} (ACM certificates are regional for ALBs)."
        )
    return None
