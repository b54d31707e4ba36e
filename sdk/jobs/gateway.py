"""The job gateway: an AWS Lambda handler behind an API Gateway HTTP API (payload format 2.0) over JobClient.

Routes (ROUTES): `POST /jobs` submit, `POST /jobs/{id}/start` start a job whose inputs the client uploaded,
`GET /jobs/{id}` status + result + presigned output URLs, `DELETE /jobs/{id}` cancel, `GET /health`. The caller is
the JWT `sub` (`requestContext.authorizer.jwt.claims.sub`) or the IAM principal (`...authorizer.iam.userArn`); a job
belongs to its submitter (anyone else gets 404). Each caller may submit `quota` jobs per `quota_window_seconds`
(an atomic counter item in the job table, with TTL), then 429. Requests are validated with the models below and
JobMessage: a bad request is a 400 naming the field. boto3 + pydantic only: the Lambda zip is sdk/jobs + pydantic.
"""

import base64
import binascii
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sdk.jobs.client import JobClient
from sdk.jobs.config import model_from_env
from sdk.jobs.errors import JobNotFoundError, JobSubmitError
from sdk.jobs.layout import check_input_name
from sdk.jobs.schema import JOB_ID_PATTERN, KIND_PATTERN, JobRecord, JobStatus, json_object

LOG = logging.getLogger("sdk.jobs.gateway")
SUBMIT, READ = "submit", "read"
# Route key -> the scope it needs (None: open). The construct gives API Gateway the same table.
ROUTES: dict[str, str | None] = {
    "POST /jobs": SUBMIT,
    "POST /jobs/{id}/start": SUBMIT,
    "GET /jobs/{id}": READ,
    "DELETE /jobs/{id}": SUBMIT,
    "GET /health": None,
}
QUOTA_KEY_PREFIX = "quota#"  # '#' is not in JOB_ID_PATTERN: a counter item never collides with a job
ENV_PREFIX = "GPU_JOBS_GATEWAY_"
# A URL signed with temporary credentials (the handler's role) stops working when they expire (Amazon S3 user guide,
# "Sharing objects with presigned URLs"), so a lifetime past an hour would promise what it cannot keep.
MAX_URL_SECONDS = 3600


class GatewaySettings(BaseModel):
    """Limits of the handler, from GPU_JOBS_GATEWAY_* variables (the construct sets them from GatewaySpec)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quota: int = Field(default=100, ge=1, description="Submissions per caller per window. Default 100.")
    quota_window_seconds: int = Field(default=3600, ge=60, description="Quota window. Default 3600 (1 h).")
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=6 * 1024 * 1024 - 65536,
        description="Largest request body (inline inputs are base64 in it; Lambda's synchronous payload limit is 6 "
        "MB). Default 1 MiB: larger inputs go through upload URLs.",
    )
    url_seconds: int = Field(
        default=900, ge=60, le=MAX_URL_SECONDS, description="Presigned URL lifetime. Default 900 s."
    )
    submit_scope: str | None = Field(
        default=None, description="JWT scope submit/start/cancel need. Default None: API Gateway's check only."
    )
    read_scope: str | None = Field(
        default=None, description="JWT scope GET /jobs/{id} needs. Default None: API Gateway's check only."
    )
    allow_anonymous: bool = Field(
        default=False,
        description="Serve callers with no identity (all share one owner and quota). Default False: 401.",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "GatewaySettings":
        names = {f"{ENV_PREFIX}{field.upper()}": field for field in cls.model_fields}
        values = {field: environ[name] for name, field in names.items() if environ.get(name, "").strip()}
        return model_from_env(cls, values, names)

    def environment(self) -> dict[str, str]:
        """The variables from_env reads back to these settings (set by the construct)."""
        values = self.model_dump(exclude_none=True)
        text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}
        return {f"{ENV_PREFIX}{k.upper()}": v for k, v in text.items()}


class SubmitRequest(BaseModel):
    """Body of POST /jobs. Fields and bounds are JobMessage's (the same checks run again on submit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=KIND_PATTERN, description="Which handler runs the job, e.g. 'render'. Required.")
    payload: dict[str, Any] = Field(default_factory=dict, description="Handler arguments (JSON object). Default {}.")
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="Input file name -> its bytes, base64 (within the body bound). Default {}.",
    )
    uploads: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Input file names the client PUTs to returned upload URLs, then POST /jobs/{id}/start. "
        "Default []: the job starts at once.",
    )

    @field_validator("inputs")
    @classmethod
    def _inline(cls, value: dict[str, str]) -> dict[str, str]:
        for name, data in value.items():
            check_input_name(name)
            try:
                base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"inputs: {name!r} is not base64; encode the file's bytes, e.g. base64 -w0") from None
        return value

    @field_validator("uploads")
    @classmethod
    def _uploads(cls, value: list[str]) -> list[str]:
        for name in value:
            check_input_name(name)
        if len(set(value)) != len(value):
            raise ValueError("uploads: a name is listed twice; list each input once")
        return value

    @field_validator("payload")
    @classmethod
    def _payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        return json_object(value, "payload")


class SubmitResponse(BaseModel):
    """Answer to POST /jobs: the new job, and where to upload its inputs before it starts."""

    job_id: str = Field(description="The new job's id.")
    status: JobStatus = Field(description="PENDING.")
    upload_urls: dict[str, str] = Field(default_factory=dict, description="Input name -> presigned PUT URL.")
    upload_headers: dict[str, str] = Field(default_factory=dict, description="Headers every upload PUT must send.")
    started: bool = Field(description="False while uploads are awaited: POST /jobs/{id}/start after them.")


class JobView(BaseModel):
    """Answer to GET /jobs/{id}: the job's row as its owner may see it, with download URLs of its outputs."""

    job_id: str = Field(description="The job's id.")
    kind: str = Field(description="Its kind.")
    status: JobStatus = Field(description="PENDING, RUNNING, SUCCEEDED, FAILED or CANCELLED.")
    created_at: str = Field(description="Submit time, ISO-8601 UTC.")
    updated_at: str | None = Field(default=None, description="Last change, ISO-8601 UTC.")
    attempts: int = Field(description="Times a worker took it.")
    result: dict[str, Any] | None = Field(default=None, description="What the handler returned (SUCCEEDED).")
    error: str | None = Field(default=None, description="Why it FAILED.")
    awaiting_uploads: list[str] = Field(default_factory=list, description="Inputs not yet uploaded and started.")
    outputs: dict[str, str] = Field(default_factory=dict, description="Output path -> presigned GET URL.")


class CancelResponse(BaseModel):
    """Answer to DELETE /jobs/{id} (cancel)."""

    job_id: str = Field(description="The job's id.")
    cancelled: bool = Field(description="True when this call cancelled it; False when it had already ended.")
    status: JobStatus = Field(description="Its status now.")


class ErrorResponse(BaseModel):
    """Body of every 4xx/5xx answer: the field at fault and the fix."""

    field: str = Field(description="The request field at fault ('body', 'id', 'kind', 'inputs.x', ...).")
    message: str = Field(description="What was wrong and how to fix it.")


class HealthResponse(BaseModel):
    """Answer to GET /health."""

    status: str = Field(description="'ok'.")


class HttpError(Exception):
    def __init__(self, status: int, field: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.field, self.message, self.headers = status, field, message, dict(headers or {})


@dataclass(frozen=True)
class Caller:
    owner: str
    scopes: frozenset[str] | None  # None: IAM (API Gateway's SigV4 check is the authorization)

    def require(self, scope: str | None) -> None:
        if scope and self.scopes is not None and scope not in self.scopes:
            raise HttpError(403, "scope", f"this route needs the {scope!r} scope; ask your identity provider for it")


def caller_of(event: Mapping[str, Any], allow_anonymous: bool) -> Caller:
    """The JWT `sub` or the IAM principal of a payload 2.0 event; 401 when there is none. Fields as AWS's own
    Powertools reads them (requestContext.authorizer.jwt.claims/scopes, .iam.userArn; any may be null)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    if claims.get("sub"):
        scopes = {*(jwt.get("scopes") or []), *str(claims.get("scope", "")).split()}
        return Caller(f"jwt:{claims['sub']}", frozenset(scopes))
    arn = (authorizer.get("iam") or {}).get("userArn")
    if arn:
        return Caller(f"iam:{arn}", None)
    if allow_anonymous:
        return Caller("anonymous", None)
    raise HttpError(401, "authorization", "no caller identity: send a bearer token (JWT) or sign with SigV4 (IAM)")


class Gateway:
    def __init__(self, client: JobClient, settings: GatewaySettings, clock: Callable[[], float] = time.time) -> None:
        self.client, self.settings, self.clock = client, settings, clock
        self._routes: dict[str, Callable[[Caller, dict[str, Any]], tuple[int, BaseModel]]] = {
            "POST /jobs": self.submit,
            "POST /jobs/{id}/start": self.start,
            "GET /jobs/{id}": self.get,
            "DELETE /jobs/{id}": self.cancel,
        }

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            status, body = self.route(event)
            return response(status, body.model_dump(mode="json"))
        except HttpError as exc:
            return response(exc.status, {"error": {"field": exc.field, "message": exc.message}}, exc.headers)
        except Exception:
            LOG.exception("gateway: unhandled error on %s", event.get("routeKey"))
            return response(500, {"error": {"field": "", "message": "internal error; the gateway's log has it"}})

    def route(self, event: dict[str, Any]) -> tuple[int, BaseModel]:
        key = event.get("routeKey", "")
        if key == "GET /health":
            return 200, HealthResponse(status="ok")
        handler = self._routes.get(key)
        if handler is None:
            raise HttpError(404, "route", f"no route {key!r}; see docs/job_gateway.openapi.json")
        caller = caller_of(event, self.settings.allow_anonymous)
        caller.require({SUBMIT: self.settings.submit_scope, READ: self.settings.read_scope}[ROUTES[key] or READ])
        return handler(caller, event)

    def submit(self, caller: Caller, event: dict[str, Any]) -> tuple[int, BaseModel]:
        request = parse(SubmitRequest, self.body(event))
        self.count_submission(caller)
        inputs = {name: base64.b64decode(data) for name, data in request.inputs.items()}
        try:
            job_id = self.client.submit(
                request.kind, request.payload, inputs, owner=caller.owner, uploads=request.uploads
            )
        except ValidationError as exc:
            raise bad_request(exc) from None
        except JobSubmitError as exc:
            raise HttpError(503, "", f"job {exc.job_id} could not be queued; retry: {exc.reason}") from None
        except ValueError as exc:
            raise HttpError(400, field_of(str(exc)), str(exc)) from None
        urls = self.client.upload_urls(job_id, request.uploads, self.settings.url_seconds)
        headers = {"x-amz-server-side-encryption": self.client.sse} if self.client.sse and urls else {}
        started = not request.uploads
        return 201, SubmitResponse(
            job_id=job_id, status=JobStatus.PENDING, upload_urls=urls, upload_headers=headers, started=started
        )

    def start(self, caller: Caller, event: dict[str, Any]) -> tuple[int, BaseModel]:
        record = self.owned(caller, event)
        try:
            self.client.start(record.job_id)
        except ValueError as exc:
            raise HttpError(409, "inputs", str(exc)) from None
        return 202, self.view(self.client.status(record.job_id))

    def get(self, caller: Caller, event: dict[str, Any]) -> tuple[int, BaseModel]:
        return 200, self.view(self.owned(caller, event))

    def cancel(self, caller: Caller, event: dict[str, Any]) -> tuple[int, BaseModel]:
        record = self.owned(caller, event)
        cancelled = self.client.cancel(record.job_id)
        return 200, CancelResponse(
            job_id=record.job_id, cancelled=cancelled, status=self.client.status(record.job_id).status
        )

    def owned(self, caller: Caller, event: dict[str, Any]) -> JobRecord:
        """The caller's job named by the path; 404 for an unknown id and for anyone else's job alike."""
        job_id = str((event.get("pathParameters") or {}).get("id", ""))
        if not re.match(JOB_ID_PATTERN, job_id):
            raise HttpError(400, "id", f"job id {job_id[:140]!r} is malformed; use the job_id POST /jobs returned")
        try:
            record = self.client.status(job_id)
        except JobNotFoundError:
            record = None
        if record is None or record.owner != caller.owner:
            raise HttpError(404, "id", f"no job {job_id} of yours (never submitted, expired, or another caller's)")
        return record

    def view(self, record: JobRecord) -> JobView:
        done = record.status is JobStatus.SUCCEEDED
        outputs = self.client.output_urls(record.job_id, self.settings.url_seconds) if done else {}
        return JobView(
            job_id=record.job_id,
            kind=record.kind,
            status=record.status,
            created_at=record.created_at.isoformat(),
            updated_at=record.updated_at.isoformat() if record.updated_at else None,
            attempts=record.attempts,
            result=record.result,
            error=record.error,
            awaiting_uploads=record.awaiting_uploads,
            outputs=outputs,
        )

    def body(self, event: dict[str, Any]) -> Any:
        raw = event.get("body") or ""
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        if event.get("isBase64Encoded"):
            try:
                data = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise HttpError(400, "body", "the body is flagged base64 but is not") from None
        if len(data) > self.settings.max_body_bytes:
            raise HttpError(
                413,
                "body",
                f"the body is {len(data)} bytes, over {self.settings.max_body_bytes}; send large inputs as uploads",
            )
        try:
            return json.loads(data or b"null")
        except ValueError as exc:
            raise HttpError(400, "body", f"the body is not JSON ({exc}); send a JSON object") from None

    def count_submission(self, caller: Caller) -> None:
        """One submission against the caller's quota window, or 429 with Retry-After."""
        window = self.settings.quota_window_seconds
        now = int(self.clock())
        start = now - now % window
        digest = hashlib.sha256(caller.owner.encode()).hexdigest()[:32]
        key = f"{QUOTA_KEY_PREFIX}{digest}#{start}"
        if not self.client.count_submission(key, self.settings.quota, start + 2 * window):
            retry = start + window - now
            raise HttpError(
                429,
                "quota",
                f"{self.settings.quota} submissions per {window} s used up; retry in {retry} s",
                {"Retry-After": str(retry)},
            )


def parse(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise HttpError(400, "body", 'the body must be a JSON object, e.g. {"kind": "render"}')
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request(exc) from None


def bad_request(exc: ValidationError) -> HttpError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    message = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
    return HttpError(400, field, message[:1000])


def field_of(message: str) -> str:
    match = re.match(r"^([A-Za-z_][\w.]*)", message)
    return match.group(1) if match and message[match.end() : match.end() + 1] in (":", "[", " ") else "body"


def response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


_gateway: Gateway | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (`sdk.jobs.gateway.handler`): one Gateway per execution environment."""
    global _gateway
    if _gateway is None:
        import os

        _gateway = Gateway(JobClient.from_env(), GatewaySettings.from_env(os.environ))
    return _gateway(event, context)
