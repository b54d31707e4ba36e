"""GpuServiceSpec: the checks and derived sizes every GPU-service spec shares (AlbInferenceSpec,
IdleStopGpuQueueSpec), as GpuServiceBase shares their construct wiring. No cdktf import of its own."""

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from sdk import sizing
from sdk.container_definition import definition_size_problems
from sdk.specs import NetworkSpec, Spec, problems_to_error
from sdk.validation import (
    min_tasks_per_host,
    model_cache_problems,
    model_source_problems,
    region_environment_problems,
    task_fit_problems,
)

if TYPE_CHECKING:  # fields each variant declares with its own description
    from sdk.specs import CapacitySpec, ContainerSpec


def region_field() -> Any:
    """The `region` field every blueprint spec declares the same way."""
    return Field(
        default=None,
        description="AWS region. Default None: the stack's (GpuStack(region=...)), the one source of truth; a "
        "different value is refused.",
    )


def network_field() -> Any:
    """The `network` field every blueprint spec declares the same way."""
    return Field(default_factory=NetworkSpec, description="Default: a new 2-AZ VPC, one NAT.")


class GpuServiceSpec(Spec):
    """Base of a GPU service's spec: the variant declares the fields and says which bounds its tasks."""

    most_tasks_field: ClassVar[str]  # the field that bounds the tasks, as error messages name it

    dashboard: bool = Field(
        default=True,
        description="A CloudWatch dashboard of the service (traffic or jobs, tasks, hosts, GPUs) and its URL as an "
        "output; it enables the Auto Scaling group metrics it reads (free). Default True: the first 3 dashboards "
        "of an account are free, then $3/month each.",
    )

    if TYPE_CHECKING:
        name: str
        region: str | None
        network: NetworkSpec
        capacity: CapacitySpec
        container: ContainerSpec

    @property
    def most_tasks(self) -> int:
        raise NotImplementedError

    @property
    def tasks_per_host(self) -> int:
        return min_tasks_per_host(self.capacity.instance_types, self.container)

    @property
    def deployment_peak_percent(self) -> int:
        """Tasks at a deployment's peak, percent of desired (a variant with other strategies overrides it)."""
        return sizing.DEPLOYMENT_MAX_PERCENT

    @property
    def deployment_hosts(self) -> int:
        """Hosts for the most tasks at the deployment's peak."""
        return sizing.deployment_hosts(self.most_tasks, self.tasks_per_host, self.deployment_peak_percent)

    @property
    def max_hosts(self) -> int:
        """Hosts for the most tasks at the deployment's peak, unless the spec caps it."""
        if self.capacity.max_hosts is not None:
            return self.capacity.max_hosts
        return self.deployment_hosts

    def service_problems(self, *, network_mode: Literal["awsvpc", "bridge"], enable_exec: bool) -> list[str]:
        """The container against the hosts, the region, the model source and ECS's task-definition size."""
        return [
            *task_fit_problems(self.capacity.instance_types, self.container, types_field="capacity.instance_types"),
            *region_environment_problems(self.container.environment, self.region, "container.environment"),
            *model_source_problems(self.network, self.container),
            *definition_size_problems(
                self.container,
                field="container.environment",
                name=self.name,
                region=self.region,
                network_mode=network_mode,
                enable_exec=enable_exec,
            ),
        ]

    def check_hosts(self) -> None:
        """Once the rest is valid: a max_hosts cap that holds the most tasks, and a root volume for the model."""
        needed = sizing.hosts_for_tasks(self.most_tasks, self.tasks_per_host)
        cap = self.capacity.max_hosts
        if cap is not None and cap < needed:
            problems_to_error(
                [
                    f"capacity.max_hosts: {cap} hosts hold {cap * self.tasks_per_host} tasks but "
                    f"{self.most_tasks_field} is {self.most_tasks}. Fix: max_hosts >= {needed}, or leave it unset "
                    "to derive it."
                ]
            )
        problems_to_error(model_cache_problems(self.capacity, self.container, self.tasks_per_host))
