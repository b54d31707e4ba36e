"""Hostile input for the job protocol, as tables: crafted submits, queue bodies and handler results, each with the
outcome the protocol promises. One batch runs every queue-side case through real workers on moto."""

import json
import threading
from collections import Counter
from dataclasses import dataclass

import pytest

from sdk.jobs import JobClient, JobMessage, JobStatus

MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """A crafted job and what must become of it: status (None: no row), error fragment, handler runs, DLQ."""

    name: str
    status: JobStatus | None
    error: str | None = None
    runs: int = 0
    in_dlq: bool = True


# Handler results: the job is submitted normally with {"case": name}; the handler returns what the case names.
RESULT_CASES = [
    Case("result over 64 KiB (kept in S3)", JobStatus.SUCCEEDED, runs=1, in_dlq=False),
    Case("result over 16 MiB", JobStatus.FAILED, "handler result is 16777228 bytes, over the", runs=1),
    Case("result with NaN", JobStatus.FAILED, "handler result must hold JSON values only", runs=1),
    Case("result with a set", JobStatus.FAILED, "handler result must hold JSON values only", runs=1),
    Case("result not a mapping", JobStatus.FAILED, "handler returned list; return a mapping or None", runs=1),
    Case("output named like the result object", JobStatus.FAILED, "_result.json is reserved", runs=1),
    Case("kind no handler here runs", JobStatus.FAILED, "kind 'upscale' has no handler here"),
    Case("three deliveries of one message", JobStatus.SUCCEEDED, runs=1, in_dlq=False),
]
# Queue bodies: the job's row exists (submitted through another queue); only the crafted body reaches the workers.
BODY_CASES = {
    "payload not an object": (
        Case("payload not an object", JobStatus.FAILED, "invalid job message: payload"),
        lambda job_id: {"version": 1, "job_id": job_id, "kind": "render", "payload": "rm -rf /"},
    ),
    "future schema version": (
        Case("future schema version", JobStatus.FAILED, "invalid job message: version"),
        lambda job_id: {"version": 2, "job_id": job_id, "kind": "render"},
    ),
    "unknown field": (
        Case("unknown field", JobStatus.FAILED, "invalid job message: admin: Extra inputs are not permitted"),
        lambda job_id: {"version": 1, "job_id": job_id, "kind": "render", "admin": True},
    ),
    "input name leaving the scratch folder": (
        Case("input name leaving the scratch folder", JobStatus.FAILED, "must be a plain file name"),
        lambda job_id: {
            "version": 1,
            "job_id": job_id,
            "kind": "render",
            "inputs": {"../../etc/cron.d/x": f"jobs/{job_id}/inputs/x"},
        },
    ),
    "input key of another job": (
        Case("input key of another job", JobStatus.FAILED, "input keys ['jobs/other/inputs/x'] are outside"),
        lambda job_id: {"version": 1, "job_id": job_id, "kind": "render", "inputs": {"x": "jobs/other/inputs/x"}},
    ),
}
# Bodies that name no usable job: they must reach the DLQ and create no row.
UNNAMED_BODIES = ["not json {", json.dumps({"version": 1, "job_id": "../../x", "kind": "render"}), "[]", "null"]


def _handler(runs: Counter[str], lock: threading.Lock):
    def handle(ctx):
        with lock:
            runs[ctx.job_id] += 1
        case = ctx.payload.get("case")
        if case == "output named like the result object":
            (ctx.output_dir / "_result.json").write_text("{}", encoding="utf-8")
        return {
            "result over 64 KiB (kept in S3)": {"blob": "x" * 100_000},
            "result over 16 MiB": {"blob": "x" * (16 * MIB)},
            "result with NaN": {"x": float("nan")},
            "result with a set": {"x": {1, 2}},
            "result not a mapping": [1],
        }.get(case, {"ok": True})

    return handle


def _submit_cases(jobs) -> dict[str, str]:
    """job_id by case name, every crafted message on the queue."""
    ids = {}
    for case in RESULT_CASES:
        kind = "upscale" if case.name == "kind no handler here runs" else "render"
        ids[case.name] = jobs.client.submit(kind, {"case": case.name})
    body = JobMessage(
        job_id=ids["three deliveries of one message"],
        kind="render",
        payload={"case": "three deliveries of one message"},
    )
    for _ in range(2):
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=body.to_body())
    holding = jobs.sqs.create_queue(QueueName=f"{jobs.resources.table_name}-holding")["QueueUrl"]
    holder = JobClient(holding, jobs.resources.table_name, jobs.resources.bucket)
    for name, (_, craft) in BODY_CASES.items():
        ids[name] = holder.submit("render", {})
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=json.dumps(craft(ids[name])))
    for raw in UNNAMED_BODIES:
        jobs.sqs.send_message(QueueUrl=jobs.resources.queue_url, MessageBody=raw)
    return ids


def _mismatch(jobs, case: Case, job_id: str, runs: int, dead: set[str]) -> str | None:
    record = jobs.client.status(job_id)
    got = (record.status, runs, job_id in dead)
    if got != (case.status, case.runs, case.in_dlq) or (case.error or "") not in (record.error or ""):
        return f"{case.name}: got {got} error={record.error!r}"
    return None


def test_every_hostile_message_and_result_ends_as_the_table_says(jobs) -> None:
    # GIVEN every crafted job of the tables on the queue
    ids = _submit_cases(jobs)
    runs: Counter[str] = Counter()
    # WHEN two "render" workers consume until every job is terminal and the queue is empty
    jobs.run_workers(2, list(ids.values()), timeout=120, handler=_handler(runs, threading.Lock()), kinds={"render"})
    # THEN each job ended as its row of the table says (status, reason, handler runs, message in the DLQ)
    dead = jobs.dead_letter_job_ids()
    cases = RESULT_CASES + [case for case, _ in BODY_CASES.values()]
    mismatches = [m for c in cases if (m := _mismatch(jobs, c, ids[c.name], runs[ids[c.name]], dead))]
    assert mismatches == []
    # AND the large result was read back from S3; the unusable bodies are in the DLQ and made no row
    assert jobs.client.status(ids["result over 64 KiB (kept in S3)"]).result == {"blob": "x" * 100_000}
    assert sorted(b for b in jobs.dlq_bodies if b in UNNAMED_BODIES) == sorted(UNNAMED_BODIES)
    assert jobs.ddb.scan(TableName=jobs.resources.table_name)["Count"] == len(ids)


@pytest.mark.parametrize(
    ("kind", "payload", "inputs", "error"),
    [
        ("render", {"blob": "x" * 300_000}, {}, "over SQS's 262144; pass large data as inputs"),
        ("render", {"x": float("inf")}, {}, "payload must hold JSON values only"),
        ("render", {"x": b"bytes"}, {}, "payload must hold JSON values only"),
        ("render", {}, {"a/../../b": b""}, "must be a plain file name"),
        ("render", {}, {".env": b""}, "must be a plain file name"),
        ("render", {}, {"x": "a string"}, "expected a Path or bytes, got str"),
        ("render; rm -rf /", {}, {}, "kind .*: use 1-64 letters"),
    ],
)
def test_a_hostile_submit_is_refused_before_anything_is_written(jobs, kind, payload, inputs, error) -> None:
    # GIVEN a crafted submit  WHEN it is made
    with pytest.raises(ValueError, match=error):
        jobs.client.submit(kind, payload, inputs=inputs)
    # THEN no row, no message and no input object exist
    assert jobs.ddb.scan(TableName=jobs.resources.table_name)["Count"] == 0
    assert jobs.queue_depth() == 0
    assert "Contents" not in jobs.s3.list_objects_v2(Bucket=jobs.resources.bucket)
