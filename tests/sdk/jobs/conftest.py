"""Fixtures for sdk.jobs tests: a harness over the shared moto resources, the fault handler, the tally."""

import importlib.util
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from sdk.jobs import JobClient, JobStatus, Worker, WorkerConfig

FAULT_WORKER = Path(__file__).with_name("fault_worker.py")
REPO_ROOT = Path(__file__).resolve().parents[3]
_SESSION_TALLY: Counter[str] = Counter()


def _load_fault_worker() -> Any:
    spec = importlib.util.spec_from_file_location("sdk_jobs_fault_worker", FAULT_WORKER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Tally:
    """Where jobs ended. doubles: the side effect applied more than once; stuck: not terminal; lost: anything
    else that is neither SUCCEEDED with its effect once nor FAILED with a reason and its message in the DLQ."""

    submitted: int = 0
    succeeded_once: int = 0
    failed_with_reason: int = 0
    doubles: int = 0
    lost: int = 0
    stuck: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"tally: {self.submitted} submitted, {self.succeeded_once} succeeded once, "
            f"{self.failed_with_reason} failed with reason+DLQ, {self.doubles} doubles, {self.lost} lost, "
            f"{self.stuck} stuck"
        )


class JobHarness:
    """Drives workers against one set of moto resources and checks where every job ended."""

    def __init__(self, resources: Any, tmp_path: Path) -> None:
        self.resources = resources
        self.tmp_path = tmp_path
        self.client = JobClient(resources.queue_url, resources.table_name, resources.bucket)
        self.sqs, self.s3, self.ddb = boto3.client("sqs"), boto3.client("s3"), boto3.client("dynamodb")
        self.handler = _load_fault_worker().FaultHandler(resources.table_name)
        self._dead: set[str] = set()
        self.dlq_bodies: list[str] = []
        self.process_logs: dict[int, Path] = {}

    def config(self, **overrides: Any) -> WorkerConfig:
        base = {
            "queue_url": self.resources.queue_url,
            "table_name": self.resources.table_name,
            "bucket": self.resources.bucket,
            "visibility_timeout": 2,
            "wait_seconds": 0,
            "heartbeat_seconds": 0.5,
            "max_receive_count": self.resources.max_receive_count,
        }
        return WorkerConfig(**{**base, **overrides})

    def worker(
        self,
        handler: Callable[..., Any] | None = None,
        *,
        kinds: set[str] | None = None,
        metrics_stream: Any = None,
        **overrides: Any,
    ) -> Worker:
        return Worker(handler or self.handler, self.config(**overrides), kinds=kinds, metrics_stream=metrics_stream)

    def row(self, job_id: str) -> dict[str, Any]:
        item = self.ddb.get_item(
            TableName=self.resources.table_name, Key={"job_id": {"S": job_id}}, ConsistentRead=True
        ).get("Item", {})
        return {k: next(iter(v.values())) for k, v in item.items()}

    def queue_depth(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attrs.values())

    def settled(self, job_ids: Sequence[str]) -> bool:
        if self.queue_depth():
            return False
        return all(self.client.status(j).status.terminal for j in job_ids)

    def run_workers(self, count: int, job_ids: Sequence[str], timeout: float = 90, **overrides: Any) -> None:
        """Run `count` workers (threads, Worker.run) until every job is terminal and the queue is empty."""
        self.run_until(count, lambda: self.settled(job_ids), timeout, lambda: self.describe(job_ids), **overrides)

    def run_until(
        self,
        count: int,
        done: Callable[[], bool],
        timeout: float = 60,
        describe: Callable[[], str] = str,
        **overrides: Any,
    ) -> None:
        workers = [self.worker(**overrides) for _ in range(count)]
        threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout
        try:
            # Twice in a row: moto moves a message to the DLQ in two steps, which a single look can split.
            while not (done() and _after(0.3, done)):
                assert time.monotonic() < deadline, f"not done after {timeout}s: {describe()}"
                time.sleep(0.3)
        finally:
            for w in workers:
                w.stop(grace=60)
            for t in threads:
                t.join(timeout=30)

    def describe(self, job_ids: Sequence[str]) -> str:
        states = Counter(str(self.client.status(j).status) for j in job_ids)
        return f"{dict(states)}, queue depth {self.queue_depth()}"

    def dead_letter_job_ids(self) -> set[str]:
        """Job ids of the messages in the DLQ (read once; bodies kept in dlq_bodies)."""
        while True:
            out = self.sqs.receive_message(
                QueueUrl=self.resources.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=0
            )
            if not out.get("Messages"):
                return self._dead
            for message in out["Messages"]:
                self.dlq_bodies.append(message["Body"])
                self._dead.add(_job_id(message["Body"]))

    def tally(self, job_ids: Sequence[str]) -> Tally:
        """Every job SUCCEEDED with its side effect applied once, or FAILED with a reason and in the DLQ."""
        dead, result = self.dead_letter_job_ids(), Tally(submitted=len(job_ids))
        for job_id in job_ids:
            row = self.row(job_id)
            status, effects = row.get("status"), int(row.get("effects", 0))
            if status == JobStatus.SUCCEEDED and effects == 1:
                result.succeeded_once += 1
                continue
            if status == JobStatus.FAILED and effects <= 1 and row.get("error") and job_id in dead:
                result.failed_with_reason += 1
                continue
            if effects > 1:
                result.doubles += 1
            elif status not in {str(s) for s in JobStatus if s.terminal}:
                result.stuck += 1
            else:
                result.lost += 1
            result.problems.append(f"{job_id}: {status} effects={effects} error={row.get('error')}")
        _SESSION_TALLY.update(
            submitted=result.submitted,
            succeeded=result.succeeded_once,
            failed=result.failed_with_reason,
            doubles=result.doubles,
            lost=result.lost,
            stuck=result.stuck,
        )
        print(result.line())
        return result

    def run_processes(self, count: int, job_ids: Sequence[str], timeout: float = 90) -> list[int]:
        """Keep `count` worker processes running until every job is settled, starting a new one for each that dies
        (as ECS replaces a task); returns the exit codes of those that died."""
        processes = [self.spawn_worker() for _ in range(count)]
        died: list[int] = []
        deadline = time.monotonic() + timeout
        try:
            while not (self.settled(job_ids) and _after(0.3, lambda: self.settled(job_ids))):
                assert time.monotonic() < deadline, f"not done after {timeout}s: {self.describe(job_ids)}"
                for i, process in enumerate(processes):
                    if process.poll() is not None:
                        died.append(process.returncode)
                        processes[i] = self.spawn_worker()
                time.sleep(0.2)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(30)
        return died

    def spawn_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """A real worker process (fault_worker.py) on these resources, as an ECS task would run it."""
        import os

        variables = {
            "GPU_JOBS_VISIBILITY_TIMEOUT": "2",
            "GPU_JOBS_WAIT_SECONDS": "0",
            "GPU_JOBS_MAX_RECEIVE_COUNT": str(self.resources.max_receive_count),
            **env,
        }
        # The script's folder, not the checkout, leads sys.path in a child: without this the child would import
        # whatever sdk the environment has installed, not the code under test.
        path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
        full_env = {**os.environ, **self.resources.worker_env(**variables), "PYTHONPATH": path}
        log_path = self.tmp_path / f"worker-{time.monotonic_ns()}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(FAULT_WORKER)], env=full_env, stdout=log, stderr=subprocess.STDOUT
            )
        self.process_logs[process.pid] = log_path
        return process

    def process_output(self, process: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
        """The JSON lines a worker process wrote to stdout (logs and EMF metrics)."""
        return [json.loads(line) for line in self.process_logs[process.pid].read_text(encoding="utf-8").splitlines()]


def _after(seconds: float, check: Callable[[], bool]) -> bool:
    time.sleep(seconds)
    return check()


def _job_id(body: str) -> str:
    try:
        return str(json.loads(body).get("job_id"))
    except (ValueError, AttributeError):
        return "<unreadable>"


@pytest.fixture
def jobs(job_resources: Any, tmp_path: Path) -> Iterator[JobHarness]:
    yield JobHarness(job_resources, tmp_path)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SESSION_TALLY:
        t = _SESSION_TALLY
        terminalreporter.write_line(
            f"sdk.jobs fault tally: {t['submitted']} submitted, {t['succeeded']} succeeded once, "
            f"{t['failed']} failed with reason+DLQ, {t['doubles']} doubles, {t['lost']} lost, {t['stuck']} stuck"
        )
