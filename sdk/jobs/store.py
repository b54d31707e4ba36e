"""Job table transitions. Every write is a conditional update, so two workers never both own a job.

PENDING -> RUNNING (claim, attempts + 1, lease) -> SUCCEEDED | PENDING (retry) | FAILED; PENDING/RUNNING ->
CANCELLED. A RUNNING row whose lease ran out (its worker died) may be claimed again.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from sdk.jobs.schema import (
    ATTEMPTS_ATTRIBUTE,
    HASH_KEY,
    STATUS_ATTRIBUTE,
    TTL_ATTRIBUTE,
    JobMessage,
    JobRecord,
    JobStatus,
    iso,
    utc_now,
)

DEFAULT_RETENTION_DAYS = 30
AWAITING_ATTRIBUTE = "awaiting_uploads"
OWNER_ATTRIBUTE = "owner"
_NAMES = {
    "#jid": HASH_KEY,
    "#st": STATUS_ATTRIBUTE,
    "#at": ATTEMPTS_ATTRIBUTE,
    "#wk": "worker_id",
    "#ls": "lease_until",
    "#aw": AWAITING_ATTRIBUTE,
}
_OWNED = "#st = :c_running AND #wk = :c_me AND #at = :c_attempt"
_CLAIMABLE = "#st = :c_pending OR (#st = :c_running AND (attribute_not_exists(#ls) OR #ls < :c_stale))"
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


@dataclass(frozen=True)
class Claim:
    """Outcome of a claim: `record` when this worker now owns the job, else the row as it stands (or None)."""

    record: JobRecord | None
    current: JobRecord | None

    @property
    def won(self) -> bool:
        return self.record is not None


def _decimal(seconds: float) -> Decimal:
    return Decimal(str(round(seconds, 3)))


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


class JobStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self.table_name = table_name

    def create(
        self,
        message: JobMessage,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        *,
        owner: str | None = None,
        awaiting: tuple[str, ...] = (),
    ) -> None:
        """The PENDING row; `awaiting`: inputs a client still uploads (start() sends the message after them)."""
        now = iso(message.submitted_at)
        row = {
            HASH_KEY: message.job_id,
            STATUS_ATTRIBUTE: str(JobStatus.PENDING),
            "kind": message.kind,
            "created_at": now,
            "updated_at": now,
            ATTEMPTS_ATTRIBUTE: 0,
            "payload": json.dumps(message.payload),
            "inputs": message.inputs,
            TTL_ATTRIBUTE: int(time.time()) + retention_days * 86400,
            **({OWNER_ATTRIBUTE: owner} if owner else {}),
            **({AWAITING_ATTRIBUTE: list(awaiting)} if awaiting else {}),
        }
        self._db.put_item(
            TableName=self.table_name,
            Item=_item(row),
            ConditionExpression="attribute_not_exists(#jid)",
            ExpressionAttributeNames={"#jid": HASH_KEY},
        )

    def get(self, job_id: str) -> JobRecord | None:
        item = self._db.get_item(TableName=self.table_name, Key=_item({HASH_KEY: job_id}), ConsistentRead=True)
        return JobRecord.from_item(_plain(item["Item"])) if "Item" in item else None

    def claim(self, job_id: str, worker_id: str, lease_seconds: float, takeover_skew: float) -> Claim:
        """Own the job if PENDING, or RUNNING with a lease ending before now + takeover_skew (worker gone)."""
        now = time.time()
        ok, row = self._update(
            job_id,
            {
                STATUS_ATTRIBUTE: JobStatus.RUNNING,
                "worker_id": worker_id,
                "lease_until": now + lease_seconds,
                "started_at": iso(utc_now()),
            },
            f"attribute_exists(#jid) AND ({_CLAIMABLE})",
            {":c_stale": _decimal(now + takeover_skew)},
            increment_attempts=True,
        )
        return Claim(row if ok else None, row)

    def renew(self, job_id: str, worker_id: str, attempt: int, lease_seconds: float) -> tuple[bool, JobRecord | None]:
        return self._owned(job_id, worker_id, attempt, {"lease_until": time.time() + lease_seconds})

    def succeed(
        self,
        job_id: str,
        worker_id: str,
        attempt: int,
        result: Mapping[str, Any] | None,
        *,
        result_key: str | None = None,
    ) -> tuple[bool, JobRecord | None]:
        """SUCCEEDED with the result in the row, or with `result_key` (the result stored in S3) instead."""
        stored = {"result_key": result_key} if result_key else {"result": json.dumps(dict(result or {}))}
        values = {STATUS_ATTRIBUTE: JobStatus.SUCCEEDED, **stored, "finished_at": iso(utc_now())}
        return self._owned(job_id, worker_id, attempt, values, remove=("lease_until",))

    def retry_later(self, job_id: str, worker_id: str, attempt: int, error: str) -> tuple[bool, JobRecord | None]:
        values = {STATUS_ATTRIBUTE: JobStatus.PENDING, "last_error": error}
        return self._owned(job_id, worker_id, attempt, values, remove=("lease_until", "worker_id"))

    def release(self, job_id: str, worker_id: str, attempt: int) -> tuple[bool, JobRecord | None]:
        return self._owned(
            job_id,
            worker_id,
            attempt,
            {STATUS_ATTRIBUTE: JobStatus.PENDING},
            remove=("lease_until", "worker_id"),
        )

    def fail_owned(self, job_id: str, worker_id: str, attempt: int, error: str) -> tuple[bool, JobRecord | None]:
        values = {STATUS_ATTRIBUTE: JobStatus.FAILED, "error": error, "finished_at": iso(utc_now())}
        return self._owned(job_id, worker_id, attempt, values, remove=("lease_until",))

    def fail_unowned(self, job_id: str, error: str, kind: str = "") -> tuple[bool, JobRecord | None]:
        """FAILED for a job nobody holds (poison message, dead-lettered): creates the row if it is missing."""
        now = iso(utc_now())
        values = {STATUS_ATTRIBUTE: JobStatus.FAILED, "error": error, "finished_at": now}
        created = {
            "kind": kind,
            "created_at": now,
            TTL_ATTRIBUTE: int(time.time()) + DEFAULT_RETENTION_DAYS * 86400,
        }
        return self._update(
            job_id,
            values,
            f"attribute_not_exists(#jid) OR {_CLAIMABLE}",
            {":c_stale": _decimal(time.time())},
            if_missing=created,
            remove=("lease_until",),
        )

    def cancel(self, job_id: str) -> tuple[bool, JobRecord | None]:
        return self._update(
            job_id,
            {STATUS_ATTRIBUTE: JobStatus.CANCELLED, "finished_at": iso(utc_now())},
            "#st IN (:c_pending, :c_running)",
            {},
        )

    def start(self, job_id: str) -> tuple[bool, JobRecord | None]:
        """Clear `awaiting_uploads` of a PENDING row: only the caller that applied it sends the message."""
        return self._update(job_id, {}, "attribute_exists(#aw) AND #st = :c_pending", {}, remove=(AWAITING_ATTRIBUTE,))

    def count(self, key: str, limit: int, expires_at: int) -> bool:
        """Add 1 to the counter item `key` unless it reached `limit` (atomic); False when it had."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=_item({HASH_KEY: key}),
                UpdateExpression="ADD #n :one SET #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "count", "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=_item({":one": 1, ":limit": limit, ":ttl": expires_at}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _owned(
        self,
        job_id: str,
        worker_id: str,
        attempt: int,
        values: Mapping[str, Any],
        remove: tuple[str, ...] = (),
    ) -> tuple[bool, JobRecord | None]:
        return self._update(job_id, values, _OWNED, {":c_me": worker_id, ":c_attempt": attempt}, remove=remove)

    def _update(
        self,
        job_id: str,
        values: Mapping[str, Any],
        condition: str,
        condition_values: Mapping[str, Any],
        *,
        remove: tuple[str, ...] = (),
        if_missing: Mapping[str, Any] | None = None,
        increment_attempts: bool = False,
    ) -> tuple[bool, JobRecord | None]:
        """Conditional update; returns (applied, the row after it, or the row that failed the condition)."""
        names = dict(_NAMES)
        sets, expr_values = [], {}
        for i, (name, value) in enumerate({**values, "updated_at": iso(utc_now())}.items()):
            names[f"#u{i}"], expr_values[f":u{i}"] = name, _stored(value)
            sets.append(f"#u{i} = :u{i}")
        for i, (name, value) in enumerate((if_missing or {}).items()):
            names[f"#m{i}"], expr_values[f":m{i}"] = name, _stored(value)
            sets.append(f"#m{i} = if_not_exists(#m{i}, :m{i})")
        if increment_attempts:
            sets.append("#at = if_not_exists(#at, :c_zero) + :c_one")
            expr_values.update({":c_zero": 0, ":c_one": 1})
        expression = "SET " + ", ".join(sets)
        if remove:
            removed = [f"#r{i}" for i in range(len(remove))]
            names.update(zip(removed, remove, strict=True))
            expression += " REMOVE " + ", ".join(removed)
        used = {
            **expr_values,
            **{k: _stored(v) for k, v in condition_values.items()},
            **_status_values(condition),
        }
        return self._apply(job_id, expression, condition, _used_names(names, expression + condition), used)

    def _apply(
        self, job_id: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> tuple[bool, JobRecord | None]:
        try:
            out = self._db.update_item(
                TableName=self.table_name,
                Key=_item({HASH_KEY: job_id}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_item(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            return False, JobRecord.from_item(_plain(old)) if old else self.get(job_id)
        return True, JobRecord.from_item(_plain(out["Attributes"]))


def _stored(value: Any) -> Any:
    if isinstance(value, float):
        return _decimal(value)
    return str(value) if isinstance(value, JobStatus) else value


def _status_values(condition: str) -> dict[str, str]:
    return {f":c_{s.lower()}": str(s) for s in JobStatus if f":c_{s.lower()}" in condition}


def _used_names(names: dict[str, str], text: str) -> dict[str, str]:
    return {k: v for k, v in names.items() if k in text}
