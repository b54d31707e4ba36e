"""The queue message and the table row: parsing, rejection reasons, row conversion."""

import json
from decimal import Decimal

import pytest

from sdk.jobs import InvalidJobMessage, JobMessage, JobRecord, JobStatus
from sdk.jobs.schema import MAX_MESSAGE_BYTES, iso, job_id_of


def test_a_message_survives_the_round_trip_through_its_body() -> None:
    # GIVEN a message with payload and inputs
    message = JobMessage(
        job_id="abc", kind="render", payload={"views": 5, "scale": 0.5}, inputs={"m": "jobs/abc/inputs/m"}
    )
    # WHEN it is serialised and parsed back
    parsed = JobMessage.from_body(message.to_body())
    # THEN nothing changed, and the body carries the schema version
    assert parsed == message
    assert json.loads(message.to_body())["version"] == 1


def test_a_future_schema_version_is_rejected_naming_the_job() -> None:
    # GIVEN a body of version 2
    body = json.dumps({"version": 2, "job_id": "abc", "kind": "render"})
    # WHEN it is parsed
    with pytest.raises(InvalidJobMessage) as caught:
        JobMessage.from_body(body)
    # THEN the reason names the version field and the job id is still known
    assert caught.value.job_id == "abc"
    assert caught.value.reason.startswith("invalid job message: version:")


def test_an_unreadable_body_is_rejected_without_a_job_id() -> None:
    with pytest.raises(InvalidJobMessage) as caught:
        JobMessage.from_body("not json {")
    assert caught.value.job_id is None


def test_a_malformed_job_id_is_not_trusted() -> None:
    # GIVEN a body whose job_id could address another key space
    body = json.dumps({"job_id": "../etc", "kind": "render"})
    # THEN it is neither accepted nor reported as a job id
    assert job_id_of(body) is None
    with pytest.raises(InvalidJobMessage):
        JobMessage.from_body(body)


@pytest.mark.parametrize("name", ["../../home/worker/.bashrc", "/etc/passwd", "sub/dir.txt", ".hidden"])
def test_an_input_name_that_is_not_a_plain_file_name_fails_the_job_naming_it(name: str) -> None:
    # GIVEN a raw message (sent around the client) whose input name would leave the worker's scratch folder
    body = json.dumps({"job_id": "abc", "kind": "render", "inputs": {name: "jobs/abc/inputs/m"}})
    # WHEN it is parsed THEN it is rejected for that job, naming the inputs field
    with pytest.raises(InvalidJobMessage) as caught:
        JobMessage.from_body(body)
    assert caught.value.job_id == "abc"
    assert "inputs" in caught.value.reason and "plain file name" in caught.value.reason


def test_a_payload_that_is_not_json_is_refused_naming_the_payload() -> None:
    with pytest.raises(ValueError, match="payload must hold JSON values only"):
        JobMessage(job_id="abc", kind="render", payload={"when": object()})


def test_a_payload_over_the_sqs_limit_is_refused_with_the_fix() -> None:
    message = JobMessage(job_id="abc", kind="render", payload={"blob": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(ValueError, match="pass large data as inputs"):
        message.to_body()


def test_a_row_converts_decimals_and_json_columns() -> None:
    # GIVEN an item as boto3 deserialises it
    item = {
        "job_id": "abc",
        "status": "SUCCEEDED",
        "kind": "render",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "attempts": Decimal(2),
        "lease_until": Decimal("12.5"),
        "payload": '{"a": 1.5}',
        "result": '{"ok": true}',
        "expires_at": Decimal(99),
        "effects": Decimal(1),
    }
    # WHEN it is read as a JobRecord
    record = JobRecord.from_item(item)
    # THEN numbers are plain and JSON columns are dicts; unknown attributes are ignored
    assert (record.attempts, record.lease_until, record.expires_at) == (2, 12.5, 99)
    assert (record.payload, record.result) == ({"a": 1.5}, {"ok": True})
    assert record.status is JobStatus.SUCCEEDED and record.status.terminal


def test_timestamps_sort_as_text_in_time_order() -> None:
    from datetime import UTC, datetime, timedelta

    earlier = datetime(2026, 1, 1, 9, 59, 59, 999999, tzinfo=UTC)
    assert iso(earlier) < iso(earlier + timedelta(microseconds=1)) < iso(earlier + timedelta(hours=20))
    assert iso(earlier) == "2026-01-01T09:59:59.999999Z"
