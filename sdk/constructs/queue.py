"""Job queue: an SQS queue with SSE, long polling and a dead-letter queue, or a queue you bring."""

from sdk.constructs.engine import Construct, Fn, SqsQueue, SqsQueuePolicy, SqsQueueRedriveAllowPolicy
from sdk.constructs.naming import policy_json
from sdk.constructs.structs import new
from sdk.jobs.sqs_limits import (
    DEFAULT_RETENTION_SECONDS,
    MAX_RETENTION_SECONDS,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
)
from sdk.specs import is_token
from sdk.specs.queue import ExistingQueueSpec

LONG_POLL_SECONDS = MAX_WAIT_SECONDS
DLQ_RETENTION_SECONDS = MAX_RETENTION_SECONDS  # so an operator has two weeks to look


def queue_name_of(arn: str) -> str:
    """The queue name (last ARN field), at synth time for a literal ARN or at apply time for a token."""
    return Fn.element(Fn.split(":", arn), 5) if is_token(arn) else arn.rsplit(":", 1)[-1]


def _tls_only(queue: SqsQueue) -> str:
    return policy_json(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue.arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


class JobQueue(Construct):
    """`.queue`/`.dlq` (None when existing), `.url`, `.arn`, `.name`, `.dlq_arn`, `.dlq_name`, `.dlq_url`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        visibility_timeout_seconds: int,
        max_receive_count: int = 3,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        existing: ExistingQueueSpec | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if not 0 <= visibility_timeout_seconds <= MAX_VISIBILITY_SECONDS:
            raise ValueError(
                f"visibility_timeout_seconds: {visibility_timeout_seconds} is outside SQS's 0-{MAX_VISIBILITY_SECONDS}"
                " s. Fix: a shorter job timeout (the worker's heartbeat extends long jobs)."
            )
        self.queue: SqsQueue | None = None
        self.dlq: SqsQueue | None = None
        self.dlq_url: str | None = None
        if existing is not None:
            self.url, self.arn, self.dlq_arn = existing.queue_url, existing.queue_arn, existing.dlq_arn
            self.name, self.dlq_name = queue_name_of(self.arn), queue_name_of(self.dlq_arn)
        else:
            self._create(name, visibility_timeout_seconds, max_receive_count, retention_seconds)

    def _create(self, name: str, visibility: int, max_receive_count: int, retention: int) -> None:
        self.dlq = new(
            SqsQueue,
            self,
            "dlq",
            name=f"{name}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
        )
        self.queue = new(
            SqsQueue,
            self,
            "queue",
            name=name,
            sqs_managed_sse_enabled=True,
            receive_wait_time_seconds=LONG_POLL_SECONDS,
            visibility_timeout_seconds=visibility,
            message_retention_seconds=retention,
            redrive_policy=Fn.jsonencode({"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": max_receive_count}),
        )
        new(
            SqsQueueRedriveAllowPolicy,
            self,
            "dlq_allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=Fn.jsonencode({"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}),
        )
        for key, queue in (("queue_policy", self.queue), ("dlq_policy", self.dlq)):
            new(SqsQueuePolicy, self, key, queue_url=queue.url, policy=_tls_only(queue))
        self.url, self.arn, self.name = self.queue.url, self.queue.arn, self.queue.name
        self.dlq_arn, self.dlq_url, self.dlq_name = self.dlq.arn, self.dlq.url, self.dlq.name
