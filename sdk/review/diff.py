"""Resource-level diff of two synthesized stacks: the reviewer's stand-in for `terraform plan`."""

import json
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdk.tfjson import addresses

# Attributes whose change makes Terraform destroy and re-create the resource (AWS provider 6.x schemas,
# ForceNew), for the resource types the blueprints emit.
FORCES_REPLACEMENT: dict[str, frozenset[str]] = {
    "aws_vpc": frozenset({"cidr_block", "instance_tenancy"}),
    "aws_subnet": frozenset({"vpc_id", "cidr_block", "availability_zone", "availability_zone_id"}),
    "aws_nat_gateway": frozenset({"subnet_id", "allocation_id", "connectivity_type", "private_ip"}),
    "aws_eip": frozenset({"domain", "network_border_group"}),
    "aws_vpc_endpoint": frozenset({"vpc_id", "service_name", "vpc_endpoint_type"}),
    "aws_lb": frozenset({"name", "name_prefix", "internal", "load_balancer_type"}),
    "aws_lb_listener": frozenset({"load_balancer_arn"}),
    "aws_lb_listener_rule": frozenset({"listener_arn"}),  # priority is updated in place (elbv2/listener_rule.go)
    "aws_lb_target_group": frozenset(
        {"name", "name_prefix", "port", "protocol", "protocol_version", "vpc_id", "target_type"}
    ),
    "aws_security_group": frozenset({"name", "name_prefix", "vpc_id", "description"}),
    "aws_vpc_security_group_ingress_rule": frozenset({"security_group_id"}),
    "aws_vpc_security_group_egress_rule": frozenset({"security_group_id"}),
    "aws_autoscaling_group": frozenset({"name", "name_prefix"}),
    "aws_ecs_cluster": frozenset({"name"}),
    "aws_ecs_capacity_provider": frozenset({"name", "auto_scaling_group_provider.auto_scaling_group_arn"}),
    "aws_ecs_service": frozenset({"name", "cluster", "launch_type", "scheduling_strategy", "service_registries"}),
    "aws_appautoscaling_target": frozenset({"resource_id", "scalable_dimension", "service_namespace"}),
    "aws_appautoscaling_policy": frozenset({"name", "resource_id", "scalable_dimension", "service_namespace"}),
    "aws_cloudwatch_metric_alarm": frozenset({"alarm_name"}),
    "aws_cloudwatch_dashboard": frozenset({"dashboard_name"}),  # cloudwatch/dashboard.go
    # Job gateway (provider source internal/service/apigatewayv2/*.go and lambda/{function,permission}.go).
    "aws_apigatewayv2_api": frozenset({"protocol_type", "credentials_arn", "route_key", "target"}),
    "aws_apigatewayv2_authorizer": frozenset({"api_id"}),
    "aws_apigatewayv2_integration": frozenset({"api_id", "integration_type", "integration_subtype"}),
    "aws_apigatewayv2_route": frozenset({"api_id"}),
    "aws_apigatewayv2_stage": frozenset({"api_id", "name"}),
    "aws_lambda_function": frozenset({"function_name", "package_type", "tenancy_config"}),
    "aws_lambda_permission": frozenset(
        {"action", "function_name", "principal", "source_arn", "source_account", "statement_id", "qualifier"}
    ),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix", "log_group_class"}),
    "aws_iam_role": frozenset({"name", "name_prefix", "path"}),
    "aws_iam_role_policy": frozenset({"name", "name_prefix", "role"}),
    "aws_iam_policy": frozenset({"name", "name_prefix", "path"}),
    "aws_iam_role_policy_attachment": frozenset({"role", "policy_arn"}),
    "aws_sqs_queue": frozenset({"name", "name_prefix", "fifo_queue"}),
    "aws_dynamodb_table": frozenset({"name", "hash_key", "range_key"}),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix"}),
    "aws_sns_topic": frozenset({"name", "name_prefix", "fifo_topic"}),
    "aws_sns_topic_policy": frozenset({"arn"}),
    "aws_kms_key": frozenset(
        {"custom_key_store_id", "customer_master_key_spec", "key_usage", "multi_region", "xks_key_id"}
    ),
    "aws_kms_alias": frozenset({"name", "name_prefix"}),
    "aws_launch_template": frozenset({"name", "name_prefix"}),
    "aws_iam_instance_profile": frozenset({"name", "name_prefix", "path"}),
    "aws_default_security_group": frozenset({"vpc_id"}),
    "aws_internet_gateway": frozenset(),
    "aws_route": frozenset({"route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block"}),
    "aws_route_table": frozenset({"vpc_id"}),
    "aws_route_table_association": frozenset({"subnet_id", "gateway_id"}),
    "aws_flow_log": frozenset(
        {"vpc_id", "subnet_id", "eni_id", "traffic_type", "log_destination", "log_destination_type", "iam_role_arn"}
    ),
    "aws_ecs_cluster_capacity_providers": frozenset({"cluster_name"}),
    "aws_sqs_queue_policy": frozenset({"queue_url"}),
    "aws_sqs_queue_redrive_allow_policy": frozenset({"queue_url"}),
    # The S3 bucket's sub-resources are bound to their bucket.
    **{
        f"aws_s3_bucket_{part}": frozenset({"bucket", "expected_bucket_owner"})
        for part in (
            "lifecycle_configuration",
            "ownership_controls",
            "policy",
            "public_access_block",
            "server_side_encryption_configuration",
            "versioning",
        )
    },
}
# Types that never update in place or whose update has a consequence the plan does not show.
CHANGE_NOTES: dict[str, str] = {
    "aws_launch_template": "new launch template version (no replacement); running hosts keep the old one "
    "until an ASG instance refresh or scale-in replaces them",
    "aws_ecs_task_definition": "new task definition revision (the old one is deregistered); the service "
    "rolls its tasks to it through the deployment circuit breaker",
}
_IGNORED_KEYS = frozenset({"//"})

Kind = Literal["added", "removed", "changed"]


class AttributeChange(BaseModel):
    """One changed attribute path of a resource between the committed and the new stack JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Attribute path, e.g. ingress[0].cidr_blocks[1] (no default)")
    before: Any = Field(default=None, description="Old value (default None: absent before)")
    after: Any = Field(default=None, description="New value (default None: absent after)")
    forces_replacement: bool = Field(
        default=False, description="Whether this path forces a replacement (default False)"
    )


class ResourceChange(BaseModel):
    """A resource added, removed or changed between the committed and the new stack JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str = Field(description="Terraform address, e.g. aws_sqs_queue.jobs (no default)")
    kind: Kind = Field(description="added, removed or changed (no default)")
    attributes: tuple[AttributeChange, ...] = Field(default=(), description="Changed paths (default none)")
    replacement: bool = Field(default=False, description="Terraform will destroy and re-create it (default False)")
    note: str = Field(default="", description="What the change means beyond the plan (default empty)")


def _decoded(value: Any) -> Any:
    """JSON held in a string (container definitions, policies) compared as structure, not as text."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def deep_diff(before: Any, after: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, before, after) for every leaf that differs; lists compare by index."""
    before, after = _decoded(before), _decoded(after)
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted((set(before) | set(after)) - _IGNORED_KEYS):
            sub = f"{path}.{key}" if path else str(key)
            yield from deep_diff(before.get(key), after.get(key), sub)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from deep_diff(old, new, f"{path}[{index}]")
    elif before != after:
        yield path, before, after


def _forces(resource_type: str, path: str) -> bool:
    top = path.split("[", 1)[0]
    keys = FORCES_REPLACEMENT.get(resource_type, frozenset())
    return top.split(".", 1)[0] in keys or top in keys


def _changed(address: str, before: dict[str, Any], after: dict[str, Any]) -> ResourceChange | None:
    resource_type = address.removeprefix("data.").split(".", 1)[0]
    changes = tuple(
        AttributeChange(path=path, before=old, after=new, forces_replacement=_forces(resource_type, path))
        for path, old, new in deep_diff(before, after)
    )
    if not changes:
        return None
    replacement = (resource_type == "aws_ecs_task_definition") or any(c.forces_replacement for c in changes)
    return ResourceChange(
        address=address,
        kind="changed",
        attributes=changes,
        replacement=replacement,
        note=CHANGE_NOTES.get(resource_type, ""),
    )


def diff_stacks(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[ResourceChange, ...]:
    """Added, removed and changed resources, sorted by address; everything is added when `before` is None."""
    old, new = addresses(before or {}), addresses(after)
    changes = [ResourceChange(address=a, kind="added") for a in new.keys() - old.keys()]
    changes += [ResourceChange(address=a, kind="removed") for a in old.keys() - new.keys()]
    changes += [c for a in old.keys() & new.keys() if (c := _changed(a, old[a], new[a])) is not None]
    return tuple(sorted(changes, key=lambda change: change.address))
