"""HTTPS ALB: TLS 1.3 listener with the given certificate, HTTP->HTTPS redirect, health-checked IP target
group, invalid headers dropped, access logs, deletion protection, ingress only from the allowed CIDRs."""

import ipaddress

from pydantic import Field, field_validator

from sdk.constructs.bucket import SecureBucket
from sdk.constructs.engine import (
    Construct,
    Lb,
    LbListener,
    LbTargetGroup,
    SecurityGroup,
    VpcSecurityGroupEgressRule,
    VpcSecurityGroupIngressRule,
    Wafv2WebAclAssociation,
)
from sdk.constructs.review_hints import skip_check
from sdk.constructs.stack import is_destroyable
from sdk.constructs.structs import new
from sdk.specs import ARN_ACCOUNT, ARN_PARTITION, ARN_REGION, UUID, Spec, cidr_block, shaped

HEALTH_CHECK_TIMEOUT_SECONDS = 5

# Regions opened before August 2022 deliver ALB logs from an ELB account; newer ones use the service principal.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-central-1": "054676820928",
    "ap-northeast-1": "582318560864",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "ca-central-1": "985666609251",
}


class AlbSpec(Spec):
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


def deletion_protection(scope: Construct, spec: AlbSpec) -> bool:
    """On, unless the stack is destroyable; a destroyable stack that explicitly asks for it is a contradiction."""
    if not is_destroyable(scope):
        return spec.deletion_protection
    if spec.deletion_protection and "deletion_protection" in spec.model_fields_set:
        raise ValueError(
            "alb.deletion_protection: True in a destroyable stack, which turns it off so terraform destroy can "
            "remove the ALB. Fix: drop alb.deletion_protection, or GpuStack(destroyable=False)."
        )
    return False


class LoadBalancer(Construct):
    """`.security_group`, `.alb`, `.target_group`, `.https_listener`, `.http_listener`, `.logs_bucket`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        spec: AlbSpec,
        vpc_id: str,
        subnet_ids: list[str],
        target_port: int,
        target_security_group_id: str,
        region: str,
    ) -> None:
        super().__init__(scope, id_)
        self.security_group = new(
            SecurityGroup,
            self,
            "alb_sg",
            name=f"{name}-alb",
            vpc_id=vpc_id,
            description=f"ALB of {name}: HTTPS/HTTP in from allowed CIDRs",
            tags={"Name": f"{name}-alb"},
        )
        for index, cidr in enumerate(spec.allowed_cidrs):
            for port in (443, 80):
                rule = new(
                    VpcSecurityGroupIngressRule,
                    self,
                    f"in_{port}_{index}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"port {port} from {cidr}",
                )
                if port == 80 and cidr == "0.0.0.0/0":
                    skip_check(rule, "CKV_AWS_260", "open port 80 serves only the HTTP->HTTPS 301 redirect listener")
        new(
            VpcSecurityGroupEgressRule,
            self,
            "to_tasks",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=target_port,
            to_port=target_port,
            referenced_security_group_id=target_security_group_id,
            description="to the tasks only",
        )
        self.logs_bucket = None
        logs_bucket = spec.access_logs_bucket
        if logs_bucket is None:
            self.logs_bucket = self._logs_bucket(name, spec, region)
            logs_bucket = self.logs_bucket.name
        self.alb = new(
            Lb,
            self,
            "alb",
            name=name,
            internal=spec.internal,
            load_balancer_type="application",
            security_groups=[self.security_group.id],
            subnets=subnet_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=deletion_protection(self, spec),
            idle_timeout=spec.idle_timeout_seconds,
            desync_mitigation_mode="defensive",
            access_logs={"bucket": logs_bucket, "prefix": name, "enabled": True},
            depends_on=[self.logs_bucket.policy] if self.logs_bucket else None,
        )
        self.target_group = new(
            LbTargetGroup,
            self,
            "target_group",
            name=name,
            port=target_port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=vpc_id,
            deregistration_delay=str(spec.deregistration_delay_seconds),
            health_check={
                "enabled": True,
                "path": spec.health_check_path,
                "matcher": spec.health_check_matcher,
                "interval": spec.health_check_interval_seconds,
                "healthy_threshold": spec.healthy_threshold,
                "unhealthy_threshold": spec.unhealthy_threshold,
                "timeout": HEALTH_CHECK_TIMEOUT_SECONDS,
                "protocol": "HTTP",
            },
        )
        self.https_listener = new(
            LbListener,
            self,
            "https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=spec.ssl_policy,
            certificate_arn=spec.certificate_arn,
            default_action=[{"type": "forward", "target_group_arn": self.target_group.arn}],
        )
        self.http_listener = new(
            LbListener,
            self,
            "http_redirect",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
            ],
        )
        if spec.waf_acl_arn:
            new(Wafv2WebAclAssociation, self, "waf", resource_arn=self.alb.arn, web_acl_arn=spec.waf_acl_arn)
        elif not spec.internal:
            skip_check(self.alb, "CKV2_AWS_28", "WAF is opt-in (AlbSpec.waf_acl_arn): a web ACL is a product decision")

    def _logs_bucket(self, name: str, spec: AlbSpec, region: str) -> SecureBucket:
        account = ELB_LOG_ACCOUNTS.get(region)
        principal = (
            {"AWS": f"arn:aws:iam::{account}:root"}
            if account
            else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
        )
        # ALB log delivery only writes to SSE-S3 (AES256) buckets: "The only server-side encryption option that's
        # supported is Amazon S3-managed keys (SSE-S3)" (docs.aws.amazon.com/elasticloadbalancing/latest/application/
        # enable-access-logging.html).
        bucket = SecureBucket(
            self,
            "access_logs",
            bucket_prefix=f"{name}-alb-logs-",
            expire_days=spec.access_logs_retention_days,
            sse="AES256",
            extra_statements=lambda arn: [
                {
                    "Sid": "AlbLogDelivery",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/{name}/AWSLogs/*",
                }
            ],
        )
        skip_check(bucket.bucket, "CKV_AWS_145", "ALB access-log delivery supports only SSE-S3 (AES256), not SSE-KMS")
        return bucket
