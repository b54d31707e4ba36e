"""The consumer loop that GPU containers run: receive, claim, protect, heartbeat, handle, upload, finish.

Guarantees: a job is claimed by a conditional update, so duplicate deliveries run the handler once while its
worker lives; a dead worker's job comes back when the message's visibility (and the row's lease) run out.
Every job ends SUCCEEDED, CANCELLED, or FAILED with its reason on the row and its message in the DLQ.
The handler runs on the calling thread (bpy wants the main thread); a daemon thread heartbeats.
"""

import json
import logging
import math
import os
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from sdk.jobs.config import JOB_TIMEOUT_ENV, WorkerConfig
from sdk.jobs.dead_letters import SWEEP_LIMIT, dlq_url_of, fail_dead_letters, read_redrive
from sdk.jobs.errors import InvalidJobMessage, PermanentJobError
from sdk.jobs.layout import RESULT_FILE, job_prefix, output_files, output_key, result_key, upload
from sdk.jobs.protection import TaskProtection
from sdk.jobs.schema import (
    INLINE_RESULT_BYTES,
    MAX_RESULT_BYTES,
    JobMessage,
    JobRecord,
    JobStatus,
    json_object,
)
from sdk.jobs.sqs_limits import MAX_VISIBILITY_SECONDS
from sdk.jobs.store import JobStore
from sdk.jobs.telemetry import Metrics, configure_json_logging

DEFAULT_MAX_RECEIVE_COUNT = 3
SHORT_POLL_PAUSE = 0.2
log = logging.getLogger("sdk.jobs.worker")


@dataclass
class JobContext:
    """What a handler gets. Files written under output_dir are uploaded to outputs/ after it returns, each to a
    key that depends on the job alone, so a rerun overwrites them."""

    job_id: str
    kind: str
    payload: dict[str, Any]
    inputs: dict[str, Path]
    output_dir: Path
    attempt: int
    logger: logging.LoggerAdapter[logging.Logger]
    cancel_event: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        """True once the job should stop: cancelled, its lease lost, or the stop grace or job timeout over.
        To block until then, use `ctx.cancel_event.wait(seconds)`."""
        return self.cancel_event.is_set()

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt, worker and duplicate delivery of this job: key side effects by it, since
        SQS delivers at least once and a worker can die after an effect and before recording the result."""
        return self.job_id


Handler = Callable[[JobContext], Mapping[str, Any] | None]


@dataclass(frozen=True)
class _Delivery:
    receipt: str
    receive_count: int
    body: str


@dataclass(frozen=True)
class _Outcome:
    state: Literal["succeeded", "retry", "failed"]
    result: dict[str, Any] | None = None
    result_key: str | None = None
    error: str = ""


@dataclass
class _Running:
    delivery: _Delivery
    job: JobMessage
    attempt: int
    ctx: JobContext
    released: bool = False


class Worker:
    def __init__(
        self,
        handler: Handler,
        config: WorkerConfig | None = None,
        *,
        session: boto3.session.Session | None = None,
        kinds: set[str] | None = None,
        metrics_stream: Any = None,
        worker_id: str | None = None,
    ) -> None:
        """`config` defaults to WorkerConfig.from_env(): the GPU_JOBS_* variables the task definition sets."""
        session = session or boto3.session.Session()
        self.config = config = config if config is not None else WorkerConfig.from_env()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._handler, self._kinds = handler, kinds
        self._sqs, self._s3 = session.client("sqs"), session.client("s3")
        self._store = JobStore(session.client("dynamodb"), config.table_name)
        self._protection = TaskProtection.from_env(config.protection_minutes)
        self._metrics = Metrics(config.metrics_namespace, config.queue_url.rsplit("/", 1)[-1], metrics_stream)
        self._stopping = threading.Event()
        self._stop_deadline: float | None = None
        self._redrive_policy: tuple[int, str | None] | None = None
        self._next_sweep = 0.0  # idle: sweep at once; busy: from dead_letter_sweep_seconds after the start
        self._sweep_lock = threading.Lock()  # one sweep at a time, from the loop or the heartbeat
        self._started = time.monotonic()
        self._running: _Running | None = None
        self._lock = threading.Lock()  # guards _running between the main and heartbeat threads
        self._exit_on_release = False
        self._last_message = time.monotonic()

    # -- loop ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Receive until stop()/SIGTERM or idle exit; after SIGTERM the job may finish within the grace."""
        configure_json_logging()
        # Only a process's main loop may end the process; run() on a thread (tests, embedding) never does.
        self._exit_on_release = threading.current_thread() is threading.main_thread()
        log.info("worker started", extra={"worker_id": self.worker_id, "queue": self.config.queue_url})
        with self._signals():
            while not self._stopping.is_set() and not self._idle_expired():
                self.run_once()
        self._protection.disable()
        log.info("worker stopped", extra={"worker_id": self.worker_id})

    def run_once(self) -> bool:
        """One receive cycle; True when a message was received (and handled)."""
        deliveries = self._receive()
        if not deliveries:
            self._protection.disable()
            self._sweep_dead_letters()
            if not self.config.wait_seconds:
                time.sleep(SHORT_POLL_PAUSE)  # short polling: no hot loop on an empty queue
            return False
        self._last_message = time.monotonic()
        for delivery in deliveries:
            try:
                self._handle(delivery)
            except Exception:  # an AWS outage mid-job must not end the worker: the message simply reappears
                log.exception("message handling failed; it reappears after the visibility timeout")
        return True

    def stop(self, grace: float | None = None) -> None:
        """Stop receiving; a running job gets `grace` s (default config.stop_grace_seconds) to finish."""
        if not self._stopping.is_set():
            self._stop_deadline = time.monotonic() + (self.config.stop_grace_seconds if grace is None else grace)
            self._stopping.set()
            log.info("stop requested", extra={"worker_id": self.worker_id})

    def _idle_expired(self) -> bool:
        idle = self.config.idle_exit_seconds
        if idle is not None and time.monotonic() - self._last_message >= idle:
            log.info("idle exit", extra={"idle_seconds": idle})
            return True
        return False

    def _receive(self) -> list[_Delivery]:
        try:
            out = self._sqs.receive_message(
                QueueUrl=self.config.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=self.config.wait_seconds,
                VisibilityTimeout=self.config.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except (ClientError, BotoCoreError) as exc:
            log.warning("receive failed", extra={"error": str(exc)})
            time.sleep(1)
            return []
        return [
            _Delivery(m["ReceiptHandle"], int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)), m["Body"])
            for m in out.get("Messages", [])
        ]

    # -- one message -----------------------------------------------------------------------------------------
    def _handle(self, delivery: _Delivery) -> None:
        if self._stopping.is_set():
            self._set_visibility(delivery, 0)  # stopped receiving: hand it straight back
            return
        try:
            job = self._parse(delivery.body)
        except InvalidJobMessage as exc:
            self._reject(delivery, exc.reason, exc.job_id)
            return
        vt = self.config.visibility_timeout
        claim = self._store.claim(job.job_id, self.worker_id, lease_seconds=vt, takeover_skew=vt / 4)
        if claim.record is not None:
            self._execute(delivery, job, claim.record)
        else:
            self._not_claimed(delivery, job, claim.current)

    def _parse(self, body: str) -> JobMessage:
        job = JobMessage.from_body(body)
        if self._kinds is not None and job.kind not in self._kinds:
            raise InvalidJobMessage(
                f"kind {job.kind!r} has no handler here (this worker runs {sorted(self._kinds)})", job.job_id
            )
        expected = job_prefix(self.config.prefix, job.job_id) + "inputs/"
        stray = [key for key in job.inputs.values() if not key.startswith(expected)]
        if stray:
            raise InvalidJobMessage(f"input keys {stray} are outside {expected}", job.job_id)
        return job

    def _reject(self, delivery: _Delivery, reason: str, job_id: str | None, kind: str = "") -> None:
        """A message no handler can run: FAILED with the reason (when it names a job), then on to the DLQ."""
        log.warning("rejected message", extra={"job_id": job_id, "reason": reason})
        if job_id is not None:
            applied, _ = self._store.fail_unowned(job_id, reason, kind)
            if applied:
                self._metrics.emit(kind, JobsFailed=1)
        self._to_dead_letters(delivery)

    def _not_claimed(self, delivery: _Delivery, job: JobMessage, current: JobRecord | None) -> None:
        if current is None:
            self._reject(delivery, "no job row for this message (expired or never written)", job.job_id, job.kind)
        elif current.status in (JobStatus.SUCCEEDED, JobStatus.CANCELLED):
            log.info("skipping finished job", extra={"job_id": job.job_id, "status": str(current.status)})
            self._delete(delivery)
        elif current.status is JobStatus.RUNNING and current.lease_until:
            wait = math.ceil(current.lease_until - time.time()) + 1  # once that lease could have lapsed
            log.info("duplicate delivery deferred", extra={"job_id": job.job_id, "seconds": wait})
            self._set_visibility(delivery, wait)
        else:  # FAILED: let redrive carry the message to the DLQ
            self._to_dead_letters(delivery)

    def _execute(self, delivery: _Delivery, job: JobMessage, record: JobRecord) -> None:
        started = time.monotonic()
        logger = logging.LoggerAdapter(
            logging.getLogger("sdk.jobs.handler"),
            {"job_id": job.job_id, "kind": job.kind, "attempt": record.attempts},
        )
        with tempfile.TemporaryDirectory(prefix="job-", ignore_cleanup_errors=True) as tmp:
            ctx = JobContext(
                job.job_id, job.kind, dict(job.payload), {}, Path(tmp) / "outputs", record.attempts, logger
            )
            running = _Running(delivery, job, record.attempts, ctx)
            self._protection.enable()
            self._metrics.emit(job.kind, JobsStarted=1)
            logger.info("job started", extra={"receive_count": delivery.receive_count})
            with self._heartbeat(running):
                outcome = self._attempt(ctx, job, Path(tmp))
            self._finish(running, outcome, time.monotonic() - started)

    def _attempt(self, ctx: JobContext, job: JobMessage, workdir: Path) -> _Outcome:
        try:
            self._download(job, workdir / "inputs", ctx)
            ctx.output_dir.mkdir()
            result, text = _checked_result(self._handler(ctx))
            self._upload(ctx)
            return self._stored(ctx.job_id, result, text)
        except PermanentJobError as exc:
            return _Outcome("failed", error=f"PermanentJobError: {exc}")
        except Exception as exc:  # any other handler/S3 error is retried by SQS
            return _Outcome("retry", error=f"{type(exc).__name__}: {exc}"[:2000])

    def _download(self, job: JobMessage, folder: Path, ctx: JobContext) -> None:
        folder.mkdir()
        for name, key in job.inputs.items():
            self._s3.download_file(self.config.bucket, key, str(folder / name))
            ctx.inputs[name] = folder / name

    def _upload(self, ctx: JobContext) -> None:
        files = output_files(ctx.output_dir)
        if any(str(relative) == RESULT_FILE for _, relative in files):
            raise PermanentJobError(f"outputs: {RESULT_FILE} is reserved for the job's result; name the file otherwise")
        for path, relative in files:
            key = output_key(self.config.prefix, ctx.job_id, relative)
            upload(self._s3, path, self.config.bucket, key, self.config.sse)

    def _stored(self, job_id: str, result: dict[str, Any], text: str) -> _Outcome:
        """The result in the row when it fits INLINE_RESULT_BYTES, else in S3 under a key the row points to."""
        if len(text.encode()) <= INLINE_RESULT_BYTES:
            return _Outcome("succeeded", result=result)
        key = result_key(self.config.prefix, job_id)
        upload(self._s3, text.encode(), self.config.bucket, key, self.config.sse)
        return _Outcome("succeeded", result_key=key)

    def _finish(self, running: _Running, outcome: _Outcome, seconds: float) -> None:
        job, attempt, delivery = running.job, running.attempt, running.delivery
        if running.released:
            return
        final = outcome.state == "failed" or self._last_receive(delivery)
        try:
            applied, current = self._record(running, outcome, final)
        except ClientError as exc:
            if outcome.state != "succeeded" or exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            # DynamoDB refused the row as written (e.g. over its 400 KB): a rerun would write the same, so fail once.
            size = len(json.dumps(outcome.result).encode())
            error = f"the result ({size} bytes) could not be stored in the job row: {exc}"
            outcome, final = _Outcome("failed", error=error), True
            applied, current = self._record(running, outcome, final)
        extra = {"job_id": job.job_id, "kind": job.kind, "attempt": attempt, "seconds": round(seconds, 3)}
        if not applied:
            self._lost(delivery, current, extra)
        elif outcome.state == "succeeded":
            self._delete(delivery)
            self._metrics.emit(job.kind, JobsSucceeded=1, JobDuration=seconds)
            log.info("job succeeded", extra=extra)
        elif final:
            self._set_visibility(delivery, 0)  # the next receive moves it to the DLQ
            self._metrics.emit(job.kind, JobsFailed=1, JobDuration=seconds)
            log.error("job failed", extra={**extra, "error": outcome.error})
        else:
            self._set_visibility(delivery, min(self.config.visibility_timeout, 2 ** (attempt + 2)))
            self._metrics.emit(job.kind, JobsRetried=1)
            log.warning("job will be retried", extra={**extra, "error": outcome.error})

    def _record(self, running: _Running, outcome: _Outcome, final: bool) -> tuple[bool, JobRecord | None]:
        job_id, attempt = running.job.job_id, running.attempt
        if outcome.state == "succeeded":
            return self._store.succeed(job_id, self.worker_id, attempt, outcome.result, result_key=outcome.result_key)
        if final:
            return self._store.fail_owned(job_id, self.worker_id, attempt, outcome.error)
        return self._store.retry_later(job_id, self.worker_id, attempt, outcome.error)

    def _lost(self, delivery: _Delivery, current: JobRecord | None, extra: dict[str, Any]) -> None:
        """The row moved on: cancelled (drop the message) or taken over (leave it to the new owner)."""
        status = current.status if current else None
        log.warning("job no longer ours", extra={**extra, "status": str(status)})
        if status is JobStatus.CANCELLED:
            self._delete(delivery)

    # -- heartbeat, grace, signals ---------------------------------------------------------------------------
    @contextmanager
    def _heartbeat(self, running: _Running) -> Iterator[None]:
        halt = threading.Event()
        thread = threading.Thread(target=self._beat_loop, args=(running, halt), name="job-heartbeat", daemon=True)
        with self._lock:
            self._running = running
        thread.start()
        try:
            yield
        finally:
            halt.set()
            with self._lock:
                self._running = None
            thread.join()

    def _beat_loop(self, running: _Running, halt: threading.Event) -> None:
        next_beat = time.monotonic() + self.config.heartbeat_interval
        limit = self.config.job_timeout_seconds
        give_up = None if limit is None else time.monotonic() + limit
        while not halt.wait(0.1):
            if self._stop_deadline is not None and time.monotonic() >= self._stop_deadline:
                self._release(running)
                return
            if give_up is not None and time.monotonic() >= give_up:
                self._time_out(running)
                return
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.config.heartbeat_interval
                with suppress(ClientError, BotoCoreError):  # a missed beat is retried on the next tick
                    self._beat(running)
            if self._busy_sweep_due():  # on its own thread: a slow sweep must not delay a beat
                threading.Thread(target=self._sweep_dead_letters, name="dead-letter-sweep", daemon=True).start()

    def _beat(self, running: _Running) -> None:
        vt = self.config.visibility_timeout
        self._sqs.change_message_visibility(
            QueueUrl=self.config.queue_url, ReceiptHandle=running.delivery.receipt, VisibilityTimeout=vt
        )
        ok, current = self._store.renew(running.job.job_id, self.worker_id, running.attempt, vt)
        self._protection.enable()
        if not ok:
            running.ctx.cancel_event.set()
            log.warning("lease lost", extra={"job_id": running.job.job_id, "status": str(current and current.status)})

    def _release(self, running: _Running) -> None:
        """Stop grace is over: hand the job back now (row PENDING, message visible) instead of at the VT."""
        if not self._take_back(running):
            return
        with suppress(ClientError, BotoCoreError):
            self._store.release(running.job.job_id, self.worker_id, running.attempt)
            self._set_visibility(running.delivery, 0)
        log.warning("job released at stop", extra={"job_id": running.job.job_id, "attempt": running.attempt})
        self._leave(0)  # the handler cannot be interrupted; ECS would SIGKILL it anyway

    def _time_out(self, running: _Running) -> None:
        """Past the job timeout: record it as the attempt's error and hand the message on (retry, or the DLQ on
        its last receive), so a hung handler cannot hold a GPU host and its scale-in protection for ever."""
        if not self._take_back(running):
            return
        job, attempt = running.job, running.attempt
        error = f"TimeoutError: still running after {self.config.job_timeout_seconds:g} s ({JOB_TIMEOUT_ENV})"
        final = self._last_receive(running.delivery)
        record = self._store.fail_owned if final else self._store.retry_later
        with suppress(ClientError, BotoCoreError):
            record(job.job_id, self.worker_id, attempt, error)
            self._set_visibility(running.delivery, 0)
        self._metrics.emit(job.kind, **({"JobsFailed": 1} if final else {"JobsRetried": 1}))
        log.error("job timed out", extra={"job_id": job.job_id, "attempt": attempt, "final": final})
        self._leave(1)  # the handler cannot be interrupted: a fresh task replaces this one

    def _take_back(self, running: _Running) -> bool:
        """Take the job from its handler, once: True for the one caller that did (its _finish then does nothing)."""
        with self._lock:
            if self._running is not running or running.released:
                return False
            running.released = True
        running.ctx.cancel_event.set()
        return True

    def _leave(self, code: int) -> None:
        """Under run(), exit the process now: the handler thread still holds the job we just handed back."""
        if self._exit_on_release:
            logging.shutdown()
            os._exit(code)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        previous = {sig: signal.signal(sig, lambda *_: self.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
        old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        # The C-level handler writes the wakeup fd, so a stop is seen even while the handler runs C code.
        watcher = threading.Thread(target=self._watch_signals, args=(reader,), name="job-signals", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(old_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            writer.close()
            reader.close()

    def _watch_signals(self, reader: socket.socket) -> None:
        with suppress(OSError):
            while data := reader.recv(16):
                if signal.SIGTERM in data or signal.SIGINT in data:
                    self.stop()

    # -- SQS helpers -----------------------------------------------------------------------------------------
    def _max_receive_count(self) -> int:
        return self._redrive()[0]

    def _last_receive(self, delivery: _Delivery) -> bool:
        """This delivery is the message's last before SQS moves it to the DLQ."""
        return delivery.receive_count >= self._max_receive_count()

    def _redrive(self) -> tuple[int, str | None]:
        """(maxReceiveCount, DLQ URL), read once from the queue; config.max_receive_count wins when set."""
        if self._redrive_policy is None:
            count, dlq = DEFAULT_MAX_RECEIVE_COUNT, None
            try:
                count, dlq_arn = read_redrive(self._sqs, self.config.queue_url)
                dlq = dlq_url_of(self._sqs, dlq_arn)  # the count stands even when only this lookup fails
            except (ClientError, BotoCoreError, KeyError, ValueError) as exc:
                fix = "grant sqs:GetQueueAttributes on the queue and sqs:GetQueueUrl on its DLQ"
                log.warning("redrive policy unreadable: no dead-letter sweep", extra={"error": str(exc), "fix": fix})
            self._redrive_policy = (self.config.max_receive_count or count, dlq)
        return self._redrive_policy

    def _busy_sweep_due(self) -> bool:
        every = self.config.dead_letter_sweep_seconds
        due = every is not None and time.monotonic() >= max(self._next_sweep, self._started + every)
        return due and not self._sweep_lock.locked()

    def _sweep_dead_letters(self) -> None:
        """FAILED for jobs whose message was dead-lettered before anyone recorded a result. Runs when idle and,
        from the heartbeat, while a job runs: a worker sweeps every dead_letter_sweep_seconds, busy or not."""
        if not self._sweep_lock.acquire(blocking=False):
            return  # the other thread is sweeping
        try:
            self._sweep_if_due()
        finally:
            self._sweep_lock.release()

    def _sweep_if_due(self) -> None:
        every = self.config.dead_letter_sweep_seconds
        if every is None or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + every  # also without a DLQ: the heartbeat asks again only then
        dlq = self._redrive()[1]
        if dlq is None:
            return
        try:
            marked = fail_dead_letters(self._sqs, self._store, dlq, limit=SWEEP_LIMIT)
        except (ClientError, BotoCoreError) as exc:
            log.warning("dead-letter sweep failed", extra={"error": str(exc)})
            return
        for job_id in marked:
            self._metrics.emit("", JobsFailed=1)
            log.error("job failed: dead-lettered", extra={"job_id": job_id})

    def _to_dead_letters(self, delivery: _Delivery) -> None:
        """Visible again so the next receive redrives it; without a DLQ it would loop, so delete it then."""
        if delivery.receive_count > self._max_receive_count() + 1:
            log.warning("message outlived its redrive (queue has no DLQ?); deleting it")
            self._delete(delivery)
        else:
            self._set_visibility(delivery, 0)

    def _set_visibility(self, delivery: _Delivery, seconds: int) -> None:
        # An expired receipt only means SQS made the message visible already.
        with suppress(ClientError, BotoCoreError):
            self._sqs.change_message_visibility(
                QueueUrl=self.config.queue_url,
                ReceiptHandle=delivery.receipt,
                VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)),
            )

    def _delete(self, delivery: _Delivery) -> None:
        self._sqs.delete_message(QueueUrl=self.config.queue_url, ReceiptHandle=delivery.receipt)


def _checked_result(result: object) -> tuple[dict[str, Any], str]:
    """The handler's result and its JSON text. A result that can never be stored is a PermanentJobError: a rerun
    of the handler would return it again."""
    if result is not None and not isinstance(result, Mapping):
        raise PermanentJobError(f"handler returned {type(result).__name__}; return a mapping or None")
    try:
        stored = json_object(result or {}, "handler result")
    except ValueError as exc:
        raise PermanentJobError(str(exc)) from None
    text = json.dumps(stored)
    size = len(text.encode())
    if size > MAX_RESULT_BYTES:
        raise PermanentJobError(
            f"handler result is {size} bytes, over the {MAX_RESULT_BYTES}-byte bound; "
            "write large data as files under ctx.output_dir"
        )
    return stored, text
