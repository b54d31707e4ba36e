"""What a service's deployment costs in GPU hosts, read from a synthesized stack (no cdktf): the peak tasks of its
strategy, the hosts they need against the ASG maximum, and how long both fleets run. The cost table and the review
read it; DeploymentSpec uses `traffic_shift_minutes` for its own summary."""

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sdk.hints import read_hints
from sdk.sizing import BLUE_GREEN_PEAK_PERCENT, DEPLOYMENT_MAX_PERCENT, hosts_for_tasks
from sdk.tfjson import referenced, resources


def traffic_shift_minutes(
    strategy: str, *, bake: int, canary: tuple[float, int] | None = None, linear: tuple[float, int] | None = None
) -> int:
    """Minutes from green's first traffic to the end of the bake, while blue and green both run (0 for rolling)."""
    if strategy == "ROLLING":
        return 0
    if canary is not None:
        return canary[1] + bake
    if linear is not None:
        return (math.ceil(100 / linear[0]) - 1) * linear[1] + bake
    return bake


def peak_percent(strategy: str, rolling_max_percent: int = DEPLOYMENT_MAX_PERCENT) -> int:
    """Tasks at a deployment's peak, percent of desired: the rolling surge, or blue plus a full green fleet."""
    return rolling_max_percent if strategy == "ROLLING" else BLUE_GREEN_PEAK_PERCENT


class DeploymentPeak(BaseModel):
    """One service's deployment at its peak: the tasks and hosts both fleets need, for how long, against its group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str = Field(description="ECS service address (no default)")
    asg: str = Field(description="Address of the ASG its capacity provider scales (no default)")
    strategy: str = Field(description="ROLLING, BLUE_GREEN, CANARY or LINEAR (no default)")
    max_tasks: int = Field(description="The scaling target's max_capacity (no default)")
    peak_tasks: int = Field(description="Tasks at the deployment's peak from max_tasks (no default)")
    hosts_needed: int = Field(description="Hosts for peak_tasks (no default)")
    asg_max_hosts: int = Field(description="The ASG's max_size (no default)")
    both_fleets_minutes: int = Field(description="Minutes blue and green both run per deployment (no default)")

    @property
    def fits(self) -> bool:
        return self.hosts_needed <= self.asg_max_hosts

    @property
    def problem(self) -> str:
        return (
            f"{self.service}: a {self.strategy} deployment at {self.max_tasks} tasks runs {self.peak_tasks} and needs "
            f"{self.hosts_needed} hosts, but {self.asg} stops at {self.asg_max_hosts}: green tasks wait for capacity"
        )


def deployment_peaks(tf_json: dict[str, Any]) -> list[DeploymentPeak]:
    """One row per ECS service on a hinted GPU ASG."""
    per_host = {h.asg_address: h.tasks_per_host for hints in read_hints(tf_json).values() for h in hints.gpu_capacity}
    providers, asgs = resources(tf_json, "aws_ecs_capacity_provider"), resources(tf_json, "aws_autoscaling_group")
    targets = resources(tf_json, "aws_appautoscaling_target")
    peaks = []
    for name, service in resources(tf_json, "aws_ecs_service").items():
        for provider in referenced(service.get("capacity_provider_strategy"), "aws_ecs_capacity_provider"):
            for asg in referenced(providers.get(provider, {}), "aws_autoscaling_group"):
                address = f"aws_autoscaling_group.{asg}"
                max_tasks = _max_tasks(targets, service["name"])
                if address not in per_host or max_tasks is None:
                    continue
                peaks.append(
                    _peak(f"aws_ecs_service.{name}", service, address, asgs[asg], max_tasks, per_host[address])
                )
    return peaks


def _max_tasks(targets: dict[str, Any], service_name: str) -> int | None:
    found = [
        t["max_capacity"] for t in targets.values() if str(t.get("resource_id", "")).split("/")[-1] == service_name
    ]
    return int(found[0]) if found else None


def _peak(
    service_address: str, service: dict[str, Any], asg: str, asg_body: dict[str, Any], max_tasks: int, per_host: int
) -> DeploymentPeak:
    config = service.get("deployment_configuration") or {}
    strategy = config.get("strategy", "ROLLING")
    canary, linear = config.get("canary_configuration"), config.get("linear_configuration")
    peak = math.ceil(max_tasks * peak_percent(strategy, int(service.get("deployment_maximum_percent", 200))) / 100)
    return DeploymentPeak(
        service=service_address,
        asg=asg,
        strategy=strategy,
        max_tasks=max_tasks,
        peak_tasks=peak,
        hosts_needed=hosts_for_tasks(peak, per_host),
        asg_max_hosts=int(asg_body.get("max_size", 0)),
        both_fleets_minutes=traffic_shift_minutes(
            strategy,
            bake=int(config.get("bake_time_in_minutes", 0)),
            canary=(canary["canary_percent"], int(canary["canary_bake_time_in_minutes"])) if canary else None,
            linear=(linear["step_percent"], int(linear["step_bake_time_in_minutes"])) if linear else None,
        ),
    )
