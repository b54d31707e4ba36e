"""JobResources: the queue + DLQ, job table, files bucket and submitter policy of one job stream, with grant methods
for whoever submits or consumes its jobs."""

from typing import Literal

from pydantic import ValidationError

from sdk.constructs.bucket import SecureBucket
from sdk.constructs.engine import Construct, IamPolicy, IamRole, IamRolePolicyAttachment
from sdk.constructs.iam import Statement, TaskRoles
from sdk.constructs.job_gateway import JobGateway
from sdk.constructs.job_table import JobTable
from sdk.constructs.naming import IAM_POLICY_NAME_MAX, iam_name, policy_json
from sdk.constructs.outputs import stable_output
from sdk.constructs.queue import JobQueue
from sdk.constructs.stack import required_stack_region, stack_region
from sdk.constructs.structs import new
from sdk.gateway_spec import GatewaySpec
from sdk.grants import kms_key_statements
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.config import (
    BUCKET_ENV,
    IDLE_EXIT_ENV,
    JOB_TIMEOUT_ENV,
    MAX_RECEIVE_COUNT_ENV,
    PREFIX_ENV,
    QUEUE_URL_ENV,
    TABLE_ENV,
    VISIBILITY_TIMEOUT_ENV,
)
from sdk.jobs.layout import check_prefix


class JobResources(Construct):
    """`.queue` (JobQueue), `.table` (JobTable), `.bucket` (SecureBucket), `.submitter_policy` (IamPolicy)."""

    def __init__(self, scope: Construct, id_: str, *, spec: JobResourcesSpec) -> None:
        super().__init__(scope, id_)
        if spec.name is None:
            raise field_error(
                "JobResourcesSpec",
                "name",
                None,
                "a job stream built on its own needs one. Fix: JobResourcesSpec(name=...)",
            )
        self.spec = spec
        name = str(spec.name)
        self.alarmed_by: Construct | None = None  # the consumer that alarms on this queue (the first)
        self._submitters = 0
        self.queue = JobQueue(
            self,
            "queue",
            name=f"{name}-jobs",
            visibility_timeout_seconds=spec.visibility_timeout_seconds,
            max_receive_count=spec.max_receive_count,
            existing=spec.existing_queue,
        )
        self.table = JobTable(self, "table", name=f"{name}-jobs", kms_key_arn=spec.table_kms_key_arn)
        self.bucket = SecureBucket(self, "bucket", bucket_prefix=f"{name}-jobs-", expire_days=spec.bucket_expire_days)
        self.submitter_policy = new(
            IamPolicy,
            self,
            "submitter",
            name=iam_name(name, required_stack_region(self), "jobs-submitter", IAM_POLICY_NAME_MAX),
            description=f"Submit jobs to {name} and read their rows and outputs",
            policy=policy_json(self.submitter_statements()),
        )
        self._outputs()

    def files_arn(self, part: Literal["inputs", "outputs"]) -> str:
        """Objects of one side of every job: `<prefix><job_id>/inputs/...` or `.../outputs/...` (sdk.jobs.layout)."""
        return f"{self.bucket.arn}/{self.spec.prefix}*/{part}/*"

    def submitter_statements(self) -> list[Statement]:
        return [
            _allow("SendJobs", ["sqs:SendMessage"], self.queue.arn),
            _allow("JobRows", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], self.table.arn),
            _allow("JobStatusIndex", ["dynamodb:Query"], self.table.index_arn),
            _allow("JobInputs", ["s3:PutObject", "s3:AbortMultipartUpload"], self.files_arn("inputs")),
            _allow("JobOutputs", ["s3:GetObject"], self.files_arn("outputs")),
            {
                **_allow("ListJobFiles", ["s3:ListBucket"], self.bucket.arn),
                "Condition": {"StringLike": {"s3:prefix": [f"{self.spec.prefix}*"]}},
            },
            *self.table_key_statements(),
        ]

    def table_key_statements(self) -> list[Statement]:
        """A customer key on the table: reads and writes need it, through DynamoDB only (kms:ViaService)."""
        key = self.spec.table_kms_key_arn
        if key is None:
            return []
        actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
        return kms_key_statements("JobTableKey", key, actions, "dynamodb", stack_region(self))

    def add_gateway(
        self, scope: Construct, id_: str, *, name: str, spec: GatewaySpec, region: str, alarm_topic_arn: str | None
    ) -> JobGateway:
        """An HTTPS job API (API Gateway HTTP API + Lambda handler) in front of this stream, as its submitter."""
        return JobGateway(
            scope, id_, name=name, spec=spec, region=region, queue_url=self.queue.url, table_name=self.table.name,
            bucket_name=self.bucket.name, bucket_arn=self.bucket.arn, prefix=self.spec.prefix,
            submitter_policy_arn=self.submitter_policy.arn, alarm_topic_arn=alarm_topic_arn,
        )  # fmt: skip

    def grant_submit(self, role: IamRole) -> IamRolePolicyAttachment:
        """Let `role` submit jobs and read their rows and outputs (attaches `.submitter_policy`)."""
        self._submitters += 1
        return new(
            IamRolePolicyAttachment,
            self,
            f"submitter_{self._submitters}",
            role=role.name,
            policy_arn=self.submitter_policy.arn,
        )

    def grant_consume(self, roles: TaskRoles, *, cluster_name: str, account_id: str) -> None:
        """Let a consumer's tasks (`roles.task_role`) work this job stream (CDK's queue.grantConsumeMessages)."""
        roles.grant(*self.worker_statements(cluster_name, required_stack_region(self), account_id))

    def worker_statements(self, cluster_name: str, region: str, account_id: str) -> list[Statement]:
        """What a consumer task needs: its queue, its rows, its files, and its own scale-in protection."""
        consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
        return [
            _allow("ConsumeJobs", consume, self.queue.arn),
            # Workers sweep the DLQ for jobs that died on their last attempt (sdk/jobs/dead_letters.py).
            _allow(
                "SweepDeadLetters",
                ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"],
                self.queue.dlq_arn,
            ),
            _allow("ClaimJobRows", ["dynamodb:GetItem", "dynamodb:UpdateItem"], self.table.arn),
            _allow("JobInputs", ["s3:GetObject"], self.files_arn("inputs")),
            _allow("JobOutputs", ["s3:PutObject", "s3:AbortMultipartUpload"], self.files_arn("outputs")),
            _allow(
                "TaskProtection",
                ["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
                f"arn:aws:ecs:{region}:{account_id}:task/{cluster_name}/*",
            ),
            *self.table_key_statements(),
        ]

    def worker_environment(self, prefix: str | None = None, idle_exit_seconds: int | None = None) -> dict[str, str]:
        """The GPU_JOBS_* variables `sdk.jobs.WorkerConfig.from_env` reads."""
        env = {
            QUEUE_URL_ENV: self.queue.url,
            TABLE_ENV: self.table.name,
            BUCKET_ENV: self.bucket.name,
            PREFIX_ENV: check_prefix(prefix) if prefix is not None else self.spec.prefix,
            VISIBILITY_TIMEOUT_ENV: str(self.spec.visibility_timeout_seconds),
            JOB_TIMEOUT_ENV: str(self.spec.job_timeout_seconds),
        }
        if self.spec.existing_queue is None:
            env[MAX_RECEIVE_COUNT_ENV] = str(self.spec.max_receive_count)
        if idle_exit_seconds is not None:
            env[IDLE_EXIT_ENV] = str(idle_exit_seconds)
        return env

    def _outputs(self) -> None:
        # Named after the blueprint that holds them: <queue id>_queue_url, not <queue id>_jobs_queue_url.
        owner = self.node.scope
        outputs = {
            "queue_url": (self.queue.url, "Job queue URL (GPU_JOBS_QUEUE_URL)"),
            "dlq_url": (self.queue.dlq_url, "Dead-letter queue URL"),
            "table_name": (self.table.name, "Job table (GPU_JOBS_TABLE)"),
            "bucket_name": (self.bucket.name, "Job files bucket (GPU_JOBS_BUCKET)"),
            "submitter_policy_arn": (self.submitter_policy.arn, "Attach to whoever submits jobs (send, rows, files)"),
        }
        for name, (value, description) in outputs.items():
            if value is not None:
                stable_output(self, name, value=value, description=description, named_after=owner)


def field_error(title: str, field: str, value: object, message: str) -> ValidationError:
    """One ValidationError on `field`, as a spec's own would read (for a check only the construct can make)."""
    error = {"type": "value_error", "loc": (field,), "input": value, "ctx": {"error": ValueError(message)}}
    return ValidationError.from_exception_data(title, [error])  # type: ignore[list-item]


def _allow(sid: str, actions: list[str], resource: str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [resource]}
