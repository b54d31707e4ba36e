"""User data for ECS GPU hosts: rendered from the jinja2 template by what the spec asks for."""

from sdk.constructs.gpu_capacity import render_user_data
from sdk.specs import CapacitySpec, ContainerSpec, WarmPoolSpec

IMAGE = ContainerSpec(
    image="123456789012.dkr.ecr.us-west-2.amazonaws.com/worker:7", gpu=0.125, cpu=1024, memory_mib=4096
)


def test_a_warm_pool_turns_on_the_warm_pool_check_and_prepulls_the_image_during_warm_up():
    # GIVEN a single-type capacity with a warm pool
    spec = CapacitySpec(instance_types=("g6f.xlarge",), warm_pool=WarmPoolSpec(min_size=1))
    # WHEN the user data is rendered
    text = render_user_data(cluster_name="render", spec=spec, prepull=[IMAGE])
    # THEN ECS checks the warm-pool state and the image is pulled (after an ECR login) only while warming
    assert "ECS_WARM_POOLS_CHECK=true" in text
    assert "Warmed:Stopped" in text
    assert "--password-stdin 123456789012.dkr.ecr.us-west-2.amazonaws.com" in text
    assert "docker pull 123456789012.dkr.ecr.us-west-2.amazonaws.com/worker:7" in text


def test_without_a_warm_pool_nothing_is_prepulled_and_the_check_is_off():
    text = render_user_data(cluster_name="c", spec=CapacitySpec(instance_types=("g5.xlarge",)), prepull=[IMAGE])
    assert "ECS_WARM_POOLS_CHECK" not in text and "docker pull" not in text
    assert text.startswith("#!/bin/bash\n") and "ECS_CLUSTER=c\n" in text


def test_g6f_large_hosts_get_vm_overcommit_memory_1():
    text = render_user_data(cluster_name="c", spec=CapacitySpec(instance_types=("g6f.large",)), prepull=[])
    assert "sysctl -w vm.overcommit_memory=1" in text
    other = render_user_data(cluster_name="c", spec=CapacitySpec(instance_types=("g6f.xlarge",)), prepull=[])
    assert "overcommit" not in other


def test_extra_agent_settings_are_appended_in_a_stable_order():
    spec = CapacitySpec(instance_types=("g5.xlarge",), ecs_agent_config={"ECS_LOGLEVEL": "debug", "ECS_A_FIRST": "1"})
    text = render_user_data(cluster_name="c", spec=spec, prepull=[])
    assert text.index("ECS_A_FIRST=1") < text.index("ECS_LOGLEVEL=debug")
