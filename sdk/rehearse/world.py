"""The world a stack expects: what it references but does not create, made in the emulator before the apply.

A stack may name a certificate, a VPC and its subnets, a WAF ACL, a KMS key, an SNS topic or a queue that live
outside it. The harness creates a stand-in for each in the emulator and points the stack at it through an override
of the attribute that names it (the stack's own JSON is not edited); each stand-in is reported.
"""

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sdk.tfjson import resources

ACCOUNT = "123456789012"  # moto's default account, the one STS GetCallerIdentity reports
ZONES = "abcdef"


@dataclass
class World:
    """Old reference -> stand-in, and one line per stand-in for the report."""

    substitutions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def override(self, tf: dict[str, Any]) -> dict[str, Any]:
        """Override entries for every top-level argument that names something of the world."""
        out: dict[str, Any] = {}
        for kind in ("resource", "data"):
            for type_, items in tf.get(kind, {}).items():
                for name, config in items.items():
                    changed = {k: self._swap(v) for k, v in config.items() if k != "//" and self._swap(v) != v}
                    if changed:
                        out.setdefault(kind, {}).setdefault(type_, {})[name] = changed
        return out

    def _swap(self, value: Any) -> Any:
        if isinstance(value, str):
            for old, new in self.substitutions.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [self._swap(v) for v in value]
        if isinstance(value, dict):
            return {k: self._swap(v) for k, v in value.items()}
        return value


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


PATTERNS: dict[str, re.Pattern[str]] = {
    "certificate": re.compile(r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9.\-]+"),
    "vpc": re.compile(r"\bvpc-[0-9a-f]{8,17}\b"),
    "subnet": re.compile(r"\bsubnet-[0-9a-f]{8,17}\b"),
    "web_acl": re.compile(r"arn:aws:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[A-Za-z0-9_-]+/[a-f0-9-]+"),
    "kms_key": re.compile(r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/[a-f0-9-]+"),
    "topic": re.compile(r"arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+"),
    "queue": re.compile(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+"),
}


def references(tf: dict[str, Any]) -> dict[str, list[str]]:
    """Each kind -> the distinct references of that kind, in order of appearance."""
    found: dict[str, list[str]] = {kind: [] for kind in PATTERNS}
    for text in strings({k: tf.get(k, {}) for k in ("resource", "data")}):
        for kind, pattern in PATTERNS.items():
            for match in pattern.findall(text):
                if match not in found[kind]:
                    found[kind].append(match)
    return found


def build_world(tf: dict[str, Any], region: str, client: Callable[[str], Any]) -> World:
    """Create a stand-in in the emulator for each external reference of the stack."""
    world = World()
    refs = references(tf)
    created = _created_names(tf)
    for arn in refs["certificate"]:
        new = client("acm").import_certificate(**_self_signed_certificate())["CertificateArn"]
        world.substitutions[arn] = new
        world.notes.append(f"certificate {arn.rsplit('/', 1)[-1]}: a self-signed certificate imported into ACM")
    for vpc in refs["vpc"]:
        _vpc_with_subnets(world, client("ec2"), region, vpc, refs["subnet"])
    for arn in refs["web_acl"]:
        name = arn.split("/")[-2]
        acl = client("wafv2").create_web_acl(
            Name=name,
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": name},
        )["Summary"]
        world.substitutions[arn] = acl["ARN"]
        world.notes.append(f"WAF web ACL {name}: an allow-all regional ACL")
    for arn in refs["kms_key"]:
        world.substitutions[arn] = client("kms").create_key(Description="rehearsal stand-in")["KeyMetadata"]["Arn"]
        world.notes.append(f"KMS key {arn.rsplit('/', 1)[-1]}: a new symmetric key")
    for arn in refs["topic"]:
        name = arn.rsplit(":", 1)[-1]
        if name not in created:
            client("sns").create_topic(Name=name)
            world.notes.append(f"SNS topic {name}: created")
    for arn in refs["queue"]:
        name = arn.rsplit(":", 1)[-1]
        if name not in created:
            client("sqs").create_queue(QueueName=name)
            world.notes.append(f"SQS queue {name}: created")
    return world


def _created_names(tf: dict[str, Any]) -> set[str]:
    return {
        str(config.get("name"))
        for type_ in ("aws_sns_topic", "aws_sqs_queue")
        for config in resources(tf, type_).values()
    }


def _vpc_with_subnets(world: World, ec2: Any, region: str, old_vpc: str, subnets: list[str]) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
    world.substitutions[old_vpc] = vpc
    for index, old in enumerate(subnets):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.200.{index * 16}.0/20", AvailabilityZone=f"{region}{ZONES[index % 3]}"
        )["Subnet"]["SubnetId"]
        world.substitutions[old] = subnet
    world.notes.append(f"VPC {old_vpc} with {len(subnets)} subnets over {min(len(subnets), 3)} AZs: created")


def _self_signed_certificate() -> dict[str, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rehearsal.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return {
        "Certificate": certificate.public_bytes(serialization.Encoding.PEM),
        "PrivateKey": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
