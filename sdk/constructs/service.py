"""ECS service on a capacity provider: circuit breaker with rollback, AZ spread, ECS Exec, tag propagation."""

from typing import Any

from sdk.constructs.engine import Construct, EcsService, ITerraformDependable
from sdk.constructs.structs import new


class GpuService(Construct):
    """`.service`, `.name`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cluster_arn: str,
        task_definition_arn: str,
        capacity_provider: str,
        desired_count: int,
        depends_on: list[ITerraformDependable],
        network: dict[str, Any] | None = None,
        load_balancer: dict[str, Any] | None = None,
        health_check_grace_seconds: int | None = None,
        enable_exec: bool = True,
        deployment_configuration: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.service = new(
            EcsService,
            self,
            "service",
            name=name,
            cluster=cluster_arn,
            task_definition=task_definition_arn,
            desired_count=desired_count,
            capacity_provider_strategy=[{"capacity_provider": capacity_provider, "weight": 1, "base": 0}],
            # Kept for every strategy: it needs the ECS deployment controller, which blue/green also uses (ECS API
            # reference, DeploymentCircuitBreaker); traffic-shifting deployments also roll back on the alarms.
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_configuration=deployment_configuration,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            ordered_placement_strategy=[
                {"type": "spread", "field": "attribute:ecs.availability-zone"},
                {"type": "binpack", "field": "memory"},
            ],
            enable_execute_command=enable_exec,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            network_configuration=network,
            load_balancer=[load_balancer] if load_balancer else None,
            health_check_grace_period_seconds=health_check_grace_seconds if load_balancer else None,
            wait_for_steady_state=False,
            depends_on=depends_on,
            # Application Auto Scaling owns desired_count after creation.
            lifecycle={"ignore_changes": ["desired_count"]},
        )

    def roll_back_on(self, alarm_names: list[str]) -> None:
        """Fail and roll back a deployment when one of these alarms fires (provider `alarms { alarm_names, enable,
        rollback }`; ECS developer guide, deployment-alarm-failure.html)."""
        self.service.put_alarms(alarm_names=alarm_names, enable=True, rollback=True)


def deployment_configuration(
    strategy: str,
    *,
    bake_minutes: int,
    canary: tuple[float, int] | None = None,
    linear: tuple[float, int] | None = None,
) -> dict[str, Any]:
    """Provider 6.25.0 `deployment_configuration` (hashicorp/terraform-provider-aws internal/service/ecs/service.go):
    `strategy` ROLLING/BLUE_GREEN/CANARY/LINEAR; the bake times are nullable ints the provider types as strings."""
    config: dict[str, Any] = {"strategy": strategy, "bake_time_in_minutes": str(bake_minutes)}
    if canary is not None:
        config["canary_configuration"] = {"canary_percent": canary[0], "canary_bake_time_in_minutes": str(canary[1])}
    if linear is not None:
        config["linear_configuration"] = {"step_percent": linear[0], "step_bake_time_in_minutes": str(linear[1])}
    return config
