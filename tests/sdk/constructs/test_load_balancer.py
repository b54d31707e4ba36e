"""LoadBalancer: the checkov skips it carries sit only on the resources that fail those checks by design."""

from typing import Any

import pytest
from pydantic import ValidationError

from sdk.constructs.load_balancer import LoadBalancer
from sdk.review.policy import resource_skips
from sdk.specs.load_balancer import AlbSpec
from tests.sdk.constructs.test_review_hints import synth

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55"
WAF = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/6a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def alb_skips(tmp_path, **spec: Any) -> dict[str, set[str]]:
    """Resource type -> check ids skipped on resources of that type."""

    def build(stack):
        LoadBalancer(
            stack,
            "alb",
            name="svc",
            spec=AlbSpec(certificate_arn=CERTIFICATE, **spec),
            vpc_id="vpc-1",
            subnet_ids=["subnet-1", "subnet-2"],
            target_port=8080,
            target_security_group_id="sg-1",
            region="us-east-1",
        )

    found: dict[str, set[str]] = {}
    for address, checks in resource_skips(synth(tmp_path, build)).items():
        found.setdefault(address.split(".")[0], set()).update(checks)
    return found


def test_a_public_alb_open_to_the_world_skips_waf_port_80_and_kms_on_its_own_resources(tmp_path):
    # GIVEN an internet-facing ALB open to 0.0.0.0/0 without a WAF ACL, with the log bucket it creates
    # WHEN synthesized
    found = alb_skips(tmp_path, allowed_cidrs=("0.0.0.0/0",))
    # THEN the ALB skips WAF, the port-80 rule skips CKV_AWS_260 and the log bucket skips SSE-KMS: nothing else
    assert found == {
        "aws_lb": {"CKV2_AWS_28"},
        "aws_vpc_security_group_ingress_rule": {"CKV_AWS_260"},
        "aws_s3_bucket": {"CKV_AWS_145"},
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"allowed_cidrs": ("10.0.0.0/8",), "internal": True}, {"aws_s3_bucket": {"CKV_AWS_145"}}),
        ({"allowed_cidrs": ("198.51.100.0/24",), "waf_acl_arn": WAF}, {"aws_s3_bucket": {"CKV_AWS_145"}}),
        ({"allowed_cidrs": ("203.0.113.0/24",), "access_logs_bucket": "central-logs"}, {"aws_lb": {"CKV2_AWS_28"}}),
    ],
    ids=["internal", "with-waf", "own-log-bucket-and-narrow-cidr"],
)
def test_an_alb_skips_only_what_it_fails(tmp_path, spec, expected):
    # GIVEN an internal ALB, a public one with WAF, or a public one without WAF logging to an existing bucket
    # WHEN synthesized
    found = alb_skips(tmp_path, **spec)
    # THEN no WAF skip where WAF is attached or the ALB is internal, no port-80 skip without 0.0.0.0/0, and the
    # SSE-KMS skip only on a bucket the construct created
    assert found == expected


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:server-certificate/prod/www.example.com",
        "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55",
        "${TfToken[TOKEN.12]}",
    ],
)
def test_an_iam_server_certificate_another_partition_or_a_token_is_a_certificate(arn):
    # GIVEN a certificate by IAM path, in GovCloud, or from a resource in the same stack
    # WHEN the ALB spec is built THEN it is accepted as given
    assert AlbSpec(certificate_arn=arn, allowed_cidrs=("10.0.0.0/8",)).certificate_arn == arn


def test_an_ipv6_block_is_refused_because_the_alb_is_ipv4_only():
    # GIVEN an IPv6 block WHEN the ALB spec is built THEN it is refused with the fix
    with pytest.raises(ValidationError) as error:
        AlbSpec(certificate_arn=CERTIFICATE, allowed_cidrs=("2001:db8::/32",))
    assert "allowed_cidrs" in str(error.value) and "IPv4-only. Fix: an IPv4 block" in str(error.value)


def test_traffic_shift_without_a_test_port_adds_a_second_group_and_one_rule_and_opens_nothing(tmp_path):
    # GIVEN an internal ALB whose service shifts traffic without a test listener
    from sdk.tfjson import resources

    def build(stack):
        lb = LoadBalancer(
            stack,
            "alb",
            name="svc",
            spec=AlbSpec(certificate_arn=CERTIFICATE, allowed_cidrs=("10.0.0.0/8",), internal=True),
            vpc_id="vpc-1",
            subnet_ids=["subnet-1", "subnet-2"],
            target_port=8080,
            target_security_group_id="sg-1",
            region="us-east-1",
        )
        shift = lb.traffic_shift(test_port=None, test_cidrs=())
        assert shift.test_listener_rule is None and lb.test_listener is None

    stack = synth(tmp_path, build)
    # THEN a second target group and one rule on the HTTPS listener, and no ingress beyond 80/443
    groups = resources(stack, "aws_lb_target_group")
    assert sorted(g["name"] for g in groups.values()) == ["svc", "svc-alt"]
    (rule,) = resources(stack, "aws_lb_listener_rule").values()
    assert "alb_https" in rule["listener_arn"] and rule["priority"] == 1
    ports = sorted(r["from_port"] for r in resources(stack, "aws_vpc_security_group_ingress_rule").values())
    assert ports == [80, 443]
    # AND only the alternate group skips the HTTP-protocol check (the primary passes it through its listener)
    skips = {address: checks for address, checks in resource_skips(stack).items() if "target_group" in address}
    assert [set(c) for c in skips.values()] == [{"CKV_AWS_378"}] and "alternate_target_group" in next(iter(skips))
