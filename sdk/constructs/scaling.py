"""Application Auto Scaling for an ECS service: bounds, target tracking and step scaling policies (the metric math
their alarms read is in sdk.constructs.metrics)."""

from typing import Any

from sdk.constructs.engine import AppautoscalingPolicy, AppautoscalingTarget, Construct
from sdk.constructs.metrics import Metric, customized_metric
from sdk.constructs.structs import new


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
