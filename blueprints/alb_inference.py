"""AlbInferenceService: a GPU inference service on ECS-on-EC2 behind an HTTPS ALB."""

import math
from typing import Any

from blueprints.alb_inference_spec import (
    MODEL_LOAD_GRACE_SECONDS,
    AlbInferenceSpec,
    InferenceScalingSpec,
)
from sdk import sizing
from sdk.constructs.engine import Construct, VpcSecurityGroupIngressRule
from sdk.constructs.foundation import GpuServiceBase, TaskSettings
from sdk.constructs.gpu_metrics import utilisation_metric
from sdk.constructs.iam import ecs_load_balancer_role
from sdk.constructs.load_balancer import LoadBalancer
from sdk.constructs.metrics import Widget, alb_metrics, error_rate_query, missing_tasks_query
from sdk.constructs.network import Network, network_summary
from sdk.constructs.observability import alarm
from sdk.constructs.outputs import stable_output
from sdk.constructs.service import deployment_configuration
from sdk.constructs.structs import new
from sdk.container_definition import CONTAINER_NAME
from sdk.hints import BlueprintHints
from sdk.validation import (
    model_source_notes,
)

# The service's own alarms that fail a deployment and roll it back.
ROLLBACK_ALARMS = ("target_5xx_rate", "p95_latency", "unhealthy_hosts")

__all__ = ["MODEL_LOAD_GRACE_SECONDS", "AlbInferenceService", "AlbInferenceSpec", "InferenceScalingSpec"]


class AlbInferenceService(GpuServiceBase[AlbInferenceSpec]):
    """Children (GpuServiceBase's plus): `.load_balancer`, `.alarms`. Tasks take requests from the ALB only."""

    def __init__(self, scope: Construct, id_: str, *, spec: AlbInferenceSpec, network: Network | None = None) -> None:
        """`network`: another blueprint's `.network` in this stack to run in (no VPC or NAT of its own); the spec
        then leaves `network` at its default."""
        settings = TaskSettings(
            enable_exec=spec.scaling.enable_exec,
            security_group=f"Tasks of {spec.name}: in from the ALB only",
            egress="HTTPS to AWS APIs and model registries",
        )
        super().__init__(
            scope, id_, spec=spec, network=network, instance_types=spec.capacity.instance_types, settings=settings
        )
        self._load_balancer()
        self._build_service(
            min_tasks=self.spec.scaling.min_tasks,
            max_tasks=self.spec.scaling.max_tasks,
            depends_on=(self.load_balancer.https_listener,),
            load_balancer={
                "target_group_arn": self.load_balancer.target_group.arn,
                "container_name": CONTAINER_NAME,
                "container_port": self.spec.container.port,
                **self._advanced_configuration(),
            },
            health_check_grace_seconds=self.spec.health_check_grace_seconds,
            deployment_configuration=self._deployment_configuration(),
        )
        self._scaling()
        self._alarms()
        if self.spec.deployment.alarm_rollback:
            self.service.roll_back_on([self.alarms[key].alarm_name for key in ROLLBACK_ALARMS])
        stable_output(
            self,
            "alb_dns_name",
            value=self.load_balancer.alb.dns_name,
            description=f"DNS name of the {self.spec.name} ALB (point your CNAME/alias here)",
        )
        self._finish(self._widgets(), gpu_target=self.spec.scaling.gpu_utilisation_target)

    def _load_balancer(self) -> None:
        spec, port, tasks = self.spec, self.spec.container.port, self.task_security_group
        assert port is not None and tasks is not None
        subnets = self.network.private_subnet_ids if spec.alb.internal else self.network.public_subnet_ids
        self.load_balancer = LoadBalancer(
            self,
            "alb",
            name=spec.name,
            spec=spec.alb,
            vpc_id=self.network.vpc_id,
            subnet_ids=subnets,
            target_port=port,
            target_security_group_id=tasks.id,
            region=self.region,
        )
        new(
            VpcSecurityGroupIngressRule,
            self,
            "tasks_from_alb",
            security_group_id=tasks.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=self.load_balancer.security_group.id,
            description="container port from the ALB",
        )

    def _advanced_configuration(self) -> dict[str, Any]:
        """Blue/green, canary, linear: the second target group, the listener rules ECS reweights and the role it
        does so with (provider 6.25.0 `load_balancer.advanced_configuration`; hashicorp/terraform-provider-aws
        internal/service/ecs/service.go: alternate_target_group_arn, production_listener_rule and role_arn required,
        test_listener_rule optional)."""
        deployment = self.spec.deployment
        if not deployment.shifts_traffic:
            return {}
        shift = self.load_balancer.traffic_shift(
            test_port=deployment.test_listener_port, test_cidrs=deployment.test_listener_cidrs
        )
        role = ecs_load_balancer_role(
            self, "deployment_role", name=self.spec.name, region=self.region, account_id=self.account_id
        )
        advanced = {
            "alternate_target_group_arn": shift.alternate_target_group_arn,
            "production_listener_rule": shift.production_listener_rule,
            "role_arn": role.arn,
        }
        if shift.test_listener_rule is not None:
            advanced["test_listener_rule"] = shift.test_listener_rule
        return {"advanced_configuration": advanced}

    def _deployment_configuration(self) -> dict[str, Any] | None:
        deployment = self.spec.deployment
        if not deployment.shifts_traffic:
            return None
        return deployment_configuration(
            deployment.strategy.upper(),
            bake_minutes=deployment.bake,
            canary=deployment.canary if deployment.strategy == "canary" else None,
            linear=deployment.linear if deployment.strategy == "linear" else None,
        )

    def _scaling(self) -> None:
        spec = self.spec.scaling
        if (per_target := spec.requests_per_target_per_minute) is not None:
            lb = self.load_balancer
            self.scaling.target_tracking(
                "requests",
                name=f"{self.spec.name}-requests-per-target",
                metric="ALBRequestCountPerTarget",
                target=per_target,
                resource_label=f"{lb.alb.arn_suffix}/{lb.target_group.arn_suffix}",
            )
        self.scaling.target_tracking(
            "cpu",
            name=f"{self.spec.name}-cpu",
            metric="ECSServiceAverageCPUUtilization",
            target=spec.cpu_target_percent,
        )
        if (gpu_target := spec.gpu_utilisation_target) is not None:
            self.scaling.target_tracking(
                "gpu",
                name=f"{self.spec.name}-gpu-utilisation",
                metric=utilisation_metric(self.capacity.gpu_metrics, self.capacity.asg_name),
                target=gpu_target,
            )

    @property
    def _alb_dimensions(self) -> dict[str, str]:
        lb = self.load_balancer
        return {"LoadBalancer": lb.alb.arn_suffix, "TargetGroup": lb.target_group.arn_suffix}

    def _widgets(self) -> tuple[Widget, ...]:
        """What the on-call person reads first: traffic, latency against its budget, errors, healthy targets."""
        spec, dims = self.spec.scaling, self._alb_dimensions
        alb = alb_metrics(dims)
        budget = spec.p95_latency_budget_ms / 1000
        return (
            Widget("Requests", (alb["requests"],), "requests/min"),
            Widget("Target latency p50/p95/p99", (alb["p50"], alb["p95"], alb["p99"]), "s", (("p95 budget", budget),)),
            Widget("4xx / 5xx responses", (alb["target_4xx"], alb["target_5xx"], alb["elb_5xx"]), "responses/min"),
            Widget("Target 5xx rate", (error_rate_query(dims),), "%", (("alarm", spec.error_rate_alarm_percent),)),
            Widget("Targets: healthy vs unhealthy", (alb["healthy"], alb["unhealthy"]), "targets"),
        )

    def _alarms(self) -> None:
        spec, dims = self.spec.scaling, self._alb_dimensions
        alb = alb_metrics(dims)
        # key (construct id): (name suffix, description, settings); each alarms above its threshold
        rules: dict[str, tuple[str, str, dict[str, Any]]] = {
            "running_below_desired": (
                "running-below-desired",
                "Fewer tasks run than desired for 10 minutes (capacity or crash loop)",
                {
                    "threshold": 0,
                    "evaluation_periods": 10,
                    "metric_query": missing_tasks_query(self.cluster.name, self.service.name),
                },
            ),
            "target_5xx_rate": (
                "5xx-rate",
                f"Target 5xx above {spec.error_rate_alarm_percent}% of requests",
                {
                    "threshold": spec.error_rate_alarm_percent,
                    "evaluation_periods": 3,
                    "datapoints_to_alarm": 3,
                    "metric_query": error_rate_query(dims),
                },
            ),
            "p95_latency": (
                "p95-latency",
                f"Target p95 latency over {spec.p95_latency_budget_ms} ms",
                {
                    "metric": alb["p95"],
                    "evaluation_periods": 5,
                    "datapoints_to_alarm": 3,
                    "threshold": spec.p95_latency_budget_ms / 1000,
                },
            ),
            "unhealthy_hosts": (
                "unhealthy-targets",
                "Targets failing the ALB health check",
                {"metric": alb["unhealthy"], "evaluation_periods": 3},
            ),
        }
        self.alarms = {
            key: alarm(
                self,
                key,
                name=f"{self.spec.name}-{suffix}",
                topic=self.topic,
                description=description,
                comparison_operator="GreaterThanThreshold",
                **{"threshold": 0, **settings},
            )
            for key, (suffix, description, settings) in rules.items()
        } | self.gpu_alarms

    def hints(self) -> BlueprintHints:
        spec = self.spec
        per_host = spec.tasks_per_host
        typical_tasks = (spec.scaling.min_tasks + spec.scaling.max_tasks) / 2
        return BlueprintHints(
            blueprint=type(self).__name__,
            gpu_capacity=(
                self.capacity_hint(
                    # The hosts that run at the minimum: the ASG's, or what min_tasks keep running if more.
                    min_hosts=max(spec.capacity.min_hosts, sizing.hosts_for_tasks(spec.scaling.min_tasks, per_host)),
                    typical_hosts=max(spec.capacity.min_hosts, math.ceil(typical_tasks / per_host)),
                ),
            ),
            summary=(
                f"{spec.scaling.min_tasks}-{spec.scaling.max_tasks} tasks, {per_host} per GPU host; up to "
                f"{spec.max_hosts} hosts ({self._deployment_summary()})",
                *network_summary(self, self.network),
                *self._grace_summary(),
            ),
            review_notes=(
                *model_source_notes(spec.network, spec.container, self.region),
                *self._grace_notes(),
                *spec.container.plain_secret_notes,
                *spec.capacity.agent_config_notes,
            ),
        )

    def _deployment_summary(self) -> str:
        deployment = self.spec.deployment
        if not deployment.shifts_traffic:
            return "a deployment starts the new tasks before it stops the old"
        return (
            f"a {deployment.strategy.replace('_', '/')} deployment runs a full green fleet beside blue, "
            f"{deployment.peak_percent}% of the tasks, for ~{deployment.both_fleets_minutes} min after traffic "
            "starts moving"
        )

    def _grace_notes(self) -> tuple[str, ...]:
        grace, download = self.spec.health_check_grace_seconds, self.spec.container.model_download_seconds
        if grace >= download:
            return ()
        return (
            f"scaling.health_check_grace_seconds {grace} s is shorter than the model's estimated download "
            f"({download} s): tasks may be replaced before they load it.",
        )

    def _grace_summary(self) -> tuple[str, ...]:
        source, grace = self.spec.container.model_source, self.spec.health_check_grace_seconds
        if source is None or source.size_gib is None:
            return ()
        return (
            f"health-check grace {grace} s; model download ~{self.spec.container.model_download_seconds} s "
            f"({source.size_gib:g} GiB from {source.kind} at {source.download_mib_per_second} MiB/s)",
        )
