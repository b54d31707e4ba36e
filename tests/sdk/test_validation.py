"""Task fit against the catalog: memory is checked against what ECS registers, not the nominal size.

Checks that need the network or the hosts beside the container: where a model download can come from, whether it
fits on the root volume, and what a reviewer is told about it."""

import pytest

from sdk import sizing
from sdk.catalog import CATALOG
from sdk.specs import CapacitySpec, ContainerSpec, HuggingFaceModelSource, NetworkSpec, S3ModelSource, SecretRef
from sdk.validation import (
    cluster_query,
    model_cache_problems,
    model_source_notes,
    model_source_problems,
    task_fit_problems,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"


def fit(instance_type: str, memory_mib: int) -> list[str]:
    container = ContainerSpec(image=IMAGE, gpu=1, cpu=1024, memory_mib=memory_mib)
    return task_fit_problems((instance_type,), container, types_field="capacity.instance_types")


def test_a_task_of_15616_mib_is_refused_on_a_16_gib_host_because_ecs_registers_less():
    # GIVEN a g5.xlarge (16 GiB) and a task of 15,616 MiB: 100 MiB under the old m4.large-scaled estimate,
    # above what a 16 GiB host can be relied on to register
    # WHEN the task fit is checked
    problems = fit("g5.xlarge", 15616)
    # THEN it is refused, naming the field, what ECS can place and the fix
    [problem] = problems
    assert problem.startswith("container.memory_mib: 15616 MiB is more than ECS can place on g5.xlarge")
    assert f"({sizing.registered_memory_mib(CATALOG.get('g5.xlarge'))} MiB" in problem and "Fix:" in problem


@pytest.mark.parametrize("instance_type", ["g5.xlarge", "g6e.2xlarge", "g4dn.xlarge"])
def test_the_largest_accepted_task_leaves_5_percent_and_the_agent_reservation_free(instance_type):
    # GIVEN a host of the catalog
    nominal = CATALOG.get(instance_type).memory_mib
    registered = sizing.registered_memory_mib(CATALOG.get(instance_type))
    # WHEN tasks of exactly the registered estimate and one MiB more are checked
    # THEN the first fits and the second does not, and the estimate keeps >= 5% + 256 MiB of the nominal size
    assert fit(instance_type, registered) == []
    assert len(fit(instance_type, registered + 1)) == 1
    assert registered <= nominal * 0.95 - sizing.ECS_RESERVED_MEMORY_MIB


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
NO_NAT = NetworkSpec(nat_gateways="none", vpc_endpoints=("ecr.api", "ecr.dkr", "s3", "logs"))
OWN_VPC = NetworkSpec(vpc_id="vpc-0a1b2c3d", private_subnet_ids=("subnet-11111111", "subnet-22222222"))
HUB = ContainerSpec(image=IMAGE, model_source=HuggingFaceModelSource(repo_id="org/model"))
S3 = ContainerSpec(image=IMAGE, model_source=S3ModelSource(uri="s3://models-bucket/m/v1/"))


def test_a_hub_model_in_a_created_vpc_without_nat_is_refused_with_the_s3_fix():
    # GIVEN a Hub source and a created VPC with no NAT WHEN checked
    problems = model_source_problems(NO_NAT, HUB)
    # THEN the one problem names the field and offers S3 over the gateway endpoint or a NAT
    assert len(problems) == 1
    assert problems[0].startswith("container.model_source:")
    assert "Fix:" in problems[0] and "S3ModelSource" in problems[0] and "nat_gateways='single'" in problems[0]


def test_an_s3_model_without_nat_a_hub_model_with_nat_and_a_hub_model_in_your_vpc_pass():
    assert model_source_problems(NO_NAT, S3) == []
    assert model_source_problems(NetworkSpec(), HUB) == []
    assert model_source_problems(OWN_VPC, HUB) == []


def test_a_vpc_you_bring_is_trusted_but_noted():
    # GIVEN a Hub source pinned and with a token in a VPC we did not create WHEN noted
    pinned = HuggingFaceModelSource(
        repo_id="org/model",
        revision="main",
        token=SecretRef(name="HF_TOKEN", value_from="arn:aws:ssm:us-east-1:123456789012:parameter/t"),
        size_gib=1,
    )
    notes = model_source_notes(OWN_VPC, HUB.model_copy(update={"model_source": pinned}), "us-east-1")
    # THEN the only note says its subnets need a NAT (unchecked)
    assert len(notes) == 1 and "NAT" in notes[0] and "not checked" in notes[0]


def test_an_unpinned_hub_model_without_a_token_or_size_gets_three_warnings():
    notes = model_source_notes(NetworkSpec(), HUB, "us-east-1")
    assert [("token" in n, "revision" in n, "size_gib" in n) for n in notes] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


def test_an_s3_model_over_the_gateway_endpoint_is_noted_as_same_region_only():
    notes = model_source_notes(NO_NAT, S3, "eu-west-1")
    assert any("models-bucket" in n and "eu-west-1 only" in n for n in notes)


def test_a_model_cache_must_fit_the_root_volume_once_per_host_or_once_per_task():
    # GIVEN a 40 GiB model on the default 100 GiB root (50 GiB kept for the AMI and images)
    host = S3.model_copy(update={"model_source": S3ModelSource(uri="s3://b-1/m/", size_gib=40)})
    per_task = S3.model_copy(update={"model_source": S3ModelSource(uri="s3://b-1/m/", size_gib=40, cache="task")})
    capacity = CapacitySpec(instance_types=("g5.12xlarge",))
    # WHEN checked for a host running 2 tasks
    # THEN one host-shared copy fits, two per-task copies do not, and the fix names the size that would
    assert model_cache_problems(capacity, host, tasks_per_host=2) == []
    [problem] = model_cache_problems(capacity, per_task, tasks_per_host=2)
    assert problem.startswith("capacity.root_volume_gib:") and "Fix: root_volume_gib >= 130" in problem


@pytest.mark.parametrize(
    "expression",
    [
        "attribute:ecs.instance-type =~ g6f.*",
        "attribute:ecs.instance-type in [g6.xlarge, g5.xlarge]",
        "attribute:ecs.availability-zone not_in [us-east-1a, us-east-1b]",
        "attribute:ecs.os-type exists",
        "not(task:group == database)",
        "runningTasksCount == 0 and (agentVersion >= 1.70.0 || attribute:gpu != false)",
        "ec2InstanceId !in [i-0abc] && registeredAt < 2018-06-18",
    ],
)
def test_a_cluster_query_ecs_documents_is_accepted(expression):
    # GIVEN forms from the ECS "Cluster query language" page WHEN parsed THEN each is accepted unchanged
    assert cluster_query(expression) == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("attribute:ecs.instance-type = g6.*", "'=' is no operator"),
        ("instance-type =~ g6.*", "'instance-type' is no subject"),
        ("attribute:ecs.instance-type in g6.xlarge", "expected '[', found 'g6.xlarge'"),
        ("(attribute:ecs.os-type exists", "it ends where ')' should follow"),
        ("attribute:a == b attribute:c == d", "follows a complete expression"),
        ("attribute:a ==", "it ends where a value should follow"),
    ],
)
def test_a_cluster_query_ecs_cannot_parse_is_refused_with_the_reason_and_the_fix(expression, reason):
    # GIVEN an expression RegisterTaskDefinition would reject WHEN parsed THEN the error gives the reason and the fix
    with pytest.raises(ValueError) as error:
        cluster_query(expression)
    assert reason in str(error.value) and "Fix: subject operator [argument]" in str(error.value)


def test_the_renderer_placement_expressions_are_cluster_queries():
    # GIVEN the memberOf expressions the renderer writes for one family and for listed types
    from blueprints.fractional_renderer import placement_constraint

    # WHEN parsed THEN both are accepted
    for types in (("g6f.xlarge", "g6f.2xlarge"), ("g6.xlarge", "g5.xlarge")):
        assert cluster_query(placement_constraint(types))
