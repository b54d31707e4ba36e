"""DeploymentSpec: how an AlbInferenceService rolls out a new task definition (no construct code).

ECS-native strategies (provider 6.25.0 `aws_ecs_service.deployment_configuration.strategy`: ROLLING, BLUE_GREEN,
CANARY, LINEAR). Bounds are the provider's (hashicorp/terraform-provider-aws internal/service/ecs/service.go:
bake times 0-1440 minutes, canary_percent 0.1-100, step_percent 3-100).
"""

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sdk.deployments import peak_percent, traffic_shift_minutes
from sdk.specs import Spec, cidr_block, problems_to_error

Strategy = Literal["rolling", "blue_green", "canary", "linear"]

# The fields each strategy reads; one set on another strategy is a mistake the spec names.
STRATEGY_FIELDS: dict[str, tuple[str, ...]] = {
    "rolling": (),
    "blue_green": ("bake_time_minutes",),
    "canary": ("bake_time_minutes", "canary_percent", "canary_bake_minutes"),
    "linear": ("bake_time_minutes", "step_percent", "step_bake_minutes"),
}
TRAFFIC_SHIFT_FIELDS = ("test_listener_port", "test_listener_cidrs")
DEFAULT_BAKE_MINUTES = 15


class DeploymentSpec(Spec):
    """The deployment strategy: rolling (in place, circuit breaker with rollback) or an ECS blue/green, canary or
    linear deployment that starts a full green fleet beside the blue one and shifts the ALB's traffic to it."""

    strategy: Strategy = Field(
        default="rolling",
        description="rolling, blue_green, canary or linear. Default rolling (the circuit breaker rolls back).",
    )
    bake_time_minutes: int | None = Field(
        default=None,
        ge=0,
        le=1440,
        description="Minutes both fleets stay up after all traffic is on green, for an instant rollback "
        "(blue_green/canary/linear). Default None: 15.",
    )
    canary_percent: float | None = Field(
        default=None, ge=0.1, le=100, description="Traffic share the canary gets first (canary). Default None: 10."
    )
    canary_bake_minutes: int | None = Field(
        default=None, ge=0, le=1440, description="Minutes at the canary share (canary). Default None: 10."
    )
    step_percent: float | None = Field(
        default=None, ge=3, le=100, description="Traffic share added per step (linear). Default None: 25."
    )
    step_bake_minutes: int | None = Field(
        default=None, ge=0, le=1440, description="Minutes between steps (linear). Default None: 5."
    )
    test_listener_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="HTTPS port of a test listener that reaches the green fleet before it takes traffic "
        "(not rolling). Default None: no test listener.",
    )
    test_listener_cidrs: tuple[str, ...] = Field(
        default=(),
        description="Who may reach the test listener (never 0.0.0.0/0). Default (): required with test_listener_port.",
    )
    rollback_on_alarms: bool | None = Field(
        default=None,
        description="Roll back when the service's 5xx, p95 latency or unhealthy-target alarm fires. "
        "Default None: on for blue_green/canary/linear, off for rolling (the circuit breaker still applies).",
    )

    @field_validator("test_listener_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            cidr_block(cidr)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "DeploymentSpec":
        problems_to_error([*self._strategy_problems(), *self._test_listener_problems()])
        return self

    def _strategy_problems(self) -> list[str]:
        allowed = STRATEGY_FIELDS[self.strategy] + (() if self.strategy == "rolling" else TRAFFIC_SHIFT_FIELDS)
        # A field at its default is not set, so a dumped spec validates again (model_dump writes every field).
        stray = [
            f
            for f in self.model_fields_set
            if f not in (*allowed, "strategy", "rollback_on_alarms")
            and getattr(self, f) != type(self).model_fields[f].default
        ]
        return [
            f"deployment.{field}: a {self.strategy} deployment does not read it. Fix: drop it, or set a strategy "
            f"that does ({', '.join(s for s, fields in STRATEGY_FIELDS.items() if field in fields) or 'not rolling'})."
            for field in sorted(stray)
        ]

    def _test_listener_problems(self) -> list[str]:
        if self.test_listener_port is None:
            return []
        if self.test_listener_port in (80, 443):
            return ["deployment.test_listener_port: 80 and 443 are the production listeners. Fix: e.g. 8443."]
        if not self.test_listener_cidrs:
            return ["deployment.test_listener_cidrs: empty. Fix: the CIDRs of your testers, e.g. ('10.0.0.0/8',)."]
        if any(ipaddress.ip_network(cidr_block(c)).prefixlen == 0 for c in self.test_listener_cidrs):
            return [
                "deployment.test_listener_cidrs: 0.0.0.0/0 opens untested revisions to the internet. "
                "Fix: your testers' CIDRs."
            ]
        return []

    @property
    def shifts_traffic(self) -> bool:
        """True for blue_green, canary and linear: a second target group and the ALB's rule move the traffic."""
        return self.strategy != "rolling"

    @property
    def alarm_rollback(self) -> bool:
        return self.shifts_traffic if self.rollback_on_alarms is None else self.rollback_on_alarms

    @property
    def peak_percent(self) -> int:
        """Tasks at the deployment's peak, percent of desired: the rolling surge, or blue plus a full green fleet."""
        return peak_percent(self.strategy.upper())

    @property
    def bake(self) -> int:
        return DEFAULT_BAKE_MINUTES if self.bake_time_minutes is None else self.bake_time_minutes

    @property
    def canary(self) -> tuple[float, int]:
        return (self.canary_percent or 10.0, 10 if self.canary_bake_minutes is None else self.canary_bake_minutes)

    @property
    def linear(self) -> tuple[float, int]:
        return (self.step_percent or 25.0, 5 if self.step_bake_minutes is None else self.step_bake_minutes)

    @property
    def both_fleets_minutes(self) -> int:
        """Minutes from green's first traffic to the end of the bake: how long both fleets run."""
        return traffic_shift_minutes(
            self.strategy.upper(),
            bake=self.bake,
            canary=self.canary if self.strategy == "canary" else None,
            linear=self.linear if self.strategy == "linear" else None,
        )
