"""GPU metrics in the stack: the host permissions and VPC endpoint the CloudWatch agent needs, the group metrics
(average GPU utilisation, fullest GPU memory %, hottest GPU) and the alarms and scaling built on them.

The agent config itself is sdk.gpu_metrics (no cdktf); GpuCapacity installs it."""

from typing import TYPE_CHECKING, Any

from sdk.constructs.engine import CloudwatchMetricAlarm, Construct
from sdk.constructs.metrics import Metric, metric_math
from sdk.constructs.observability import AlarmTopic, alarm
from sdk.gpu_metrics import GROUP_DIMENSION, GpuMetricsSpec, NvidiaMeasurement, metric_name

if TYPE_CHECKING:
    from sdk.constructs.gpu_capacity import GpuCapacity

METRICS_ENDPOINT = "monitoring"
MEMORY_ALARM_PERCENT = 90
TEMPERATURE_ALARM_CELSIUS = 85


def host_statements(spec: GpuMetricsSpec) -> list[dict[str, Any]]:
    """What the agent needs for GPU metrics, not AWS's broad CloudWatchAgentServerPolicy (logs, X-Ray, SSM).
    PutMetricData has no resource ARN: it is scoped by the cloudwatch:namespace condition key (CloudWatch user
    guide, iam-cw-condition-keys-namespace.html). The AutoScalingGroupName dimension comes from ec2:DescribeTags
    (aws/amazon-cloudwatch-agent plugins/processors/ec2tagger/ec2tagger.go), which has no resource-level scoping."""
    if not spec.enabled:
        return []
    return [
        {
            "Sid": "GpuMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": spec.namespace}},
        },
        {"Sid": "GpuMetricsGroupName", "Effect": "Allow", "Action": ["ec2:DescribeTags"], "Resource": "*"},
    ]


def host_endpoints(spec: GpuMetricsSpec) -> tuple[str, ...]:
    """Interface endpoints the hosts need where the network creates endpoints (PutMetricData goes to monitoring)."""
    return (METRICS_ENDPOINT,) if spec.enabled else ()


def group_metric(spec: GpuMetricsSpec, asg_name: str, measurement: NvidiaMeasurement, stat: str) -> Metric:
    """A measurement over every GPU of one Auto Scaling group (the agent's aggregation_dimensions series)."""
    return Metric(spec.namespace, metric_name(measurement), {GROUP_DIMENSION: asg_name}, stat)


def utilisation_metric(spec: GpuMetricsSpec, asg_name: str) -> Metric:
    """The group's average GPU utilisation, percent: a target for ServiceScaling.target_tracking(metric=...)."""
    return group_metric(spec, asg_name, "utilization_gpu", "Average")


def memory_used_percent(spec: GpuMetricsSpec, asg_name: str) -> list[dict[str, Any]]:
    """The fullest GPU's memory against the smallest GPU's total, percent: exact for one GPU type, on the safe side
    for a mix of types."""
    metrics = {
        "used": group_metric(spec, asg_name, "memory_used", "Maximum"),
        "total": group_metric(spec, asg_name, "memory_total", "Minimum"),
    }
    return metric_math(metrics, "100 * {used} / {total}", id_="memory_percent", label="GPU memory used %")


def temperature_metric(spec: GpuMetricsSpec, asg_name: str) -> Metric:
    """The hottest GPU of the group, degrees Celsius."""
    return group_metric(spec, asg_name, "temperature_gpu", "Maximum")


def gpu_alarms(
    scope: Construct,
    capacity: "GpuCapacity",
    *,
    name: str,
    topic: AlarmTopic,
    memory_percent: float = MEMORY_ALARM_PERCENT,
    temperature_celsius: float = TEMPERATURE_ALARM_CELSIUS,
) -> dict[str, CloudwatchMetricAlarm]:
    """GPU memory headroom and GPU temperature alarms of one capacity (none when its metrics are off). No data
    (no host running, or a metric a vGPU guest does not report) is not breaching."""
    spec, asg = capacity.gpu_metrics, capacity.asg_name
    if not spec.enabled:
        return {}
    return {
        "gpu_memory": alarm(
            scope,
            "gpu_memory",
            name=f"{name}-gpu-memory",
            topic=topic,
            description=f"A GPU has used more than {memory_percent:g}% of its memory for 5 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=memory_percent,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            metric_query=memory_used_percent(spec, asg),
        ),
        "gpu_temperature": alarm(
            scope,
            "gpu_temperature",
            name=f"{name}-gpu-temperature",
            topic=topic,
            description=f"A GPU has run above {temperature_celsius:g} C for 5 minutes",
            metric=temperature_metric(spec, asg),
            period=60,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            threshold=temperature_celsius,
            comparison_operator="GreaterThanThreshold",
        ),
    }
