"""Job table transitions against moto's DynamoDB: each is a conditional update."""

import time

import boto3

from sdk.jobs import JobMessage, JobStatus
from sdk.jobs.schema import STATUS_INDEX
from sdk.jobs.store import JobStore


def _store_with_job(job_resources, job_id: str = "j1") -> JobStore:
    store = JobStore(boto3.client("dynamodb"), job_resources.table_name)
    store.create(JobMessage(job_id=job_id, kind="render", payload={"x": 1.5}))
    return store


def test_a_job_is_claimed_by_one_worker_only(job_resources) -> None:
    # GIVEN a pending job
    store = _store_with_job(job_resources)
    # WHEN two workers claim it
    first = store.claim("j1", "w1", lease_seconds=30, takeover_skew=1)
    second = store.claim("j1", "w2", lease_seconds=30, takeover_skew=1)
    # THEN the first owns it (attempt 1) and the second sees it RUNNING under w1
    assert first.won and first.record is not None and first.record.attempts == 1
    assert not second.won and second.current is not None
    assert (second.current.status, second.current.worker_id) == (JobStatus.RUNNING, "w1")


def test_a_lapsed_lease_lets_another_worker_take_over(job_resources) -> None:
    # GIVEN a job claimed with a lease that has run out (its worker died)
    store = _store_with_job(job_resources)
    store.claim("j1", "w1", lease_seconds=0.1, takeover_skew=0)
    time.sleep(0.2)
    # WHEN another worker claims it
    claim = store.claim("j1", "w2", lease_seconds=30, takeover_skew=0)
    # THEN it owns attempt 2 and the dead worker can no longer finish it
    assert claim.record is not None and (claim.record.worker_id, claim.record.attempts) == ("w2", 2)
    assert store.succeed("j1", "w1", 1, {})[0] is False
    assert store.succeed("j1", "w2", 2, {"ok": 1})[0] is True


def test_a_submitted_job_cannot_be_written_twice(job_resources) -> None:
    store = _store_with_job(job_resources)
    try:
        store.create(JobMessage(job_id="j1", kind="render"))
    except store._db.exceptions.ConditionalCheckFailedException:
        pass
    else:
        raise AssertionError("second create should fail its condition")
    assert store.get("j1").payload == {"x": 1.5}  # type: ignore[union-attr]


def test_cancel_applies_to_unfinished_jobs_only(job_resources) -> None:
    store = _store_with_job(job_resources)
    assert store.cancel("j1")[0] is True
    assert store.cancel("j1")[0] is False
    assert store.get("j1").status is JobStatus.CANCELLED  # type: ignore[union-attr]


def test_the_status_index_lists_jobs_by_status_in_submit_order(job_resources) -> None:
    # GIVEN three jobs, one of them finished
    store = _store_with_job(job_resources, "a")
    for job_id in ("b", "c"):
        store.create(JobMessage(job_id=job_id, kind="render"))
    store.cancel("b")
    # WHEN the GSI is queried for PENDING
    out = boto3.client("dynamodb").query(
        TableName=job_resources.table_name,
        IndexName=STATUS_INDEX,
        KeyConditionExpression="#s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "PENDING"}},
    )
    # THEN the pending ones come back oldest first
    assert [item["job_id"]["S"] for item in out["Items"]] == ["a", "c"]
