"""GPU metrics of the hosts (no cdktf): what the CloudWatch agent on each GPU host collects, the agent config that
says so, and how many custom metrics that publishes.

The agent's `nvidia_gpu` input publishes each measurement `m` as `nvidia_smi_<m>` with the dimensions index, name
and host (AWS CloudWatch user guide, CloudWatch-Agent-NVIDIA-GPU.html); `append_dimensions` adds InstanceId (from
IMDS) and AutoScalingGroupName (from ec2:DescribeTags) and drops host (aws/amazon-cloudwatch-agent
plugins/processors/ec2tagger/ec2tagger.go); `aggregation_dimensions` [["AutoScalingGroupName"]] publishes each
measurement once more per group, with that dimension only: the series the alarms and scaling read.
"""

import json
from typing import Any

# The spec lives with the other specs (sdk.specs imports it for CapacitySpec.gpu_metrics); its names stay here too.
from sdk.specs.gpu_metrics import DEFAULT_MEASUREMENTS, GpuMetricsSpec, NvidiaMeasurement

__all__ = ["DEFAULT_MEASUREMENTS", "GpuMetricsSpec", "NvidiaMeasurement"]

GROUP_DIMENSION = "AutoScalingGroupName"
# Under an ASG's "//" in the synthesized JSON: {"namespace", "measurements"} for the cost estimate.
GPU_METRICS_KEY = "gpu_metrics"
AGENT_CONFIG_PATH = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
# The agent flushes its buffer to PutMetricData once a minute (force_flush_interval default 60 s), 1000 datums a call.
PUT_REQUESTS_PER_HOST_MONTH = 60 * 730


def metric_name(measurement: NvidiaMeasurement) -> str:
    """The CloudWatch metric name the agent publishes a measurement under."""
    return f"nvidia_smi_{measurement}"


def agent_config(spec: GpuMetricsSpec) -> dict[str, Any]:
    """The CloudWatch agent's JSON configuration: GPU metrics only (no logs, no host CPU/memory)."""
    return {
        "agent": {"metrics_collection_interval": spec.interval_seconds},
        "metrics": {
            "namespace": spec.namespace,
            "append_dimensions": {
                "InstanceId": "${aws:InstanceId}",
                GROUP_DIMENSION: "${aws:AutoScalingGroupName}",
            },
            "aggregation_dimensions": [[GROUP_DIMENSION]],
            "metrics_collected": {
                "nvidia_gpu": {
                    "measurement": list(spec.measurements),
                    "metrics_collection_interval": spec.interval_seconds,
                }
            },
        },
    }


def agent_config_json(spec: GpuMetricsSpec) -> str:
    return json.dumps(agent_config(spec), sort_keys=True, separators=(",", ":"))


def custom_metric_months(measurements: int, hosts: float, gpus_per_host: int) -> float:
    """Custom metrics a group publishes while `hosts` hosts run on average: each measurement per GPU, plus its
    group aggregate while any host runs (CloudWatch prorates metrics by the hour they are published)."""
    return measurements * (hosts * gpus_per_host + min(hosts, 1.0))
