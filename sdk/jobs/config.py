"""Worker settings, read from the environment the ECS task definition sets (names in WORKER_ENV_VARS)."""

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sdk.jobs.errors import JobConfigError
from sdk.jobs.layout import DEFAULT_PREFIX, Sse, check_prefix
from sdk.jobs.sqs_limits import MAX_VISIBILITY_SECONDS, MAX_WAIT_SECONDS

ENV_PREFIX = "GPU_JOBS_"
QUEUE_URL_ENV = "GPU_JOBS_QUEUE_URL"
TABLE_ENV = "GPU_JOBS_TABLE"
BUCKET_ENV = "GPU_JOBS_BUCKET"
PREFIX_ENV = "GPU_JOBS_PREFIX"
VISIBILITY_TIMEOUT_ENV = "GPU_JOBS_VISIBILITY_TIMEOUT"
IDLE_EXIT_ENV = "GPU_JOBS_IDLE_EXIT_SECONDS"
WORKER_ENV_VARS = (QUEUE_URL_ENV, TABLE_ENV, BUCKET_ENV, PREFIX_ENV, VISIBILITY_TIMEOUT_ENV, IDLE_EXIT_ENV)

# Optional tuning a task definition may add; defaults suit production.
WAIT_SECONDS_ENV = "GPU_JOBS_WAIT_SECONDS"
STOP_GRACE_ENV = "GPU_JOBS_STOP_GRACE_SECONDS"
MAX_RECEIVE_COUNT_ENV = "GPU_JOBS_MAX_RECEIVE_COUNT"
SSE_ENV = "GPU_JOBS_SSE"
JOB_TIMEOUT_ENV = "GPU_JOBS_JOB_TIMEOUT_SECONDS"
OPTIONAL_WORKER_ENV_VARS = (WAIT_SECONDS_ENV, STOP_GRACE_ENV, MAX_RECEIVE_COUNT_ENV, SSE_ENV, JOB_TIMEOUT_ENV)

_FIELD_BY_ENV = {
    QUEUE_URL_ENV: "queue_url",
    TABLE_ENV: "table_name",
    BUCKET_ENV: "bucket",
    PREFIX_ENV: "prefix",
    VISIBILITY_TIMEOUT_ENV: "visibility_timeout",
    IDLE_EXIT_ENV: "idle_exit_seconds",
    WAIT_SECONDS_ENV: "wait_seconds",
    STOP_GRACE_ENV: "stop_grace_seconds",
    MAX_RECEIVE_COUNT_ENV: "max_receive_count",
    SSE_ENV: "sse",
    JOB_TIMEOUT_ENV: "job_timeout_seconds",
}
_REQUIRED_ENV = (QUEUE_URL_ENV, TABLE_ENV, BUCKET_ENV)
T = TypeVar("T", bound=BaseModel)


class WorkerConfig(BaseModel):
    """How a worker consumes a job queue, read from the GPU_JOBS_* environment the task definition sets
    (from_env); a bad value raises one JobConfigError naming the variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue_url: str = Field(min_length=1, description="SQS queue URL to consume. Required, no default.")
    table_name: str = Field(min_length=1, description="DynamoDB job table name. Required, no default.")
    bucket: str = Field(min_length=1, description="S3 bucket for inputs and outputs. Required, no default.")
    prefix: str = Field(default=DEFAULT_PREFIX, description="Key prefix of job files. Default 'jobs/'.")
    visibility_timeout: int = Field(
        default=300,
        ge=1,
        le=MAX_VISIBILITY_SECONDS,
        description="Seconds a received message stays hidden; the heartbeat renews it. Default 300.",
    )
    job_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        description="A job still running after this long is given up: the timeout is recorded as the attempt's "
        "error, the message is retried or dead-lettered, and under run() the process exits so ECS replaces the "
        "stuck task. Default None: no limit.",
    )
    idle_exit_seconds: float | None = Field(
        default=None, gt=0, description="Exit run() after this long with no message. Default None (never)."
    )
    wait_seconds: int = Field(
        default=MAX_WAIT_SECONDS, ge=0, le=MAX_WAIT_SECONDS, description="SQS long-poll wait. Default 20 (max)."
    )
    stop_grace_seconds: float = Field(
        default=25.0,
        ge=0,
        description="After SIGTERM, how long the current job may finish before it is released. Default 25 "
        "(under the ECS stopTimeout default of 30).",
    )
    max_receive_count: int | None = Field(
        default=None,
        ge=1,
        description="Receives before SQS dead-letters a message. Default None: read from the queue's "
        "redrive policy (3 if it cannot be read).",
    )
    sse: Sse | None = Field(
        default=None,
        description="ServerSideEncryption header on uploads, for a PutObject grant that requires one. "
        "Default None: no header (the bucket's default encryption applies).",
    )
    dead_letter_sweep_seconds: float | None = Field(
        default=60,
        gt=0,
        description="How often a worker, idle or busy, marks FAILED the unfinished jobs it finds in the DLQ: a "
        "dead-lettered job is FAILED within this + wait_seconds while a worker runs. Default 60; None: never "
        "(then run JobClient.fail_dead_letters yourself).",
    )
    heartbeat_seconds: float | None = Field(
        default=None, gt=0, description="Heartbeat interval. Default None: a third of visibility_timeout."
    )
    protection_minutes: int = Field(
        default=60,
        ge=1,
        le=2880,
        description="Scale-in protection per grant, renewed while working. Default 60.",
    )
    metrics_namespace: str = Field(
        default="GpuBlueprints/Jobs",
        description="CloudWatch namespace of EMF metrics. Default GpuBlueprints/Jobs.",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @model_validator(mode="after")
    def _heartbeat_fits(self) -> "WorkerConfig":
        if self.heartbeat_interval > self.visibility_timeout / 2:
            raise ValueError(
                f"heartbeat_seconds={self.heartbeat_seconds} must be at most half of visibility_timeout="
                f"{self.visibility_timeout}, or a live job's message reappears; lower it or leave it unset"
            )
        return self

    @property
    def heartbeat_interval(self) -> float:
        return self.heartbeat_seconds or self.visibility_timeout / 3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "WorkerConfig":
        """Read WORKER_ENV_VARS (+ OPTIONAL_WORKER_ENV_VARS); overrides win over the environment."""
        env = os.environ if environ is None else environ
        missing = [name for name in _REQUIRED_ENV if not env.get(name) and _FIELD_BY_ENV[name] not in overrides]
        if missing:
            raise JobConfigError(
                f"{', '.join(missing)} not set: the ECS task definition sets them; export them to run locally"
            )
        values = {field: env[name] for name, field in _FIELD_BY_ENV.items() if env.get(name, "").strip()}
        return model_from_env(cls, {**values, **overrides}, _FIELD_BY_ENV)


def model_from_env(model: type[T], values: dict[str, Any], env_by_field: Mapping[str, str]) -> T:
    """Validate, turning a pydantic error into one JobConfigError that names the environment variable."""
    field_to_env = {field: name for name, field in env_by_field.items()}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        name = field_to_env.get(field, field)
        raise JobConfigError(f"{name}={values.get(field)!r}: {err['msg']}; fix the value or unset it") from None
