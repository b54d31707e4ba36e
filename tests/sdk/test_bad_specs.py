"""Specs that used to pass and fail later (terraform validate, apply, or at run time): each is refused when the spec is
built, with one ValidationError naming the field and the fix; two blueprints with one name in a stack are refused
when the second is added. The examples still build."""

import copy
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec
from blueprints.fractional_renderer import FractionalGpuRenderer
from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
from examples import SDXL, build_app
from examples.queue import comfyui_queue
from examples.renderer import heavy_renderer
from sdk.constructs.engine import Testing
from sdk.constructs.stack import GpuStack


def example_spec(build: Any, kind: type) -> BaseModel:
    app = Testing.app()
    build(app)
    return next(c.spec for s in app.node.children for c in s.node.children if isinstance(c, kind))


SPECS: dict[str, BaseModel] = {
    "alb": SDXL,
    "queue": example_spec(comfyui_queue, IdleStopGpuQueue),
    "renderer": example_spec(heavy_renderer, FractionalGpuRenderer),
}
README_CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/..."
BIG_ENVIRONMENT = {f"SETTING_{i}": "x" * 1000 for i in range(64)}  # ~66 KB of values
OWN_SUBNETS = ("subnet-0a1b2c3d", "subnet-0a1b2c3e")
ACL_ID = "6a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def changed(spec: BaseModel, changes: dict[str, Any]) -> dict[str, Any]:
    """The spec's data with dotted paths ("alb.allowed_cidrs") set to new values."""
    data = copy.deepcopy(spec.model_dump(mode="json"))
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


# (case, spec kind, changes, the field the error names, a fragment of its fix)
BAD_SPECS = [
    ("README placeholder certificate", "alb", {"alb.certificate_arn": README_CERTIFICATE}, "certificate_arn", "<uuid>"),
    (
        "certificate id that is not a UUID",
        "alb",
        {"alb.certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/my-cert"},
        "certificate_arn",
        "your certificate",
    ),
    ("bare IP as a CIDR", "alb", {"alb.allowed_cidrs": ["10.0.0.1"]}, "allowed_cidrs", "10.0.0.1/32"),
    ("CIDR with host bits", "alb", {"alb.allowed_cidrs": ["198.51.100.9/24"]}, "allowed_cidrs", "198.51.100.0/24"),
    ("VPC CIDR with host bits", "alb", {"network.cidr_block": "10.60.1.0/16"}, "cidr_block", "10.60.0.0/16"),
    (
        "global (CloudFront) WAF ACL",
        "alb",
        {"alb.waf_acl_arn": f"arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/{ACL_ID}"},
        "waf_acl_arn",
        "regional/webacl",
    ),
    ("WAF ACL by name", "alb", {"alb.waf_acl_arn": "my-web-acl"}, "waf_acl_arn", "regional/webacl/<name>/<id>"),
    (
        "SNS topic ARN without account",
        "alb",
        {"alarms.sns_topic_arn": "arn:aws:sns:us-east-1:alerts"},
        "sns_topic_arn",
        "arn:aws:sns:<region>:<12-digit account>:<topic name>",
    ),
    (
        "VPC id with 9 hex digits",
        "queue",
        {"network.vpc_id": "vpc-0a1b2c3d4", "network.private_subnet_ids": list(OWN_SUBNETS)},
        "vpc_id",
        "8 or 17 hex",
    ),
    (
        "subnet name instead of id",
        "queue",
        {"network.vpc_id": "vpc-0a1b2c3d", "network.private_subnet_ids": ["private-a", "private-b"]},
        "private_subnet_ids",
        "subnet- and 8 or 17 hex",
    ),
    (
        "the same subnets public and private",
        "alb",
        {
            "network.nat_gateways": "single",
            "network.vpc_id": "vpc-0a1b2c3d",
            "network.private_subnet_ids": list(OWN_SUBNETS),
            "network.public_subnet_ids": list(OWN_SUBNETS),
        },
        "network.private_subnet_ids",
        "in one of public_subnet_ids or private_subnet_ids",
    ),
    ("ALB service at 0 tasks", "alb", {"scaling.min_tasks": 0}, "min_tasks", "min_tasks >= 1"),
    (
        "ALB service environment over 64 KiB",
        "alb",
        {"container.environment": BIG_ENVIRONMENT},
        "container.environment",
        "shrink the environment by",
    ),
    (
        "queue environment over 64 KiB",
        "queue",
        {"container.environment": BIG_ENVIRONMENT},
        "container.environment",
        "shrink the environment by",
    ),
    (
        "renderer environment over 64 KiB",
        "renderer",
        {"worker.environment": BIG_ENVIRONMENT},
        "worker.environment",
        "shrink the environment by",
    ),
    (
        "relative volume mount path",
        "alb",
        {"container.volumes": [{"name": "weights", "container_path": "weights"}]},
        "container_path",
        "'/weights'",
    ),
    ("relative scratch path", "queue", {"container.scratch_paths": ["tmp"]}, "scratch_paths", "'/tmp'"),
    ("scratch path escaping /", "queue", {"container.scratch_paths": ["/../cache"]}, "scratch_paths", "'/cache'"),
    ("scratch path /", "queue", {"container.scratch_paths": ["/"]}, "scratch_paths", "'/data'"),
    (
        "relative model cache path",
        "alb",
        {"container.model_source.cache_path": "models"},
        "cache_path",
        "'/models'",
    ),
    *[
        (
            f"ecs_agent_config overriding {key}",
            "queue",
            {"capacity.ecs_agent_config": {key: "false"}},
            "ecs_agent_config",
            f"drop {key}",
        )
        for key in (
            "ECS_ENABLE_GPU_SUPPORT",
            "ECS_CLUSTER",
            "ECS_WARM_POOLS_CHECK",
            "ECS_AWSVPC_BLOCK_IMDS",
            "ECS_ENABLE_TASK_IAM_ROLE",
            "ECS_ENABLE_SPOT_INSTANCE_DRAINING",
            "ECS_RESERVED_MEMORY",
        )
    ],
    (
        "placement constraint with = instead of ==",
        "queue",
        {"placement_constraint": "attribute:ecs.instance-type = g6.xlarge"},
        "placement_constraint",
        "subject operator [argument]",
    ),
    (
        "placement constraint with an unclosed list",
        "queue",
        {"placement_constraint": "attribute:ecs.instance-type in [g6.xlarge, g5.xlarge"},
        "placement_constraint",
        "attribute:ecs.instance-type in [g6.xlarge, g6.2xlarge]",
    ),
    (
        "placement constraint without attribute:",
        "queue",
        {"placement_constraint": "ecs.instance-type =~ g6.*"},
        "placement_constraint",
        "attribute:ecs.instance-type =~ g6.*",
    ),
]


@pytest.mark.parametrize(("case", "kind", "changes", "field", "fix"), BAD_SPECS, ids=[row[0] for row in BAD_SPECS])
def test_a_spec_that_would_fail_later_is_refused_now_by_field_with_the_fix(case, kind, changes, field, fix):
    # GIVEN an example spec with one input that validate, apply or the running service would reject
    spec = SPECS[kind]
    data = changed(spec, changes)
    # WHEN the spec is built
    with pytest.raises(ValidationError) as error:
        type(spec).model_validate(data)
    # THEN one ValidationError names the field and says how to fix it
    message = str(error.value)
    assert error.value.error_count() == 1, message
    assert field in message, message
    assert "Fix:" in message and fix in message, message


def test_the_table_changes_one_thing_each_of_a_spec_that_builds():
    # GIVEN the example specs the table starts from
    # WHEN each is validated again from its data
    # THEN each is valid (the table's errors come from its one change)
    for spec in SPECS.values():
        assert type(spec).model_validate(spec.model_dump(mode="json")) == spec


def test_two_blueprints_with_one_name_in_a_stack_are_refused_naming_name_and_the_fix():
    # GIVEN a stack holding an ALB service named sdxl
    stack = GpuStack(Testing.app(), "two", region="us-east-1")
    AlbInferenceService(stack, "first", spec=SDXL)
    # WHEN a second blueprint with the same spec.name is added (its AWS names would collide at apply)
    queue = SPECS["queue"].model_copy(update={"name": SDXL.name})
    with pytest.raises(ValueError) as error:
        IdleStopGpuQueue(stack, "second", spec=IdleStopGpuQueueSpec.model_validate(queue.model_dump()))
    # THEN it is refused by `name`, pointing at the first, with the fix
    message = str(error.value)
    assert message.startswith("name: 'sdxl' is already the name of two/first")
    assert "Fix: give two/second another spec name" in message


def test_the_same_name_in_two_stacks_is_allowed():
    # GIVEN two stacks WHEN each gets a blueprint named sdxl THEN both build (names are per stack and region)
    app = Testing.app()
    for stack_name in ("a", "b"):
        AlbInferenceService(GpuStack(app, stack_name, region="us-east-1"), "svc", spec=SDXL)


def test_the_example_app_still_builds():
    # GIVEN the bundled examples WHEN they are built THEN every blueprint is added without a refusal
    app = Testing.app()
    build_app(app)
    kinds = [type(c) for s in app.node.children for c in s.node.children]
    assert kinds.count(AlbInferenceService) == 2
    assert kinds.count(IdleStopGpuQueue) == 1 and kinds.count(FractionalGpuRenderer) == 2


def test_a_changed_agent_default_is_a_review_note_not_a_refusal():
    # GIVEN an ALB service whose hosts clean images more often than the template's default
    data = changed(SDXL, {"capacity.ecs_agent_config": {"ECS_IMAGE_CLEANUP_INTERVAL": "10m"}})
    spec = AlbInferenceSpec.model_validate(data)
    # WHEN it is built
    service = AlbInferenceService(GpuStack(Testing.app(), "s", region="us-east-1"), "svc", spec=spec)
    # THEN the reviewer is told which default it replaces
    assert (
        "capacity.ecs_agent_config: ECS_IMAGE_CLEANUP_INTERVAL=10m replaces the blueprint's default (30m)."
        in service.hints().review_notes
    )
