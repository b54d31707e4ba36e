"""HTTPS ALB: TLS 1.3 listener with the given certificate, HTTP->HTTPS redirect, health-checked IP target
group, invalid headers dropped, access logs, deletion protection, ingress only from the allowed CIDRs."""

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
from sdk.specs.load_balancer import HEALTH_CHECK_TIMEOUT_SECONDS, AlbSpec

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
