"""GPU metric helpers: the group's GPU metrics, the GPU memory and temperature alarms, and the customized metric a
target-tracking policy can scale on."""

import json

import sdk.constructs  # noqa: F401  (points jsii at a supported Node before cdktf starts it)
from sdk.constructs.engine import Testing
from sdk.constructs.gpu_capacity import GpuCapacity
from sdk.constructs.gpu_metrics import gpu_alarms, host_endpoints, utilisation_metric
from sdk.constructs.observability import AlarmTopic
from sdk.constructs.scaling import ServiceScaling
from sdk.constructs.stack import GpuStack
from sdk.gpu_metrics import GpuMetricsSpec
from sdk.specs import AlarmsSpec, CapacitySpec

TOPIC = "arn:aws:sns:us-west-2:123456789012:pager"


def alarms_for(metrics: GpuMetricsSpec) -> dict[str, dict]:
    stack = GpuStack(Testing.app(), "s", region="us-west-2")
    capacity = GpuCapacity(
        stack,
        "gpu",
        name="svc",
        cluster_name="svc",
        spec=CapacitySpec(instance_types=("g6.xlarge",), gpu_metrics=metrics),
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        max_hosts=2,
        region="us-west-2",
    )
    topic = AlarmTopic(
        stack, "topic", name="svc", spec=AlarmsSpec(sns_topic_arn=TOPIC), region="us-west-2", account_id="1"
    )
    gpu_alarms(stack, capacity, name="svc", topic=topic)
    alarms = json.loads(Testing.synth(stack))["resource"].get("aws_cloudwatch_metric_alarm", {})
    return {a["alarm_name"]: a for a in alarms.values()}


def test_gpu_memory_and_temperature_alarms_read_the_groups_aggregate_and_page_the_topic():
    # GIVEN a capacity publishing into Team/Gpu and an alarm topic
    # WHEN its GPU alarms are added
    alarms = alarms_for(GpuMetricsSpec(namespace="Team/Gpu"))
    memory, temperature = alarms["svc-gpu-memory"], alarms["svc-gpu-temperature"]
    # THEN the memory alarm is the fullest GPU's memory against the smallest GPU's total, over 90% for 5 minutes
    queries = {q["id"]: q for q in memory["metric_query"]}
    assert queries["used"]["metric"]["metric_name"] == "nvidia_smi_memory_used"
    assert queries["used"]["metric"]["stat"] == "Maximum" and queries["total"]["metric"]["stat"] == "Minimum"
    assert {q["metric"]["namespace"] for k, q in queries.items() if k != "memory_percent"} == {"Team/Gpu"}
    assert queries["total"]["metric"]["dimensions"] == {"AutoScalingGroupName": "svc-gpu"}
    assert queries["memory_percent"]["expression"] == "100 * FILL(used, 0) / FILL(total, 0)"
    assert (memory["threshold"], memory["evaluation_periods"], memory["datapoints_to_alarm"]) == (90, 5, 5)
    # AND the temperature alarm is the hottest GPU of the group above 85 C for 5 minutes
    assert (temperature["namespace"], temperature["metric_name"]) == ("Team/Gpu", "nvidia_smi_temperature_gpu")
    assert temperature["dimensions"] == {"AutoScalingGroupName": "svc-gpu"} and temperature["statistic"] == "Maximum"
    assert temperature["threshold"] == 85
    # AND both page the topic, and no data (no host, or a vGPU guest without a reading) is not breaching
    for alarm in (memory, temperature):
        assert alarm["alarm_actions"] == [TOPIC] and alarm["treat_missing_data"] == "notBreaching"


def test_a_capacity_without_gpu_metrics_gets_no_gpu_alarms_and_needs_no_endpoint():
    # GIVEN GPU metrics turned off
    spec = GpuMetricsSpec(enabled=False)
    # WHEN its GPU alarms and host endpoints are asked for
    # THEN there are none (an alarm on a metric nobody publishes would never fire)
    assert alarms_for(spec) == {} and host_endpoints(spec) == ()
    assert host_endpoints(GpuMetricsSpec()) == ("monitoring",)


def test_a_service_can_track_the_groups_average_gpu_utilisation_as_a_customized_metric():
    # GIVEN a service's scaling target
    stack = GpuStack(Testing.app(), "s", region="us-west-2")
    scaling = ServiceScaling(
        stack, "scaling", cluster_name="c", service_name="svc", min_tasks=1, max_tasks=4, depends_on=[]
    )
    # WHEN it tracks 60% average GPU utilisation of group svc-gpu
    scaling.target_tracking("gpu", name="svc-gpu", metric=utilisation_metric(GpuMetricsSpec(), "svc-gpu"), target=60)
    (policy,) = json.loads(Testing.synth(stack))["resource"]["aws_appautoscaling_policy"].values()
    config = policy["target_tracking_scaling_policy_configuration"]
    # THEN the policy reads the group aggregate's average, not a predefined metric
    assert config["target_value"] == 60 and "predefined_metric_specification" not in config
    assert config["customized_metric_specification"] == {
        "namespace": "GpuBlueprints",
        "metric_name": "nvidia_smi_utilization_gpu",
        "statistic": "Average",
        "dimensions": [{"name": "AutoScalingGroupName", "value": "svc-gpu"}],
    }
