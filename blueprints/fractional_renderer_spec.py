"""FractionalRendererSpec, RenderSettings, RenderWorkerSpec, FallbackSpec: a FractionalGpuRenderer (no constructs)."""

import math

from pydantic import Field, field_validator, model_validator

from blueprints.idle_stop_queue_spec import IdleStopGpuQueueSpec
from blueprints.service_spec import network_field, region_field
from render_worker import contract as rc
from render_worker.contract import (
    DEFAULT_VIEWS,
    HEARTBEAT_FILE,
    KERNEL_CACHE_PATH,
    SCRATCH_PATH,
    WORKER_USER,
    DeviceName,
    ViewName,
)
from sdk import sizing
from sdk.catalog import CATALOG
from sdk.container_definition import definition_size_problems
from sdk.gateway_spec import GatewaySpec
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.config import ENV_PREFIX as JOBS_ENV_PREFIX
from sdk.jobs.sqs_limits import MAX_VISIBILITY_SECONDS
from sdk.specs import (
    AlarmsSpec,
    CapacitySpec,
    ContainerSpec,
    HealthCheckSpec,
    ImageReference,
    NetworkSpec,
    Region,
    Spec,
    VolumeSpec,
    problems_to_error,
    resource_name,
)
from sdk.validation import (
    min_tasks_per_host,
    region_environment_problems,
    task_fit_problems,
    unknown_instance_types,
)

# The worker image's contract (render_worker/contract.py, render_worker/Dockerfile): user render (10001), ENTRYPOINT
# python -m render_worker, VOLUMEs /scratch (TMPDIR=/scratch/tmp) and the kernel cache, health from the heartbeat file.
SERVE_COMMAND = ("serve",)
HEALTH_COMMAND = ("CMD", "python", "-m", "render_worker", "health", "--max-age", "60")
CPU_STEP, MEMORY_STEP_MIB = 128, 256
FALLBACK_SUFFIX = "-fb"


class RenderSettings(Spec):
    """Render defaults the worker applies where a job's payload leaves them out (RENDER_* variables)."""

    views: tuple[ViewName, ...] = Field(
        default=DEFAULT_VIEWS,
        min_length=1,
        description="Camera views per job. Default the 5 validation views front, back, left, right, iso.",
    )
    size: int = Field(default=512, ge=16, le=8192, description="Square image size, pixels. Default 512.")
    samples: int = Field(
        default=2,
        ge=1,
        le=65536,
        description="Cycles samples (blue noise, denoised). Default 2: the worker's tuned default (SSIM >= 0.98 "
        "against 1024 samples, docs/benchmarks.md), which keeps a CPU fallback inside its time budget.",
    )
    device: DeviceName = Field(
        default="auto", description="Cycles device: auto prefers OptiX, then CUDA, then CPU. Default auto."
    )
    timeout_seconds: int = Field(
        default=600, ge=10, description="Wall-clock limit of one render in the Blender child. Default 600."
    )

    @model_validator(mode="after")
    def _distinct_views(self) -> "RenderSettings":
        if len(set(self.views)) != len(self.views):
            problems_to_error(["render.views: a view is listed twice. Fix: list each view once."])
        return self

    def environment(self) -> dict[str, str]:
        return {
            rc.VIEWS_ENV: ",".join(self.views),
            rc.SIZE_ENV: str(self.size),
            rc.SAMPLES_ENV: str(self.samples),
            rc.DEVICE_ENV: self.device,
            rc.TIMEOUT_ENV: str(self.timeout_seconds),
        }


class RenderWorkerSpec(Spec):
    """The render_worker container. GPU, vCPU and memory default to the task's share of the host."""

    image: ImageReference = Field(min_length=3, description="render_worker image URI (ECR recommended). Required.")
    gpu: float | None = Field(
        default=None,
        gt=0,
        description="GPU per task: a fraction of an L4 on g6f/gr6f (at most the size's partition), whole GPUs "
        "elsewhere. Default None: the partition of the smallest listed size (one task per partition), 1 on "
        "whole-GPU types.",
    )
    cpu: int | None = Field(
        default=None,
        ge=128,
        description="CPU units per task. Default None: the host's vCPU in proportion to the GPU share.",
    )
    memory_mib: int | None = Field(
        default=None,
        ge=256,
        description="Hard memory limit per task, MiB. Default None: the memory ECS can place, in proportion to "
        "the GPU share.",
    )
    user: str = Field(
        default=WORKER_USER,
        pattern=r"^[0-9]+(:[0-9]+)?$",
        description=f"Numeric uid[:gid] the worker runs as (never root). Default {WORKER_USER}, the image's user.",
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="Extra environment (not RENDER_*/GPU_JOBS_*). Default none."
    )
    log_retention_days: int = Field(default=30, description="CloudWatch Logs retention. Default 30.")

    @model_validator(mode="after")
    def _not_root(self) -> "RenderWorkerSpec":
        problems = []
        if self.user.split(":")[0] == "0":
            problems.append(f"worker.user: uid 0 is root. Fix: a non-root uid such as {WORKER_USER}.")
        reserved = sorted(k for k in self.environment if k.startswith((rc.ENV_PREFIX, JOBS_ENV_PREFIX)))
        if reserved:
            problems.append(
                f"worker.environment: {', '.join(reserved)} are set by the blueprint. "
                "Fix: use the render settings (render.*) instead, or drop them."
            )
        problems_to_error(problems)
        return self


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
        return self._container(self.capacity.instance_types, self.worker.gpu)

    @property
    def fallback_container(self) -> ContainerSpec:
        """The fallback hosts' container: the same worker with whole GPUs and their hosts' share."""
        assert self.fallback is not None
        return self._container(self.fallback.instance_types, 1)

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

    def _container(self, instance_types: tuple[str, ...], gpu: float | None) -> ContainerSpec:
        gpu = gpu if gpu is not None else min(min(CATALOG.get(t).gpus for t in instance_types), 1)
        cpu, memory = _host_share(instance_types, gpu)
        worker = self.worker
        return ContainerSpec(
            image=worker.image,
            gpu=gpu,
            cpu=worker.cpu or cpu,
            memory_mib=worker.memory_mib or memory,
            command=SERVE_COMMAND,
            environment={
                **worker.environment,
                **self.render.environment(),
                rc.KERNEL_CACHE_DIR_ENV: KERNEL_CACHE_PATH,
                rc.HEARTBEAT_FILE_ENV: HEARTBEAT_FILE,
            },
            health_check=HealthCheckSpec(command=HEALTH_COMMAND, timeout_seconds=10, start_period_seconds=120),
            read_only_root=True,
            scratch_paths=(SCRATCH_PATH, "/tmp"),
            volumes=(VolumeSpec(name="kernel-cache", container_path=KERNEL_CACHE_PATH, shared=True),),
            user=worker.user,
            log_retention_days=worker.log_retention_days,
        )


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


def _host_share(instance_types: tuple[str, ...], gpu: float) -> tuple[int, int]:
    """CPU units and memory MiB of the task's GPU share of the smallest listed host (rounded down)."""
    cpus, memories = [], []
    for name in instance_types:
        instance = CATALOG.get(name)
        share = min(gpu / instance.gpus, 1.0)
        cpus.append(instance.vcpu * sizing.ECS_CPU_UNITS_PER_VCPU * share)
        memories.append(sizing.registered_memory_mib(instance) * share)
    cpu = max(CPU_STEP, math.floor(min(cpus) / CPU_STEP) * CPU_STEP)
    memory = max(MEMORY_STEP_MIB, math.floor(min(memories) / MEMORY_STEP_MIB) * MEMORY_STEP_MIB)
    return cpu, memory
