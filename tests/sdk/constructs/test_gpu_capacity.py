"""User data for ECS GPU hosts: rendered from the jinja2 template by what the spec asks for."""

import json
import re
from typing import Any

import cdktf
import pytest

from sdk.constructs.gpu_capacity import LAUNCH_HOOK, GpuCapacity, prepull_images, render_user_data
from sdk.constructs.stack import GpuStack
from sdk.specs import CapacitySpec, WarmPoolSpec

IMAGE = "123456789012.dkr.ecr.us-west-2.amazonaws.com/worker:7"


def user_data(spec: CapacitySpec, prepull: list[str] | None = None, cluster: str = "c") -> str:
    images = prepull_images(spec, prepull or [])
    return render_user_data(cluster_name=cluster, asg_name="c-gpu", spec=spec, region="us-west-2", images=images)


def test_a_warm_pool_turns_on_the_warm_pool_check_and_prepulls_the_image_during_warm_up():
    # GIVEN a single-type capacity with a warm pool and one extra image to pull
    spec = CapacitySpec(
        instance_types=("g6f.xlarge",), warm_pool=WarmPoolSpec(min_size=1, prepull_images=("public.ecr.aws/x/y:1",))
    )
    # WHEN the user data is rendered
    text = user_data(spec, [IMAGE], cluster="render")
    # THEN ECS checks the warm-pool state, and a unit run on every boot pulls the images (after an ECR login)
    # only while warming, then completes the launch lifecycle action of this group
    assert "ECS_WARM_POOLS_CHECK=true" in text
    assert "== Warmed:* ]]" in text
    assert "--password-stdin 123456789012.dkr.ecr.us-west-2.amazonaws.com" in text
    assert text.index(f"docker pull {IMAGE}") < text.index("docker pull public.ecr.aws/x/y:1")
    assert text.count("docker login") == 1
    complete = re.search(r"^aws autoscaling complete-lifecycle-action .*$", text, re.M)
    assert complete is not None
    assert f"--lifecycle-hook-name {LAUNCH_HOOK}" in complete.group(0)
    assert "--auto-scaling-group-name c-gpu" in complete.group(0) and "--region us-west-2" in complete.group(0)
    assert "WantedBy=multi-user.target" in text and "systemctl enable gpu-blueprints-launch.service" in text


def test_without_a_warm_pool_nothing_is_prepulled_and_the_check_is_off():
    text = user_data(CapacitySpec(instance_types=("g5.xlarge",)), [IMAGE])
    assert "ECS_WARM_POOLS_CHECK" not in text and "docker pull" not in text and "lifecycle" not in text
    assert text.startswith("#!/bin/bash\n") and "ECS_CLUSTER=c\n" in text


def test_g6f_large_hosts_get_vm_overcommit_memory_1():
    assert "sysctl -w vm.overcommit_memory=1" in user_data(CapacitySpec(instance_types=("g6f.large",)))
    assert "overcommit" not in user_data(CapacitySpec(instance_types=("g6f.xlarge",)))


def test_extra_agent_settings_are_appended_in_a_stable_order():
    spec = CapacitySpec(instance_types=("g5.xlarge",), ecs_agent_config={"ECS_LOGLEVEL": "debug", "ECS_A_FIRST": "1"})
    text = user_data(spec)
    assert text.index("ECS_A_FIRST=1") < text.index("ECS_LOGLEVEL=debug")


@pytest.mark.parametrize(
    "spec",
    [
        CapacitySpec(instance_types=("g6f.large",), warm_pool=WarmPoolSpec(), ecs_agent_config={"ECS_LOGLEVEL": "x"}),
        CapacitySpec(instance_types=("g5.xlarge", "g6.xlarge")),
    ],
)
def test_user_data_holds_nothing_terraform_would_read_as_an_escape_or_a_template(spec):
    # cdktf's rawString escapes quotes and ${ but not a backslash or %{: the script must not need them
    text = user_data(spec, [IMAGE])
    assert "\\" not in text and "%{" not in text and "${" not in text


def synth_asg(spec: CapacitySpec) -> dict[str, Any]:
    stack = GpuStack(cdktf.Testing.app(), "cap", region="us-west-2")
    GpuCapacity(
        stack,
        "gpu",
        name="svc",
        cluster_name="svc",
        spec=spec,
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        max_hosts=4,
        region="us-west-2",
    )
    [asg] = json.loads(cdktf.Testing.synth(stack))["resource"]["aws_autoscaling_group"].values()
    return asg


@pytest.mark.parametrize("min_hosts", [0, 2])
def test_terraform_never_waits_for_gpu_capacity_that_ecs_managed_scaling_owns(min_hosts):
    # GIVEN a group that must hold hosts at once (min_hosts 2) or none
    # WHEN it is synthesized
    asg = synth_asg(CapacitySpec(instance_types=("g5.xlarge", "g6.xlarge"), min_hosts=min_hosts))
    # THEN the provider skips its capacity wait (one failed launch would fail the apply and taint the group),
    # the minimum stays what the spec asks and desired capacity is left to ECS
    assert asg["wait_for_capacity_timeout"] == "0"
    assert asg["min_size"] == min_hosts and asg["max_size"] == 4
    assert "desired_capacity" not in asg and asg["lifecycle"]["ignore_changes"] == ["desired_capacity"]
