"""The job protocol of IdleStopGpuQueue: message schema, JobClient (submit/follow) and Worker (consume).

boto3 + pydantic only: importing this never imports cdktf, so worker images stay small.

IAM the worker task role needs: sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and
sqs:GetQueueAttributes (to read maxReceiveCount; or set GPU_JOBS_MAX_RECEIVE_COUNT) on its queue;
dynamodb:GetItem and dynamodb:UpdateItem on the job table; s3:GetObject on `{prefix}*/inputs/*` and
s3:PutObject on `{prefix}*/outputs/*`; ecs:UpdateTaskProtection and ecs:GetTaskProtection (scale-in
protection through the ECS agent endpoint while a job runs).
The submitter needs sqs:SendMessage, dynamodb:PutItem/GetItem/UpdateItem, s3:PutObject/GetObject and
s3:ListBucket (outputs) on the same resources.
"""

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
