"""The job message on the queue and the job row in DynamoDB. The table is built from these constants.

Row attributes: `job_id` (hash key), `status` + `created_at` (the `status-created_at` GSI, ISO-8601 UTC
strings that sort by time), `expires_at` (TTL, epoch seconds), `attempts` (claims so far), `kind`,
`payload`/`result` (JSON strings, so floats survive DynamoDB), `result_key` (S3 key of a result too large
for the row, instead of `result`), `inputs` (name -> S3 key), `worker_id`,
`lease_until` (epoch seconds), `started_at`, `finished_at`, `updated_at`, `error` (why it FAILED),
`last_error` (the latest retried error), `owner` (who submitted it through the gateway), `awaiting_uploads`
(input names a client still uploads; the message is sent once they are there).
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sdk.jobs.errors import InvalidJobMessage
from sdk.jobs.layout import check_input_name
from sdk.jobs.sqs_limits import MAX_MESSAGE_BYTES

HASH_KEY = "job_id"
STATUS_ATTRIBUTE = "status"
CREATED_AT_ATTRIBUTE = "created_at"
STATUS_INDEX = "status-created_at"
TTL_ATTRIBUTE = "expires_at"
ATTEMPTS_ATTRIBUTE = "attempts"
SCHEMA_VERSION = 1
# A DynamoDB item holds at most 400 KB, names and values counted (docs.aws.amazon.com/amazondynamodb/latest/
# developerguide/CapacityUnitCalculations.html). The row holds the payload (under MAX_MESSAGE_BYTES) and a
# result of up to INLINE_RESULT_BYTES, so it stays below; larger results go to S3, up to MAX_RESULT_BYTES.
INLINE_RESULT_BYTES = 64 * 1024
MAX_RESULT_BYTES = 16 * 1024 * 1024
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
KIND_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC with a Z, so GSI range keys sort by time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def json_object(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(dict(value), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field} must hold JSON values only (str, number, bool, None, list, dict): {exc}") from exc


class JobMessage(BaseModel):
    """The SQS message body. Workers reject any other version with a reason instead of guessing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = Field(default=1, description="Schema version. Default 1 (the only one).")
    job_id: str = Field(pattern=JOB_ID_PATTERN, description="Row key in the job table. Required, no default.")
    kind: str = Field(description="Which handler runs the job. Required, no default.")
    payload: dict[str, Any] = Field(default_factory=dict, description="Handler arguments (JSON). Default {}.")
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Input name -> S3 key, downloaded before the handler. Default {}."
    )
    submitted_at: datetime = Field(default_factory=utc_now, description="Submit time (UTC). Default: now.")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not re.match(KIND_PATTERN, value):
            raise ValueError(f"kind {value!r}: use 1-64 letters, digits, '.', '_', ':' or '-', e.g. 'render'")
        return value

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value: dict[str, str]) -> dict[str, str]:
        # Names become file names in the worker's scratch folder: a raw message must not reach outside it.
        for name in value:
            check_input_name(name)
        return value

    @field_validator("payload")
    @classmethod
    def _payload_is_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        return json_object(value, "payload")

    def to_body(self) -> str:
        body = self.model_dump_json()
        if len(body.encode()) > MAX_MESSAGE_BYTES:
            raise ValueError(
                f"payload: the message is {len(body.encode())} bytes, over SQS's {MAX_MESSAGE_BYTES}; "
                "pass large data as inputs (uploaded to S3) instead"
            )
        return body

    @classmethod
    def from_body(cls, body: str) -> "JobMessage":
        """Parse a queue body; InvalidJobMessage carries the job_id when the body still names one."""
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            raise InvalidJobMessage(f"invalid job message: {problems}"[:1000], job_id_of(body)) from None


def job_id_of(body: str) -> str | None:
    """The job_id a raw message body names, if it names a well-formed one."""
    try:
        job_id = json.loads(body).get(HASH_KEY)
    except (ValueError, AttributeError):
        return None
    return job_id if isinstance(job_id, str) and re.match(JOB_ID_PATTERN, job_id) else None


class JobRecord(BaseModel):
    """One row of the job table, typed. Built from a raw DynamoDB item with `from_item`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str = Field(description="Hash key. Required, no default.")
    status: JobStatus = Field(description="Lifecycle state. Required, no default.")
    kind: str = Field(default="", description="Handler kind. Default '' (a poison message named no kind).")
    created_at: datetime = Field(description="When the row was written (UTC). Required, no default.")
    updated_at: datetime | None = Field(default=None, description="Last change (UTC). Default None.")
    attempts: int = Field(default=0, description="Times a worker claimed the job. Default 0.")
    payload: dict[str, Any] = Field(default_factory=dict, description="Handler arguments. Default {}.")
    inputs: dict[str, str] = Field(default_factory=dict, description="Input name -> S3 key. Default {}.")
    result: dict[str, Any] | None = Field(default=None, description="What the handler returned. Default None.")
    result_key: str | None = Field(
        default=None,
        description="S3 key of a result over INLINE_RESULT_BYTES, stored there instead of in `result` "
        "(JobClient.status reads it back). Default None: the result, if any, is in the row.",
    )
    error: str | None = Field(default=None, description="Why the job FAILED. Default None.")
    last_error: str | None = Field(default=None, description="Latest retried error. Default None.")
    worker_id: str | None = Field(default=None, description="Worker holding the job. Default None.")
    lease_until: float | None = Field(default=None, description="Claim lease end, epoch s. Default None.")
    started_at: datetime | None = Field(default=None, description="Latest claim time. Default None.")
    finished_at: datetime | None = Field(default=None, description="Time it became terminal. Default None.")
    expires_at: int | None = Field(default=None, description="TTL, epoch seconds. Default None (kept).")
    owner: str | None = Field(default=None, description="Caller that submitted it (gateway). Default None.")
    awaiting_uploads: list[str] = Field(
        default_factory=list,
        description="Inputs a client still uploads; the message is sent on start. Default []: already sent.",
    )

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "JobRecord":
        """From a deserialized item (Decimals, JSON strings for payload/result)."""
        row: dict[str, Any] = {k: _plain_number(v) for k, v in item.items()}
        for name in ("payload", "result"):
            if isinstance(row.get(name), str):
                row[name] = json.loads(row[name])
        return cls.model_validate(row)


def _plain_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
