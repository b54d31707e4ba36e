"""HTTPS ALB: TLS 1.3 listener with the given certificate, HTTP->HTTPS redirect, health-checked IP target
group, invalid headers dropped, access logs, deletion protection, ingress only from the allowed CIDRs."""

from dataclasses import dataclass

from sdk.constructs.bucket import SecureBucket
from sdk.constructs.engine import (
    Construct,
    Lb,
    LbListener,
    LbListenerRule,
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


@dataclass(frozen=True)
class TrafficShift:
    """The ARNs an ECS service's `load_balancer.advanced_configuration` names."""

    alternate_target_group_arn: str
    production_listener_rule: str
    test_listener_rule: str | None


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
    """`.security_group`, `.alb`, `.target_group`, `.https_listener`, `.http_listener`, `.logs_bucket`;
    after `traffic_shift(...)`, `.alternate_target_group` and `.test_listener` (else None)."""

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
        self._name, self._spec, self._vpc_id, self._target_port = name, spec, vpc_id, target_port
        self.alternate_target_group: LbTargetGroup | None = None
        self.test_listener: LbListener | None = None
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
                rule = self._ingress(f"in_{port}_{index}", port, cidr, f"port {port}")
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
        self.target_group = self._target_group("target_group", name)
        self.https_listener = self._https_listener("https", 443)
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

    def _https_listener(self, id_: str, port: int) -> LbListener:
        return new(
            LbListener,
            self,
            id_,
            load_balancer_arn=self.alb.arn,
            port=port,
            protocol="HTTPS",
            ssl_policy=self._spec.ssl_policy,
            certificate_arn=self._spec.certificate_arn,
            default_action=[{"type": "forward", "target_group_arn": self.target_group.arn}],
        )

    def _ingress(self, id_: str, port: int, cidr: str, what: str) -> VpcSecurityGroupIngressRule:
        return new(
            VpcSecurityGroupIngressRule,
            self,
            id_,
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            description=f"{what} from {cidr}",
        )

    def _target_group(self, id_: str, name: str) -> LbTargetGroup:
        return new(
            LbTargetGroup,
            self,
            id_,
            name=name,
            port=self._target_port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=self._vpc_id,
            deregistration_delay=str(self._spec.deregistration_delay_seconds),
            health_check={
                "enabled": True,
                "path": self._spec.health_check_path,
                "matcher": self._spec.health_check_matcher,
                "interval": self._spec.health_check_interval_seconds,
                "healthy_threshold": self._spec.healthy_threshold,
                "unhealthy_threshold": self._spec.unhealthy_threshold,
                "timeout": HEALTH_CHECK_TIMEOUT_SECONDS,
                "protocol": "HTTP",
            },
        )

    def traffic_shift(self, *, test_port: int | None, test_cidrs: tuple[str, ...]) -> "TrafficShift":
        """What an ECS blue/green, canary or linear deployment moves traffic with (ECS developer guide,
        alb-resources-for-blue-green.html): an alternate target group and listener rules that forward to both
        groups, which ECS reweights; with `test_port`, an HTTPS test listener only `test_cidrs` reach."""
        self.alternate_target_group = self._target_group("alternate_target_group", f"{self._name}-alt")
        skip_check(
            self.alternate_target_group,
            "CKV_AWS_378",
            "HTTP to the tasks inside the VPC, as the primary group: clients reach it only through the HTTPS "
            "listeners' rules, which checkov's listener connection does not follow",
        )
        production = self._shifted_rule("production_rule", self.https_listener.arn)
        test_rule = None
        if test_port is not None:
            self.test_listener = self._https_listener("test", test_port)
            for index, cidr in enumerate(test_cidrs):
                self._ingress(f"in_test_{index}", test_port, cidr, "test listener")
            test_rule = self._shifted_rule("test_rule", self.test_listener.arn)
        return TrafficShift(
            alternate_target_group_arn=self.alternate_target_group.arn,
            production_listener_rule=production.arn,
            test_listener_rule=test_rule.arn if test_rule else None,
        )

    def _shifted_rule(self, id_: str, listener_arn: str) -> LbListenerRule:
        # ECS rewrites the weights during a deployment, so Terraform leaves the action as ECS left it.
        assert self.alternate_target_group is not None
        groups = [
            {"arn": self.target_group.arn, "weight": 100},
            {"arn": self.alternate_target_group.arn, "weight": 0},
        ]
        return new(
            LbListenerRule,
            self,
            id_,
            listener_arn=listener_arn,
            priority=1,
            condition=[{"path_pattern": {"values": ["/*"]}}],
            action=[{"type": "forward", "forward": {"target_group": groups}}],
            lifecycle={"ignore_changes": ["action"]},
        )

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
