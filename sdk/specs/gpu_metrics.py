"""GpuMetricsSpec: which GPU metrics the CloudWatch agent on each GPU host publishes (no cdktf; the agent config
and metric names are sdk.gpu_metrics)."""

import re
from typing import Literal

from pydantic import Field, field_validator

from sdk.specs.base import Spec

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
_NAMESPACE = re.compile(r"^[A-Za-z0-9 ._/#:-]{1,255}$")


class GpuMetricsSpec(Spec):
    """GPU metrics of the hosts: the CloudWatch agent on every GPU host publishing nvidia_smi measurements per GPU
    and per Auto Scaling group (sdk.gpu_metrics writes the agent's config, docs/gpu_metrics.md)."""

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
