"""Queue mode: an sdk.jobs handler for kind "render" that renders in the warm Blender child.

Bad input, bad options and a missing device fail the job at once (PermanentJobError); a crashed or timed-out
Blender child is retried once by SQS (it may be a transient GPU fault), then fails the job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from render_worker.config import SettingsError, WorkerSettings, options_with
from render_worker.errors import DeviceUnavailable, InputError, RenderCrashed, RenderError
from render_worker.health import AFTER_JOB_S, SLACK_S, Liveness
from render_worker.isolation import START_TIMEOUT_S, RenderProcess
from sdk.jobs import JobContext, PermanentJobError, Worker, WorkerConfig

JOB_KIND = "render"
MODEL_INPUT = "model"
PAYLOAD_KEYS = ("views", "size", "samples", "device")


class RenderHandler:
    """Callable handler: `handler(ctx) -> summary` with the PNGs, contact sheet and render.json in output_dir."""

    def __init__(self, renderer: RenderProcess, settings: WorkerSettings, liveness: Liveness | None = None) -> None:
        self.renderer = renderer
        self.settings = settings
        self.liveness = liveness

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        model = model_input(ctx.inputs)
        try:
            options = options_with(self.settings.defaults, job_options(ctx.payload))
            self._stamp(f"rendering job {ctx.job_id}", START_TIMEOUT_S + self.settings.limits.render_timeout_s)
            report = self.renderer.render(model, ctx.output_dir, options)
            self._stamp(f"finishing job {ctx.job_id}", AFTER_JOB_S)
        except (InputError, DeviceUnavailable, SettingsError) as exc:
            raise PermanentJobError(str(exc)) from None
        except RenderCrashed as exc:
            if ctx.attempt >= 2:
                raise PermanentJobError(f"{exc} (attempt {ctx.attempt}; not retried again)") from None
            raise
        ctx.logger.info("rendered %d views on %s", len(report.views), report.device.backend)
        return report.summary()

    def _stamp(self, doing: str, within: float) -> None:
        if self.liveness is not None:
            self.liveness.stamp(doing, within + SLACK_S)


class StampingWorker(Worker):
    """The job loop stamps the health file before each poll (see render_worker/health.py)."""

    def __init__(self, handler: RenderHandler, config: WorkerConfig, liveness: Liveness) -> None:
        super().__init__(handler, config, kinds={JOB_KIND})
        self.liveness = liveness

    def run_once(self) -> bool:
        self.liveness.stamp("polling the queue", self.config.wait_seconds + SLACK_S)
        return super().run_once()


def model_input(inputs: Mapping[str, Path]) -> Path:
    """The input named `model` or `model.<ext>`; the extension picks the importer."""
    matches = [path for name, path in inputs.items() if Path(name).stem == MODEL_INPUT]
    if len(matches) != 1:
        raise PermanentJobError(
            f"a render job needs exactly one input named 'model.<ext>' (3mf, stl, obj or ply); got {sorted(inputs)}"
        )
    return matches[0]


def job_options(payload: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(payload) - set(PAYLOAD_KEYS))
    if unknown:
        raise PermanentJobError(f"unknown render payload key(s) {unknown}; allowed: {', '.join(PAYLOAD_KEYS)}")
    return dict(payload)


def serve(settings: WorkerSettings, config: WorkerConfig | None = None) -> None:
    """Warm the Blender child, then consume render jobs until SIGTERM or idle exit."""
    if os.environ.get("TMPDIR"):  # job downloads go to the scratch volume, which starts empty on ECS
        Path(os.environ["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    liveness = Liveness(settings.heartbeat_file)
    liveness.stamp("starting Blender", START_TIMEOUT_S + SLACK_S)
    renderer = RenderProcess(settings)
    renderer.start()
    try:
        handler = RenderHandler(renderer, settings, liveness)
        StampingWorker(handler, config or WorkerConfig.from_env(), liveness).run()
    finally:
        renderer.close()


__all__ = ["JOB_KIND", "RenderError", "RenderHandler", "StampingWorker", "model_input", "serve"]
