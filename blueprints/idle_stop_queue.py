"""IdleStopGpuQueue: GPU workers that start when jobs arrive and stop when the queue has been idle.

Jobs go through `JobResources` (SQS queue + DLQ, DynamoDB job table, S3 bucket, submitter policy); an ECS
service of the consumer container runs 0 tasks at rest. Two alarms on visible + in-flight messages drive it:
backlog > 0 sets one task per outstanding job (up to max_workers), and 0 for `idle_minutes` sets 0 tasks.
The capacity provider then brings hosts up or takes them to zero.
"""

import math
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct
from pydantic import Field, field_validator, model_validator

from sdk import sizing
from sdk.constructs.bucket import SecureBucket
from sdk.constructs.cluster import Cluster
from sdk.constructs.gpu_capacity import GpuCapacity
from sdk.constructs.iam import Statement, TaskRoles
from sdk.constructs.job_gateway import JobGateway
from sdk.constructs.job_table import JobTable
from sdk.constructs.naming import IAM_POLICY_NAME_MAX, iam_name, policy_json
from sdk.constructs.network import Network, https_out_security_group, network_summary, share_network
from sdk.constructs.observability import AlarmTopic, LogGroup, alarm
from sdk.constructs.outputs import stable_output
from sdk.constructs.queue import MAX_VISIBILITY_SECONDS, ExistingQueueSpec, JobQueue
from sdk.constructs.review_hints import record_hints
from sdk.constructs.scaling import Metric, ServiceScaling, metric_math, sqs_metric
from sdk.constructs.service import GpuService
from sdk.constructs.stack import claim_name, in_stack_region, required_stack_region, stack_region
from sdk.constructs.structs import new
from sdk.constructs.task import GpuTask, definition_size_problems
from sdk.gateway_spec import GatewaySpec
from sdk.grants import Grant, check_kms_key_arn, kms_key_statements
from sdk.hints import BlueprintHints, GpuCapacityHint
from sdk.jobs.config import (
    BUCKET_ENV,
    IDLE_EXIT_ENV,
    JOB_TIMEOUT_ENV,
    MAX_RECEIVE_COUNT_ENV,
    PREFIX_ENV,
    QUEUE_URL_ENV,
    STOP_GRACE_ENV,
    TABLE_ENV,
    VISIBILITY_TIMEOUT_ENV,
    WorkerConfig,
)
from sdk.jobs.dead_letters import SWEEP_LIMIT
from sdk.jobs.layout import DEFAULT_PREFIX, check_prefix
from sdk.specs import (
    AlarmsSpec,
    CapacitySpec,
    ContainerSpec,
    NetworkSpec,
    Region,
    Spec,
    problems_to_error,
    resource_name,
)
from sdk.validation import (
    cluster_query,
    min_tasks_per_host,
    model_cache_problems,
    model_source_notes,
    model_source_problems,
    region_environment_problems,
    task_fit_problems,
)

# ECS's longest stopTimeout, and the seconds a released job needs to reach the queue and the table.
WORKER_STOP_TIMEOUT_SECONDS = 120
STOP_GRACE_MARGIN_SECONDS = 10

# The worker uploads outputs and marks the row after the handler: visibility covers the job plus this.
VISIBILITY_MARGIN_SECONDS = 60
METRIC_LAG_MINUTES = 2  # SQS publishes 1-minute metrics; the alarm sees them a minute or two late
CAPACITY_PROVIDER_SCALE_IN_MINUTES = 15  # managed scaling's scale-in alarm needs 15 datapoints (fixed by AWS)
HOST_TERMINATION_MINUTES = 2
JOBS_METRICS_NAMESPACE: str = WorkerConfig.model_fields["metrics_namespace"].default
ENV_PREFIX = "GPU_JOBS_"


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

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$",
        description="Base name of the queue, table, bucket and policy (<= 24 chars). Required.",
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


class JobResources(Construct):
    """`.queue` (JobQueue), `.table` (JobTable), `.bucket` (SecureBucket), `.submitter_policy` (IamPolicy)."""

    def __init__(self, scope: Construct, id_: str, *, spec: JobResourcesSpec) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        self.alarmed_by: Construct | None = None  # the consumer that alarms on this queue (the first)
        self.queue = JobQueue(
            self,
            "queue",
            name=f"{spec.name}-jobs",
            visibility_timeout_seconds=spec.visibility_timeout_seconds,
            max_receive_count=spec.max_receive_count,
            existing=spec.existing_queue,
        )
        self.table = JobTable(self, "table", name=f"{spec.name}-jobs", kms_key_arn=spec.table_kms_key_arn)
        self.bucket = SecureBucket(
            self, "bucket", bucket_prefix=f"{spec.name}-jobs-", expire_days=spec.bucket_expire_days
        )
        self.submitter_policy = new(
            IamPolicy,
            self,
            "submitter",
            name=iam_name(spec.name, required_stack_region(self), "jobs-submitter", IAM_POLICY_NAME_MAX),
            description=f"Submit jobs to {spec.name} and read their rows and outputs",
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


def _allow(sid: str, actions: list[str], resource: str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [resource]}


class IdleStopGpuQueueSpec(Spec):
    name: str = Field(
        description="Queue name (cluster, queue, table, roles derive from it; <= 24 chars). Required.",
    )
    _name = field_validator("name")(resource_name(24))
    region: Region | None = Field(
        default=None,
        description="AWS region. Default None: the stack's (GpuStack(region=...)), the one source of truth; a "
        "different value is refused.",
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Default: a new 2-AZ VPC, one NAT.")
    capacity: CapacitySpec = Field(description="GPU instance types, Spot, warm pool (min_hosts stays 0). Required.")
    container: ContainerSpec = Field(
        description="The consumer container (runs sdk.jobs.Worker; image, gpu, cpu, memory). Required."
    )
    network_mode: Literal["awsvpc", "bridge"] = Field(
        default="awsvpc",
        description="awsvpc (own ENI + security group) or bridge (shares the host's; more tasks per host). "
        "Default awsvpc.",
    )
    placement_constraint: str | None = Field(
        default=None,
        description="ECS memberOf expression, e.g. 'attribute:ecs.instance-type =~ g6.*'. Default None.",
    )
    max_workers: int = Field(default=2, ge=1, le=100, description="Most consumer tasks. Default 2.")
    idle_minutes: int = Field(
        default=30, ge=1, le=1440, description="Scale to 0 tasks after this long with no jobs. Default 30."
    )
    job_timeout_seconds: int = Field(
        default=900, ge=30, description="Longest a job runs (visibility = this + 60 s, <= 12 h). Default 900."
    )
    max_receive_count: int = Field(
        default=3, ge=1, le=1000, description="Receives before a message moves to the DLQ. Default 3."
    )
    existing_queue: ExistingQueueSpec | None = Field(
        default=None, description="Bring your own queue + DLQ. Default None: both are created."
    )
    bucket_expire_days: int = Field(default=30, ge=1, le=3650, description="Days before job files expire. Default 30.")
    prefix: str = Field(default=DEFAULT_PREFIX, description=f"Key prefix of job files. Default {DEFAULT_PREFIX!r}.")
    oldest_message_age_alarm_seconds: int = Field(
        default=1800,
        ge=60,
        description="Alarm when the oldest waiting job is older than this (no capacity, workers stuck). Default 1800.",
    )
    busy_hours_per_day: float = Field(
        default=4,
        ge=0,
        le=24,
        description="Assumed hours a day with jobs, for the cost estimate's duty cycle only. Default 4.",
    )
    enable_exec: bool = Field(default=True, description="ECS Exec into workers (audited). Default True.")
    grants: tuple[Grant, ...] = Field(default=(), description="Extra task role permissions. Default none.")
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec, description="Default: alarms without notification.")
    gateway: GatewaySpec | None = Field(
        default=None, description="An HTTPS job API (docs/job_gateway.md). Default None: boto3 submitters only."
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @field_validator("placement_constraint")
    @classmethod
    def _placement(cls, value: str | None) -> str | None:
        return value if value is None else cluster_query(value)

    @model_validator(mode="after")
    def _cross_field(self) -> "IdleStopGpuQueueSpec":
        problems = [
            *self._idle_stop_problems(),
            *task_fit_problems(self.capacity.instance_types, self.container, types_field="capacity.instance_types"),
            *region_environment_problems(self.container.environment, self.region, "container.environment"),
            *model_source_problems(self.network, self.container),
        ]
        reserved = sorted(k for k in self.container.environment if k.startswith(ENV_PREFIX))
        if reserved:
            problems.append(
                f"container.environment: {', '.join(reserved)} are set by the blueprint from its queue, table and "
                "bucket. Fix: drop them."
            )
        problems += definition_size_problems(
            self.container,
            field="container.environment",
            name=self.name,
            region=self.region,
            network_mode=self.network_mode,
            enable_exec=self.enable_exec,
        )
        problems_to_error(problems)
        problems_to_error(self._host_bound_problems())
        problems_to_error(model_cache_problems(self.capacity, self.container, self.tasks_per_host))
        return self

    def _idle_stop_problems(self) -> list[str]:
        problems = []
        if self.capacity.min_hosts > 0:
            problems.append(
                f"capacity.min_hosts: {self.capacity.min_hosts} hosts would run while the queue is idle. "
                "Fix: 0 (use capacity.warm_pool for faster starts from stopped hosts)."
            )
        return problems + queue_problems(self.job_timeout_seconds, self.existing_queue, self.model_fields_set)
        return problems

    def _host_bound_problems(self) -> list[str]:
        needed = sizing.hosts_for_tasks(self.max_workers, self.tasks_per_host)
        if self.capacity.max_hosts is not None and self.capacity.max_hosts < needed:
            return [
                f"capacity.max_hosts: {self.capacity.max_hosts} hosts hold "
                f"{self.capacity.max_hosts * self.tasks_per_host} tasks but max_workers is {self.max_workers}. "
                f"Fix: max_hosts >= {needed}, or leave it unset to derive it."
            ]
        return []

    @property
    def jobs_spec(self) -> JobResourcesSpec:
        fields = ("job_timeout_seconds", "existing_queue", "bucket_expire_days", "prefix")
        values: dict[str, Any] = {f: getattr(self, f) for f in fields}
        if self.existing_queue is None:
            values["max_receive_count"] = self.max_receive_count
        return JobResourcesSpec(name=self.name, **values)

    @property
    def tasks_per_host(self) -> int:
        return min_tasks_per_host(self.capacity.instance_types, self.container)

    @property
    def max_hosts(self) -> int:
        """Hosts for max_workers during a 200% rolling deployment, unless the spec caps it."""
        if self.capacity.max_hosts is not None:
            return self.capacity.max_hosts
        return sizing.deployment_hosts(self.max_workers, self.tasks_per_host)

    @property
    def minutes_to_zero_hosts(self) -> int:
        """From the last job's end to no running instance: idle wait, alarm lag, capacity-provider scale-in."""
        return self.idle_minutes + METRIC_LAG_MINUTES + CAPACITY_PROVIDER_SCALE_IN_MINUTES + HOST_TERMINATION_MINUTES

    @property
    def duty_cycle(self) -> float:
        """Share of the day hosts run: busy hours plus one tail to zero per day (the cost estimate's guess)."""
        return round(min(1.0, (self.busy_hours_per_day * 60 + self.minutes_to_zero_hosts) / 1440), 4)


def backlog_steps(max_workers: int) -> list[dict[str, Any]]:
    """ExactCapacity steps on outstanding jobs (alarm threshold 0): one task per job up to 4, then doubling.

    Steps relative to the threshold: [0, c2) -> 1 task, [c_i, c_i+1) -> c_i tasks, [max, inf) -> max, so a
    backlog of 1 from 0 tasks starts one task (PercentChangeInCapacity could not leave 0).
    """
    capacities = sorted(
        {c for c in range(1, min(max_workers, 4) + 1)}
        | {2**i for i in range(max_workers.bit_length()) if 2**i <= max_workers}
        | {max_workers}
    )
    steps = []
    for index, capacity in enumerate(capacities):
        step: dict[str, Any] = {
            "metric_interval_lower_bound": "0" if index == 0 else str(capacity),
            "scaling_adjustment": capacity,
        }
        if index + 1 < len(capacities):
            step["metric_interval_upper_bound"] = str(capacities[index + 1])
        steps.append(step)
    return steps


def queue_metrics(queue_name: str) -> dict[str, Metric]:
    """The queue's SQS metrics by the ids the scaling expressions use."""
    return {
        "visible": sqs_metric(queue_name, "ApproximateNumberOfMessagesVisible"),
        "in_flight": sqs_metric(queue_name, "ApproximateNumberOfMessagesNotVisible"),
        "age": sqs_metric(queue_name, "ApproximateAgeOfOldestMessage"),
    }


def outstanding_jobs_query(queue_name: str) -> list[dict[str, Any]]:
    """Visible + in-flight messages: jobs waiting plus jobs a worker holds."""
    metrics = queue_metrics(queue_name)
    return metric_math(
        {k: metrics[k] for k in ("visible", "in_flight")},
        "{visible} + {in_flight}",
        id_="outstanding",
        label="outstanding jobs",
    )


class IdleStopGpuQueue(Construct):
    """Children: `.jobs`, `.network`, `.cluster`, `.capacity`, `.logs`, `.roles`, `.task_security_group` (awsvpc),
    `.task`, `.service`, `.scaling`, `.scaling_alarms`, `.topic`, `.alarms`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: IdleStopGpuQueueSpec,
        jobs: JobResources | None = None,
        network: Network | None = None,
        zone_instance_types: tuple[str, ...] = (),
    ) -> None:
        """`network`: another blueprint's `.network` in this stack to run in (no VPC or NAT of its own); the spec
        then leaves `network` at its default. `zone_instance_types`: further GPU types that will run in this queue's
        subnets (another consumer's)."""
        super().__init__(scope, id_)
        spec, self.region = in_stack_region(self, spec)
        claim_name(self, spec.name)
        types = tuple(dict.fromkeys([*spec.capacity.instance_types, *zone_instance_types]))
        if network is not None:
            spec = share_network(self, spec, network, types)
        self.spec = spec
        name = spec.name
        self.jobs = jobs if jobs is not None else JobResources(self, "jobs", spec=spec.jobs_spec)
        self.network = network or Network(
            self,
            "network",
            name=name,
            spec=spec.network,
            instance_types=types,
        )
        self.cluster = Cluster(self, "cluster", name=name)
        self.capacity = GpuCapacity(
            self,
            "capacity",
            name=name,
            cluster_name=name,
            spec=spec.capacity,
            vpc_id=self.network.vpc_id,
            subnet_ids=self.network.private_subnet_ids,
            max_hosts=spec.max_hosts,
            region=self.region,
            prepull=[spec.container.image],
        )
        self.cluster.attach_capacity_providers([self.capacity.capacity_provider.name])
        self.logs = LogGroup(self, "logs", name=f"/ecs/{name}", retention_days=spec.container.log_retention_days)
        self._task()
        self._service()
        self._scaling()
        self._alarms()
        if spec.gateway is not None:
            jobs = self.jobs
            self.gateway = JobGateway(
                self, "gateway", name=name, spec=spec.gateway, region=self.region, queue_url=jobs.queue.url,
                table_name=jobs.table.name, bucket_name=jobs.bucket.name, bucket_arn=jobs.bucket.arn,
                prefix=spec.prefix, submitter_policy_arn=jobs.submitter_policy.arn, alarm_topic_arn=self.topic.arn,
            )  # fmt: skip
        stable_output(self, "cluster_name", value=self.cluster.cluster.name)
        stable_output(self, "service_name", value=self.service.service.name)
        record_hints(self, self.hints())

    def _task(self) -> None:
        spec = self.spec
        account = new(DataAwsCallerIdentity, self, "account")
        self.account_id = account.account_id
        self.roles = TaskRoles(
            self,
            "roles",
            name=spec.name,
            container=spec.container,
            log_group_arn=self.logs.arn,
            region=self.region,
            account_id=account.account_id,
            grants=spec.grants,
            extra_statements=self.jobs.worker_statements(spec.name, self.region, account.account_id),
            enable_exec=spec.enable_exec,
        )
        # A stopped worker (deployment, Spot interruption) gets ECS's longest stop timeout to finish its job, and
        # hands the job back just before ECS would kill it.
        stop_timeout = spec.container.stop_timeout_seconds or WORKER_STOP_TIMEOUT_SECONDS
        container = spec.container.model_copy(update={"stop_timeout_seconds": stop_timeout})
        grace = max(1, stop_timeout - STOP_GRACE_MARGIN_SECONDS)
        self.task = GpuTask(
            self,
            "task",
            family=spec.name,
            container=container,
            network_mode=spec.network_mode,
            execution_role_arn=self.roles.execution_role.arn,
            task_role_arn=self.roles.task_role.arn,
            log_group_name=self.logs.name,
            region=self.region,
            enable_exec=spec.enable_exec,
            extra_environment={**self.jobs.worker_environment(spec.prefix), STOP_GRACE_ENV: str(grace)},
            placement_constraint=spec.placement_constraint,
        )

    def _service(self) -> None:
        spec = self.spec
        self.task_security_group: SecurityGroup | None = None
        network = None
        if spec.network_mode == "awsvpc":
            self.task_security_group = https_out_security_group(
                self,
                "tasks",
                name=f"{spec.name}-tasks",
                vpc_id=self.network.vpc_id,
                description=f"Workers of {spec.name}: no ingress; HTTPS out to AWS APIs",
                egress_description="HTTPS to SQS, DynamoDB, S3, ECR and model registries",
            )
            network = {
                "subnets": self.network.private_subnet_ids,
                "security_groups": [self.task_security_group.id],
                "assign_public_ip": False,
            }
        assert self.cluster.capacity_providers is not None
        self.service = GpuService(
            self,
            "service",
            name=spec.name,
            cluster_arn=self.cluster.arn,
            task_definition_arn=self.task.task_definition.arn,
            capacity_provider=self.capacity.capacity_provider.name,
            desired_count=0,
            depends_on=[self.cluster.capacity_providers],
            network=network,
            enable_exec=spec.enable_exec,
        )

    def _scaling(self) -> None:
        spec, queue = self.spec, self.jobs.queue
        self.scaling = ServiceScaling(
            self,
            "scaling",
            cluster_name=spec.name,
            service_name=spec.name,
            min_tasks=0,
            max_tasks=spec.max_workers,
            depends_on=[self.service.service],
        )
        backlog = self.scaling.step_scaling(
            "backlog",
            name=f"{spec.name}-backlog",
            adjustment_type="ExactCapacity",
            steps=backlog_steps(spec.max_workers),
        )
        idle = self.scaling.step_scaling(
            "idle",
            name=f"{spec.name}-idle-stop",
            adjustment_type="ExactCapacity",
            steps=[{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}],
        )
        self.scaling_alarms = {
            "backlog": self._scaling_alarm(
                "backlog_alarm",
                name=f"{spec.name}-backlog",
                description="Jobs outstanding: one task per job, up to max_workers (starts from 0)",
                action=backlog.arn,
                comparison_operator="GreaterThanThreshold",
                evaluation_periods=1,
                treat_missing_data="notBreaching",
                queue_name=queue.name,
            ),
            "idle": self._scaling_alarm(
                "idle_alarm",
                name=f"{spec.name}-idle",
                description=f"No job waiting or running for {spec.idle_minutes} min: scale to 0 tasks",
                action=idle.arn,
                comparison_operator="LessThanOrEqualToThreshold",
                evaluation_periods=spec.idle_minutes,
                # SQS stops publishing for a queue inactive for hours: no data means idle.
                treat_missing_data="breaching",
                queue_name=queue.name,
            ),
        }

    def _scaling_alarm(
        self, id_: str, *, name: str, description: str, action: str, queue_name: str, **settings: Any
    ) -> CloudwatchMetricAlarm:
        return new(
            CloudwatchMetricAlarm,
            self,
            id_,
            alarm_name=name,
            alarm_description=description,
            alarm_actions=[action],
            threshold=0,
            datapoints_to_alarm=settings["evaluation_periods"],
            metric_query=outstanding_jobs_query(queue_name),
            **settings,
        )

    def set_scaling_query(self, alarm: str, query: list[dict[str, Any]], description: str) -> None:
        """Point a scaling alarm at another expression (a second consumer of the same queue counts its own jobs)."""
        target = self.scaling_alarms[alarm]
        target.alarm_description = description
        target.put_metric_query([new(CloudwatchMetricAlarmMetricQuery, **q) for q in query])

    def _alarms(self) -> None:
        spec = self.spec
        self.topic = AlarmTopic(
            self, "topic", name=spec.name, spec=spec.alarms, region=self.region, account_id=self.account_id
        )
        common: dict[str, Any] = {
            "topic": self.topic,
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": 1,
        }
        # The first consumer of a job stream alarms on it, the others do not: one alarm (one page) per queue.
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        if self.jobs.alarmed_by is None:
            self.jobs.alarmed_by = self
            self.alarms = self._queue_alarms(common)

    def _queue_alarms(self, common: dict[str, Any]) -> dict[str, CloudwatchMetricAlarm]:
        """One failed job pages once, through jobs_failed (every FAILED; dead-lettered ones once a sweep marks them).
        The DLQ keeps failed jobs' messages 14 days, so "DLQ not empty" would page with it on the first failure and
        stay in alarm: the DLQ alarm fires only when it outgrows what one sweep reads."""
        spec, queue, name = self.spec, self.jobs.queue, self.jobs.spec.name
        return {
            "jobs_failed": alarm(
                self,
                "jobs_failing",
                name=f"{name}-jobs-failed",
                description="Jobs ended FAILED in 5 min (handler error, job timeout, bad input, or dead-lettered "
                "and found by a worker's sweep); each job's row says why",
                namespace=JOBS_METRICS_NAMESPACE,
                metric_name="JobsFailed",
                dimensions={"Queue": queue.name},
                statistic="Sum",
                period=300,
                threshold=0,
                **common,
            ),
            "oldest_message_age": alarm(
                self,
                "oldest_message_age",
                name=f"{name}-oldest-job-age",
                description=f"A job has waited over {spec.oldest_message_age_alarm_seconds} s (no capacity or "
                "workers stuck)",
                namespace="AWS/SQS",
                metric_name="ApproximateAgeOfOldestMessage",
                dimensions={"QueueName": queue.name},
                statistic="Maximum",
                period=300,
                threshold=spec.oldest_message_age_alarm_seconds,
                **common,
            ),
            "dlq_over_sweep": alarm(
                self,
                "dlq_not_empty",
                name=f"{name}-dlq-over-{SWEEP_LIMIT}",
                description=f"The DLQ holds {SWEEP_LIMIT}+ failed jobs' messages (kept 14 days); a worker's sweep "
                f"reads {SWEEP_LIMIT}, so a job dead-lettered before its failure was recorded may stay unfinished. "
                "Inspect, then purge or redrive the DLQ",
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue.dlq_name},
                statistic="Maximum",
                period=300,
                threshold=SWEEP_LIMIT,
                **{**common, "comparison_operator": "GreaterThanOrEqualToThreshold"},
            ),
        }

    def hints(self) -> BlueprintHints:
        spec, per_host = self.spec, self.spec.tasks_per_host
        warm = spec.capacity.warm_pool
        spot = spec.capacity.spot
        return BlueprintHints(
            blueprint=type(self).__name__,
            gpu_capacity=(
                GpuCapacityHint(
                    asg_address=f"aws_autoscaling_group.{self.capacity.asg.friendly_unique_id}",
                    instance_types=spec.capacity.instance_types,
                    min_hosts=0,
                    typical_hosts=sizing.hosts_for_tasks(math.ceil((1 + spec.max_workers) / 2), per_host),
                    max_hosts=spec.max_hosts,
                    gpus_per_task=spec.container.gpu,
                    tasks_per_host=per_host,
                    on_demand_base=spot.on_demand_base if spot else 0,
                    spot_percent=100 - spot.on_demand_percent_above_base if spot else 0,
                    duty_cycle=spec.duty_cycle,
                    warm_pool_hosts=warm.stopped_hosts_at_rest if warm else 0,
                ),
            ),
            summary=(
                f"0-{spec.max_workers} workers, none while the queue is empty: workers stop {spec.idle_minutes} min "
                f"after the last job, their GPU hosts ~{spec.minutes_to_zero_hosts} min after it (ECS takes "
                f"~{CAPACITY_PROVIDER_SCALE_IN_MINUTES} min more to release a host)",
                f"cost assumes {spec.busy_hours_per_day:g} busy h/day ({spec.duty_cycle:.0%} of the time)",
                *network_summary(self, self.network),
            ),
            review_notes=(
                f"No GPU host runs while the queue is empty: a submitted job starts a worker (and a host for it); "
                f"{spec.idle_minutes} min after the last job the workers stop and their hosts follow, so idle time "
                "costs nothing and nobody has to start or stop a machine by hand.",
                *model_source_notes(spec.network, spec.container, self.region),
                *spec.container.plain_secret_notes,
                *spec.capacity.agent_config_notes,
            ),
        )
