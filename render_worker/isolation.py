"""The Blender child process: imported once, reused across jobs, restarted if it dies or overruns.

bpy runs in a child so that a crash in Blender, lib3mf or a driver (a segfault, an abort, an OOM kill) fails
one job instead of the long-lived worker; the parent keeps polling the queue and starts a fresh child.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from render_worker import errors
from render_worker.config import Limits, RenderOptions, WorkerSettings
from render_worker.errors import RenderCrashed, RenderError, RenderTimeout
from render_worker.inputs import inspect_model
from render_worker.report import RenderReport
from sdk.jobs.telemetry import JsonFormatter, configure_json_logging

log = logging.getLogger("render_worker.isolation")
START_TIMEOUT_S = 120.0
PR_SET_PDEATHSIG = 1


class RenderProcess:
    """Parent-side handle: `render()` runs one job in the warm child and returns its report."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Connection | None = None
        self.starts = 0
        self.jobs = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.alive else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self) -> None:
        """Start the child and wait until bpy is imported and devices are listed (the warm-up)."""
        if self.alive:
            return
        parent, child = self._ctx.Pipe()
        json_logs = any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)
        self._proc = self._ctx.Process(target=_child_main, args=(child, self.settings, json_logs), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        self.starts += 1
        self._receive(START_TIMEOUT_S, "starting Blender")
        log.info("blender child %s ready", self._proc.pid)

    def render(self, model: Path, out_dir: Path, options: RenderOptions, limits: Limits | None = None) -> RenderReport:
        """Render in the child; RenderError subclasses come back as themselves, a dead child as RenderCrashed."""
        limits = limits or self.settings.limits
        inspect_model(model, limits)  # cheap checks first: a bad file never reaches Blender or wakes the child
        self.start()
        assert self._conn is not None
        self._conn.send((str(model), str(out_dir), options.model_dump(), limits.model_dump()))
        report = RenderReport.model_validate(self._receive(limits.render_timeout_s, f"rendering {model.name}"))
        self.jobs += 1
        return report

    def close(self) -> None:
        if self.alive and self._conn is not None:
            try:
                self._conn.send(None)
                self._proc.join(timeout=10)
            except (BrokenPipeError, OSError):
                pass
        self._kill()

    def _receive(self, timeout: float, doing: str) -> Any:
        assert self._conn is not None
        try:
            if not self._conn.poll(timeout):
                self._kill()
                raise RenderTimeout(f"{doing} took longer than {timeout:g} s; the Blender child was restarted")
            status, payload = self._conn.recv()
        except (EOFError, ConnectionResetError, BrokenPipeError):
            code = self._kill()
            raise RenderCrashed(f"Blender child died while {doing} ({_describe_exit(code)})") from None
        if status == "ok":
            return payload
        kind, message = payload
        raise getattr(errors, kind, RenderError)(message)

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if proc is None:
            return None
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=10)
        return proc.exitcode


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _child_main(conn: Connection, settings: WorkerSettings, json_logs: bool = False) -> None:
    """Child loop: warm up once, then render each request; errors travel back as (class name, message).
    It logs as its parent does: JSON lines under `serve`, text otherwise."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the child stops
    _die_with_parent()
    sys.path[:] = [p for p in sys.path if not _blender_scripts_dir(p)]
    if json_logs:
        configure_json_logging(stream=sys.stderr)
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        _warm_up(settings)
    except Exception as exc:  # report why Blender could not start instead of dying silently
        conn.send(("error", ("RenderError", f"Blender could not start: {exc}")))
        return
    conn.send(("ok", {"pid": os.getpid()}))
    from render_worker.render import render_model

    while (request := _next_request(conn)) is not None:
        model, out_dir, options, limits = request
        try:
            report = render_model(
                Path(model), Path(out_dir), RenderOptions.model_validate(options), Limits.model_validate(limits)
            )
            conn.send(("ok", report.model_dump()))
        except RenderError as exc:
            conn.send(("error", (type(exc).__name__, str(exc))))
        except Exception as exc:
            conn.send(("error", ("RenderError", f"unexpected render failure: {type(exc).__name__}: {exc}")))


def _blender_scripts_dir(path: str) -> bool:
    """Paths bpy appends to sys.path once imported; a spawned child inherits them if the parent imported bpy,
    and their pure-Python `bpy` package would then shadow the real module (No module named '_bpy')."""
    parts = Path(path).parts
    return "bpy" in parts and "scripts" in parts[parts.index("bpy") :]


def _next_request(conn: Connection) -> Any:
    try:
        return conn.recv()
    except EOFError:  # the parent went away
        return None


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this child if the parent dies, so no orphan keeps rendering."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) unavailable; an orphaned child stops after its current job")


def _warm_up(settings: WorkerSettings) -> None:
    from render_worker import cycles

    start = time.perf_counter()
    cycles.use_kernel_cache(cache_dir_or_fallback(settings.kernel_cache_dir))
    import bpy  # noqa: F401  (the expensive import happens here, once per child)

    cycles.cycles_devices()
    log.info("blender warm-up %.2f s", time.perf_counter() - start)


def cache_dir_or_fallback(preferred: Path) -> Path:
    """The configured kernel cache, or a per-user one when it is not writable (e.g. outside the container)."""
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        if os.access(preferred, os.W_OK):
            return preferred
    except OSError:
        pass
    fallback = Path.home() / ".cache" / "render-kernels"
    log.warning("kernel cache %s is not writable; using %s", preferred, fallback)
    return fallback
