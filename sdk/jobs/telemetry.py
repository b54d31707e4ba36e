"""Structured JSON log lines and CloudWatch embedded-metric-format (EMF) lines on stdout.

CloudWatch Logs turns EMF lines shipped by the awslogs driver into metrics: namespace from the worker
config, dimensions [Queue] and [Queue, Kind], metrics JobsStarted/JobsSucceeded/JobsFailed/JobsRetried
(Count) and JobDuration (Seconds).
"""

import json
import logging
import sys
import threading
import time
from typing import Any, TextIO

_UNITS = {"JobDuration": "Seconds"}
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus every `extra=` field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """JSON lines on stdout for the root logger, unless the application configured logging already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


class Metrics:
    def __init__(self, namespace: str, queue: str, stream: TextIO | None = None) -> None:
        self._namespace = namespace
        self._queue = queue
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, kind: str, **values: float) -> None:
        metrics = [{"Name": name, "Unit": _UNITS.get(name, "Count")} for name in values]
        line = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [["Queue"], ["Queue", "Kind"]],
                        "Metrics": metrics,
                    }
                ],
            },
            "Queue": self._queue,
            "Kind": kind or "unknown",
            **values,
        }
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(json.dumps(line) + "\n")
            stream.flush()
