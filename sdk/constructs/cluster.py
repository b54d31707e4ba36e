"""ECS cluster with Container Insights and ECS Exec logging; capacity providers are attached once."""

from sdk.constructs.engine import Construct, EcsCluster, EcsClusterCapacityProviders
from sdk.constructs.structs import new


class Cluster(Construct):
    """`.cluster`, `.name`, `.arn`; `.capacity_providers` once `attach_capacity_providers` ran."""

    def __init__(self, scope: Construct, id_: str, *, name: str, container_insights: str = "enabled") -> None:
        super().__init__(scope, id_)
        self.name = name
        self.cluster = new(
            EcsCluster,
            self,
            "cluster",
            name=name,
            setting=[{"name": "containerInsights", "value": container_insights}],
            configuration={"execute_command_configuration": {"logging": "DEFAULT"}},
        )
        self.arn = self.cluster.arn
        self.capacity_providers: EcsClusterCapacityProviders | None = None

    def attach_capacity_providers(self, names: list[str]) -> EcsClusterCapacityProviders:
        """Associate every capacity provider at once (AWS keeps one association per cluster); first is default."""
        if self.capacity_providers is not None:
            raise RuntimeError(f"capacity providers of cluster {self.name} are already attached")
        self.capacity_providers = new(
            EcsClusterCapacityProviders,
            self,
            "capacity_providers",
            cluster_name=self.cluster.name,
            capacity_providers=names,
            default_capacity_provider_strategy=[{"capacity_provider": names[0], "weight": 1, "base": 0}],
        )
        return self.capacity_providers
