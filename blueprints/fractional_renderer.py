"""FractionalGpuRenderer: the render_worker image on fractional-L4 g6f hosts, a consumer of an IdleStopGpuQueue.

A fractional GPU value (0.125, 0.5) only places on fractional sizes, so a whole-GPU fallback (g6.xlarge) cannot share
the primary's task definition: it is a second consumer of the same jobs with its own task (whole GPUs), capacity
provider and service, started only when the primary falls behind.
"""

from blueprints.fractional_renderer_spec import (
    FallbackSpec,
    FractionalRendererSpec,
    placement_constraint,
    render_families,
)
from blueprints.idle_stop_queue import IdleStopGpuQueue
from blueprints.render_worker_spec import RenderSettings, RenderWorkerSpec
from render_worker.contract import KERNEL_CACHE_PATH
from sdk.constructs.engine import Construct
from sdk.constructs.jobs import JobResources
from sdk.constructs.network import Network
from sdk.constructs.review_hints import record_hints
from sdk.constructs.stack import in_stack_region
from sdk.hints import BlueprintHints

__all__ = [
    "FallbackSpec",
    "FractionalGpuRenderer",
    "FractionalRendererSpec",
    "RenderSettings",
    "RenderWorkerSpec",
    "placement_constraint",
    "render_families",
    "review_notes",
]


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
            self._fallback()
        record_hints(self, self.hints())

    def _fallback(self) -> None:
        # Both consumers read one queue; each scales on its own jobs (their specs say so, docs/fractional_renderer.md).
        self.fallback = IdleStopGpuQueue(
            self, "fallback", spec=self.spec.fallback_queue_spec(), jobs=self.jobs, network=self.primary.network
        )

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
