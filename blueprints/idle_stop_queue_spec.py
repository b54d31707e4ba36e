"""IdleStopGpuQueueSpec: what an IdleStopGpuQueue is (no construct code)."""

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from blueprints.service_spec import GpuServiceSpec, network_field, region_field
from sdk.gateway_spec import GatewaySpec
from sdk.grants import Grant
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.config import ENV_PREFIX
from sdk.specs import (
    AlarmsSpec,
    CapacitySpec,
    ContainerSpec,
    NetworkSpec,
    Region,
    problems_to_error,
    resource_name,
)
from sdk.validation import (
    cluster_query,
)

METRIC_LAG_MINUTES = 2  # SQS publishes 1-minute metrics; the alarm sees them a minute or two late
CAPACITY_PROVIDER_SCALE_IN_MINUTES = 15  # managed scaling's scale-in alarm needs 15 datapoints (fixed by AWS)
HOST_TERMINATION_MINUTES = 2


class IdleStopGpuQueueSpec(GpuServiceSpec):
    """GPU workers of one job stream that run only while jobs wait: 0 tasks and 0 hosts when idle."""

    name: str = Field(
        description="Queue name (cluster, queue, table, roles derive from it; <= 24 chars). Required.",
    )
    _name = field_validator("name")(resource_name(24))
    region: Region | None = region_field()
    network: NetworkSpec = network_field()
    capacity: CapacitySpec = Field(description="GPU instance types, Spot, warm pool (min_hosts stays 0). Required.")
    container: ContainerSpec = Field(
        description="The consumer container (runs sdk.jobs.Worker; image, gpu, cpu, memory). Required."
    )
    network_mode: Literal["awsvpc", "bridge"] = Field(
        default="awsvpc",
        description="awsvpc (own ENI + security group) or bridge (shares the host's; more tasks per host). "
        "Default awsvpc.",
    )
    placement_constraint: str | None = Field(
        default=None,
        description="ECS memberOf expression, e.g. 'attribute:ecs.instance-type =~ g6.*'. Default None.",
    )
    max_workers: int = Field(default=2, ge=1, le=100, description="Most consumer tasks. Default 2.")
    idle_minutes: int = Field(
        default=30, ge=1, le=1440, description="Scale to 0 tasks after this long with no jobs. Default 30."
    )
    jobs: JobResourcesSpec = Field(
        default_factory=JobResourcesSpec,
        description="The job stream: job timeout, receives before the DLQ, an existing queue, file expiry and prefix. "
        "Default: created with JobResourcesSpec's defaults and this queue's name. Leave it default when passing "
        "`jobs=` JobResources to the blueprint.",
    )
    oldest_message_age_alarm_seconds: int = Field(
        default=1800,
        ge=60,
        description="Alarm when the oldest waiting job is older than this (no capacity, workers stuck). Default 1800.",
    )
    busy_hours_per_day: float = Field(
        default=4,
        ge=0,
        le=24,
        description="Assumed hours a day with jobs, for the cost estimate's duty cycle only. Default 4.",
    )
    enable_exec: bool = Field(default=True, description="ECS Exec into workers (audited). Default True.")
    grants: tuple[Grant, ...] = Field(default=(), description="Extra task role permissions. Default none.")
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec, description="Default: alarms without notification.")
    gateway: GatewaySpec | None = Field(
        default=None, description="An HTTPS job API (docs/job_gateway.md). Default None: boto3 submitters only."
    )

    most_tasks_field: ClassVar[str] = "max_workers"

    shares_queue_with: str | None = Field(
        default=None,
        description="Name (cluster = service) of another IdleStopGpuQueue consuming the same jobs: each then scales "
        "on the jobs that are its own. Default None: the only consumer.",
    )
    start_after_minutes: int = Field(
        default=0,
        ge=0,
        le=120,
        description="Start workers only once the oldest waiting job has waited this long (a fallback consumer; "
        "needs shares_queue_with). Default 0: at once.",
    )

    @field_validator("placement_constraint")
    @classmethod
    def _placement(cls, value: str | None) -> str | None:
        return value if value is None else cluster_query(value)

    @model_validator(mode="after")
    def _cross_field(self) -> "IdleStopGpuQueueSpec":
        problems = [
            *self._idle_stop_problems(),
            *self.service_problems(network_mode=self.network_mode, enable_exec=self.enable_exec),
        ]
        reserved = sorted(k for k in self.container.environment if k.startswith(ENV_PREFIX))
        if reserved:
            problems.append(
                f"container.environment: {', '.join(reserved)} are set by the blueprint from its queue, table and "
                "bucket. Fix: drop them."
            )
        problems_to_error(problems)
        self.check_hosts()
        return self

    def _idle_stop_problems(self) -> list[str]:
        problems = []
        if self.capacity.min_hosts > 0:
            problems.append(
                f"capacity.min_hosts: {self.capacity.min_hosts} hosts would run while the queue is idle. "
                "Fix: 0 (use capacity.warm_pool for faster starts from stopped hosts)."
            )
        if self.start_after_minutes and self.shares_queue_with is None:
            problems.append(
                "start_after_minutes: only a second consumer waits for the first; a lone queue would leave jobs "
                "waiting. Fix: set shares_queue_with to the other consumer's name, or drop start_after_minutes."
            )
        return problems

    @property
    def most_tasks(self) -> int:
        return self.max_workers

    @property
    def jobs_spec(self) -> JobResourcesSpec:
        """`jobs`, named after this queue unless it has a name of its own."""
        return self.jobs.named(self.name)

    @property
    def minutes_to_zero_hosts(self) -> int:
        """From the last job's end to no running instance: idle wait, alarm lag, capacity-provider scale-in."""
        return self.idle_minutes + METRIC_LAG_MINUTES + CAPACITY_PROVIDER_SCALE_IN_MINUTES + HOST_TERMINATION_MINUTES

    @property
    def duty_cycle(self) -> float:
        """Share of the day hosts run: busy hours plus one tail to zero per day (the cost estimate's guess)."""
        return round(min(1.0, (self.busy_hours_per_day * 60 + self.minutes_to_zero_hosts) / 1440), 4)
