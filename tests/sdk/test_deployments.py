"""sdk.deployments: a service's deployment peak and both-fleets time, read from the synthesized stack."""

import copy
import json

import pytest

from sdk.deployments import deployment_peaks, peak_percent, traffic_shift_minutes
from sdk.tfjson import stack_file
from tests.sdk.review.conftest import GENERATED


def _stack(name: str) -> dict:
    return json.loads(stack_file(GENERATED, name).read_text(encoding="utf-8"))


def test_each_service_is_traced_to_the_asg_its_capacity_provider_scales_with_its_strategy_and_peak():
    # GIVEN the committed examples: blue/green on sdxl-public, canary on llm-internal, rolling on comfyui-queue
    rows = {name: deployment_peaks(_stack(name)) for name in ("sdxl-public", "llm-internal", "comfyui-queue")}
    # THEN each names its ASG, its strategy, twice its most tasks at the peak and how long both fleets run
    seen = {
        name: [(p.asg.split(".")[0], p.strategy, p.max_tasks, p.peak_tasks, p.both_fleets_minutes) for p in r]
        for name, r in rows.items()
    }
    assert seen == {
        "sdxl-public": [("aws_autoscaling_group", "BLUE_GREEN", 6, 12, 15)],
        "llm-internal": [("aws_autoscaling_group", "CANARY", 4, 8, 20)],
        "comfyui-queue": [("aws_autoscaling_group", "ROLLING", 4, 8, 0)],
    }
    # AND the derived ASG maxima hold them
    assert all(p.fits for r in rows.values() for p in r)


def test_a_rolling_service_with_a_smaller_surge_needs_fewer_hosts_than_a_blue_green_one():
    # GIVEN the canary example turned into a rolling deployment with a 150% surge
    stack = copy.deepcopy(_stack("llm-internal"))
    service = next(iter(stack["resource"]["aws_ecs_service"].values()))
    del service["deployment_configuration"]
    service["deployment_maximum_percent"] = 150
    # WHEN its peak is read
    (peak,) = deployment_peaks(stack)
    # THEN it is 150% of 4 tasks on 6 hosts, no time with two fleets
    assert (peak.strategy, peak.peak_tasks, peak.hosts_needed, peak.both_fleets_minutes) == ("ROLLING", 6, 6, 0)


@pytest.mark.parametrize(
    ("strategy", "kwargs", "minutes", "percent"),
    [
        ("ROLLING", {"bake": 15}, 0, 200),
        ("BLUE_GREEN", {"bake": 15}, 15, 200),
        ("CANARY", {"bake": 10, "canary": (10.0, 5)}, 15, 200),
        ("LINEAR", {"bake": 0, "linear": (20.0, 3)}, 12, 200),
    ],
)
def test_both_fleets_run_for_the_traffic_steps_and_the_bake(strategy, kwargs, minutes, percent):
    # GIVEN a strategy and its timings WHEN read THEN both fleets run for the steps' waits plus the bake
    assert traffic_shift_minutes(strategy, **kwargs) == minutes
    assert peak_percent(strategy) == percent
