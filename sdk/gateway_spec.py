"""GatewaySpec: the job gateway of an IdleStopGpuQueue (no cdktf here; sdk/constructs/job_gateway.py builds it)."""

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sdk.grants import check_kms_key_arn
from sdk.jobs.gateway import MAX_URL_SECONDS, GatewaySettings
from sdk.specs import Spec, arn_parts, problems_to_error

NO_AUTH = "none_i_understand"
SCOPE_PATTERN = r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$"  # RFC 6749 scope-token: printable, no space, '"' or '\'


class GatewaySpec(Spec):
    """An HTTPS API (API Gateway HTTP API + a Lambda over sdk.jobs) to submit and follow jobs without boto3."""

    auth: Literal["jwt", "iam", "none_i_understand"] = Field(
        default="jwt",
        description="jwt: an OIDC issuer's access tokens (jwt_issuer + jwt_audience); iam: SigV4-signed requests; "
        f"{NO_AUTH!r}: anyone on the internet (only by this name). Default jwt.",
    )
    jwt_issuer: str | None = Field(
        default=None,
        description="OIDC issuer URL (https://, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>). "
        "Default None; required with auth='jwt'.",
    )
    jwt_audience: tuple[str, ...] = Field(
        default=(),
        description="Accepted `aud` (or Cognito `client_id`) values. Default (); at least one with auth='jwt'.",
    )
    submit_scope: str | None = Field(
        default="jobs/submit",
        description="JWT scope of POST /jobs, start and cancel. Default 'jobs/submit'; None: any valid token.",
    )
    read_scope: str | None = Field(
        default="jobs/read", description="JWT scope of GET /jobs/{id}. Default 'jobs/read'; None: any valid token."
    )
    rate_limit: float = Field(
        default=20, gt=0, le=10000, description="Stage-wide steady requests per second. Default 20."
    )
    burst_limit: int = Field(default=40, ge=1, le=5000, description="Stage-wide burst (requests). Default 40.")
    submit_rate_limit: float = Field(
        default=5, gt=0, le=10000, description="Steady POST /jobs requests per second. Default 5."
    )
    submit_burst_limit: int = Field(default=10, ge=1, le=5000, description="POST /jobs burst. Default 10.")
    quota: int = Field(default=100, ge=1, description="Jobs one caller may submit per quota window. Default 100.")
    quota_window_seconds: int = Field(default=3600, ge=60, description="The quota window. Default 3600 (1 h).")
    max_body_kib: int = Field(
        default=1024,
        ge=1,
        le=6000,
        description="Largest request body in KiB (inline inputs, base64); larger inputs use upload URLs. "
        "Default 1024 (Lambda's synchronous limit is 6 MB).",
    )
    url_seconds: int = Field(
        default=900, ge=60, le=MAX_URL_SECONDS, description="Presigned URL lifetime. Default 900 s."
    )
    reserved_concurrency: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Most concurrent handler invocations (reserved: bounds cost and the load on the table). "
        "Default 10.",
    )
    memory_mib: int = Field(default=256, ge=128, le=10240, description="Handler memory. Default 256 MiB.")
    log_retention_days: int = Field(default=90, ge=1, description="Access and handler log retention. Default 90.")
    log_kms_key_arn: str | None = Field(
        default=None,
        description="Customer KMS key of the two log groups (its policy must let logs.<region>.amazonaws.com use "
        "it). Default None: CloudWatch Logs' AWS-managed encryption, as the other log groups.",
    )
    domain_name: str | None = Field(
        default=None, description="Custom domain, e.g. jobs.example.com (with certificate_arn). Default None."
    )
    certificate_arn: str | None = Field(
        default=None, description="ACM certificate of domain_name in the stack's region. Default None."
    )
    errors_5xx_alarm_threshold: int = Field(
        default=5, ge=1, description="Alarm when more 5xx answers than this in 5 min. Default 5."
    )

    @field_validator("log_kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        return check_kms_key_arn(value)

    @field_validator("submit_scope", "read_scope")
    @classmethod
    def _scope(cls, value: str | None) -> str | None:
        if value is not None and not re.match(SCOPE_PATTERN, value):
            raise ValueError(f"{value!r} is not an OAuth scope token. Fix: e.g. 'jobs/submit' (no spaces or quotes)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "GatewaySpec":
        problems_to_error([*self._auth_problems(), *self._domain_problems()])
        return self

    def _auth_problems(self) -> list[str]:
        if self.auth != "jwt":
            given = [f for f in ("jwt_issuer", "jwt_audience") if getattr(self, f)]
            return [f"{f}: only used with auth='jwt' (auth is {self.auth!r}). Fix: drop {f}." for f in given]
        problems = []
        if not (self.jwt_issuer or "").startswith("https://"):
            problems.append(
                f"jwt_issuer: {self.jwt_issuer!r}; auth='jwt' needs the issuer's https:// URL. Fix: e.g. "
                "'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123' or 'https://<tenant>.auth0.com/'."
            )
        if not self.jwt_audience:
            problems.append("jwt_audience: auth='jwt' needs at least one audience. Fix: your API's identifier.")
        return problems

    def _domain_problems(self) -> list[str]:
        if (self.domain_name is None) != (self.certificate_arn is None):
            return ["domain_name, certificate_arn: give both or neither. Fix: the domain and its ACM certificate."]
        parts = arn_parts(self.certificate_arn) if self.certificate_arn else None
        if self.certificate_arn and (parts is None or parts[0] != "acm"):
            return [f"certificate_arn: {self.certificate_arn!r} is not an ACM certificate ARN. Fix: arn:aws:acm:..."]
        return []

    @property
    def uses_jwt(self) -> bool:
        return self.auth == "jwt"

    def settings(self) -> GatewaySettings:
        """The handler's limits (its GPU_JOBS_GATEWAY_* environment)."""
        return GatewaySettings(
            quota=self.quota,
            quota_window_seconds=self.quota_window_seconds,
            max_body_bytes=self.max_body_kib * 1024,
            url_seconds=self.url_seconds,
            submit_scope=self.submit_scope if self.uses_jwt else None,
            read_scope=self.read_scope if self.uses_jwt else None,
            allow_anonymous=self.auth == NO_AUTH,
        )
