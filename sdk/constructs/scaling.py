"""Application Auto Scaling for an ECS service: bounds, target tracking and step scaling policies, and the
metric math their alarms read."""

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.appautoscaling_policy import AppautoscalingPolicy
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from sdk.constructs.structs import new


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str = "Maximum"


def sqs_metric(queue_name: str, name: str) -> Metric:
    return Metric("AWS/SQS", name, {"QueueName": queue_name})


def running_tasks_metric(cluster_name: str, service_name: str) -> Metric:
    """Container Insights' RunningTaskCount of one service (the cluster has Container Insights on)."""
    return Metric(
        "ECS/ContainerInsights", "RunningTaskCount", {"ClusterName": cluster_name, "ServiceName": service_name}
    )


def metric_math(metrics: dict[str, Metric], expression: str, *, id_: str, label: str) -> list[dict[str, Any]]:
    """An alarm's metric_query: `expression` names metrics as `{id}` and reads each as FILL(id, 0); metrics it
    does not name are left out.

    A metric with no datapoint in a period (SQS publishes ApproximateNumberOfMessagesNotVisible only while a
    message is in flight) would leave the whole sum without a datapoint, so alarms would never see the backlog.
    """
    metrics = {key: m for key, m in metrics.items() if f"{{{key}}}" in expression}
    filled = {key: f"FILL({key}, 0)" for key in metrics}
    queries: list[dict[str, Any]] = [
        {
            "id": key,
            "return_data": False,
            "metric": {
                "namespace": m.namespace,
                "metric_name": m.name,
                "period": 60,
                "stat": m.stat,
                "dimensions": m.dimensions,
            },
        }
        for key, m in metrics.items()
    ]
    return [*queries, {"id": id_, "expression": expression.format(**filled), "label": label, "return_data": True}]


def customized_metric(metric: Metric) -> dict[str, Any]:
    """A target-tracking customized_metric_specification reading `metric` (e.g. the GPU group's average utilisation,
    sdk.constructs.gpu_metrics.utilisation_metric)."""
    return {
        "namespace": metric.namespace,
        "metric_name": metric.name,
        "statistic": metric.stat,
        "dimensions": [{"name": key, "value": value} for key, value in metric.dimensions.items()],
    }


class ServiceScaling(Construct):
    """`.target` plus the policies added with `target_tracking` / `step_scaling` (`.policies`)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_name: str,
        service_name: str,
        min_tasks: int,
        max_tasks: int,
        depends_on: list[Any],
    ) -> None:
        super().__init__(scope, id_)
        self.resource_id = f"service/{cluster_name}/{service_name}"
        self.target = new(
            AppautoscalingTarget,
            self,
            "target",
            service_namespace="ecs",
            resource_id=self.resource_id,
            scalable_dimension="ecs:service:DesiredCount",
            min_capacity=min_tasks,
            max_capacity=max_tasks,
            depends_on=depends_on,
        )
        self.policies: dict[str, AppautoscalingPolicy] = {}

    def _policy(self, key: str, **config: Any) -> AppautoscalingPolicy:
        policy = new(
            AppautoscalingPolicy,
            self,
            key,
            service_namespace="ecs",
            resource_id=self.resource_id,
            scalable_dimension="ecs:service:DesiredCount",
            depends_on=[self.target],
            **config,
        )
        self.policies[key] = policy
        return policy

    def target_tracking(
        self,
        key: str,
        *,
        name: str,
        metric: str | Metric,
        target: float,
        resource_label: str | None = None,
        scale_in_cooldown: int = 300,
        scale_out_cooldown: int = 60,
    ) -> AppautoscalingPolicy:
        """`metric`: a predefined metric type, or a Metric of ours (a customized metric). With several policies the
        service scales out when any asks and in only when all agree (Application Auto Scaling user guide,
        target-tracking-scaling-policy-overview, "Multiple scaling policies")."""
        if isinstance(metric, Metric):
            tracked: dict[str, Any] = {"customized_metric_specification": customized_metric(metric)}
        else:
            predefined: dict[str, Any] = {"predefined_metric_type": metric}
            if resource_label:
                predefined["resource_label"] = resource_label
            tracked = {"predefined_metric_specification": predefined}
        return self._policy(
            key,
            name=name,
            policy_type="TargetTrackingScaling",
            target_tracking_scaling_policy_configuration={
                "target_value": target,
                **tracked,
                "scale_in_cooldown": scale_in_cooldown,
                "scale_out_cooldown": scale_out_cooldown,
            },
        )

    def step_scaling(
        self,
        key: str,
        *,
        name: str,
        adjustment_type: str,
        steps: list[dict[str, Any]],
        cooldown: int = 60,
        aggregation: str = "Maximum",
    ) -> AppautoscalingPolicy:
        """`steps`: dicts with scaling_adjustment and metric_interval_lower_bound/upper_bound (alarm-relative)."""
        return self._policy(
            key,
            name=name,
            policy_type="StepScaling",
            step_scaling_policy_configuration={
                "adjustment_type": adjustment_type,
                "cooldown": cooldown,
                "metric_aggregation_type": aggregation,
                "step_adjustment": steps,
            },
        )
