"""GpuServiceBase: the shared GPU-service wiring, exercised through the smallest variant that uses it."""

import json
from typing import Any

from blueprints.idle_stop_queue import IdleStopGpuQueueSpec
from sdk.constructs.engine import Construct, Testing
from sdk.constructs.foundation import GpuServiceBase, TaskSettings
from sdk.constructs.stack import GpuStack
from sdk.hints import BlueprintHints

REGION = "us-east-1"
SPEC = {
    "name": "plain",
    "capacity": {"instance_types": ["g6.xlarge"]},
    "container": {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/plain:1", "gpu": 1},
}


class Plain(GpuServiceBase[IdleStopGpuQueueSpec]):
    """A variant that adds nothing: the base's children only."""

    def __init__(self, scope: Construct, id_: str, *, spec: IdleStopGpuQueueSpec) -> None:
        settings = TaskSettings(
            enable_exec=False, security_group="tasks", egress="https", network_mode=spec.network_mode
        )
        super().__init__(
            scope, id_, spec=spec, network=None, instance_types=spec.capacity.instance_types, settings=settings
        )
        self._build_service(min_tasks=1, max_tasks=3)
        self._finish()

    def hints(self) -> BlueprintHints:
        return BlueprintHints(blueprint="Plain", gpu_capacity=(self.capacity_hint(min_hosts=0, typical_hosts=1),))


def synth(**changes: Any) -> tuple[Plain, dict[str, Any]]:
    stack = GpuStack(Testing.app(), "plain", region=REGION)
    plain = Plain(stack, "plain", spec=IdleStopGpuQueueSpec.model_validate({**SPEC, **changes}))
    return plain, json.loads(Testing.synth(stack))


def one(tf: dict[str, Any], kind: str) -> dict[str, Any]:
    [resource] = tf["resource"][kind].values()
    return resource


def test_the_service_runs_on_the_capacity_provider_and_scales_by_its_cluster_and_service_references():
    # GIVEN a variant that only builds the base WHEN it is synthesized
    plain, tf = synth()
    service = one(tf, "aws_ecs_service")
    # THEN the service uses the capacity provider by reference, after the cluster's provider attachment
    assert service["capacity_provider_strategy"][0]["capacity_provider"].startswith("${aws_ecs_capacity_provider.")
    assert any(d.startswith("aws_ecs_cluster_capacity_providers.") for d in service["depends_on"])
    # AND the scaling target names the cluster and service the base created, between the variant's bounds
    target = one(tf, "aws_appautoscaling_target")
    assert target["resource_id"] == f"service/{plain.cluster.name}/{plain.service.name}" == "service/plain/plain"
    assert (target["min_capacity"], target["max_capacity"], service["desired_count"]) == (1, 3, 1)
    # AND the cluster and service names are outputs
    assert {"plain_cluster_name", "plain_service_name"} <= set(tf["output"])


def test_awsvpc_tasks_get_their_own_https_out_security_group_and_bridge_tasks_none():
    # GIVEN the same variant in awsvpc and in bridge mode WHEN each is synthesized
    awsvpc, tf = synth()
    bridge, bridge_tf = synth(network_mode="bridge")
    # THEN only awsvpc tasks get a security group, and their service places them in it in the private subnets
    assert awsvpc.task_security_group is not None and bridge.task_security_group is None
    network = one(tf, "aws_ecs_service")["network_configuration"]
    assert network["security_groups"][0].startswith("${aws_security_group.plain_tasks_sg")
    assert network["assign_public_ip"] is False
    assert "network_configuration" not in one(bridge_tf, "aws_ecs_service")
    assert one(bridge_tf, "aws_ecs_task_definition")["network_mode"] == "bridge"
