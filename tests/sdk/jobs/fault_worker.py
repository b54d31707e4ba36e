"""A test handler with injectable faults, and a worker process entry point (`python fault_worker.py`).

The payload picks the behaviour: mode ok | flaky (fails `fail_attempts` times) | doomed (always fails) |
permanent (PermanentJobError) | crash (the process dies right after the side effect, before the success write,
on attempts up to `fail_attempts`; worker processes only); `sleep` seconds before finishing (on attempts up to
`slow_attempts`, default all); `marker_dir` gets a file named `{job_id}.{attempt}` holding the worker's pid when
a run starts.

The side effect the tests count is idempotent, as docs/jobs.md recommends: one conditional write adds 1 to the
row's `effects` and records ctx.idempotency_key in `effect_keys`, and is refused when the key is already there.
`effect_runs` counts every run that reached the effect (what a handler without the key would have done).
"""

import os
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import boto3

from sdk.jobs import JobContext, PermanentJobError, Worker, WorkerConfig


class FaultHandler:
    def __init__(self, table_name: str, *, may_exit: bool = False) -> None:
        self._ddb = boto3.client("dynamodb")
        self._table = table_name
        self._may_exit = may_exit  # only a worker process may die; a test's worker thread would take pytest along

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
        self._effect(ctx)
        if mode == "crash" and ctx.attempt <= payload.get("fail_attempts", 1):
            if not self._may_exit:
                raise RuntimeError("mode 'crash' needs a worker process")
            os._exit(137)  # killed between the side effect and the success write
        return {"n": payload.get("n"), "attempt": ctx.attempt}

    def _effect(self, ctx: JobContext) -> None:
        key = {"job_id": {"S": ctx.job_id}}
        self._ddb.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="ADD effect_runs :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        with suppress(self._ddb.exceptions.ConditionalCheckFailedException):  # done by an earlier attempt
            self._ddb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD effects :one, effect_keys :keys",
                ConditionExpression="attribute_not_exists(effect_keys) OR NOT contains(effect_keys, :key)",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":keys": {"SS": [ctx.idempotency_key]},
                    ":key": {"S": ctx.idempotency_key},
                },
            )


def main() -> None:
    """Run a worker from GPU_JOBS_* variables until SIGTERM or idle exit (as an ECS task would)."""
    config = WorkerConfig.from_env(heartbeat_seconds=0.5)
    Worker(FaultHandler(config.table_name, may_exit=True), config).run()
    sys.exit(0)


if __name__ == "__main__":
    main()
