"""The container health check's evidence: the job loop, not a side thread, stamps the health file.

Each stamp says what the loop is doing and how long that step may take (a long poll: the SQS wait; a render: the
Blender child's start-up plus the job's render timeout, after which RenderProcess kills the child). The check fails
once the newest stamp is older than its step's bound, so a stuck loop or a Blender child hung past the job's
timeout (a kill that did not end it) turns the container unhealthy and ECS replaces the task ("For tasks that are part
of a service, if the task reports as unhealthy then the task will be stopped and the service scheduler will replace
it": ECS API reference, HealthCheck).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

# Time a step may run past its own bound: an SQS call's latency, the idle dead-letter sweep, a protection update.
SLACK_S = 60.0
# Between a render's end and the next poll: uploading the outputs, marking the job, deleting the message.
AFTER_JOB_S = 300.0


class Liveness:
    """Writes the stamps: `stamp("polling", within=80)` promises the next stamp within 80 s."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock

    def stamp(self, doing: str, within: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        scratch.write_text(json.dumps({"at": self._clock(), "within": within, "doing": doing}), encoding="utf-8")
        os.replace(scratch, self.path)  # the check never reads half a stamp


def check(path: Path, max_age: float, now: float | None = None) -> tuple[bool, str]:
    """(healthy, the line to print). A stamp is stale after max(its step's bound, max_age) seconds."""
    try:
        stamp = json.loads(path.read_text(encoding="utf-8"))
        at, within, doing = float(stamp["at"]), float(stamp["within"]), str(stamp["doing"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unhealthy: no readable health stamp in {path} ({type(exc).__name__})"
    age, allowed = (time.time() if now is None else now) - at, max(within, max_age)
    if age > allowed:
        return False, f"unhealthy: {doing} since {age:.0f}s, longer than its {allowed:.0f}s bound"
    return True, f"healthy: {doing} for {age:.0f}s (bound {allowed:.0f}s)"
