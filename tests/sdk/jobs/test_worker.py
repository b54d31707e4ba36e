"""Worker behaviour against moto (real boto3 over HTTP): one job at a time, observable through the table and queues."""

import io
import json
import threading
import time
from pathlib import Path

from sdk.jobs import JobClient, JobMessage, JobStatus, Worker


def test_a_job_runs_with_its_inputs_and_its_outputs_land_in_s3(jobs, tmp_path: Path) -> None:
    # GIVEN a job with an input file and a worker
    mesh = tmp_path / "model.3mf"
    mesh.write_bytes(b"3mf bytes")
    job_id = jobs.client.submit("render", {"n": 7}, inputs={"model.3mf": mesh})
    metrics = io.StringIO()
    worker = jobs.worker(metrics_stream=metrics)
    # WHEN the worker runs one receive cycle
    assert worker.run_once()
    # THEN the job SUCCEEDED once with the handler's result, its outputs uploaded and its message deleted
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.SUCCEEDED
    assert record.result == {"n": 7, "attempt": 1}
    assert record.attempts == 1
    assert jobs.row(job_id)["effects"] == "1"
    assert jobs.client.outputs(job_id) == [
        f"jobs/{job_id}/outputs/logs/run.txt",
        f"jobs/{job_id}/outputs/model.3mf.copy",
    ]
    body = jobs.s3.get_object(Bucket=jobs.resources.bucket, Key=f"jobs/{job_id}/outputs/model.3mf.copy")["Body"]
    assert body.read() == b"3mf bytes"
    assert jobs.queue_depth() == 0
    emitted = [json.loads(line) for line in metrics.getvalue().splitlines()]
    assert [next(k for k in line if k.startswith("Job")) for line in emitted] == ["JobsStarted", "JobsSucceeded"]


def _resend(jobs, job_id: str) -> None:
    """Deliver the job's message a second time, as SQS at-least-once delivery may."""
    record = jobs.client.status(job_id)
    body = JobMessage(job_id=job_id, kind=record.kind, payload=record.payload, inputs=record.inputs).to_body()
    jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)


def test_a_duplicate_delivery_runs_the_handler_once(jobs) -> None:
    # GIVEN a slow job whose message is delivered twice
    job_id = jobs.client.submit("render", {"sleep": 1.0})
    _resend(jobs, job_id)
    # WHEN two workers consume the queue
    jobs.run_workers(2, [job_id])
    # THEN the handler ran once and the duplicate is gone with the original
    assert jobs.client.status(job_id).attempts == 1
    assert jobs.tally([job_id]).succeeded_once == 1


def test_a_transient_error_is_retried_and_recorded(jobs) -> None:
    # GIVEN a job that fails on its first attempt
    job_id = jobs.client.submit("render", {"mode": "flaky"})
    # WHEN a worker consumes until it settles
    jobs.run_workers(1, [job_id])
    # THEN the second attempt succeeded and the first error is kept
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts) == (JobStatus.SUCCEEDED, 2)
    assert record.last_error == "RuntimeError: injected transient fault on attempt 1"


def test_a_job_failing_every_attempt_ends_failed_with_its_reason_in_the_dlq(jobs) -> None:
    # GIVEN a job whose handler always raises
    job_id = jobs.client.submit("render", {"mode": "doomed"})
    # WHEN a worker consumes until it settles
    jobs.run_workers(1, [job_id])
    # THEN it is FAILED after maxReceiveCount attempts, with the last error, and its message is in the DLQ
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts) == (JobStatus.FAILED, jobs.resources.max_receive_count)
    assert record.error == "RuntimeError: injected transient fault on attempt 3"
    assert job_id in jobs.dead_letter_job_ids()


def test_a_permanent_error_fails_the_job_without_a_retry(jobs) -> None:
    # GIVEN a job whose handler raises PermanentJobError
    job_id = jobs.client.submit("render", {"mode": "permanent"})
    # WHEN a worker consumes until it settles
    jobs.run_workers(1, [job_id])
    # THEN it ran once, is FAILED with the message, and its message was redriven to the DLQ
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts) == (JobStatus.FAILED, 1)
    assert record.error == "PermanentJobError: injected permanent fault"
    assert job_id in jobs.dead_letter_job_ids()


def test_poison_messages_reach_the_dlq_and_fail_the_job_they_name(jobs) -> None:
    # GIVEN a body that is not JSON and one of a future schema version naming a job
    job_id = jobs.client.submit("render", {})
    jobs.sqs.purge_queue(QueueUrl=jobs.resources.queue_url)
    future = json.dumps({"version": 2, "job_id": job_id, "kind": "render"})
    for body in ("not json {", future):
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)
    # WHEN a worker consumes until the queue is empty
    jobs.run_workers(1, [job_id])
    # THEN both messages are in the DLQ and the named job is FAILED with the reason
    dead = jobs.dead_letter_job_ids()
    assert sorted(jobs.dlq_bodies) == sorted(["not json {", future])
    assert job_id in dead
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.FAILED
    assert record.error is not None and "version" in record.error


def test_a_kind_without_a_handler_fails_with_a_reason(jobs) -> None:
    # GIVEN a worker that runs only "render" jobs and an "upscale" job
    job_id = jobs.client.submit("upscale", {})
    # WHEN it consumes until the job settles
    jobs.run_workers(1, [job_id], kinds={"render"})
    # THEN the job is FAILED naming the kind, without running the handler
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.FAILED
    assert record.error == "kind 'upscale' has no handler here (this worker runs ['render'])"
    assert jobs.tally([job_id]).failed_with_reason == 1


def test_a_message_pointing_outside_the_job_prefix_is_rejected(jobs) -> None:
    # GIVEN a job whose message names an input key of another job
    job_id = jobs.client.submit("render", {})
    jobs.sqs.purge_queue(QueueUrl=jobs.resources.queue_url)
    body = JobMessage(job_id=job_id, kind="render", inputs={"x": "jobs/other/inputs/x"}).to_body()
    jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)
    # WHEN a worker consumes it
    jobs.run_workers(1, [job_id])
    # THEN the job is FAILED with the reason and nothing was downloaded or run
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.FAILED
    assert record.error == f"input keys ['jobs/other/inputs/x'] are outside jobs/{job_id}/inputs/"
    assert "effects" not in jobs.row(job_id)


def test_a_message_without_a_row_creates_a_failed_row(jobs) -> None:
    # GIVEN a valid message for a job the table never had
    body = JobMessage(job_id="ghost", kind="render").to_body()
    jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)
    # WHEN a worker consumes it
    jobs.run_workers(1, ["ghost"])
    # THEN a FAILED row explains it and the message is in the DLQ
    record = jobs.client.status("ghost")
    assert (record.status, record.kind) == (JobStatus.FAILED, "render")
    assert record.error == "no job row for this message (expired or never written)"
    assert "ghost" in jobs.dead_letter_job_ids()


def test_a_job_cancelled_before_it_starts_is_skipped(jobs) -> None:
    # GIVEN a cancelled job still on the queue
    job_id = jobs.client.submit("render", {})
    assert jobs.client.cancel(job_id)
    # WHEN a worker receives it
    assert jobs.worker().run_once()
    # THEN the handler never ran and the message is deleted
    assert jobs.client.status(job_id).status is JobStatus.CANCELLED
    assert "effects" not in jobs.row(job_id)
    assert jobs.queue_depth() == 0


def test_a_cancel_while_running_reaches_the_handler_and_drops_the_message(jobs) -> None:
    # GIVEN a handler that cancels its own job, then waits for the cancellation to reach it
    seen: list[object] = []

    def handler(ctx):
        seen.append(ctx.cancelled)
        jobs.client.cancel(ctx.job_id)
        seen.extend([ctx.cancel_event.wait(5), ctx.cancelled])

    job_id = jobs.client.submit("render", {})
    # WHEN a worker runs it
    jobs.worker(handler).run_once()
    # THEN ctx.cancelled was a plain bool, False then True once the heartbeat told the handler
    assert seen == [False, True, True]
    assert all(type(value) is bool for value in seen)
    # AND the row stays CANCELLED and the message is deleted
    assert jobs.client.status(job_id).status is JobStatus.CANCELLED
    assert jobs.queue_depth() == 0


def test_a_job_longer_than_the_visibility_timeout_is_not_run_twice(jobs) -> None:
    # GIVEN a 1 s visibility timeout and a 3.5 s job, with a second worker polling all along
    job_id = jobs.client.submit("render", {"sleep": 3.5})
    # WHEN both workers consume until it settles
    jobs.run_workers(2, [job_id], visibility_timeout=1, heartbeat_seconds=0.3)
    # THEN the heartbeat kept the message hidden: one attempt, one side effect
    assert jobs.client.status(job_id).attempts == 1
    assert jobs.tally([job_id]).succeeded_once == 1


def test_a_worker_exits_after_the_idle_time(jobs) -> None:
    # GIVEN a worker with a 1.5 s idle exit and an empty queue
    worker = jobs.worker(idle_exit_seconds=1.5)
    started = time.monotonic()
    # WHEN it runs
    worker.run()
    # THEN it returned on its own, shortly after the idle time
    assert 1.5 <= time.monotonic() - started < 6


def test_a_stop_past_the_grace_releases_the_job_to_another_worker(jobs) -> None:
    # GIVEN a worker thread stuck in a handler
    started, unblock = threading.Event(), threading.Event()

    def stuck(ctx):
        started.set()
        unblock.wait(10)

    job_id = jobs.client.submit("render", {})
    worker = jobs.worker(stuck)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert started.wait(10)
    # WHEN it is stopped with a short grace
    worker.stop(grace=0.2)
    time.sleep(0.6)
    # THEN the row is PENDING again and the message visible at once, without waiting for the visibility timeout
    assert jobs.client.status(job_id).status is JobStatus.PENDING
    unblock.set()
    thread.join(10)
    assert jobs.client.status(job_id).status is JobStatus.PENDING
    jobs.run_workers(1, [job_id], visibility_timeout=30)
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts) == (JobStatus.SUCCEEDED, 2)


def test_uploads_carry_the_encryption_header_a_put_grant_may_require(jobs) -> None:
    # GIVEN a client and a worker configured for AES256 uploads
    client = JobClient(jobs.resources.queue_url, jobs.resources.table_name, jobs.resources.bucket, sse="AES256")
    job_id = client.submit("render", {}, inputs={"a.txt": b"a"})
    # WHEN the job runs
    assert jobs.worker(sse="AES256").run_once()
    # THEN the input and every output were written with the header
    keys = [f"jobs/{job_id}/inputs/a.txt", *client.outputs(job_id)]
    heads = [jobs.s3.head_object(Bucket=jobs.resources.bucket, Key=key) for key in keys]
    assert len(heads) == 3
    assert {head["ServerSideEncryption"] for head in heads} == {"AES256"}


def test_a_table_outage_leaves_the_message_for_later_instead_of_crashing(jobs) -> None:
    # GIVEN a job whose table disappears before a worker claims it
    job_id = jobs.client.submit("render", {})
    jobs.ddb.delete_table(TableName=jobs.resources.table_name)
    # WHEN a worker receives the message
    handled = jobs.worker().run_once()
    # THEN the worker carried on and the message is still on the queue for a later attempt
    assert handled
    assert jobs.queue_depth() == 1
    assert (
        json.loads(
            jobs.sqs.receive_message(QueueUrl=jobs.resources.queue_url, WaitTimeSeconds=3)["Messages"][0]["Body"]
        )["job_id"]
        == job_id
    )


def test_a_worker_without_a_config_reads_the_task_definition_environment(jobs, monkeypatch) -> None:
    # GIVEN the GPU_JOBS_* variables an ECS task definition sets, and a submitted job
    for name, value in jobs.resources.worker_env(GPU_JOBS_WAIT_SECONDS="0").items():
        monkeypatch.setenv(name, value)
    job_id = jobs.client.submit("echo", {"n": 1})
    # WHEN Worker(handler) is built with no config and runs once
    worker = Worker(lambda job: {"echo": job.payload["n"]})
    assert worker.run_once()
    # THEN it consumed the queue named by the environment
    assert worker.config.queue_url == jobs.resources.queue_url
    assert jobs.client.status(job_id).result == {"echo": 1}


def test_a_job_past_its_timeout_is_handed_on_with_the_timeout_recorded(jobs) -> None:
    # GIVEN a job whose first attempt hangs for 1.5 s, and workers that give a job 0.5 s
    job_id = jobs.client.submit("render", {"sleep": 1.5, "slow_attempts": 1})
    worker = jobs.worker(job_timeout_seconds=0.5)
    # WHEN one worker takes it, and takes it again once it reappears
    assert worker.run_once()
    first = jobs.client.status(job_id)
    assert worker.run_once()
    # THEN the first attempt ended as a timeout (row back to PENDING with the reason), and the second succeeded
    assert first.status is JobStatus.PENDING and "TimeoutError: still running after 0.5 s" in first.last_error
    final = jobs.client.status(job_id)
    assert (final.status, final.attempts) == (JobStatus.SUCCEEDED, 2)


def test_a_job_that_times_out_on_its_last_receive_fails_with_the_timeout(jobs) -> None:
    # GIVEN a job that always hangs, and a worker that allows one receive and 0.5 s
    job_id = jobs.client.submit("render", {"sleep": 1.5})
    # WHEN it runs once
    assert jobs.worker(job_timeout_seconds=0.5, max_receive_count=1).run_once()
    # THEN it is FAILED with the timeout as its reason
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.FAILED and "TimeoutError" in (record.error or "")


def test_a_result_too_large_for_the_row_is_stored_in_s3_and_read_back(jobs) -> None:
    # GIVEN a handler whose result (500 kB) would take the row over DynamoDB's 400 KB item limit
    runs: list[int] = []

    def big(ctx):
        runs.append(ctx.attempt)
        (ctx.output_dir / "image.png").write_bytes(b"png")
        return {"blob": "x" * 500_000}

    job_id = jobs.client.submit("render", {})
    # WHEN a worker runs it
    assert jobs.worker(big).run_once()
    # THEN it SUCCEEDED on its one run, the row points at the result object and status() reads the result back
    record = jobs.client.status(job_id)
    assert (record.status, runs) == (JobStatus.SUCCEEDED, [1])
    assert record.result == {"blob": "x" * 500_000}
    assert record.result_key == f"jobs/{job_id}/outputs/_result.json"
    assert "result" not in jobs.row(job_id)
    assert jobs.client.wait(job_id, timeout=1).result == record.result
    # AND outputs() lists only the handler's files, and the message is gone
    assert jobs.client.outputs(job_id) == [f"jobs/{job_id}/outputs/image.png"]
    assert jobs.queue_depth() == 0


def test_a_result_over_the_absolute_bound_fails_once_with_its_size(jobs) -> None:
    # GIVEN a handler whose result is over MAX_RESULT_BYTES (16 MiB)
    runs: list[int] = []

    def huge(ctx):
        runs.append(ctx.attempt)
        return {"blob": "x" * (16 * 1024 * 1024)}

    job_id = jobs.client.submit("render", {})
    # WHEN workers consume until it settles
    jobs.run_workers(1, [job_id], handler=huge)
    # THEN the handler ran once, and the job is FAILED with the size in the reason and its message in the DLQ
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts, runs) == (JobStatus.FAILED, 1, [1])
    assert record.error == (
        "PermanentJobError: handler result is 16777228 bytes, over the 16777216-byte bound; "
        "write large data as files under ctx.output_dir"
    )
    assert job_id in jobs.dead_letter_job_ids()


def test_a_result_the_row_refuses_fails_once_with_the_reason(jobs, monkeypatch) -> None:
    # GIVEN a worker that would keep a 500 kB result in the row (as if the inline bound were too high)
    monkeypatch.setattr("sdk.jobs.worker.INLINE_RESULT_BYTES", 10**9)
    runs: list[int] = []

    def big(ctx):
        runs.append(ctx.attempt)
        return {"blob": "x" * 500_000}

    job_id = jobs.client.submit("render", {})
    # WHEN workers consume until it settles
    jobs.run_workers(1, [job_id], handler=big)
    # THEN DynamoDB's refusal ended the job at once: FAILED naming the size, no rerun, message in the DLQ
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts, runs) == (JobStatus.FAILED, 1, [1])
    assert record.error is not None and record.error.startswith("the result (500012 bytes) could not be stored")
    assert "ValidationException" in record.error
    assert job_id in jobs.dead_letter_job_ids()


def test_a_rerun_after_a_lost_success_write_sees_the_same_key_and_overwrites_its_outputs(jobs) -> None:
    # GIVEN a handler that writes an output per attempt, and a first worker that dies before its success write
    seen: list[tuple[int, str]] = []

    def handler(ctx):
        seen.append((ctx.attempt, ctx.idempotency_key))
        (ctx.output_dir / "frame.png").write_bytes(f"attempt {ctx.attempt}".encode())
        return {}

    def crash(*args, **kwargs):
        raise RuntimeError("killed before the success write")

    job_id = jobs.client.submit("render", {})
    first = jobs.worker(handler)
    first._store.succeed = crash
    assert first.run_once()
    assert jobs.client.outputs(job_id) == [f"jobs/{job_id}/outputs/frame.png"]
    # WHEN the message comes back and another worker runs the job again
    jobs.run_workers(1, [job_id], handler=handler)
    # THEN both attempts saw one idempotency key, and the rerun's output replaced the first under the same key
    assert seen == [(1, job_id), (2, job_id)]
    assert jobs.client.status(job_id).status is JobStatus.SUCCEEDED
    assert jobs.client.outputs(job_id) == [f"jobs/{job_id}/outputs/frame.png"]
    body = jobs.s3.get_object(Bucket=jobs.resources.bucket, Key=f"jobs/{job_id}/outputs/frame.png")["Body"]
    assert body.read() == b"attempt 2"


def test_a_busy_worker_fails_a_dead_lettered_job_within_the_sweep_interval(jobs) -> None:
    # GIVEN a worker sweeping every 0.5 s, busy with a job that lasts until another job is FAILED (at most 8 s)
    started, lost = threading.Event(), {}

    def busy(ctx):
        started.set()
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not ("id" in lost and jobs.client.status(lost["id"]).error):
            time.sleep(0.05)
        lost["failed_at"] = time.monotonic()
        return {}

    jobs.client.submit("render", {})
    worker = jobs.worker(busy, dead_letter_sweep_seconds=0.5)
    thread = threading.Thread(target=worker.run_once, daemon=True)
    thread.start()
    assert started.wait(10)
    # WHEN, meanwhile, another job's message is received maxReceiveCount times by consumers that die, then moved
    lost["id"] = jobs.client.submit("render", {})
    _exhaust_receives(jobs, jobs.resources.max_receive_count)
    dead_lettered_at = _wait_until_dead_lettered(jobs)
    thread.join(15)
    # THEN the busy worker marked it FAILED while its own job ran, within the interval plus one sweep
    record = jobs.client.status(lost["id"])
    assert record.status is JobStatus.FAILED
    assert record.error == "message dead-lettered before a worker recorded a result; last error: None"
    assert lost["failed_at"] - dead_lettered_at < 3


def _exhaust_receives(jobs, count: int) -> None:
    """Consumers that die right after receiving, before any claim: the message's receives run out."""
    deadline = time.monotonic() + 10
    while count:
        assert time.monotonic() < deadline, "the message did not become visible again"
        if jobs.sqs.receive_message(QueueUrl=jobs.resources.queue_url, VisibilityTimeout=0).get("Messages"):
            count -= 1


def _wait_until_dead_lettered(jobs) -> float:
    """Receive until SQS has moved the message to the DLQ; returns when that was seen."""
    deadline = time.monotonic() + 10
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    while True:
        assert not jobs.sqs.receive_message(QueueUrl=jobs.resources.queue_url).get("Messages")
        attrs = jobs.sqs.get_queue_attributes(QueueUrl=jobs.resources.dlq_url, AttributeNames=names)["Attributes"]
        if sum(int(v) for v in attrs.values()):
            return time.monotonic()
        assert time.monotonic() < deadline, "the message was not dead-lettered"
        time.sleep(0.05)
