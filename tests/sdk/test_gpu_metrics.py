"""GPU metrics spec and agent config: the CloudWatch agent's nvidia_gpu section, our namespace, the group
aggregate, and how many custom metrics a group publishes."""

import pytest
from pydantic import ValidationError

from sdk.gpu_metrics import (
    DEFAULT_MEASUREMENTS,
    GpuMetricsSpec,
    agent_config,
    custom_metric_months,
    metric_name,
)
from sdk.specs import CapacitySpec


def test_a_capacity_publishes_gpu_metrics_by_default_into_our_own_namespace_every_minute():
    # GIVEN a capacity spec that says nothing about metrics
    spec = CapacitySpec(instance_types=("g5.xlarge",)).gpu_metrics
    # WHEN its metrics spec is read
    # THEN metrics are on (the safe choice), in namespace GpuBlueprints, sampled every 60 s
    assert (spec.enabled, spec.namespace, spec.interval_seconds) == (True, "GpuBlueprints", 60)
    assert spec.measurements == DEFAULT_MEASUREMENTS


def test_the_agent_config_collects_the_gpu_measurements_per_instance_and_per_group():
    # GIVEN the default spec plus one extra measurement (and a default one repeated)
    spec = GpuMetricsSpec(namespace="Team/Gpu", interval_seconds=30, extra_measurements=("fan_speed", "power_draw"))
    # WHEN the agent config is built
    metrics = agent_config(spec)["metrics"]
    # THEN nvidia_gpu collects each measurement once, at the interval, into our namespace, with InstanceId and
    # AutoScalingGroupName appended and one aggregate per group
    gpu = metrics["metrics_collected"]["nvidia_gpu"]
    assert gpu["measurement"] == [
        "utilization_gpu",
        "memory_used",
        "memory_total",
        "temperature_gpu",
        "power_draw",
        "fan_speed",
    ]
    assert gpu["metrics_collection_interval"] == 30 and metrics["namespace"] == "Team/Gpu"
    assert metrics["append_dimensions"] == {
        "InstanceId": "${aws:InstanceId}",
        "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
    }
    assert metrics["aggregation_dimensions"] == [["AutoScalingGroupName"]]
    # AND the names CloudWatch shows are the agent's nvidia_smi_<measurement>
    assert metric_name("utilization_gpu") == "nvidia_smi_utilization_gpu"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("namespace", "AWS/EC2"),
        ("namespace", "gpu{metrics}"),
        ("interval_seconds", 300),
        ("extra_measurements", ("gpu",)),
    ],
)
def test_a_bad_metrics_spec_is_refused_naming_the_field(field, value):
    # GIVEN a metrics spec with one bad field
    # WHEN it is validated
    with pytest.raises(ValidationError) as error:
        GpuMetricsSpec(**{field: value})
    # THEN one error names that field
    assert [e["loc"][0] for e in error.value.errors()] == [field]


def test_a_namespace_error_says_how_to_fix_it():
    # GIVEN a namespace CloudWatch reserves for AWS
    # WHEN it is validated
    with pytest.raises(ValidationError, match="Fix: letters, digits"):
        GpuMetricsSpec(namespace="AWS/Gpu")
    # THEN the error says what a namespace may be


def test_a_group_publishes_each_measurement_per_gpu_plus_one_aggregate_while_a_host_runs():
    # GIVEN 5 measurements
    # WHEN 3 hosts of 4 GPUs, half a host on average, or no host run
    # THEN 5 x (12 + 1), 5 x (0.5 + 0.5) and nothing are published
    assert custom_metric_months(5, 3, 4) == 65
    assert custom_metric_months(5, 0.5, 1) == 5
    assert custom_metric_months(5, 0, 1) == 0
