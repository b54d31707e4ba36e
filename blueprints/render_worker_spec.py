"""RenderSettings and RenderWorkerSpec: the render_worker container of a FractionalGpuRenderer (no constructs), and
the ContainerSpec it becomes on a list of host types (the worker image's contract: render_worker/contract.py)."""

import math

from pydantic import Field, model_validator

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
from sdk.jobs.config import ENV_PREFIX as JOBS_ENV_PREFIX
from sdk.specs import ContainerSpec, HealthCheckSpec, ImageReference, Spec, VolumeSpec, problems_to_error

# The worker image's contract (render_worker/contract.py, render_worker/Dockerfile): user render (10001), ENTRYPOINT
# python -m render_worker, VOLUMEs /scratch (TMPDIR=/scratch/tmp) and the kernel cache, health from the heartbeat file.
SERVE_COMMAND = ("serve",)
HEALTH_COMMAND = ("CMD", "python", "-m", "render_worker", "health", "--max-age", "60")
CPU_STEP, MEMORY_STEP_MIB = 128, 256


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

    def container(
        self, render: RenderSettings, instance_types: tuple[str, ...], gpu: float | None = None
    ) -> ContainerSpec:
        """The worker on `instance_types` hosts: `gpu` (default: the smallest size's partition, at most 1) and,
        unless set here, the vCPU and memory of that GPU share of the smallest host."""
        gpu = gpu if gpu is not None else min(min(CATALOG.get(t).gpus for t in instance_types), 1)
        cpu, memory = host_share(instance_types, gpu)
        return ContainerSpec(
            image=self.image,
            gpu=gpu,
            cpu=self.cpu or cpu,
            memory_mib=self.memory_mib or memory,
            command=SERVE_COMMAND,
            environment={
                **self.environment,
                **render.environment(),
                rc.KERNEL_CACHE_DIR_ENV: KERNEL_CACHE_PATH,
                rc.HEARTBEAT_FILE_ENV: HEARTBEAT_FILE,
            },
            health_check=HealthCheckSpec(command=HEALTH_COMMAND, timeout_seconds=10, start_period_seconds=120),
            read_only_root=True,
            scratch_paths=(SCRATCH_PATH, "/tmp"),
            volumes=(VolumeSpec(name="kernel-cache", container_path=KERNEL_CACHE_PATH, shared=True),),
            user=self.user,
            log_retention_days=self.log_retention_days,
        )


def host_share(instance_types: tuple[str, ...], gpu: float) -> tuple[int, int]:
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
