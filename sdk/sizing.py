"""Capacity math shared by the blueprints, `python -m sdk size` and the review.

The source systems sized a GPU service as tasks = ceil(peak / rps per task) and
hosts = ceil(tasks x GPUs per task / GPUs per host). We keep that and also bound tasks per host by
vCPU and by the memory ECS can actually place, so a CPU- or memory-heavy task does not plan hosts
that cannot hold it.
"""

import argparse
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sdk.catalog import CATALOG, GpuInstanceType

ECS_CPU_UNITS_PER_VCPU = 1024
# ECS registers the kernel's MemTotal minus ECS_RESERVED_MEMORY (AWS "Reserving Amazon ECS Linux container instance
# memory"), and MemTotal is below the nominal size by what firmware and the kernel keep. AWS's only figure (an m4.large
# registering 7985 of 8192 MiB, 2.5% less) is from an older Xen host; AWS Batch recommends a 5% memory buffer. We plan
# on 95% of nominal, twice the documented loss, so a task we accept is never above what a host registers.
KERNEL_VISIBLE_FRACTION = 0.95
ECS_RESERVED_MEMORY_MIB = 256
# How a p95 latency budget is split when one is given (sums to 1): ALB + network hops, time queued
# behind other requests on the task, and the model's own inference time.
LATENCY_SPLIT = {"network": 0.10, "queueing": 0.20, "inference": 0.70}

# ECS services roll out with maximumPercent 200: hosts must hold the old and the new tasks side by side.
DEPLOYMENT_MAX_PERCENT = 200
# ECS blue/green, canary and linear deployments start a full green fleet beside the blue one before any traffic
# moves (ECS developer guide, deployment-type-blue-green.html): 100% + 100% of the desired tasks until the bake ends.
BLUE_GREEN_PEAK_PERCENT = 200
# Scale out before a task is saturated: track requests at 70% of what one task serves.
TARGET_UTILIZATION_PERCENT = 70

Resource = Literal["gpu", "cpu", "memory"]


def registered_memory_mib(instance: GpuInstanceType) -> int:
    """MiB ECS can place tasks into on `instance`: kernel-visible memory minus ECS_RESERVED_MEMORY_MIB."""
    return math.floor(instance.memory_mib * KERNEL_VISIBLE_FRACTION) - ECS_RESERVED_MEMORY_MIB


def _whole_fits(capacity: float, need: float) -> float:
    # round() first: 0.125 / 0.125 and 1 / (1/3)-style quotients must not land just under an integer.
    return math.floor(round(capacity / need, 6)) if need > 0 else math.inf


def _limits(
    instance: GpuInstanceType, gpus_per_task: float, cpu_units_per_task: int, memory_mib_per_task: int
) -> dict[Resource, float]:
    if gpus_per_task <= 0:
        raise ValueError(
            f"gpus_per_task: {gpus_per_task:g} must be > 0. Fix: 1 for a whole GPU, "
            f"or the partition (e.g. 0.125) on g6f/gr6f."
        )
    if cpu_units_per_task < 0 or memory_mib_per_task < 0:
        raise ValueError("cpu_units_per_task / memory_mib_per_task: must be >= 0 (0 means not limited).")
    return {
        "gpu": _whole_fits(instance.gpus, gpus_per_task),
        "cpu": _whole_fits(instance.vcpu * ECS_CPU_UNITS_PER_VCPU, cpu_units_per_task),
        "memory": _whole_fits(registered_memory_mib(instance), memory_mib_per_task),
    }


def tasks_per_host(
    instance: GpuInstanceType, *, gpus_per_task: float, cpu_units_per_task: int, memory_mib_per_task: int
) -> int:
    """How many such tasks one host places: the minimum over GPU, vCPU and memory; 0 when one does not fit."""
    return int(min(_limits(instance, gpus_per_task, cpu_units_per_task, memory_mib_per_task).values()))


def binding_resource(
    instance: GpuInstanceType, *, gpus_per_task: float, cpu_units_per_task: int, memory_mib_per_task: int
) -> Resource:
    """The resource that runs out first on a host (ties go to gpu, then cpu, then memory)."""
    limits = _limits(instance, gpus_per_task, cpu_units_per_task, memory_mib_per_task)
    return min(limits, key=lambda resource: limits[resource])


def gpu_shape_problem(instance: GpuInstanceType, gpu: float, field: str) -> str | None:
    """Why `gpu` per task cannot place on `instance` (fractional vs whole, too much, not the partition), or None."""
    name = instance.instance_type
    if instance.fractional and gpu >= 1:
        return (
            f"{field}: {gpu:g} GPU asks for whole GPUs but {name} is a fractional size ({instance.gpus:g} of an "
            f"L4). Fix: gpu={instance.gpus:g} (or a whole-GPU type such as g6.xlarge)."
        )
    if not instance.fractional and gpu < 1:
        return (
            f"{field}: fractional GPU {gpu:g} only places on fractional sizes (g6f/gr6f), not on {name}. "
            f"Fix: gpu=1, or a g6f/gr6f size."
        )
    if not instance.fractional and gpu != int(gpu):
        return f"{field}: {gpu:g} GPUs is not a whole number. Fix: gpu={int(gpu) + 1}."
    if gpu > instance.gpus:
        return f"{field}: {gpu:g} GPU is more than {name} offers ({instance.gpus:g}). Fix: lower gpu, or a larger size."
    if instance.fractional and gpu != instance.gpus:
        # A g6f partition is one vGPU device, and the ECS agent pins a device to one container: a smaller
        # value would not pack several tasks onto it.
        return (
            f"{field}: {gpu:g} GPU is less than the {instance.gpus:g} partition of {name}, which one task takes "
            f"whole. Fix: gpu={instance.gpus:g}, or a smaller size for a smaller share."
        )
    return None


def deployment_hosts(tasks: int, per_host: int, max_percent: int = DEPLOYMENT_MAX_PERCENT) -> int:
    """Hosts for `tasks` while a rolling deployment runs up to `max_percent` of them (old and new side by side)."""
    return hosts_for_tasks(math.ceil(tasks * max_percent / 100), per_host)


def requests_per_target_per_minute(rps_per_task: float, utilization_percent: int = TARGET_UTILIZATION_PERCENT) -> float:
    """The source sizing math for ALB RequestCountPerTarget: rps per task x 60 s, scaled to the target utilisation."""
    return round(rps_per_task * 60 * utilization_percent / 100, 2)


def tasks_for_load(peak_rps: float, rps_per_task: float, headroom_percent: float = 0.0) -> int:
    """Tasks for `peak_rps` with `headroom_percent` spare: ceil(peak x (1 + headroom) / rps per task)."""
    if rps_per_task <= 0:
        raise ValueError(f"rps_per_task: {rps_per_task:g} must be > 0. Fix: the measured requests/s one task serves.")
    if peak_rps < 0 or headroom_percent < 0:
        raise ValueError("peak_rps / headroom_percent: must be >= 0.")
    return math.ceil(round(peak_rps * (1 + headroom_percent / 100) / rps_per_task, 6))


def hosts_for_tasks(tasks: int, per_host: int) -> int:
    """Hosts that hold `tasks` at `per_host` tasks each (ceil); ValueError when a task fits on no host."""
    if per_host <= 0:
        raise ValueError("per_host: 0 tasks fit on one host. Fix: a larger instance type or a smaller task.")
    return math.ceil(tasks / per_host)


class LatencyBudget(BaseModel):
    """A p95 budget split by LATENCY_SPLIT (10% network, 20% queueing, 70% inference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p95_ms: float = Field(description="The whole p95 budget in ms (no default)")
    network_ms: float = Field(description="ALB and network hops: 10% of p95_ms")
    queueing_ms: float = Field(description="Waiting behind other requests on the task: 20% of p95_ms")
    inference_ms: float = Field(description="The model's own time per request: 70% of p95_ms")

    @classmethod
    def split(cls, p95_ms: float) -> "LatencyBudget":
        if p95_ms <= 0:
            raise ValueError(f"p95_budget_ms: {p95_ms:g} must be > 0. Fix: the p95 target in milliseconds.")
        parts = {f"{part}_ms": round(p95_ms * share, 3) for part, share in LATENCY_SPLIT.items()}
        return cls(p95_ms=p95_ms, **parts)


class SizingPlan(BaseModel):
    """Service and ASG bounds for a peak load on one instance type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_type: str = Field(description="Catalog instance type the plan is for (no default)")
    peak_rps: float = Field(description="Peak requests per second served (no default)")
    rps_per_task: float = Field(description="Requests per second one task serves (no default)")
    headroom_percent: float = Field(description="Spare capacity above peak, percent (default 0)")
    gpus_per_task: float = Field(description="GPU (or partition) per task (no default)")
    gpus_per_host: float = Field(description="GPU capacity ECS registers per host, from the catalog")
    tasks: int = Field(description="Tasks for the peak: the service's max (and desired at peak)")
    tasks_per_host: int = Field(description="Tasks one host places (min over GPU, vCPU, memory)")
    hosts: int = Field(description="Hosts for `tasks` at peak")
    asg_max_hosts: int = Field(description="ASG max: hosts for DEPLOYMENT_MAX_PERCENT (200%) of `tasks` mid-deploy")
    binding_resource: Resource = Field(description="The resource that limits tasks per host")
    requests_per_target_per_minute: float = Field(
        description="ALB RequestCountPerTarget target tracking value: rps_per_task x 60 x utilisation"
    )
    target_utilization_percent: int = Field(description="Share of rps_per_task tracked (default 70)")
    latency_budget: LatencyBudget | None = Field(
        default=None, description="p95 split, when a budget is given (default None: no budget)"
    )

    def lines(self) -> list[str]:
        """The plan as text for `python -m sdk size`."""
        out = [
            f"instance: {self.instance_type} ({self.gpus_per_host:g} GPU/host, "
            f"{self.tasks_per_host} task(s)/host, bound by {self.binding_resource})",
            f"tasks:    ceil({self.peak_rps:g} rps x {1 + self.headroom_percent / 100:g} / "
            f"{self.rps_per_task:g}) = {self.tasks}  -> service min 1, max {self.tasks}",
            f"hosts:    ceil({self.tasks} / {self.tasks_per_host}) = {self.hosts} at peak  -> ASG max "
            f"{self.asg_max_hosts} ({DEPLOYMENT_MAX_PERCENT}% deployments)",
            f"ALB target tracking: {self.rps_per_task:g} rps x 60 x {self.target_utilization_percent}% = "
            f"{self.requests_per_target_per_minute:g} requests per target per minute",
        ]
        if (b := self.latency_budget) is not None:
            out.append(
                f"p95 budget {b.p95_ms:g} ms: network {b.network_ms:g} + queueing {b.queueing_ms:g} "
                f"+ inference {b.inference_ms:g} ms"
            )
        return out


def plan(
    *,
    peak_rps: float,
    rps_per_task: float,
    gpus_per_task: float,
    instance_type: str,
    cpu_units_per_task: int | None = None,
    memory_mib_per_task: int | None = None,
    p95_budget_ms: float | None = None,
    headroom_percent: float = 0.0,
    target_utilization_percent: int = TARGET_UTILIZATION_PERCENT,
) -> SizingPlan:
    """Size a service: tasks from load, hosts from tasks per host. None for cpu/memory means not limiting."""
    instance = CATALOG.get(instance_type)
    if (problem := gpu_shape_problem(instance, gpus_per_task, "gpus_per_task")) is not None:
        raise ValueError(problem)
    if peak_rps <= 0:
        raise ValueError(f"peak_rps: {peak_rps:g} must be > 0. Fix: the peak requests per second to serve.")
    cpu, memory = cpu_units_per_task or 0, memory_mib_per_task or 0
    per_host = tasks_per_host(instance, gpus_per_task=gpus_per_task, cpu_units_per_task=cpu, memory_mib_per_task=memory)
    tasks = tasks_for_load(peak_rps, rps_per_task, headroom_percent)
    return SizingPlan(
        instance_type=instance_type,
        peak_rps=peak_rps,
        rps_per_task=rps_per_task,
        headroom_percent=headroom_percent,
        gpus_per_task=gpus_per_task,
        gpus_per_host=instance.gpus,
        tasks=tasks,
        tasks_per_host=per_host,
        hosts=hosts_for_tasks(tasks, per_host),
        asg_max_hosts=deployment_hosts(tasks, per_host),
        binding_resource=binding_resource(
            instance, gpus_per_task=gpus_per_task, cpu_units_per_task=cpu, memory_mib_per_task=memory
        ),
        requests_per_target_per_minute=requests_per_target_per_minute(rps_per_task, target_utilization_percent),
        target_utilization_percent=target_utilization_percent,
        latency_budget=None if p95_budget_ms is None else LatencyBudget.split(p95_budget_ms),
    )


def run_size(args: argparse.Namespace) -> int:
    """`python -m sdk size`: print the plan; exit 2 with the reason on bad input."""
    try:
        result = plan(
            peak_rps=args.rps,
            rps_per_task=args.rps_per_task,
            gpus_per_task=args.gpus_per_task,
            instance_type=args.instance,
            p95_budget_ms=args.p95_budget_ms,
            headroom_percent=args.headroom_percent,
            cpu_units_per_task=args.cpu,
            memory_mib_per_task=args.memory_mib,
            target_utilization_percent=args.target_utilization_percent,
        )
    except (KeyError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}")
        return 2
    print("\n".join(result.lines()))
    return 0
