"""GpuServiceBase: the wiring every GPU service blueprint shares, built once (the shape of AWS CDK's aws-ecs-patterns,
where QueueProcessingServiceBase / ApplicationLoadBalancedServiceBase carry it and each variant adds what differs).

network -> cluster -> GPU capacity -> capacity-provider attachment -> logs -> roles -> task -> service -> scaling ->
alarm topic -> outputs and review hints. Children are passed on as references (`self.cluster.name`,
`self.capacity.provider_name`), never re-derived from the spec's name.
"""

from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

from sdk.constructs.cluster import Cluster
from sdk.constructs.dashboard import Dashboard
from sdk.constructs.engine import Construct, DataAwsCallerIdentity, ITerraformDependable, SecurityGroup
from sdk.constructs.gpu_capacity import GpuCapacity
from sdk.constructs.gpu_metrics import (
    MEMORY_ALARM_PERCENT,
    gpu_alarms,
    host_endpoints,
    memory_used_percent,
    utilisation_metric,
)
from sdk.constructs.iam import TaskRoles
from sdk.constructs.metrics import Widget, host_metrics, tasks_metrics
from sdk.constructs.network import Network, https_out_security_group, share_network
from sdk.constructs.observability import AlarmTopic, LogGroup
from sdk.constructs.outputs import stable_output
from sdk.constructs.review_hints import record_hints
from sdk.constructs.scaling import ServiceScaling
from sdk.constructs.service import GpuService
from sdk.constructs.stack import claim_name, in_stack_region
from sdk.constructs.structs import new
from sdk.constructs.task import GpuTask
from sdk.grants import Grant
from sdk.hints import BlueprintHints, GpuCapacityHint
from sdk.specs import AlarmsSpec, CapacitySpec, ContainerSpec, NetworkSpec, Spec


class ServiceSpec(Protocol):
    """What every GPU service blueprint's spec has (AlbInferenceSpec, IdleStopGpuQueueSpec)."""

    @property
    def name(self) -> str: ...
    @property
    def network(self) -> NetworkSpec: ...
    @property
    def capacity(self) -> CapacitySpec: ...
    @property
    def container(self) -> ContainerSpec: ...
    @property
    def grants(self) -> tuple[Grant, ...]: ...
    @property
    def alarms(self) -> AlarmsSpec: ...
    @property
    def max_hosts(self) -> int: ...
    @property
    def tasks_per_host(self) -> int: ...
    @property
    def dashboard(self) -> bool: ...


SpecT = TypeVar("SpecT", bound=ServiceSpec)


@dataclass(frozen=True)
class TaskSettings:
    """How a variant runs its tasks: network mode, the tasks' security group texts, its container."""

    enable_exec: bool
    security_group: str  # description of the tasks' security group (awsvpc only)
    egress: str  # description of its HTTPS egress
    network_mode: Literal["awsvpc", "bridge"] = "awsvpc"
    placement_constraint: str | None = None
    container: ContainerSpec | None = None  # None: the spec's


class GpuServiceBase(Construct, Generic[SpecT]):
    """Children: `.network`, `.cluster`, `.capacity`, `.logs`, `.roles`, `.task_security_group` (awsvpc, else None),
    `.task`, `.service`, `.scaling`, `.topic`, `.gpu_alarms` (GPU memory and temperature, sdk.constructs.gpu_metrics);
    `.spec` (region resolved), `.region`, `.account_id`.

    A variant calls `super().__init__`, adds what its task and service need, then `_build_service(...)`, and adds
    its scaling policies and alarms."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        spec: SpecT,
        network: Network | None,
        instance_types: tuple[str, ...],
        settings: TaskSettings,
    ) -> None:
        """`network`: another blueprint's `.network` in this stack (no VPC or NAT of its own); `instance_types`: every
        GPU type that will run in the subnets (they choose the AZs)."""
        super().__init__(scope, id_)
        # The stack and network helpers take any Spec; a variant's spec is one (ServiceSpec says what else it has).
        resolved, self.region = in_stack_region(self, cast(Spec, spec))
        claim_name(self, spec.name)
        if network is not None:
            resolved = share_network(self, resolved, network, instance_types)
        spec = cast(SpecT, resolved)
        self.spec: SpecT = spec
        self.settings = settings
        self.network = network or Network(
            self,
            "network",
            name=spec.name,
            spec=spec.network,
            instance_types=instance_types,
            host_endpoints=host_endpoints(spec.capacity.gpu_metrics),
        )
        self.cluster = Cluster(self, "cluster", name=spec.name)
        self.capacity = GpuCapacity(
            self,
            "capacity",
            name=spec.name,
            cluster_name=self.cluster.name,
            spec=spec.capacity,
            vpc_id=self.network.vpc_id,
            subnet_ids=self.network.private_subnet_ids,
            max_hosts=spec.max_hosts,
            region=self.region,
            prepull=[spec.container.image],
            group_metrics=spec.dashboard,
        )
        self.cluster.attach_capacity_providers([self.capacity.provider_name])
        self.logs = LogGroup(self, "logs", name=f"/ecs/{spec.name}", retention_days=spec.container.log_retention_days)
        self.account_id: str = new(DataAwsCallerIdentity, self, "account").account_id
        self.roles = TaskRoles(
            self,
            "roles",
            name=spec.name,
            container=spec.container,
            log_group_arn=self.logs.arn,
            region=self.region,
            account_id=self.account_id,
            grants=spec.grants,
            enable_exec=settings.enable_exec,
        )
        self.task_security_group: SecurityGroup | None = None
        if settings.network_mode == "awsvpc":
            self.task_security_group = https_out_security_group(
                self,
                "tasks",
                name=f"{spec.name}-tasks",
                vpc_id=self.network.vpc_id,
                description=settings.security_group,
                egress_description=settings.egress,
            )

    def _build_service(
        self,
        *,
        min_tasks: int,
        max_tasks: int,
        depends_on: tuple[ITerraformDependable, ...] = (),
        load_balancer: dict[str, Any] | None = None,
        health_check_grace_seconds: int | None = None,
        environment: dict[str, str] | None = None,
        deployment_configuration: dict[str, Any] | None = None,
    ) -> None:
        """The task definition (with the variant's extra `environment`), the service on the capacity provider
        (starting at `min_tasks`), its scaling target (`min_tasks`-`max_tasks`) and the alarm topic."""
        spec, settings = self.spec, self.settings
        self.task = GpuTask(
            self,
            "task",
            family=spec.name,
            container=settings.container or spec.container,
            network_mode=settings.network_mode,
            execution_role_arn=self.roles.execution_role.arn,
            task_role_arn=self.roles.task_role.arn,
            log_group_name=self.logs.name,
            region=self.region,
            enable_exec=settings.enable_exec,
            extra_environment=environment,
            placement_constraint=settings.placement_constraint,
        )
        assert self.cluster.capacity_providers is not None
        self.service = GpuService(
            self,
            "service",
            name=spec.name,
            cluster_arn=self.cluster.arn,
            task_definition_arn=self.task.task_definition.arn,
            capacity_provider=self.capacity.provider_name,
            desired_count=min_tasks,
            depends_on=[self.cluster.capacity_providers, *depends_on],
            network=self._service_network(),
            load_balancer=load_balancer,
            health_check_grace_seconds=health_check_grace_seconds,
            enable_exec=settings.enable_exec,
            deployment_configuration=deployment_configuration,
        )
        self.scaling = ServiceScaling(
            self,
            "scaling",
            cluster_name=self.cluster.name,
            service_name=self.service.name,
            min_tasks=min_tasks,
            max_tasks=max_tasks,
            depends_on=[self.service.service],
        )
        self.topic = AlarmTopic(
            self, "topic", name=spec.name, spec=spec.alarms, region=self.region, account_id=self.account_id
        )
        self.gpu_alarms = gpu_alarms(self, self.capacity, name=spec.name, topic=self.topic)

    def _service_network(self) -> dict[str, Any] | None:
        if self.task_security_group is None:
            return None
        return {
            "subnets": self.network.private_subnet_ids,
            "security_groups": [self.task_security_group.id],
            "assign_public_ip": False,
        }

    def _finish(self, widgets: tuple[Widget, ...] = (), *, gpu_target: float | None = None) -> None:
        """The dashboard (the variant's `widgets` first, then the tasks, hosts and GPUs), the cluster and service
        outputs and the review hints (call last: hints read every child). `gpu_target`: a GPU utilisation target
        to draw."""
        self.dashboard: Dashboard | None = None
        if self.spec.dashboard:
            self.dashboard = Dashboard(
                self,
                "dashboard",
                name=self.spec.name,
                region=self.region,
                widgets=[*widgets, *self._service_widgets(gpu_target)],
            )
        stable_output(self, "cluster_name", value=self.cluster.cluster.name)
        stable_output(self, "service_name", value=self.service.service.name)
        record_hints(self, self.hints())

    def _service_widgets(self, gpu_target: float | None) -> list[Widget]:
        """What every GPU service shows: its tasks, its hosts (and warm pool) and, with GPU metrics, its GPUs."""
        tasks = tasks_metrics(self.cluster.name, self.service.name)
        warm = self.spec.capacity.warm_pool is not None
        hosts = host_metrics(self.capacity.asg_name, warm_pool=warm)
        widgets = [
            Widget("Tasks: running vs desired", (tasks["running"], tasks["desired"]), "tasks"),
            Widget("GPU hosts" + (" (and warm pool)" if warm else ""), tuple(hosts.values()), "hosts"),
        ]
        gpu, asg = self.capacity.gpu_metrics, self.capacity.asg_name
        if gpu.enabled:
            target = (("scaling target", gpu_target),) if gpu_target is not None else ()
            widgets += [
                Widget("GPU utilisation (group average)", (utilisation_metric(gpu, asg),), "%", target),
                Widget(
                    "GPU memory used (fullest GPU)",
                    (memory_used_percent(gpu, asg),),
                    "%",
                    (("alarm", MEMORY_ALARM_PERCENT),),
                ),
            ]
        return widgets

    def capacity_hint(self, *, min_hosts: int, typical_hosts: int, **extra: Any) -> GpuCapacityHint:
        """The cost estimate's view of the GPU hosts; the variant says how many run at least and typically."""
        spec, spot = self.spec, self.spec.capacity.spot
        return GpuCapacityHint(
            asg_address=f"aws_autoscaling_group.{self.capacity.asg.friendly_unique_id}",
            instance_types=spec.capacity.instance_types,
            min_hosts=min_hosts,
            typical_hosts=typical_hosts,
            max_hosts=spec.max_hosts,
            gpus_per_task=spec.container.gpu,
            tasks_per_host=spec.tasks_per_host,
            on_demand_base=spot.on_demand_base if spot else 0,
            spot_percent=100 - spot.on_demand_percent_above_base if spot else 0,
            **extra,
        )

    def hints(self) -> BlueprintHints:
        raise NotImplementedError
