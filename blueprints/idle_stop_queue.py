"""IdleStopGpuQueue: GPU workers that start when jobs arrive and stop when the queue has been idle.

Jobs go through `JobResources` (SQS queue + DLQ, DynamoDB job table, S3 bucket, submitter policy); an ECS
service of the consumer container runs 0 tasks at rest. Two alarms on visible + in-flight messages drive it:
backlog > 0 sets one task per outstanding job (up to max_workers), and 0 for `idle_minutes` sets 0 tasks.
The capacity provider then brings hosts up or takes them to zero.
"""

import math
from typing import Any

from blueprints.idle_stop_queue_spec import CAPACITY_PROVIDER_SCALE_IN_MINUTES, IdleStopGpuQueueSpec
from sdk import sizing
from sdk.constructs.engine import CloudwatchMetricAlarm, Construct
from sdk.constructs.foundation import GpuServiceBase, TaskSettings
from sdk.constructs.jobs import JobResources, field_error
from sdk.constructs.metrics import (
    Query,
    Widget,
    consumer_queries,
    job_metrics,
    outstanding_jobs_query,
    queue_metrics,
    sqs_metric,
)
from sdk.constructs.network import Network, network_summary
from sdk.constructs.observability import alarm
from sdk.constructs.structs import new
from sdk.hints import BlueprintHints
from sdk.job_specs import JobResourcesSpec
from sdk.jobs.config import STOP_GRACE_ENV, WorkerConfig
from sdk.jobs.dead_letters import SWEEP_LIMIT
from sdk.validation import model_source_notes

__all__ = [
    "CAPACITY_PROVIDER_SCALE_IN_MINUTES",
    "JOBS_METRICS_NAMESPACE",
    "IdleStopGpuQueue",
    "IdleStopGpuQueueSpec",
    "JobResources",
    "JobResourcesSpec",
    "backlog_steps",
]

# ECS's longest stopTimeout, and the seconds a released job needs to reach the queue and the table.
WORKER_STOP_TIMEOUT_SECONDS = 120
STOP_GRACE_MARGIN_SECONDS = 10

JOBS_METRICS_NAMESPACE: str = WorkerConfig.model_fields["metrics_namespace"].default
SCALING_ALARM_TEXTS = {
    "backlog": "Jobs outstanding: one task per job, up to max_workers (starts from 0)",
    "idle": "No job waiting or running for {} min: scale to 0 tasks",
}
CONSUMER_ALARM_TEXTS = {
    ("backlog", False): "Jobs waiting plus the primary's running tasks: one task per job, up to max_workers",
    ("idle", False): "No job waiting and none held by the primary (in flight minus the fallback's tasks) for {} min: "
    "0 tasks",
    ("backlog", True): "A job waited past start_after: the fallback's running tasks plus the waiting jobs",
    ("idle", True): "No job waiting past start_after and none held by the fallback (in flight minus the primary's "
    "tasks) for {} min: 0 tasks",
}


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


class IdleStopGpuQueue(GpuServiceBase[IdleStopGpuQueueSpec]):
    """Children (GpuServiceBase's plus): `.jobs`, `.scaling_alarms`, `.alarms`, `.gateway` (JobGateway or None)."""

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
        types = tuple(dict.fromkeys([*spec.capacity.instance_types, *zone_instance_types]))
        # A stopped worker (deployment, Spot interruption) gets ECS's longest stop timeout to finish its job, and
        # hands the job back just before ECS would kill it.
        stop_timeout = spec.container.stop_timeout_seconds or WORKER_STOP_TIMEOUT_SECONDS
        settings = TaskSettings(
            enable_exec=spec.enable_exec,
            security_group=f"Workers of {spec.name}: no ingress; HTTPS out to AWS APIs",
            egress="HTTPS to SQS, DynamoDB, S3, ECR and model registries",
            network_mode=spec.network_mode,
            placement_constraint=spec.placement_constraint,
            container=spec.container.model_copy(update={"stop_timeout_seconds": stop_timeout}),
        )
        super().__init__(scope, id_, spec=spec, network=network, instance_types=types, settings=settings)
        self.jobs = self._job_stream(jobs)
        self.jobs.grant_consume(self.roles, cluster_name=self.cluster.name, account_id=self.account_id)
        grace = max(1, stop_timeout - STOP_GRACE_MARGIN_SECONDS)
        environment = {**self.jobs.worker_environment(), STOP_GRACE_ENV: str(grace)}
        self._build_service(min_tasks=0, max_tasks=self.spec.max_workers, environment=environment)
        self._scaling()
        self._alarms()
        gateway, name = self.spec.gateway, self.spec.name
        self.gateway = gateway and self.jobs.add_gateway(
            self, "gateway", name=name, spec=gateway, region=self.region, alarm_topic_arn=self.topic.arn
        )
        self._finish(self._widgets())

    def _job_stream(self, given: JobResources | None) -> JobResources:
        """The given job stream (spec.jobs left as it is: the given one's settings win), or a created one."""
        if given is None:
            return JobResources(self, "jobs", spec=self.spec.jobs_spec)
        conflicting = self.spec.jobs.conflicts_with(given.spec)
        if conflicting:
            raise field_error(
                type(self.spec).__name__,
                "jobs",
                self.spec.jobs,
                f"{', '.join(conflicting)} differ from the JobResources passed as jobs=, whose settings the queue "
                "uses. Fix: set them on that JobResourcesSpec and leave spec.jobs at its default",
            )
        return given

    def _scaling(self) -> None:
        """Backlog sets the workers to what the jobs need; idle sets them to 0 after idle_minutes of no jobs.
        SQS stops publishing for a queue inactive for hours: there no data means idle."""
        spec, queries = self.spec, self._scaling_queries()
        idle_steps = [{"metric_interval_upper_bound": "0", "scaling_adjustment": 0}]
        rules = {
            "backlog": ("backlog", backlog_steps(spec.max_workers), "GreaterThanThreshold", 1, "notBreaching"),
            "idle": ("idle-stop", idle_steps, "LessThanOrEqualToThreshold", spec.idle_minutes, "breaching"),
        }
        self.scaling_alarms: dict[str, CloudwatchMetricAlarm] = {}
        for key, (policy_name, steps, comparison, periods, missing) in rules.items():
            policy = self.scaling.step_scaling(
                key, name=f"{spec.name}-{policy_name}", adjustment_type="ExactCapacity", steps=steps
            )
            self.scaling_alarms[key] = self._scaling_alarm(
                f"{key}_alarm",
                name=f"{spec.name}-{key}",
                query=queries[key],
                action=policy.arn,
                comparison_operator=comparison,
                evaluation_periods=periods,
                treat_missing_data=missing,
            )

    def _scaling_queries(self) -> dict[str, tuple[str, list[Query]]]:
        """(description, metric math) of the backlog and idle alarms: all outstanding jobs, or with a second consumer
        of the queue only this one's (docs/fractional_renderer.md)."""
        spec, queue = self.spec, self.jobs.queue.name
        if spec.shares_queue_with is None:
            outstanding = outstanding_jobs_query(queue)
            return {key: (text.format(spec.idle_minutes), outstanding) for key, text in SCALING_ALARM_TEXTS.items()}
        queries = consumer_queries(
            queue, own=self.service.name, other=spec.shares_queue_with, after_seconds=spec.start_after_minutes * 60
        )
        delayed = bool(spec.start_after_minutes)
        return {key: (CONSUMER_ALARM_TEXTS[key, delayed].format(spec.idle_minutes), q) for key, q in queries.items()}

    def _scaling_alarm(
        self, id_: str, *, name: str, query: tuple[str, list[Query]], action: str, **settings: Any
    ) -> CloudwatchMetricAlarm:
        return new(
            CloudwatchMetricAlarm,
            self,
            id_,
            alarm_name=name,
            alarm_description=query[0],
            alarm_actions=[action],
            threshold=0,
            datapoints_to_alarm=settings["evaluation_periods"],
            metric_query=query[1],
            **settings,
        )

    def _alarms(self) -> None:
        common: dict[str, Any] = {
            "topic": self.topic,
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": 1,
        }
        # The first consumer of a job stream alarms on it, the others do not: one alarm (one page) per queue.
        self.alarms: dict[str, CloudwatchMetricAlarm] = dict(self.gpu_alarms)
        if self.jobs.alarmed_by is None:
            self.jobs.alarmed_by = self
            self.alarms |= self._queue_alarms(common)

    def _queue_metrics(self) -> dict[str, Any]:
        """The job stream's metrics, as the alarms and the dashboard read them."""
        queue = self.jobs.queue
        return {
            **queue_metrics(queue.name),
            **job_metrics(JOBS_METRICS_NAMESPACE, queue.name),
            "dlq": sqs_metric(queue.dlq_name, "ApproximateNumberOfMessagesVisible"),
        }

    def _widgets(self) -> tuple[Widget, ...]:
        """The queue first (backlog, waiting time, outcomes, durations, dead letters); the base adds workers, hosts
        and GPUs."""
        m, spec = self._queue_metrics(), self.spec
        return (
            Widget("Jobs waiting (visible) and running (in flight)", (m["visible"], m["in_flight"]), "jobs"),
            Widget("Oldest job age", (m["age"],), "s", (("alarm", spec.oldest_message_age_alarm_seconds),)),
            Widget("Jobs started / succeeded / failed", (m["started"], m["succeeded"], m["failed"]), "jobs/min"),
            Widget("Job duration", (m["duration_p50"], m["duration_p95"], m["duration_Maximum"]), "s"),
            Widget("Dead-letter queue depth", (m["dlq"],), "messages", (("alarm", SWEEP_LIMIT),)),
        )

    def _queue_alarms(self, common: dict[str, Any]) -> dict[str, CloudwatchMetricAlarm]:
        """One failed job pages once, through jobs_failed (every FAILED; dead-lettered ones once a sweep marks them).
        The DLQ keeps failed jobs' messages 14 days, so "DLQ not empty" would page with it on the first failure and
        stay in alarm: the DLQ alarm fires only when it outgrows what one sweep reads."""
        spec, name, m = self.spec, self.jobs.spec.name, self._queue_metrics()
        return {
            "jobs_failed": alarm(
                self,
                "jobs_failing",
                name=f"{name}-jobs-failed",
                description="Jobs ended FAILED in 5 min (handler error, job timeout, bad input, or dead-lettered "
                "and found by a worker's sweep); each job's row says why",
                metric=m["failed"],
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
                metric=m["age"],
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
                metric=m["dlq"],
                period=300,
                threshold=SWEEP_LIMIT,
                **{**common, "comparison_operator": "GreaterThanOrEqualToThreshold"},
            ),
        }

    def hints(self) -> BlueprintHints:
        spec, per_host = self.spec, self.spec.tasks_per_host
        warm = spec.capacity.warm_pool
        return BlueprintHints(
            blueprint=type(self).__name__,
            gpu_capacity=(
                self.capacity_hint(
                    min_hosts=0,
                    typical_hosts=sizing.hosts_for_tasks(math.ceil((1 + spec.max_workers) / 2), per_host),
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
