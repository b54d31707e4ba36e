"""A test handler with injectable faults, and a worker process entry point (`python fault_worker.py`).

The payload picks the behaviour: mode ok | flaky (fails `fail_attempts` times) | doomed (always fails) |
permanent (PermanentJobError); `sleep` seconds before finishing (on attempts up to `slow_attempts`, default
all); `marker_dir` gets a file named `{job_id}.{attempt}` holding the worker's pid when a run starts.
Each completed run adds 1 to the row's `effects` attribute: the side effect the tests count.
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from sdk.jobs import JobContext, PermanentJobError, Worker, WorkerConfig


class FaultHandler:
    def __init__(self, table_name: str) -> None:
        self._ddb = boto3.client("dynamodb")
        self._table = table_name

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        payload = ctx.payload
        if payload.get("marker_dir"):
            Path(payload["marker_dir"], f"{ctx.job_id}.{ctx.attempt}").write_text(str(os.getpid()), encoding="utf-8")
        if ctx.attempt <= payload.get("slow_attempts", ctx.attempt):
            time.sleep(payload.get("sleep", 0))
        mode = payload.get("mode", "ok")
        if mode == "doomed" or (mode == "flaky" and ctx.attempt <= payload.get("fail_attempts", 1)):
            raise RuntimeError(f"injected transient fault on attempt {ctx.attempt}")
        if mode == "permanent":
            raise PermanentJobError("injected permanent fault")
        for name, path in ctx.inputs.items():
            (ctx.output_dir / f"{name}.copy").write_bytes(path.read_bytes())
        (ctx.output_dir / "logs").mkdir()
        (ctx.output_dir / "logs" / "run.txt").write_text(f"attempt {ctx.attempt}\n", encoding="utf-8")
        self._ddb.update_item(
            TableName=self._table,
            Key={"job_id": {"S": ctx.job_id}},
            UpdateExpression="ADD effects :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return {"n": payload.get("n"), "attempt": ctx.attempt}


def main() -> None:
    """Run a worker from GPU_JOBS_* variables until SIGTERM or idle exit (as an ECS task would)."""
    config = WorkerConfig.from_env(heartbeat_seconds=0.5)
    Worker(FaultHandler(config.table_name), config).run()
    sys.exit(0)


if __name__ == "__main__":
    main()
