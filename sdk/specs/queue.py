"""The spec of a job queue managed outside the stack (bring your own queue)."""

from pydantic import Field, field_validator

from sdk.specs import Spec, arn_parts


def _sqs_arn(value: str) -> str:
    parts = arn_parts(value)
    if parts is not None and parts[0] != "sqs":
        raise ValueError(f"expected an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>), got {value!r}")
    return value


class ExistingQueueSpec(Spec):
    """A queue (and its DLQ) managed elsewhere; no queue resources are created."""

    queue_arn: str = Field(description="ARN of the job queue. Required.")
    queue_url: str = Field(
        pattern=r"^(https://|\$\{TfToken\[)", description="URL of the job queue (https://sqs...). Required."
    )
    dlq_arn: str = Field(description="ARN of the queue's dead-letter queue (for its alarm). Required.")

    @field_validator("queue_arn", "dlq_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        return _sqs_arn(value)
