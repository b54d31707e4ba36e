"""Queue mode: an sdk.jobs handler for kind "render" that renders in the warm Blender child.

Bad input, bad options and a missing device fail the job at once (PermanentJobError); a crashed or timed-out
Blender child is retried once by SQS (it may be a transient GPU fault), then fails the job.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from render_worker.config import SettingsError, WorkerSettings, options_with
from render_worker.errors import DeviceUnavailable, InputError, RenderCrashed, RenderError
from render_worker.isolation import RenderProcess
from sdk.jobs import JobContext, PermanentJobError, Worker, WorkerConfig

JOB_KIND = "render"
MODEL_INPUT = "model"
PAYLOAD_KEYS = ("views", "size", "samples", "device")
HEARTBEAT_INTERVAL_S = 10.0


class RenderHandler:
    """Callable handler: `handler(ctx) -> summary` with the PNGs, contact sheet and render.json in output_dir."""

    def __init__(self, renderer: RenderProcess, settings: WorkerSettings) -> None:
        self.renderer = renderer
        self.settings = settings

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        model = model_input(ctx.inputs)
        try:
            options = options_with(self.settings.defaults, job_options(ctx.payload))
            report = self.renderer.render(model, ctx.output_dir, options)
        except (InputError, DeviceUnavailable, SettingsError) as exc:
            raise PermanentJobError(str(exc)) from None
        except RenderCrashed as exc:
            if ctx.attempt >= 2:
                raise PermanentJobError(f"{exc} (attempt {ctx.attempt}; not retried again)") from None
            raise
        ctx.logger.info("rendered %d views on %s", len(report.views), report.device.backend)
        return report.summary()


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
    renderer = RenderProcess(settings)
    renderer.start()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(settings.heartbeat_file, stop), daemon=True)
    beat.start()
    try:
        Worker(RenderHandler(renderer, settings), config or WorkerConfig.from_env(), kinds={JOB_KIND}).run()
    finally:
        stop.set()
        renderer.close()


def _heartbeat(path: Path, stop: threading.Event) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    while not stop.is_set():
        path.touch()
        stop.wait(HEARTBEAT_INTERVAL_S)


__all__ = ["JOB_KIND", "RenderError", "RenderHandler", "model_input", "serve"]
