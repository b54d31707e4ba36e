"""AlbInferenceService: a GPU inference service on ECS-on-EC2 behind an HTTPS ALB."""

import math
from typing import Literal

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct
from pydantic import Field, field_validator, model_validator

from sdk import sizing
from sdk.constructs.cluster import Cluster
from sdk.constructs.gpu_capacity import GpuCapacity
from sdk.constructs.gpu_metrics import gpu_alarms, host_endpoints
from sdk.constructs.iam import TaskRoles
from sdk.constructs.load_balancer import AlbSpec, LoadBalancer
from sdk.constructs.network import Network, https_out_security_group, network_summary, share_network
from sdk.constructs.observability import AlarmTopic, LogGroup, alarm
from sdk.constructs.outputs import stable_output
from sdk.constructs.review_hints import record_hints
from sdk.constructs.scaling import ServiceScaling
from sdk.constructs.service import GpuService
from sdk.constructs.stack import claim_name, in_stack_region
from sdk.constructs.structs import new
from sdk.constructs.task import CONTAINER_NAME, GpuTask, definition_size_problems
from sdk.grants import Grant
from sdk.hints import BlueprintHints, GpuCapacityHint
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
    min_tasks_per_host,
    model_cache_problems,
    model_source_notes,
    model_source_problems,
    region_environment_problems,
    region_problem,
    task_fit_problems,
)

MODEL_LOAD_GRACE_SECONDS = 180


class InferenceScalingSpec(Spec):
    min_tasks: int = Field(
        default=1, description="Fewest tasks, at least 1 (nothing scales an ALB service out of 0). Default 1."
    )
    max_tasks: int = Field(default=4, ge=1, description="Most tasks. Default 4.")
    rps_per_task: float | None = Field(
        default=None,
        gt=0,
        description="Requests/s one task serves within the latency budget (from a load test). "
        "Default None: no request-count scaling, CPU only.",
    )
    target_utilization_percent: int = Field(
        default=sizing.TARGET_UTILIZATION_PERCENT,
        ge=10,
        le=100,
        description="Share of rps_per_task to scale at. Default 70.",
    )
    cpu_target_percent: int = Field(default=70, ge=10, le=95, description="CPU target tracking. Default 70.")
    p95_latency_budget_ms: int = Field(default=1000, ge=10, description="p95 alarm bound. Default 1000 ms.")
    error_rate_alarm_percent: float = Field(default=5.0, gt=0, le=100, description="5xx alarm bound. Default 5%.")
    health_check_grace_seconds: int | None = Field(
        default=None,
        ge=0,
        le=2147483647,
        description="Seconds before ALB and container health checks count. Default None: 180 s to load the model, "
        "plus its download time (container.model_source.size_gib at the source's assumed rate).",
    )
    enable_exec: bool = Field(default=True, description="ECS Exec (audited in CloudTrail). Default True.")

    @field_validator("min_tasks")
    @classmethod
    def _min_tasks(cls, value: int) -> int:
        # Target tracking does not scale on insufficient data (ECS developer guide, "Use a target metric to scale
        # Amazon ECS services"): with no task there is no CPU and no per-target request count, so 0 stays 0.
        if value < 1:
            raise ValueError(
                "0 tasks never scale out again: CPU and ALBRequestCountPerTarget target tracking have no data "
                "without a running task, so every request gets a 503. Fix: min_tasks >= 1 (a queue that scales "
                "from 0 is IdleStopGpuQueue)"
            )
        return value

    @property
    def requests_per_target_per_minute(self) -> float | None:
        """The source sizing math: rps per task x 60 s, scaled to the target utilisation."""
        if self.rps_per_task is None:
            return None
        return sizing.requests_per_target_per_minute(self.rps_per_task, self.target_utilization_percent)


class AlbInferenceSpec(Spec):
    name: str = Field(
        description="Service name (ALB, cluster, roles derive from it; <= 27 chars: the ALB log bucket prefix "
        "'<name>-alb-logs-' must fit S3's 37). Required.",
    )
    _name = field_validator("name")(resource_name(27))
    region: Region | None = Field(
        default=None,
        description="AWS region. Default None: the stack's (GpuStack(region=...)), the one source of truth; a "
        "different value is refused.",
    )
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="Default: a new 2-AZ VPC, one NAT.")
    capacity: CapacitySpec = Field(description="GPU instance types and Spot. Required.")
    container: ContainerSpec = Field(description="The inference container (needs a port). Required.")
    scaling: InferenceScalingSpec = Field(default_factory=InferenceScalingSpec, description="Default 1-4 tasks.")
    alb: AlbSpec = Field(description="HTTPS ALB. Required (certificate, allowed CIDRs).")
    grants: tuple[Grant, ...] = Field(default=(), description="Task role permissions. Default none.")
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec, description="Default: alarms without notification.")

    @model_validator(mode="after")
    def _cross_field(self) -> "AlbInferenceSpec":
        problems = [
            *self._alb_problems(),
            *self._scaling_problems(),
            *task_fit_problems(self.capacity.instance_types, self.container, types_field="capacity.instance_types"),
            *region_environment_problems(self.container.environment, self.region, "container.environment"),
            *model_source_problems(self.network, self.container),
            *definition_size_problems(
                self.container,
                field="container.environment",
                name=self.name,
                region=self.region,
                network_mode="awsvpc",
                enable_exec=self.scaling.enable_exec,
            ),
        ]
        if self.container.port is None:
            problems.append("container.port: the ALB forwards to a container port. Fix: set port (e.g. 8080).")
        if self.container.port in (80, 443) and self.container.user not in (None, "0", "root"):
            problems.append("container.port: ports below 1024 need root in the container. Fix: listen on 8080.")
        problems_to_error(problems)
        if not problems and self.capacity.max_hosts is not None:
            problems_to_error(self._host_bound_problems())
        if not problems:
            problems_to_error(model_cache_problems(self.capacity, self.container, self.tasks_per_host))
        if not problems and self.capacity.min_hosts > self.max_hosts:
            problems_to_error(
                [
                    f"capacity.min_hosts: {self.capacity.min_hosts} is more than the {self.max_hosts} hosts that "
                    f"{self.scaling.max_tasks} tasks need. Fix: min_hosts <= {self.max_hosts}, or raise max_tasks."
                ]
            )
        return self

    def _alb_problems(self) -> list[str]:
        problems = []
        if (p := region_problem(self.alb.certificate_arn, self.region, "alb.certificate_arn")) is not None:
            problems.append(p)
        if not self.alb.health_check_path.startswith("/"):
            problems.append(
                f"alb.health_check_path: {self.alb.health_check_path!r} is not a path. "
                f"Fix: start it with '/', e.g. '/{self.alb.health_check_path}'."
            )
        tier: Literal["public", "private"] = "private" if self.alb.internal else "public"
        if self.network.subnet_count(tier) < 2:
            field = "network.az_count" if self.network.creates_vpc else f"network.{tier}_subnet_ids"
            problems.append(f"{field}: an ALB needs subnets in at least 2 AZs ({tier}). Fix: give 2 or more.")
        return problems

    def _scaling_problems(self) -> list[str]:
        if self.scaling.min_tasks > self.scaling.max_tasks:
            return [
                f"scaling.min_tasks: {self.scaling.min_tasks} is more than max_tasks "
                f"{self.scaling.max_tasks}. Fix: min_tasks <= max_tasks."
            ]
        return []

    def _host_bound_problems(self) -> list[str]:
        needed = sizing.hosts_for_tasks(self.scaling.max_tasks, self.tasks_per_host)
        assert self.capacity.max_hosts is not None
        if self.capacity.max_hosts < needed:
            return [
                f"capacity.max_hosts: {self.capacity.max_hosts} hosts hold "
                f"{self.capacity.max_hosts * self.tasks_per_host} "
                f"tasks but scaling.max_tasks is {self.scaling.max_tasks}. Fix: max_hosts >= {needed}, or leave "
                "it unset to derive it."
            ]
        return []

    @property
    def tasks_per_host(self) -> int:
        return min_tasks_per_host(self.capacity.instance_types, self.container)

    @property
    def health_check_grace_seconds(self) -> int:
        """The scaling spec's grace when set, else the model's load time plus its estimated download time."""
        if self.scaling.health_check_grace_seconds is not None:
            return self.scaling.health_check_grace_seconds
        return MODEL_LOAD_GRACE_SECONDS + self.container.model_download_seconds

    @property
    def max_hosts(self) -> int:
        """Enough hosts for max tasks during a 200% rolling deployment, unless the spec caps it."""
        if self.capacity.max_hosts is not None:
            return self.capacity.max_hosts
        return sizing.deployment_hosts(self.scaling.max_tasks, self.tasks_per_host)


class AlbInferenceService(Construct):
    """Children: `.network`, `.cluster`, `.capacity`, `.logs`, `.roles`, `.task_security_group`, `.load_balancer`,
    `.task`, `.service`, `.scaling`, `.topic`, `.alarms`."""

    def __init__(self, scope: Construct, id_: str, *, spec: AlbInferenceSpec, network: Network | None = None) -> None:
        """`network`: another blueprint's `.network` in this stack to run in (no VPC or NAT of its own); the spec
        then leaves `network` at its default."""
        super().__init__(scope, id_)
        spec, self.region = in_stack_region(self, spec)
        claim_name(self, spec.name)
        types = spec.capacity.instance_types
        if network is not None:
            spec = share_network(self, spec, network, types)
        self.spec = spec
        name = spec.name
        self.network = network or Network(
            self,
            "network",
            name=name,
            spec=spec.network,
            instance_types=types,
            host_endpoints=host_endpoints(spec.capacity.gpu_metrics),
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
        account = new(DataAwsCallerIdentity, self, "account")
        self.account_id = account.account_id
        self.roles = TaskRoles(
            self,
            "roles",
            name=name,
            container=spec.container,
            log_group_arn=self.logs.arn,
            region=self.region,
            account_id=account.account_id,
            grants=spec.grants,
            enable_exec=spec.scaling.enable_exec,
        )
        self._load_balancer()
        self.task = GpuTask(
            self,
            "task",
            family=name,
            container=spec.container,
            network_mode="awsvpc",
            execution_role_arn=self.roles.execution_role.arn,
            task_role_arn=self.roles.task_role.arn,
            log_group_name=self.logs.name,
            region=self.region,
            enable_exec=spec.scaling.enable_exec,
        )
        self.service = GpuService(
            self,
            "service",
            name=name,
            cluster_arn=self.cluster.arn,
            task_definition_arn=self.task.task_definition.arn,
            capacity_provider=self.capacity.capacity_provider.name,
            desired_count=spec.scaling.min_tasks,
            depends_on=[self.cluster.capacity_providers, self.load_balancer.https_listener],  # type: ignore[list-item]
            network={
                "subnets": self.network.private_subnet_ids,
                "security_groups": [self.task_security_group.id],
                "assign_public_ip": False,
            },
            load_balancer={
                "target_group_arn": self.load_balancer.target_group.arn,
                "container_name": CONTAINER_NAME,
                "container_port": spec.container.port,
            },
            health_check_grace_seconds=spec.health_check_grace_seconds,
            enable_exec=spec.scaling.enable_exec,
        )
        self._scaling()
        self._alarms()
        self._outputs()
        record_hints(self, self.hints())

    def _load_balancer(self) -> None:
        spec, port = self.spec, self.spec.container.port
        assert port is not None
        self.task_security_group = https_out_security_group(
            self,
            "tasks",
            name=f"{spec.name}-tasks",
            vpc_id=self.network.vpc_id,
            description=f"Tasks of {spec.name}: in from the ALB only",
            egress_description="HTTPS to AWS APIs and model registries",
        )
        subnets = self.network.private_subnet_ids if spec.alb.internal else self.network.public_subnet_ids
        self.load_balancer = LoadBalancer(
            self,
            "alb",
            name=spec.name,
            spec=spec.alb,
            vpc_id=self.network.vpc_id,
            subnet_ids=subnets,
            target_port=port,
            target_security_group_id=self.task_security_group.id,
            region=self.region,
        )
        new(
            VpcSecurityGroupIngressRule,
            self,
            "tasks_from_alb",
            security_group_id=self.task_security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=self.load_balancer.security_group.id,
            description="container port from the ALB",
        )

    def _scaling(self) -> None:
        spec = self.spec.scaling
        self.scaling = ServiceScaling(
            self,
            "scaling",
            cluster_name=self.spec.name,
            service_name=self.spec.name,
            min_tasks=spec.min_tasks,
            max_tasks=spec.max_tasks,
            depends_on=[self.service.service],
        )
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

    def _alarms(self) -> None:
        spec, name, lb = self.spec.scaling, self.spec.name, self.load_balancer
        self.topic = AlarmTopic(
            self, "topic", name=name, spec=self.spec.alarms, region=self.region, account_id=self.account_id
        )
        dims = {"LoadBalancer": lb.alb.arn_suffix, "TargetGroup": lb.target_group.arn_suffix}
        self.alarms = {
            "running_below_desired": alarm(
                self,
                "running_below_desired",
                name=f"{name}-running-below-desired",
                topic=self.topic,
                description="Fewer tasks run than desired for 10 minutes (capacity or crash loop)",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                evaluation_periods=10,
                metric_query=[
                    _ci_metric("desired", "DesiredTaskCount", name),
                    _ci_metric("running", "RunningTaskCount", name),
                    {"id": "gap", "expression": "desired - running", "label": "missing tasks", "return_data": True},
                ],
            ),
            "target_5xx_rate": alarm(
                self,
                "target_5xx_rate",
                name=f"{name}-5xx-rate",
                topic=self.topic,
                description=f"Target 5xx above {spec.error_rate_alarm_percent}% of requests",
                comparison_operator="GreaterThanThreshold",
                threshold=spec.error_rate_alarm_percent,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                metric_query=[
                    _alb_metric("errors", "HTTPCode_Target_5XX_Count", dims),
                    _alb_metric("requests", "RequestCount", dims),
                    {
                        "id": "rate",
                        "expression": "IF(requests > 0, 100 * errors / requests, 0)",
                        "label": "5xx percent",
                        "return_data": True,
                    },
                ],
            ),
            "p95_latency": alarm(
                self,
                "p95_latency",
                name=f"{name}-p95-latency",
                topic=self.topic,
                description=f"Target p95 latency over {spec.p95_latency_budget_ms} ms",
                namespace="AWS/ApplicationELB",
                metric_name="TargetResponseTime",
                dimensions=dims,
                extended_statistic="p95",
                period=60,
                evaluation_periods=5,
                datapoints_to_alarm=3,
                threshold=spec.p95_latency_budget_ms / 1000,
                comparison_operator="GreaterThanThreshold",
            ),
            "unhealthy_hosts": alarm(
                self,
                "unhealthy_hosts",
                name=f"{name}-unhealthy-targets",
                topic=self.topic,
                description="Targets failing the ALB health check",
                namespace="AWS/ApplicationELB",
                metric_name="UnHealthyHostCount",
                dimensions=dims,
                statistic="Maximum",
                period=60,
                evaluation_periods=3,
                threshold=0,
                comparison_operator="GreaterThanThreshold",
            ),
            **gpu_alarms(self, self.capacity, name=name, topic=self.topic),
        }

    def _outputs(self) -> None:
        stable_output(
            self,
            "alb_dns_name",
            value=self.load_balancer.alb.dns_name,
            description=f"DNS name of the {self.spec.name} ALB (point your CNAME/alias here)",
        )
        stable_output(self, "service_name", value=self.service.service.name)
        stable_output(self, "cluster_name", value=self.cluster.cluster.name)

    def hints(self) -> BlueprintHints:
        spec = self.spec
        per_host = spec.tasks_per_host
        typical_tasks = (spec.scaling.min_tasks + spec.scaling.max_tasks) / 2
        return BlueprintHints(
            blueprint=type(self).__name__,
            gpu_capacity=(
                GpuCapacityHint(
                    asg_address=f"aws_autoscaling_group.{self.capacity.asg.friendly_unique_id}",
                    instance_types=spec.capacity.instance_types,
                    # The hosts that run at the minimum: the ASG's, or what min_tasks keep running if more.
                    min_hosts=max(spec.capacity.min_hosts, sizing.hosts_for_tasks(spec.scaling.min_tasks, per_host)),
                    typical_hosts=max(spec.capacity.min_hosts, math.ceil(typical_tasks / per_host)),
                    max_hosts=spec.max_hosts,
                    gpus_per_task=spec.container.gpu,
                    tasks_per_host=per_host,
                    on_demand_base=spec.capacity.spot.on_demand_base if spec.capacity.spot else 0,
                    spot_percent=100 - spec.capacity.spot.on_demand_percent_above_base if spec.capacity.spot else 0,
                ),
            ),
            summary=(
                f"{spec.scaling.min_tasks}-{spec.scaling.max_tasks} tasks, {per_host} per GPU host; up to "
                f"{spec.max_hosts} hosts (a deployment starts the new tasks before it stops the old)",
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


def _ci_metric(id_: str, metric: str, service: str) -> dict[str, object]:
    return {
        "id": id_,
        "return_data": False,
        "metric": {
            "namespace": "ECS/ContainerInsights",
            "metric_name": metric,
            "period": 60,
            "stat": "Average",
            "dimensions": {"ClusterName": service, "ServiceName": service},
        },
    }


def _alb_metric(id_: str, metric: str, dims: dict[str, str]) -> dict[str, object]:
    return {
        "id": id_,
        "return_data": False,
        "metric": {
            "namespace": "AWS/ApplicationELB",
            "metric_name": metric,
            "period": 60,
            "stat": "Sum",
            "dimensions": dims,
        },
    }
