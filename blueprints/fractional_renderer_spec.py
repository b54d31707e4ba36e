"""FractionalRendererSpec and FallbackSpec: a FractionalGpuRenderer (no constructs); its worker container and render
settings are blueprints/render_worker_spec.py."""

from pydantic import Field, field_validator, model_validator

from blueprints.idle_stop_queue_spec import IdleStopGpuQueueSpec
from blueprints.render_worker_spec import RenderSettings, RenderWorkerSpec
from blueprints.service_spec import network_field, region_field
from sdk.catalog import CATALOG
from sdk.container_definition import definition_size_problems
from sdk.gateway_spec import GatewaySpec
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.sqs_limits import MAX_VISIBILITY_SECONDS
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
from sdk.validation import (
    min_tasks_per_host,
    region_environment_problems,
    task_fit_problems,
    unknown_instance_types,
)

__all__ = ["FallbackSpec", "FractionalRendererSpec", "RenderSettings", "RenderWorkerSpec"]

FALLBACK_SUFFIX = "-fb"


class FallbackSpec(Spec):
    """Whole-GPU hosts that take jobs when the fractional hosts cannot (no capacity, or a long backlog)."""

    instance_types: tuple[str, ...] = Field(
        default=("g6.xlarge",),
        min_length=1,
        description="Whole-GPU types in order of preference. Default (g6.xlarge,): a full L4.",
    )
    max_workers: int = Field(default=1, ge=1, le=100, description="Most fallback tasks. Default 1.")
    after_minutes: int = Field(
        default=10,
        ge=1,
        le=120,
        description="Start the fallback when the oldest waiting job is older than this. Default 10 minutes.",
    )
    busy_hours_per_day: float = Field(
        default=1, ge=0, le=24, description="Assumed hours a day the fallback runs (cost estimate only). Default 1."
    )


class FractionalRendererSpec(Spec):
    """A renderer: the render_worker on g6f/gr6f hosts consuming one job queue, with an optional whole-GPU
    fallback consumer."""

    name: str = Field(
        description="Renderer name (queue, cluster, roles derive from it; <= 21 chars, the fallback adds "
        f"{FALLBACK_SUFFIX!r}). Required.",
    )
    _name = field_validator("name")(resource_name(21))
    region: Region | None = region_field()
    network: NetworkSpec = network_field()
    capacity: CapacitySpec = Field(
        default_factory=lambda: CapacitySpec(instance_types=("g6f.xlarge",)),
        description="Render hosts: g6f/gr6f sizes (or whole-GPU g4dn/g5/g6/g6e/gr6), warm pool, Spot. "
        "Default g6f.xlarge on-demand, no warm pool.",
    )
    worker: RenderWorkerSpec = Field(description="The render_worker container. Required (image).")
    render: RenderSettings = Field(default_factory=RenderSettings, description="Default 5 views, 512 px, 2 samples.")
    max_workers: int = Field(default=2, ge=1, le=100, description="Most render tasks on the primary hosts. Default 2.")
    idle_minutes: int = Field(
        default=15, ge=1, le=240, description="Scale to zero after this long with no jobs. Default 15."
    )
    job_timeout_seconds: int = Field(
        default=900,
        ge=60,
        le=MAX_VISIBILITY_SECONDS,
        description="Longest a job may run before SQS retries it. Default 900.",
    )
    fallback: FallbackSpec | None = Field(
        default=None, description="Whole-GPU fallback consumer. Default None: fractional hosts only."
    )
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec, description="Default: alarms without notification.")
    gateway: GatewaySpec | None = Field(
        default=None, description="An HTTPS job API on the primary queue (docs/job_gateway.md). Default None."
    )

    @model_validator(mode="after")
    def _cross_field(self) -> "FractionalRendererSpec":
        family = _family_problems(self.capacity.instance_types, "capacity.instance_types")
        problems = [
            *family,
            *self._render_problems(),
            *region_environment_problems(self.worker.environment, self.region, "worker.environment"),
        ]
        if self.fallback is not None and not family:  # the fallback rules look the primary types up
            problems += self._fallback_problems(self.fallback)
        problems_to_error(problems)
        problems_to_error(
            task_fit_problems(
                self.capacity.instance_types,
                self.container,
                types_field="capacity.instance_types",
                container_field="worker",
            )
        )
        if self.fallback is not None:
            problems_to_error(self._fallback_fit_problems(self.fallback))
        problems_to_error(
            definition_size_problems(
                self.container,
                field="worker.environment",
                name=self.name,
                region=self.region,
                network_mode="bridge",
                enable_exec=True,
            )
        )
        self.queue_spec()  # the queue's own rules (idle stop, host bounds) on the same field names
        return self

    def _render_problems(self) -> list[str]:
        if self.render.timeout_seconds >= self.job_timeout_seconds:
            return [
                f"render.timeout_seconds: {self.render.timeout_seconds} s is not below job_timeout_seconds "
                f"{self.job_timeout_seconds} s, so SQS would hand a running job to another worker. "
                "Fix: raise job_timeout_seconds or lower render.timeout_seconds."
            ]
        return []

    def _fallback_problems(self, fallback: FallbackSpec) -> list[str]:
        problems = _family_problems(fallback.instance_types, "fallback.instance_types")
        if problems:
            return problems
        fractional = [t for t in fallback.instance_types if CATALOG.get(t).fractional]
        if fractional:
            problems.append(
                f"fallback.instance_types: {', '.join(fractional)} are fractional; the fallback runs whole GPUs. "
                "Fix: list g6f/gr6f sizes in capacity.instance_types and whole-GPU types (g6.xlarge) here."
            )
        if not self.fractional:
            problems.append(
                "fallback: the primary hosts already run whole GPUs, so one task definition places on every "
                "type. Fix: append the fallback types to capacity.instance_types and drop fallback."
            )
        return problems

    def _fallback_fit_problems(self, fallback: FallbackSpec) -> list[str]:
        return task_fit_problems(
            fallback.instance_types,
            self.fallback_container,
            types_field="fallback.instance_types",
            container_field="worker",
        )

    @property
    def fractional(self) -> bool:
        return all(CATALOG.get(t).fractional for t in self.capacity.instance_types)

    @property
    def container(self) -> ContainerSpec:
        """The primary hosts' render container (GPU share, vCPU and memory resolved)."""
        return self.worker.container(self.render, self.capacity.instance_types, self.worker.gpu)

    @property
    def fallback_container(self) -> ContainerSpec:
        """The fallback hosts' container: the same worker with whole GPUs and their hosts' share."""
        assert self.fallback is not None
        return self.worker.container(self.render, self.fallback.instance_types, 1)

    @property
    def tasks_per_host(self) -> int:
        return min_tasks_per_host(self.capacity.instance_types, self.container)

    def queue_spec(self) -> IdleStopGpuQueueSpec:
        """The primary consumer: bridge-mode render tasks pinned to the primary family."""
        return IdleStopGpuQueueSpec(
            name=self.name,
            region=self.region,
            network=self.network,
            capacity=self.capacity,
            container=self.container,
            network_mode="bridge",
            placement_constraint=placement_constraint(self.capacity.instance_types),
            max_workers=self.max_workers,
            idle_minutes=self.idle_minutes,
            jobs=self.jobs_spec,
            shares_queue_with=f"{self.name}{FALLBACK_SUFFIX}" if self.fallback is not None else None,
            alarms=self.alarms,
            gateway=self.gateway,
        )

    def fallback_queue_spec(self) -> IdleStopGpuQueueSpec:
        """The fallback consumer of the same jobs: whole GPUs, its own hosts (it runs in the primary's network)."""
        assert self.fallback is not None
        return IdleStopGpuQueueSpec(
            name=f"{self.name}{FALLBACK_SUFFIX}",
            region=self.region,
            capacity=CapacitySpec(
                instance_types=self.fallback.instance_types, root_volume_gib=self.capacity.root_volume_gib
            ),
            container=self.fallback_container,
            network_mode="bridge",
            placement_constraint=placement_constraint(self.fallback.instance_types),
            max_workers=self.fallback.max_workers,
            idle_minutes=self.idle_minutes,
            jobs=self.jobs_spec,
            shares_queue_with=self.name,
            start_after_minutes=self.fallback.after_minutes,
            busy_hours_per_day=self.fallback.busy_hours_per_day,
            alarms=self.alarms,
        )

    @property
    def jobs_spec(self) -> JobResourcesSpec:
        """The job stream's settings the renderer sets (only those given, so a passed-in JobResources may differ)."""
        fields = {"job_timeout_seconds"} & self.model_fields_set
        return JobResourcesSpec(**{k: getattr(self, k) for k in fields})


def _family_problems(instance_types: tuple[str, ...], field: str) -> list[str]:
    problems = unknown_instance_types(instance_types, field)
    for name in instance_types:
        if name in CATALOG and CATALOG.get(name).rt_cores_per_gpu == 0:
            problems.append(
                f"{field}: {name} ({CATALOG.get(name).gpu_model}) has no RT cores, so Cycles renders slowly at a "
                f"high price. Fix: a size of {', '.join(render_families())} (e.g. g6f.xlarge)."
            )
    if not problems and len({CATALOG.get(t).fractional for t in instance_types}) > 1:
        problems.append(
            f"{field}: mixes fractional and whole-GPU sizes ({', '.join(instance_types)}); one task definition "
            "cannot ask for both a fraction and a whole GPU. Fix: keep the g6f/gr6f sizes here and put the "
            "whole-GPU types in fallback.instance_types."
        )
    return problems


def placement_constraint(instance_types: tuple[str, ...]) -> str:
    """memberOf expression: the whole family when all sizes share one, else the exact types."""
    families = {CATALOG.get(t).family for t in instance_types}
    if len(families) == 1 and CATALOG.get(instance_types[0]).fractional:
        return f"attribute:ecs.instance-type =~ {families.pop()}.*"
    return f"attribute:ecs.instance-type in [{', '.join(instance_types)}]"


def render_families() -> list[str]:
    """Catalog families whose GPUs have RT cores (OptiX hardware ray tracing)."""
    return sorted({i.family for i in CATALOG.instances.values() if i.rt_cores_per_gpu > 0})
