"""GPU metrics of the hosts (no cdktf): what the CloudWatch agent on each GPU host collects, the agent config that
says so, and how many custom metrics that publishes.

The agent's `nvidia_gpu` input publishes each measurement `m` as `nvidia_smi_<m>` with the dimensions index, name
and host (AWS CloudWatch user guide, CloudWatch-Agent-NVIDIA-GPU.html); `append_dimensions` adds InstanceId (from
IMDS) and AutoScalingGroupName (from ec2:DescribeTags) and drops host (aws/amazon-cloudwatch-agent
plugins/processors/ec2tagger/ec2tagger.go); `aggregation_dimensions` [["AutoScalingGroupName"]] publishes each
measurement once more per group, with that dimension only: the series the alarms and scaling read.
"""

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The agent's Linux nvidia_smi measurements (aws/amazon-cloudwatch-agent
# translator/translate/metrics/config/registered_metrics.go).
NvidiaMeasurement = Literal[
    "utilization_gpu",
    "utilization_memory",
    "utilization_encoder",
    "utilization_decoder",
    "temperature_gpu",
    "power_draw",
    "fan_speed",
    "memory_total",
    "memory_used",
    "memory_free",
    "pcie_link_gen_current",
    "pcie_link_width_current",
    "encoder_stats_session_count",
    "encoder_stats_average_fps",
    "encoder_stats_average_latency",
    "clocks_current_graphics",
    "clocks_current_sm",
    "clocks_current_memory",
    "clocks_current_video",
]
# utilization_memory is memory *bandwidth* activity, not occupancy: memory used % is memory_used / memory_total.
DEFAULT_MEASUREMENTS: tuple[NvidiaMeasurement, ...] = (
    "utilization_gpu",
    "memory_used",
    "memory_total",
    "temperature_gpu",
    "power_draw",
)
GROUP_DIMENSION = "AutoScalingGroupName"
# Under an ASG's "//" in the synthesized JSON: {"namespace", "measurements"} for the cost estimate.
GPU_METRICS_KEY = "gpu_metrics"
AGENT_CONFIG_PATH = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
# The agent flushes its buffer to PutMetricData once a minute (force_flush_interval default 60 s), 1000 datums a call.
PUT_REQUESTS_PER_HOST_MONTH = 60 * 730
_NAMESPACE = re.compile(r"^[A-Za-z0-9 ._/#:-]{1,255}$")


class GpuMetricsSpec(BaseModel):
    """A spec like sdk.specs.Spec (frozen, no extra fields; no cross-field checks to collect), on BaseModel because
    sdk.specs imports it for CapacitySpec.gpu_metrics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        default=True,
        description="CloudWatch agent on every GPU host publishing GPU utilisation, memory, temperature and power "
        "per GPU and per Auto Scaling group (custom metrics: ~$0.30 per metric-month each, in the cost table). "
        "Default True.",
    )
    namespace: str = Field(
        default="GpuBlueprints",
        description="CloudWatch namespace of the GPU metrics (the hosts may write only this one). Default "
        "GpuBlueprints.",
    )
    interval_seconds: int = Field(
        default=60,
        ge=10,
        le=60,
        description="Seconds between samples, 10-60 (alarms and scaling read 1-minute periods; below 60 the agent "
        "publishes high-resolution metrics). Default 60.",
    )
    extra_measurements: tuple[NvidiaMeasurement, ...] = Field(
        default=(),
        description="nvidia_gpu measurements beyond utilization_gpu, memory_used, memory_total, temperature_gpu and "
        "power_draw (each one more custom metric per GPU and per group). Default none.",
    )

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _NAMESPACE.match(value) or value.startswith("AWS/"):
            raise ValueError(
                f"{value!r} is not a custom CloudWatch namespace. Fix: letters, digits, spaces and . _ / # : -, at "
                "most 255, not starting with AWS/ (e.g. GpuBlueprints)"
            )
        return value

    @property
    def measurements(self) -> tuple[NvidiaMeasurement, ...]:
        return tuple(dict.fromkeys((*DEFAULT_MEASUREMENTS, *self.extra_measurements)))


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
