"""Review hints a blueprint records in its stack's JSON under the Terraform comment key `//`.

Terraform ignores `//` keys, so `generated/<stack>/cdk.tf.json` carries what the cost estimate and the
review need but cannot read off resources (typical hosts, idle-stop duty cycle, notes for the reviewer).
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

HINTS_KEY = "gpu_blueprints"
# A resource's own checkov skips: resource["//"]["checkov"]["skip"] = {check id: reason}. checkov's terraform_json
# framework ignores in-resource suppressions (bridgecrewio/checkov#4634), so sdk.review.policy applies these.
CHECKOV_SKIP_PATH = ("//", "checkov", "skip")


class GpuCapacityHint(BaseModel):
    """What one GPU Auto Scaling group runs, for the cost estimate and the review's capacity table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asg_address: str = Field(description="Terraform address of the ASG, e.g. aws_autoscaling_group.x (no default)")
    instance_types: tuple[str, ...] = Field(description="Ordered GPU instance types, first preferred (no default)")
    min_hosts: int = Field(
        description="Hosts running at the minimum: ASG min, or what the minimum tasks need (no default)"
    )
    typical_hosts: float = Field(description="Hosts running on average while the service is up (no default)")
    max_hosts: int = Field(description="Hosts at the most (the ASG max) (no default)")
    gpus_per_task: float = Field(description="GPU per task, a fraction on g6f/gr6f (no default)")
    tasks_per_host: int = Field(description="Tasks one host places (no default)")
    on_demand_base: int = Field(default=0, description="Hosts always on-demand (default 0)")
    spot_percent: int = Field(default=0, description="Spot share above the base, 0-100 (default 0)")
    duty_cycle: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1.0, description="Fraction of the month the typical hosts run (idle-stop queues < 1; default 1)"
    )
    warm_pool_hosts: int = Field(default=0, description="Stopped warm-pool instances (EBS cost only; default 0)")


class BlueprintHints(BaseModel):
    """What a blueprint tells the summary, the cost estimate and the review about itself (stored under the
    stack JSON's "//")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    blueprint: str = Field(description="Blueprint class name (no default)")
    gpu_capacity: tuple[GpuCapacityHint, ...] = Field(default=(), description="Its GPU groups (default none)")
    log_gb_per_month: float = Field(default=5.0, description="Assumed CloudWatch Logs ingestion (default 5 GB)")
    review_notes: tuple[str, ...] = Field(
        default=(), description="What the stack does and why, in the user's terms. Default none."
    )
    summary: tuple[str, ...] = Field(
        default=(), description="Extra lines for the synth summary, e.g. time to zero (default none)"
    )


def read_hints(tf_json: dict[str, Any]) -> dict[str, BlueprintHints]:
    """Hints per blueprint construct path, from a synthesized stack's JSON."""
    raw = tf_json.get("//", {}).get(HINTS_KEY, {})
    return {key: BlueprintHints.model_validate(value) for key, value in sorted(raw.items())}
