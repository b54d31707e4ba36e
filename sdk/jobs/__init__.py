"""The job protocol of IdleStopGpuQueue: message schema, JobClient (submit/follow) and Worker (consume).

boto3 + pydantic only: importing this never imports cdktf, so worker images stay small.

IAM the worker task role needs: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and
sqs:GetQueueAttributes (redrive policy: maxReceiveCount and the DLQ) on its queue; sqs:GetQueueUrl,
sqs:ReceiveMessage and sqs:ChangeMessageVisibility on the DLQ (dead-letter sweep; without them the worker
logs a warning and skips the sweep); dynamodb:GetItem and dynamodb:UpdateItem on the job table; s3:GetObject on
`{prefix}*/inputs/*` and s3:PutObject (+ s3:AbortMultipartUpload) on `{prefix}*/outputs/*`;
ecs:UpdateTaskProtection and ecs:GetTaskProtection (scale-in protection through the ECS agent endpoint
while a job runs).
The submitter needs sqs:SendMessage, dynamodb:PutItem/GetItem/UpdateItem, s3:PutObject on `{prefix}*/inputs/*`,
s3:GetObject on `{prefix}*/outputs/*` and s3:ListBucket (outputs) on the same resources.
Set GPU_JOBS_SSE when the bucket policy or the PutObject grant requires a ServerSideEncryption header.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk.jobs.client import JobClient
    from sdk.jobs.config import OPTIONAL_WORKER_ENV_VARS, WORKER_ENV_VARS, WorkerConfig
    from sdk.jobs.errors import (
        InvalidJobMessage,
        JobConfigError,
        JobError,
        JobNotFoundError,
        JobSubmitError,
        PermanentJobError,
    )
    from sdk.jobs.protection import TaskProtection
    from sdk.jobs.schema import (
        ATTEMPTS_ATTRIBUTE,
        HASH_KEY,
        STATUS_INDEX,
        TTL_ATTRIBUTE,
        JobMessage,
        JobRecord,
        JobStatus,
    )
    from sdk.jobs.worker import Handler, JobContext, Worker

# Loaded on first use (PEP 562): `sdk.jobs.schema` and friends import without the client and worker, whose boto3
# import costs about a second; a synth needs only the schema and the config.
_EXPORTS = {
    "JobClient": "sdk.jobs.client",
    "OPTIONAL_WORKER_ENV_VARS": "sdk.jobs.config",
    "WORKER_ENV_VARS": "sdk.jobs.config",
    "WorkerConfig": "sdk.jobs.config",
    "InvalidJobMessage": "sdk.jobs.errors",
    "JobConfigError": "sdk.jobs.errors",
    "JobError": "sdk.jobs.errors",
    "JobNotFoundError": "sdk.jobs.errors",
    "JobSubmitError": "sdk.jobs.errors",
    "PermanentJobError": "sdk.jobs.errors",
    "TaskProtection": "sdk.jobs.protection",
    "ATTEMPTS_ATTRIBUTE": "sdk.jobs.schema",
    "HASH_KEY": "sdk.jobs.schema",
    "STATUS_INDEX": "sdk.jobs.schema",
    "TTL_ATTRIBUTE": "sdk.jobs.schema",
    "JobMessage": "sdk.jobs.schema",
    "JobRecord": "sdk.jobs.schema",
    "JobStatus": "sdk.jobs.schema",
    "Handler": "sdk.jobs.worker",
    "JobContext": "sdk.jobs.worker",
    "Worker": "sdk.jobs.worker",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sdk.jobs' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "ATTEMPTS_ATTRIBUTE",
    "HASH_KEY",
    "OPTIONAL_WORKER_ENV_VARS",
    "STATUS_INDEX",
    "TTL_ATTRIBUTE",
    "WORKER_ENV_VARS",
    "Handler",
    "InvalidJobMessage",
    "JobClient",
    "JobConfigError",
    "JobContext",
    "JobError",
    "JobMessage",
    "JobNotFoundError",
    "JobRecord",
    "JobStatus",
    "JobSubmitError",
    "PermanentJobError",
    "TaskProtection",
    "Worker",
    "WorkerConfig",
]
