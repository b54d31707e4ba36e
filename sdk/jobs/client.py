"""Submit jobs and follow them. The submitter needs sqs:SendMessage on the queue, dynamodb:PutItem/GetItem/
UpdateItem on the table, and s3:PutObject/GetObject/ListBucket on the job prefix."""

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from sdk.jobs.config import WorkerConfig
from sdk.jobs.dead_letters import fail_dead_letters
from sdk.jobs.errors import JobError, JobNotFoundError, JobSubmitError
from sdk.jobs.layout import (
    DEFAULT_PREFIX,
    Sse,
    check_prefix,
    input_key,
    output_key,
    outputs_prefix,
    result_key,
    upload,
)
from sdk.jobs.schema import JobMessage, JobRecord, JobStatus
from sdk.jobs.store import DEFAULT_RETENTION_DAYS, JobStore

InputData = Path | bytes


class JobClient:
    def __init__(
        self,
        queue_url: str,
        table_name: str,
        bucket: str,
        prefix: str = DEFAULT_PREFIX,
        *,
        session: boto3.session.Session | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        sse: Sse | None = None,
    ) -> None:
        session = session or boto3.session.Session()
        self.queue_url, self.bucket, self.prefix = queue_url, bucket, check_prefix(prefix)
        self.retention_days, self.sse = retention_days, sse
        self._sqs = session.client("sqs")
        self._s3 = session.client("s3")
        self._store = JobStore(session.client("dynamodb"), table_name)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, session: boto3.session.Session | None = None
    ) -> "JobClient":
        """Reads GPU_JOBS_QUEUE_URL, _TABLE, _BUCKET, _PREFIX and _SSE, like the worker."""
        cfg = WorkerConfig.from_env(environ)
        return cls(cfg.queue_url, cfg.table_name, cfg.bucket, cfg.prefix, session=session, sse=cfg.sse)

    def submit(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        inputs: Mapping[str, InputData] | None = None,
        *,
        owner: str | None = None,
        uploads: Sequence[str] = (),
    ) -> str:
        """Write the PENDING row, upload inputs, send the message; returns the job_id.

        `uploads`: input names the caller uploads itself (upload_urls); the message waits for start(job_id).
        `owner`: recorded in the row (the gateway's caller). Bad arguments raise ValueError before anything is
        written. A failure after the row exists marks it FAILED with the reason and raises JobSubmitError, so no
        job is left PENDING without a message.
        """
        job_id = uuid.uuid4().hex
        files = _check_inputs(inputs or {})
        clash = sorted(set(files) & set(uploads))
        if clash:
            raise ValueError(f"inputs: {clash} given both inline and as uploads; give each name once")
        message = JobMessage(
            job_id=job_id,
            kind=kind,
            payload=dict(payload or {}),
            inputs={name: input_key(self.prefix, job_id, name) for name in [*files, *uploads]},
        )
        body = message.to_body()
        self._store.create(message, self.retention_days, owner=owner, awaiting=tuple(uploads))
        self._send(message, files, body if not uploads else None)
        return job_id

    def start(self, job_id: str) -> bool:
        """Send the message of a job submitted with `uploads` once its files are in S3. True when this call sent
        it; False when it was already sent. ValueError names the inputs still missing."""
        record = self.status(job_id)
        missing = [n for n in record.awaiting_uploads if not self._exists(record.inputs.get(n, ""))]
        if missing:
            raise ValueError(f"inputs: {missing} not uploaded yet; PUT them to their upload URLs, then start")
        applied, current = self._store.start(job_id)
        if not applied or current is None:
            return False
        message = JobMessage(
            job_id=job_id,
            kind=current.kind,
            payload=current.payload,
            inputs=current.inputs,
            submitted_at=current.created_at,
        )
        self._send(message, {}, message.to_body())
        return True

    def _send(self, message: JobMessage, files: Mapping[str, InputData], body: str | None) -> None:
        step = "uploading inputs"
        try:
            for name, data in files.items():
                upload(self._s3, data, self.bucket, message.inputs[name], self.sse)
            step = "sending the message"
            if body is not None:
                self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            reason = f"submit failed while {step}: {exc}"
            self._store.fail_unowned(message.job_id, reason, message.kind)
            raise JobSubmitError(message.job_id, reason) from exc

    def _exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def upload_urls(self, job_id: str, names: Sequence[str], expires_seconds: int) -> dict[str, str]:
        """Presigned PUT URL per input name (send the `x-amz-server-side-encryption` header when sse is set)."""
        extra = {"ServerSideEncryption": self.sse} if self.sse else {}
        return {
            name: self._s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": input_key(self.prefix, job_id, name), **extra},
                ExpiresIn=expires_seconds,
            )
            for name in names
        }

    def output_urls(self, job_id: str, expires_seconds: int) -> dict[str, str]:
        """Relative output path -> presigned GET URL."""
        base = outputs_prefix(self.prefix, job_id)
        return {
            key.removeprefix(base): self._s3.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
            )
            for key in self.outputs(job_id)
        }

    def status(self, job_id: str) -> JobRecord:
        """The job's row; a result the worker stored in S3 (over INLINE_RESULT_BYTES) is read back into `result`."""
        record = self._store.get(job_id)
        if record is None:
            raise JobNotFoundError(f"no job {job_id!r} in table {self._store.table_name} (never submitted, or expired)")
        if record.result_key is None or record.result is not None:
            return record
        if record.result_key != result_key(self.prefix, job_id):
            raise JobError(f"job {job_id}: result_key {record.result_key!r} is not this job's result object")
        body = self._s3.get_object(Bucket=self.bucket, Key=record.result_key)["Body"].read()
        return record.model_copy(update={"result": json.loads(body)})

    def wait(self, job_id: str, timeout: float, poll: float = 2.0) -> JobRecord:
        """Poll until the job is SUCCEEDED, FAILED or CANCELLED; TimeoutError names the last status."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.status(job_id)
            if record.status.terminal:
                return record
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} still {record.status} after {timeout:g}s")
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def cancel(self, job_id: str) -> bool:
        """True when the job became CANCELLED now; False when it had already finished (or was cancelled)."""
        applied, current = self._store.cancel(job_id)
        if current is None:
            raise JobNotFoundError(f"no job {job_id!r} in table {self._store.table_name}")
        return applied and current.status is JobStatus.CANCELLED

    def outputs(self, job_id: str) -> list[str]:
        """S3 keys of the files the handler wrote (under the job's outputs/ prefix), sorted; the result object a
        large result is stored in is left out (status() reads it)."""
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=outputs_prefix(self.prefix, job_id)
        )
        keys = (obj["Key"] for page in pages for obj in page.get("Contents", []))
        return sorted(key for key in keys if key != result_key(self.prefix, job_id))

    def download_outputs(self, job_id: str, dest: Path) -> list[Path]:
        """Download every output to dest, keeping relative paths; returns the local files."""
        base = outputs_prefix(self.prefix, job_id)
        paths = []
        for key in self.outputs(job_id):
            path = dest / key.removeprefix(base)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._s3.download_file(self.bucket, key, str(path))
            paths.append(path)
        return paths

    def fail_dead_letters(self, dlq_url: str, *, limit: int = 1000) -> list[str]:
        """FAILED for unfinished jobs whose message is in the DLQ with no result recorded (see dead_letters);
        workers do this when idle, this is the operator's way. Returns the job ids it marked."""
        return fail_dead_letters(self._sqs, self._store, dlq_url, limit)

    def count_submission(self, key: str, limit: int, expires_at: int) -> bool:
        """Count one submission on the counter item `key` of the job table; False once it holds `limit`."""
        return self._store.count(key, limit, expires_at)

    def output_key(self, job_id: str, relative: str) -> str:
        return output_key(self.prefix, job_id, relative)


def _check_inputs(inputs: Mapping[str, InputData]) -> dict[str, InputData]:
    for name, data in inputs.items():  # names are checked where they become keys (layout.input_key)
        if isinstance(data, Path) and not data.is_file():
            raise ValueError(f"inputs[{name!r}]: {data} is not a readable file; pass an existing path or bytes")
        if not isinstance(data, Path | bytes):
            raise ValueError(f"inputs[{name!r}]: expected a Path or bytes, got {type(data).__name__}")
    return dict(inputs)
