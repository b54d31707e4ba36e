"""AlbInferenceSpec and InferenceScalingSpec: what an AlbInferenceService is (no construct code)."""

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from blueprints.deployment_spec import DeploymentSpec
from blueprints.service_spec import GpuServiceSpec, network_field, region_field
from sdk import sizing
from sdk.grants import Grant
from sdk.specs import (
    AlarmsSpec,
    CapacitySpec,
    ContainerSpec,
    NetworkSpec,
    Region,
    Spec,
    problems_to_error,
    resource_name,
)
from sdk.specs.load_balancer import AlbSpec
from sdk.validation import (
    region_problem,
)

MODEL_LOAD_GRACE_SECONDS = 180


class InferenceScalingSpec(Spec):
    """Task bounds, autoscaling targets, alarm bounds, health-check grace and ECS Exec of an inference service."""

    min_tasks: int = Field(
        default=1, description="Fewest tasks, at least 1 (nothing scales an ALB service out of 0). Default 1."
    )
    max_tasks: int = Field(default=4, ge=1, description="Most tasks. Default 4.")
    rps_per_task: float | None = Field(
        default=None,
        gt=0,
        description="Requests/s one task serves within the latency budget (from a load test). "
        "Default None: no request-count scaling, CPU only.",
    )
    target_utilization_percent: int = Field(
        default=sizing.TARGET_UTILIZATION_PERCENT,
        ge=10,
        le=100,
        description="Share of rps_per_task to scale at. Default 70.",
    )
    cpu_target_percent: int = Field(default=70, ge=10, le=95, description="CPU target tracking. Default 70.")
    gpu_utilisation_target: int | None = Field(
        default=None,
        ge=10,
        le=100,
        description="Target tracking on the group's average GPU utilisation, percent, beside requests and CPU "
        "(needs capacity.gpu_metrics). Default None: no GPU scaling policy.",
    )
    p95_latency_budget_ms: int = Field(default=1000, ge=10, description="p95 alarm bound. Default 1000 ms.")
    error_rate_alarm_percent: float = Field(default=5.0, gt=0, le=100, description="5xx alarm bound. Default 5%.")
    health_check_grace_seconds: int | None = Field(
        default=None,
        ge=0,
        le=2147483647,
        description="Seconds before ALB and container health checks count. Default None: 180 s to load the model, "
        "plus its download time (container.model_source.size_gib at the source's assumed rate).",
    )
    enable_exec: bool = Field(default=True, description="ECS Exec (audited in CloudTrail). Default True.")

    @field_validator("min_tasks")
    @classmethod
    def _min_tasks(cls, value: int) -> int:
        # Target tracking does not scale on insufficient data (ECS developer guide, "Use a target metric to scale
        # Amazon ECS services"): with no task there is no CPU and no per-target request count, so 0 stays 0.
        if value < 1:
            raise ValueError(
                "0 tasks never scale out again: CPU and ALBRequestCountPerTarget target tracking have no data "
                "without a running task, so every request gets a 503. Fix: min_tasks >= 1 (a queue that scales "
                "from 0 is IdleStopGpuQueue)"
            )
        return value

    @property
    def requests_per_target_per_minute(self) -> float | None:
        """The source sizing math: rps per task x 60 s, scaled to the target utilisation."""
        if self.rps_per_task is None:
            return None
        return sizing.requests_per_target_per_minute(self.rps_per_task, self.target_utilization_percent)


class AlbInferenceSpec(GpuServiceSpec):
    """A GPU inference service: its capacity, container and scaling, behind an HTTPS ALB."""

    name: str = Field(
        description="Service name (ALB, cluster, roles derive from it; <= 27 chars: the ALB log bucket prefix "
        "'<name>-alb-logs-' must fit S3's 37). Required.",
    )
    _name = field_validator("name")(resource_name(27))
    region: Region | None = region_field()
    network: NetworkSpec = network_field()
    capacity: CapacitySpec = Field(description="GPU instance types and Spot. Required.")
    container: ContainerSpec = Field(description="The inference container (needs a port). Required.")
    scaling: InferenceScalingSpec = Field(default_factory=InferenceScalingSpec, description="Default 1-4 tasks.")
    alb: AlbSpec = Field(description="HTTPS ALB. Required (certificate, allowed CIDRs).")
    grants: tuple[Grant, ...] = Field(default=(), description="Task role permissions. Default none.")
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec, description="Default: alarms without notification.")
    deployment: DeploymentSpec = Field(
        default_factory=DeploymentSpec,
        description="Rolling, blue/green, canary or linear rollout. Default rolling with circuit-breaker rollback.",
    )

    most_tasks_field: ClassVar[str] = "scaling.max_tasks"

    @model_validator(mode="after")
    def _cross_field(self) -> "AlbInferenceSpec":
        problems = [
            *self._alb_problems(),
            *self._scaling_problems(),
            *self.service_problems(network_mode="awsvpc", enable_exec=self.scaling.enable_exec),
        ]
        if self.container.port is None:
            problems.append("container.port: the ALB forwards to a container port. Fix: set port (e.g. 8080).")
        if self.container.port in (80, 443) and self.container.user not in (None, "0", "root"):
            problems.append("container.port: ports below 1024 need root in the container. Fix: listen on 8080.")
        problems_to_error(problems)
        self.check_hosts()
        if self.capacity.min_hosts > self.max_hosts:
            problems_to_error(
                [
                    f"capacity.min_hosts: {self.capacity.min_hosts} is more than the {self.max_hosts} hosts that "
                    f"{self.scaling.max_tasks} tasks need. Fix: min_hosts <= {self.max_hosts}, or raise max_tasks."
                ]
            )
        return self

    def _alb_problems(self) -> list[str]:
        problems = []
        if (p := region_problem(self.alb.certificate_arn, self.region, "alb.certificate_arn")) is not None:
            problems.append(p)
        if not self.alb.health_check_path.startswith("/"):
            problems.append(
                f"alb.health_check_path: {self.alb.health_check_path!r} is not a path. "
                f"Fix: start it with '/', e.g. '/{self.alb.health_check_path}'."
            )
        tier: Literal["public", "private"] = "private" if self.alb.internal else "public"
        if self.network.subnet_count(tier) < 2:
            field = "network.az_count" if self.network.creates_vpc else f"network.{tier}_subnet_ids"
            problems.append(f"{field}: an ALB needs subnets in at least 2 AZs ({tier}). Fix: give 2 or more.")
        return problems

    def _scaling_problems(self) -> list[str]:
        problems = []
        if self.scaling.min_tasks > self.scaling.max_tasks:
            problems.append(
                f"scaling.min_tasks: {self.scaling.min_tasks} is more than max_tasks "
                f"{self.scaling.max_tasks}. Fix: min_tasks <= max_tasks."
            )
        if self.scaling.gpu_utilisation_target is not None and not self.capacity.gpu_metrics.enabled:
            problems.append(
                "scaling.gpu_utilisation_target: GPU scaling reads the GPU metrics, which capacity.gpu_metrics turns "
                "off. Fix: enable capacity.gpu_metrics, or leave gpu_utilisation_target unset."
            )
        return problems

    @property
    def most_tasks(self) -> int:
        return self.scaling.max_tasks

    @property
    def deployment_peak_percent(self) -> int:
        return self.deployment.peak_percent

    @property
    def health_check_grace_seconds(self) -> int:
        """The scaling spec's grace when set, else the model's load time plus its estimated download time."""
        if self.scaling.health_check_grace_seconds is not None:
            return self.scaling.health_check_grace_seconds
        return MODEL_LOAD_GRACE_SECONDS + self.container.model_download_seconds
