"""Fault tests that count: every job ends SUCCEEDED exactly once or FAILED with its reason and its message
in the DLQ. Faults: handler errors, poison messages, duplicate deliveries, a missing bucket during uploads,
worker processes killed with SIGKILL mid-job, SIGTERM mid-job. Each test prints its tally."""

import json
import signal
import time
from pathlib import Path

from sdk.jobs import JobClient, JobMessage, JobStatus


def _wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _markers(folder: Path) -> dict[str, int]:
    """job_id -> pid of the process that started it (latest attempt)."""
    return {
        p.name.split(".")[0]: int(p.read_text(encoding="utf-8") or 0)
        for p in folder.iterdir()
        if p.read_text(encoding="utf-8")
    }


def test_a_mixed_batch_with_injected_faults_loses_no_job(jobs) -> None:
    # GIVEN 165 jobs: plain, with inputs, flaky, doomed, permanent, duplicated, and poisoned messages
    submit = jobs.client.submit
    ok = [submit("render", {"n": i}) for i in range(90)]
    ok += [submit("render", {"n": i}, inputs={"scene.json": b'{"views": 5}'}) for i in range(10)]
    flaky = [submit("render", {"mode": "flaky", "fail_attempts": 1 + i % 2}) for i in range(30)]
    doomed = [submit("render", {"mode": "doomed"}) for _ in range(10)]
    permanent = [submit("render", {"mode": "permanent"}) for _ in range(10)]
    duplicated = [submit("render", {"sleep": 0.2}) for _ in range(10)]
    for job_id in duplicated:
        record = jobs.client.status(job_id)
        body = JobMessage(job_id=job_id, kind=record.kind, payload=record.payload).to_body()
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)
    poisoned = _poisoned_jobs(jobs, 5)
    all_jobs = ok + flaky + doomed + permanent + duplicated + poisoned
    # WHEN four workers consume until every job is terminal and the queue is empty
    jobs.run_workers(4, all_jobs, timeout=180)
    # THEN nothing is lost, doubled or stuck, and each group ended where it should
    tally = jobs.tally(all_jobs)
    assert (tally.doubles, tally.lost, tally.stuck, tally.problems) == (0, 0, 0, [])
    assert (tally.succeeded_once, tally.failed_with_reason) == (140, 25)
    statuses = {j: jobs.client.status(j) for j in doomed + permanent + poisoned}
    assert all(statuses[j].error == "RuntimeError: injected transient fault on attempt 3" for j in doomed)
    assert all(statuses[j].error == "PermanentJobError: injected permanent fault" for j in permanent)
    assert all("invalid job message" in (statuses[j].error or "") for j in poisoned)
    assert sum(1 for body in jobs.dlq_bodies if body.startswith("garbage")) == 5


def _poisoned_jobs(jobs, count: int) -> list[str]:
    """Rows whose only messages are malformed (payload not an object), plus `count` unreadable bodies."""
    holding = jobs.sqs.create_queue(QueueName=f"{jobs.resources.queue_url.rsplit('/', 1)[-1]}-holding")["QueueUrl"]
    holder = JobClient(holding, jobs.resources.table_name, jobs.resources.bucket)
    job_ids = [holder.submit("render", {}) for _ in range(count)]
    for job_id in job_ids:
        body = json.dumps({"version": 1, "job_id": job_id, "kind": "render", "payload": "not an object"})
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body)
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=f"garbage {job_id}")
    return job_ids


def test_output_uploads_into_a_missing_bucket_are_retried_until_it_returns(jobs) -> None:
    # GIVEN 20 jobs and a bucket deleted before any worker uploads
    job_ids = [jobs.client.submit("render", {"n": i}) for i in range(20)]
    _delete_bucket(jobs)
    # WHEN workers run every job once (all uploads fail), the bucket comes back, and workers run again
    jobs.run_until(3, lambda: all(jobs.client.status(j).last_error for j in job_ids), visibility_timeout=6)
    jobs.s3.create_bucket(Bucket=jobs.resources.bucket)
    jobs.run_workers(3, job_ids, timeout=60)
    # THEN each job SUCCEEDED on a later attempt: the handler ran once per attempt, its effect applied once,
    # and the upload error is kept
    tally = jobs.tally(job_ids)
    assert tally.succeeded_once == 20
    assert all(jobs.row(j)["effect_runs"] == jobs.row(j)["attempts"] for j in job_ids)
    assert all("NoSuchBucket" in (jobs.client.status(j).last_error or "") for j in job_ids)
    assert all(jobs.client.status(j).attempts >= 2 for j in job_ids)


def test_output_uploads_into_a_bucket_that_never_returns_fail_with_the_reason(jobs) -> None:
    # GIVEN 5 jobs and no bucket
    job_ids = [jobs.client.submit("render", {}) for _ in range(5)]
    _delete_bucket(jobs)
    # WHEN workers consume until they settle
    jobs.run_workers(3, job_ids, timeout=60)
    # THEN every job is FAILED naming the missing bucket, with its message in the DLQ
    assert jobs.tally(job_ids).failed_with_reason == 5
    assert all("NoSuchBucket" in (jobs.client.status(j).error or "") for j in job_ids)


def _delete_bucket(jobs) -> None:
    for obj in jobs.s3.list_objects_v2(Bucket=jobs.resources.bucket).get("Contents", []):
        jobs.s3.delete_object(Bucket=jobs.resources.bucket, Key=obj["Key"])
    jobs.s3.delete_bucket(Bucket=jobs.resources.bucket)


def test_worker_processes_killed_mid_job_lose_nothing(jobs, tmp_path: Path) -> None:
    # GIVEN 12 slow jobs and worker processes that are SIGKILLed while a job runs, three times
    markers = tmp_path / "markers"
    markers.mkdir()
    job_ids = [jobs.client.submit("render", {"sleep": 0.4, "marker_dir": str(markers)}) for _ in range(12)]
    killed: set[str] = set()
    for _ in range(3):
        process = jobs.spawn_worker()
        victim = _wait_for(
            lambda p=process: next(
                (j for j, pid in _markers(markers).items() if pid == p.pid and j not in killed), None
            ),
            what="a job started by the worker process",
        )
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed.add(victim)
    # WHEN other workers take over (the killed jobs come back after the visibility timeout)
    jobs.run_workers(3, job_ids, timeout=60)
    # THEN every job SUCCEEDED exactly once; the killed ones needed a second claim
    assert jobs.tally(job_ids).succeeded_once == 12
    assert all(jobs.client.status(j).attempts >= 2 for j in killed)


def test_workers_killed_between_the_side_effect_and_the_success_write_double_no_effect(jobs) -> None:
    # GIVEN 24 jobs, 6 of whose worker processes die right after the side effect and before the success write
    # (one of them twice), with an idempotent handler keyed by ctx.idempotency_key
    ok = [jobs.client.submit("render", {"n": i}) for i in range(18)]
    crashing = [jobs.client.submit("render", {"mode": "crash", "fail_attempts": 1 + i // 5}) for i in range(6)]
    # WHEN three worker processes consume, each one that dies replaced by a new one
    died = jobs.run_processes(3, ok + crashing, timeout=120)
    # THEN seven processes died mid-job, and yet every job SUCCEEDED with its effect applied exactly once
    assert died == [137] * 7
    tally = jobs.tally(ok + crashing)
    assert (tally.succeeded_once, tally.doubles, tally.lost, tally.stuck) == (24, 0, 0, 0)
    # AND the crashed jobs did reach their effect again on the rerun: the idempotency key is what stopped a double
    runs = [int(jobs.row(j)["effect_runs"]) for j in crashing]
    assert runs == [2, 2, 2, 2, 2, 3]


def test_sigterm_mid_job_lets_the_job_finish_within_the_grace(jobs, tmp_path: Path) -> None:
    # GIVEN a worker process with a 10 s stop grace running 1 s jobs
    markers = tmp_path / "markers"
    markers.mkdir()
    job_ids = [jobs.client.submit("render", {"sleep": 1.0, "marker_dir": str(markers)}) for _ in range(6)]
    process = jobs.spawn_worker(GPU_JOBS_STOP_GRACE_SECONDS="10")
    first = _wait_for(lambda: next(iter(_markers(markers)), None), what="a job start")
    # WHEN it gets SIGTERM mid-job
    process.send_signal(signal.SIGTERM)
    # THEN it finishes that job, takes no other and exits cleanly
    assert process.wait(30) == 0
    assert jobs.client.status(first).status is JobStatus.SUCCEEDED
    assert set(_markers(markers)) == {first}
    output = jobs.process_output(process)
    messages = [line["msg"] for line in output if line.get("msg")]
    assert messages == ["worker started", "job started", "stop requested", "job succeeded", "worker stopped"]
    assert [line["Kind"] for line in output if line.get("JobsSucceeded")] == ["render"]
    # AND the rest is done by other workers, each job once
    jobs.run_workers(3, job_ids, timeout=60)
    assert jobs.tally(job_ids).succeeded_once == 6


def test_sigterm_past_the_grace_releases_the_job_at_once(jobs, tmp_path: Path) -> None:
    # GIVEN a worker process with a 0.5 s stop grace and a 60 s visibility timeout, running a 30 s job
    markers = tmp_path / "markers"
    markers.mkdir()
    job_id = jobs.client.submit("render", {"sleep": 30, "slow_attempts": 1, "marker_dir": str(markers)})
    process = jobs.spawn_worker(GPU_JOBS_STOP_GRACE_SECONDS="0.5", GPU_JOBS_VISIBILITY_TIMEOUT="60")
    _wait_for(lambda: _markers(markers), what="the job start")
    # WHEN it gets SIGTERM mid-job
    process.send_signal(signal.SIGTERM)
    # THEN it releases the job and exits: the row is PENDING and the message visible now, not in 60 s
    assert process.wait(15) == 0
    assert jobs.client.status(job_id).status is JobStatus.PENDING
    jobs.run_workers(1, [job_id], timeout=20, visibility_timeout=60)
    record = jobs.client.status(job_id)
    assert (record.status, record.attempts) == (JobStatus.SUCCEEDED, 2)
    assert jobs.tally([job_id]).succeeded_once == 1


def _exhaust_receives(jobs, count: int) -> None:
    """Consumers that die right after receiving, before any claim: the message's receives run out."""
    for _ in range(count):
        got = _wait_for(
            lambda: jobs.sqs.receive_message(QueueUrl=jobs.resources.queue_url, VisibilityTimeout=0).get("Messages"),
            what="the message to be visible",
        )
        assert len(got) == 1


def test_an_idle_worker_fails_jobs_whose_messages_were_dead_lettered_unclaimed(jobs) -> None:
    # GIVEN a job whose message was received maxReceiveCount times by consumers that died before claiming it
    job_id = jobs.client.submit("render", {})
    _exhaust_receives(jobs, jobs.resources.max_receive_count)
    # WHEN a worker polls: its receive makes SQS move the message to the DLQ, and it is then idle
    assert not jobs.worker().run_once()
    # THEN its dead-letter sweep marked the job FAILED with the reason, leaving the message in the DLQ
    assert (
        jobs.client.status(job_id).error == "message dead-lettered before a worker recorded a result; last error: None"
    )
    assert jobs.tally([job_id]).failed_with_reason == 1


def test_the_operator_sweep_fails_a_dead_lettered_job_with_its_last_error(jobs) -> None:
    # GIVEN a job that failed once, then had its remaining receives spent by dying consumers
    job_id = jobs.client.submit("render", {"mode": "flaky"})
    assert jobs.worker(dead_letter_sweep_seconds=None).run_once()
    _exhaust_receives(jobs, jobs.resources.max_receive_count - 1)
    assert not jobs.worker(dead_letter_sweep_seconds=None).run_once()  # moved to the DLQ; no sweep here
    assert jobs.client.status(job_id).status is JobStatus.PENDING
    # WHEN the operator runs the sweep
    marked = jobs.client.fail_dead_letters(jobs.resources.dlq_url)
    # THEN the job is FAILED with the error it last retried on
    assert marked == [job_id]
    assert jobs.client.status(job_id).error == (
        "message dead-lettered before a worker recorded a result; last error: "
        "RuntimeError: injected transient fault on attempt 1"
    )
    assert jobs.tally([job_id]).failed_with_reason == 1
