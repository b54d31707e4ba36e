"""Task fit against the catalog: memory is checked against what ECS registers, not the nominal size."""

import pytest

from sdk import sizing
from sdk.catalog import CATALOG
from sdk.specs import ContainerSpec
from sdk.validation import task_fit_problems

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
