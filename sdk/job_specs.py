"""JobResourcesSpec: one job stream (queue + DLQ, job table, files bucket). No cdktf: the construct that builds it
is sdk.constructs.jobs.JobResources."""

from pydantic import Field, field_validator, model_validator

from sdk.grants import check_kms_key_arn
from sdk.jobs.layout import DEFAULT_PREFIX, check_prefix
from sdk.jobs.sqs_limits import MAX_VISIBILITY_SECONDS
from sdk.specs import Spec, problems_to_error
from sdk.specs.queue import ExistingQueueSpec

# The worker uploads outputs and marks the row after the handler: visibility covers the job plus this.
VISIBILITY_MARGIN_SECONDS = 60


def queue_problems(
    job_timeout_seconds: int, existing_queue: ExistingQueueSpec | None, fields_set: set[str]
) -> list[str]:
    problems = []
    if job_timeout_seconds + VISIBILITY_MARGIN_SECONDS > MAX_VISIBILITY_SECONDS:
        problems.append(
            f"job_timeout_seconds: {job_timeout_seconds} s + {VISIBILITY_MARGIN_SECONDS} s margin exceeds SQS's "
            f"{MAX_VISIBILITY_SECONDS} s (12 h) visibility limit. Fix: at most "
            f"{MAX_VISIBILITY_SECONDS - VISIBILITY_MARGIN_SECONDS}, or split the job."
        )
    if existing_queue is not None and "max_receive_count" in fields_set:
        problems.append(
            "max_receive_count: an existing queue keeps its own redrive policy. "
            "Fix: set maxReceiveCount on that queue and drop max_receive_count."
        )
    return problems


class JobResourcesSpec(Spec):
    """Queue + DLQ, job table and bucket of one job stream; another blueprint may receive them."""

    name: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$",
        description="Base name of the queue, table, bucket and policy (<= 24 chars). Default None: the name of the "
        "blueprint whose `jobs` it is; JobResources built on its own needs one.",
    )
    job_timeout_seconds: int = Field(
        default=900,
        ge=30,
        description="Longest a job runs; the queue's visibility timeout is this + 60 s (SQS allows 12 h). Default 900.",
    )
    max_receive_count: int = Field(
        default=3, ge=1, le=1000, description="Receives before a message moves to the DLQ. Default 3."
    )
    existing_queue: ExistingQueueSpec | None = Field(
        default=None, description="Bring your own queue + DLQ. Default None: both are created."
    )
    bucket_expire_days: int = Field(
        default=30, ge=1, le=3650, description="Days before job inputs/outputs expire from the bucket. Default 30."
    )
    prefix: str = Field(default=DEFAULT_PREFIX, description=f"Key prefix of job files. Default {DEFAULT_PREFIX!r}.")
    table_kms_key_arn: str | None = Field(
        default=None, description="Customer KMS key of the job table. Default None: the AWS-managed aws/dynamodb key."
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @field_validator("table_kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return check_kms_key_arn(value)

    @model_validator(mode="after")
    def _limits(self) -> "JobResourcesSpec":
        problems_to_error(queue_problems(self.job_timeout_seconds, self.existing_queue, self.model_fields_set))
        return self

    @property
    def visibility_timeout_seconds(self) -> int:
        return self.job_timeout_seconds + VISIBILITY_MARGIN_SECONDS

    def named(self, name: str) -> "JobResourcesSpec":
        """This spec with `name` when it has none (the blueprint's name), re-validated."""
        if self.name is not None:
            return self
        return JobResourcesSpec.model_validate({**self.model_dump(exclude_unset=True), "name": name})

    def conflicts_with(self, given: "JobResourcesSpec") -> list[str]:
        """Fields set here that a given JobResources was built otherwise (it wins, so setting them misleads)."""
        return sorted(k for k in self.model_fields_set - {"name"} if getattr(self, k) != getattr(given, k))
