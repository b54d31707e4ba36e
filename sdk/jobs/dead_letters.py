"""Jobs whose message reached the DLQ before a worker recorded a result (the worker died on its last attempt,
or receives were spent on duplicate deliveries) are marked FAILED, so no row stays PENDING or RUNNING forever.

Workers sweep their queue's DLQ every dead_letter_sweep_seconds, idle or busy (a heartbeat-side sweep while a
job runs); JobClient.fail_dead_letters does the same for operators. Needs
sqs:GetQueueAttributes on the queue and sqs:GetQueueUrl, sqs:ReceiveMessage, sqs:ChangeMessageVisibility on
the DLQ. Messages stay in the DLQ: the sweep makes them visible again when it is done.
"""

import json
from typing import TYPE_CHECKING, Any

from sdk.jobs.schema import job_id_of
from sdk.jobs.sqs_limits import MAX_RECEIVE_BATCH

if TYPE_CHECKING:  # only annotations: importing the store imports boto3, which synth (SWEEP_LIMIT) does not need
    from sdk.jobs.store import JobStore

SWEEP_LIMIT = 100  # DLQ messages one worker sweep reads
REASON = "message dead-lettered before a worker recorded a result; last error: {last}"


def read_redrive(sqs: Any, queue_url: str) -> tuple[int, str]:
    """(maxReceiveCount, DLQ ARN) from the queue's redrive policy; KeyError when it has none."""
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    policy = json.loads(attrs["RedrivePolicy"])
    return int(policy["maxReceiveCount"]), policy["deadLetterTargetArn"]


def dlq_url_of(sqs: Any, dlq_arn: str) -> str:
    """The DLQ's URL from its ARN (sqs:GetQueueUrl on the DLQ)."""
    _, _, _, _, account, name = dlq_arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def fail_dead_letters(sqs: Any, store: "JobStore", dlq_url: str, limit: int = 1000) -> list[str]:
    """Mark FAILED every unfinished job named by a DLQ message; returns the job ids it marked."""
    messages = _receive_all(sqs, dlq_url, limit)
    try:
        return [job_id for _, body in messages if (job_id := _fail(store, body))]
    finally:
        for receipt, _ in messages:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=receipt, VisibilityTimeout=0)


def _fail(store: "JobStore", body: str) -> str | None:
    job_id = job_id_of(body)
    record = store.get(job_id) if job_id else None
    if job_id is None or (record is not None and record.status.terminal):
        return None
    reason = REASON.format(last=record.last_error if record else None)
    applied, _ = store.fail_unowned(job_id, reason, record.kind if record else "")
    return job_id if applied else None


def _receive_all(sqs: Any, dlq_url: str, limit: int) -> list[tuple[str, str]]:
    """Up to `limit` DLQ messages, each received once (hidden for 5 minutes while the sweep runs)."""
    found: list[tuple[str, str]] = []
    while len(found) < limit:
        out = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=MAX_RECEIVE_BATCH, VisibilityTimeout=300)
        if not out.get("Messages"):
            break
        found += [(m["ReceiptHandle"], m["Body"]) for m in out["Messages"]]
    return found
