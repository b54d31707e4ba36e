"""FractionalGpuRenderer: the render_worker image on fractional-L4 g6f hosts, a consumer of an IdleStopGpuQueue.

A fractional GPU value (0.125, 0.5) only places on fractional sizes, so a whole-GPU fallback (g6.xlarge) cannot share
the primary's task definition: it is a second consumer of the same jobs with its own task (whole GPUs), capacity
provider and service, started only when the primary falls behind.
"""

import math
from typing import Any, Literal

from constructs import Construct
from pydantic import Field, field_validator, model_validator

from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec, JobResources, queue_metrics
from sdk import sizing
from sdk.catalog import CATALOG
from sdk.constructs.network import Network
from sdk.constructs.review_hints import record_hints
from sdk.constructs.scaling import metric_math, running_tasks_metric
from sdk.constructs.stack import in_stack_region
from sdk.constructs.task import definition_size_problems
from sdk.gateway_spec import GatewaySpec
from sdk.hints import BlueprintHints
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

ViewName = Literal["front", "back", "left", "right", "top", "bottom", "iso"]
DeviceName = Literal["auto", "optix", "cuda", "cpu"]
# The worker image's contract (render_worker/Dockerfile): user render (10001), ENTRYPOINT python -m render_worker,
# VOLUMEs /scratch (TMPDIR=/scratch/tmp) and the kernel cache, health from the heartbeat file.
WORKER_USER = "10001:10001"
SCRATCH_PATH = "/scratch"
KERNEL_CACHE_PATH = "/var/cache/render-kernels"
HEARTBEAT_FILE = f"{SCRATCH_PATH}/render-worker.heartbeat"
SERVE_COMMAND = ("serve",)
HEALTH_COMMAND = ("CMD", "python", "-m", "render_worker", "health", "--max-age", "60")
CPU_STEP, MEMORY_STEP_MIB = 128, 256
FALLBACK_SUFFIX = "-fb"


class RenderSettings(Spec):
    """Render defaults the worker applies where a job's payload leaves them out (RENDER_* variables)."""

    views: tuple[ViewName, ...] = Field(
        default=("front", "back", "left", "right", "iso"),
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
            "RENDER_VIEWS": ",".join(self.views),
            "RENDER_SIZE": str(self.size),
            "RENDER_SAMPLES": str(self.samples),
            "RENDER_DEVICE": self.device,
            "RENDER_TIMEOUT_S": str(self.timeout_seconds),
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
        reserved = sorted(k for k in self.environment if k.startswith(("RENDER_", "GPU_JOBS_")))
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
    name: str = Field(
        description="Renderer name (queue, cluster, roles derive from it; <= 21 chars, the fallback adds "
        f"{FALLBACK_SUFFIX!r}). Required.",
    )
    _name = field_validator("name")(resource_name(21))
    region: Region | None = Field(
        default=None,
        description="AWS region. Default None: the stack's (GpuStack(region=...)), the one source of truth; a "
        "different value is refused.",
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Default: a new 2-AZ VPC, one NAT.")
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
        default=900, ge=60, le=43200, description="Longest a job may run before SQS retries it. Default 900."
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
            job_timeout_seconds=self.job_timeout_seconds,
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
            job_timeout_seconds=self.job_timeout_seconds,
            busy_hours_per_day=self.fallback.busy_hours_per_day,
            alarms=self.alarms,
        )

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
                "RENDER_KERNEL_CACHE_DIR": KERNEL_CACHE_PATH,
                "RENDER_HEARTBEAT_FILE": HEARTBEAT_FILE,
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


class FractionalGpuRenderer(Construct):
    """Children: `.primary` (IdleStopGpuQueue on the fractional hosts), `.jobs` (its JobResources, or the one
    given), `.fallback` (IdleStopGpuQueue on whole-GPU hosts consuming the same jobs, or None)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: FractionalRendererSpec,
        jobs: JobResources | None = None,
        network: Network | None = None,
    ):
        """`network`: another blueprint's `.network` in this stack to render in (the spec leaves `network` default)."""
        super().__init__(scope, id_)
        spec, self.region = in_stack_region(self, spec)
        self.spec = spec
        fallback_types = spec.fallback.instance_types if spec.fallback is not None else ()
        # The fallback's hosts share the primary's subnets: its types choose the AZs too.
        self.primary = IdleStopGpuQueue(
            self, "primary", spec=spec.queue_spec(), jobs=jobs, network=network, zone_instance_types=fallback_types
        )
        self.jobs = self.primary.jobs
        self.fallback: IdleStopGpuQueue | None = None
        if spec.fallback is not None:
            self._fallback(spec.fallback)
        record_hints(self, self.hints())

    def _fallback(self, fallback: FallbackSpec) -> None:
        self.fallback = second = IdleStopGpuQueue(
            self, "fallback", spec=self.spec.fallback_queue_spec(), jobs=self.jobs, network=self.primary.network
        )
        # Both consumers read one queue: each scales on what is its own (docs/fractional_renderer.md).
        queue, after = self.jobs.queue.name, fallback.after_minutes * 60
        for consumer, other, start_after in ((self.primary, second, 0), (second, self.primary, after)):
            queries = consumer_queries(queue, own=consumer.spec.name, other=other.spec.name, after_seconds=start_after)
            for alarm, query in queries.items():
                text = CONSUMER_ALARM_DESCRIPTIONS[alarm, bool(start_after)].format(self.spec.idle_minutes)
                consumer.set_scaling_query(alarm, query, text)

    def hints(self) -> BlueprintHints:
        spec, container = self.spec, self.spec.container
        primary = (
            f"{container.gpu:g} GPU per render on {', '.join(spec.capacity.instance_types)}, "
            f"{spec.tasks_per_host} per host"
        )
        fallback = spec.fallback
        summary = [f"{primary}, {len(spec.render.views)} views at {spec.render.size}px"]
        if fallback is not None:
            summary.append(
                f"fallback: 1 GPU per render on {', '.join(fallback.instance_types)} once a job waits "
                f"{fallback.after_minutes} min (up to {fallback.max_workers})"
            )
        return BlueprintHints(blueprint=type(self).__name__, summary=tuple(summary), review_notes=review_notes(spec))


CONSUMER_ALARM_DESCRIPTIONS = {
    ("backlog", False): "Jobs waiting plus the primary's running tasks: one task per job, up to max_workers",
    ("idle", False): "No job waiting and none held by the primary (in flight minus the fallback's tasks) for {} min: "
    "0 tasks",
    ("backlog", True): "A job waited past start_after: the fallback's running tasks plus the waiting jobs",
    ("idle", True): "No job waiting past start_after and none held by the fallback (in flight minus the primary's "
    "tasks) for {} min: 0 tasks",
}


def consumer_queries(
    queue_name: str, *, own: str, other: str, after_seconds: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """Backlog and idle metric math of one of two consumers of a queue (`own`, `other`: their cluster = service
    names). Jobs waiting count only once the oldest waited `after_seconds`; in-flight jobs count as this consumer's
    only beyond the other consumer's running tasks (each task holds at most one job)."""
    metrics = {
        **queue_metrics(queue_name),
        "own_running": running_tasks_metric(own, own),
        "other_running": running_tasks_metric(other, other),
    }
    held = "IF({in_flight} > {other_running}, {in_flight} - {other_running}, 0)"
    if after_seconds:
        backlog = f"IF({{age}} > {after_seconds}, {{visible}} + {{own_running}}, 0)"
        waiting = f"IF({{age}} > {after_seconds}, {{visible}}, 0)"
    else:
        backlog, waiting = "{visible} + {own_running}", "{visible}"
    return {
        "backlog": metric_math(metrics, backlog, id_="jobs", label="jobs for this consumer"),
        "idle": metric_math(
            metrics, f"{waiting} + {held}", id_="outstanding", label="jobs this consumer holds or should"
        ),
    }


def review_notes(spec: FractionalRendererSpec) -> tuple[str, ...]:
    container = spec.container
    notes = [
        "The renderer container gets no extra Linux privileges (no SYS_ADMIN) and no device files mapped by hand: "
        "it asks ECS for a GPU, and ECS starts it with the NVIDIA runtime and that GPU visible. Task definitions "
        "that add SYS_ADMIN or /dev/nvidia* mappings gain nothing from them and widen what a compromised renderer "
        "can do.",
        "Hosts boot the current Amazon Linux 2023 ECS GPU image (looked up in SSM at deploy time): Amazon Linux 2 "
        "is end of life, and g6f hosts need the GRID driver that image selects.",
        f"Renders run as user {spec.worker.user} on a read-only file system; only /scratch, /tmp and a GPU kernel "
        f"cache at {KERNEL_CACHE_PATH} (shared by the renders on a host) are writable. Tasks use the host's "
        "network (bridge mode): they open no ports and need no network interface each.",
    ]
    if spec.fractional:
        notes.insert(
            1,
            f"Each render asks for {container.gpu:g} GPU, not 1: a {', '.join(spec.capacity.instance_types)} host "
            "has only that slice of an L4, so a render asking for a whole GPU would never start.",
        )
    if "g6f.large" in spec.capacity.instance_types:
        notes.append(
            "g6f.large hosts allow memory overcommit (vm.overcommit_memory=1) at boot: the GPU driver's "
            "allocations would otherwise fail on their 8 GiB."
        )
    if spec.fallback is not None:
        types = ", ".join(spec.fallback.instance_types)
        notes.append(
            f"When a job has waited {spec.fallback.after_minutes} min, whole-GPU {types} hosts start and take jobs "
            "from the same queue (their own service, asking for 1 GPU): a GPU slice cannot run there, and jobs do "
            "not wait on fractional capacity that is not coming."
        )
    return tuple(notes)
