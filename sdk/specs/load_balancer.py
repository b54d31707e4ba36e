"""The HTTPS load balancer's spec: certificate, who may connect, target health checks, TLS policy, logs, WAF."""

import ipaddress

from pydantic import Field, field_validator

from sdk.specs import ARN_ACCOUNT, ARN_PARTITION, ARN_REGION, UUID, Spec, cidr_block, shaped

HEALTH_CHECK_TIMEOUT_SECONDS = 5


class AlbSpec(Spec):
    """The HTTPS Application Load Balancer in front of a service: certificate, allowed CIDRs, target health
    checks, TLS policy, access logs and an optional WAF web ACL."""

    certificate_arn: str = Field(description="ACM certificate ARN in the stack's region. Required.")
    allowed_cidrs: tuple[str, ...] = Field(
        min_length=1, description="Who may reach the ALB (no default: say 0.0.0.0/0 to mean the internet). Required."
    )
    internal: bool = Field(default=False, description="Internal ALB in private subnets. Default False (public).")
    health_check_path: str = Field(default="/healthz", description="Target health check path. Default /healthz.")
    health_check_matcher: str = Field(
        default="200", pattern=r"^\d{3}(-\d{3})?(,\d{3})*$", description="Healthy HTTP codes. Default 200."
    )
    health_check_interval_seconds: int = Field(default=15, ge=5, le=300, description="Default 15.")
    healthy_threshold: int = Field(default=2, ge=2, le=10, description="Default 2.")
    unhealthy_threshold: int = Field(default=3, ge=2, le=10, description="Default 3.")
    idle_timeout_seconds: int = Field(
        default=120, ge=1, le=4000, description="Connection idle timeout (long generations). Default 120."
    )
    deregistration_delay_seconds: int = Field(default=30, ge=0, le=3600, description="Default 30.")
    ssl_policy: str = Field(
        default="ELBSecurityPolicy-TLS13-1-2-2021-06",
        description="TLS policy (TLS 1.3 + 1.2). Default ELBSecurityPolicy-TLS13-1-2-2021-06.",
    )
    deletion_protection: bool = Field(default=True, description="Default True.")
    access_logs_bucket: str | None = Field(
        default=None, description="Existing bucket for access logs. Default None: created."
    )
    access_logs_retention_days: int = Field(default=90, ge=1, description="Created bucket's expiry. Default 90.")
    waf_acl_arn: str | None = Field(default=None, description="WAFv2 web ACL to associate. Default None.")

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str) -> str:
        # ACM certificate ids are UUIDs (ACM API reference, CertificateArn examples); IAM server certificates are
        # named by path (IAM API reference, ServerCertificateMetadata).
        acm = rf"{ARN_PARTITION}:acm:{ARN_REGION}:{ARN_ACCOUNT}:certificate/{UUID}"
        iam = rf"{ARN_PARTITION}:iam::{ARN_ACCOUNT}:server-certificate/[\w+=,.@/-]{{1,512}}"
        return shaped(
            value,
            f"{acm}|{iam}",
            "an ACM (or IAM server) certificate ARN",
            "the ARN of your certificate, arn:aws:acm:<region>:<12-digit account>:certificate/<uuid> "
            "(aws acm list-certificates)",
        )

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            if ipaddress.ip_network(cidr_block(cidr)).version == 6:
                raise ValueError(f"{cidr!r} is IPv6; the ALB is IPv4-only. Fix: an IPv4 block")
        return value

    @field_validator("waf_acl_arn")
    @classmethod
    def _waf(cls, value: str | None) -> str | None:
        # WAFv2 names: [\w-]{1,128}; ids: UUIDs (botocore wafv2 EntityName, EntityId). ALBs take REGIONAL ACLs only.
        pattern = rf"{ARN_PARTITION}:wafv2:{ARN_REGION}:{ARN_ACCOUNT}:regional/webacl/[\w-]{{1,128}}/{UUID}"
        fix = "arn:aws:wafv2:<region>:<12-digit account>:regional/webacl/<name>/<id> (a REGIONAL web ACL)"
        return value if value is None else shaped(value, pattern, "a regional WAFv2 web ACL ARN", fix)

    @field_validator("ssl_policy")
    @classmethod
    def _tls(cls, value: str) -> str:
        if not value.startswith(("ELBSecurityPolicy-TLS13-", "ELBSecurityPolicy-FS-1-2-", "ELBSecurityPolicy-TLS-1-2")):
            raise ValueError(f"{value!r} allows TLS below 1.2. Fix: ELBSecurityPolicy-TLS13-1-2-2021-06 (default)")
        return value

    @field_validator("health_check_interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        if value <= HEALTH_CHECK_TIMEOUT_SECONDS:
            raise ValueError(
                f"the ALB needs the interval longer than the {HEALTH_CHECK_TIMEOUT_SECONDS} s timeout. "
                f"Fix: {HEALTH_CHECK_TIMEOUT_SECONDS + 1} or more"
            )
        return value
