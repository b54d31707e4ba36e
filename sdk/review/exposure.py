"""What a stack exposes to networks: listeners, security-group ingress, public IPs (with CIDRs) and API routes
(with their auth)."""

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdk.tfjson import referenced, resources

OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})

Kind = Literal["listener", "ingress", "public_ip", "api"]


class Exposure(BaseModel):
    """One way into a stack from outside it: a listener, an ingress rule, a public IP or an API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind = Field(description="listener, ingress, public_ip or api (no default)")
    address: str = Field(description="Terraform address of the resource that opens it (no default)")
    detail: str = Field(description="Port/protocol and target, in words (no default)")
    sources: tuple[str, ...] = Field(default=(), description="CIDRs or groups allowed (default none)")
    public: bool = Field(default=False, description="Reachable from the internet (default False)")

    @property
    def open_to_world(self) -> bool:
        return bool(OPEN_CIDRS & set(self.sources))

    @property
    def key(self) -> str:
        """Identity across two versions of a stack, to tell new exposure from existing."""
        return f"{self.kind}|{self.address}|{self.detail}|{','.join(sorted(self.sources))}"


def _ref(value: Any) -> str:
    """'${aws_security_group.x.id}' -> 'aws_security_group.x' for reading."""
    text = str(value)
    return re.sub(r"\$\{([A-Za-z0-9_.-]+?)\.(id|arn)\}", r"\1", text)


def _ports(rule: dict[str, Any], protocol_key: str) -> str:
    protocol = str(rule.get(protocol_key, "-1"))
    if protocol in ("-1", "all"):
        return "all traffic"
    low, high = rule.get("from_port"), rule.get("to_port")
    return f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"


def _listeners(tf_json: dict[str, Any]) -> Iterator[Exposure]:
    lbs = resources(tf_json, "aws_lb")
    for name, listener in resources(tf_json, "aws_lb_listener").items():
        internal = all(lbs.get(lb, {}).get("internal", False) for lb in referenced(listener, "aws_lb")) and bool(
            referenced(listener, "aws_lb")
        )
        actions = ", ".join(str(a.get("type")) for a in listener.get("default_action", []))
        yield Exposure(
            kind="listener",
            address=f"aws_lb_listener.{name}",
            detail=f"{listener.get('protocol', 'HTTP')} {listener.get('port')} on "
            f"{'internal' if internal else 'internet-facing'} ALB -> {actions}",
            public=not internal,
        )


def _sources(rule: dict[str, Any], cidr_keys: tuple[str, ...], group_keys: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for key in cidr_keys:
        value = rule.get(key)
        out += value if isinstance(value, list) else [value] if value else []
    for key in group_keys:
        value = rule.get(key)
        out += [_ref(v) for v in (value if isinstance(value, list) else [value] if value else [])]
    return tuple(out)


def _rule(address: str, detail: str, sources: tuple[str, ...]) -> Exposure:
    return Exposure(
        kind="ingress", address=address, detail=detail, sources=sources, public=bool(OPEN_CIDRS & set(sources))
    )


def _ingress(tf_json: dict[str, Any]) -> Iterator[Exposure]:
    for name, group in resources(tf_json, "aws_security_group").items():
        for rule in group.get("ingress", []):
            yield _rule(
                f"aws_security_group.{name}",
                _ports(rule, "protocol"),
                _sources(rule, ("cidr_blocks", "ipv6_cidr_blocks"), ("security_groups",)),
            )
    for name, rule in resources(tf_json, "aws_vpc_security_group_ingress_rule").items():
        yield _rule(
            f"aws_vpc_security_group_ingress_rule.{name}",
            f"{_ports(rule, 'ip_protocol')} into {_ref(rule.get('security_group_id'))}",
            _sources(rule, ("cidr_ipv4", "cidr_ipv6", "prefix_list_id"), ("referenced_security_group_id",)),
        )
    for name, rule in resources(tf_json, "aws_security_group_rule").items():
        if rule.get("type") == "ingress":
            yield _rule(
                f"aws_security_group_rule.{name}",
                f"{_ports(rule, 'protocol')} into {_ref(rule.get('security_group_id'))}",
                _sources(rule, ("cidr_blocks", "ipv6_cidr_blocks"), ("source_security_group_id",)),
            )


def _public_ips(tf_json: dict[str, Any]) -> Iterator[Exposure]:
    for name, subnet in resources(tf_json, "aws_subnet").items():
        if subnet.get("map_public_ip_on_launch"):
            yield Exposure(
                kind="public_ip",
                address=f"aws_subnet.{name}",
                detail=f"instances launched in {subnet.get('cidr_block')} get a public IP",
                public=True,
            )
    for name, template in resources(tf_json, "aws_launch_template").items():
        if any(
            str(n.get("associate_public_ip_address")).lower() == "true" for n in template.get("network_interfaces", [])
        ):
            yield Exposure(
                kind="public_ip",
                address=f"aws_launch_template.{name}",
                detail="hosts get a public IP (network_interfaces.associate_public_ip_address)",
                public=True,
            )
    for name, lb in resources(tf_json, "aws_lb").items():
        if not lb.get("internal", False):
            yield Exposure(
                kind="public_ip",
                address=f"aws_lb.{name}",
                detail=f"internet-facing load balancer in {len(lb.get('subnets', []))} subnet(s)",
                public=True,
            )


def _route_auth(route: dict[str, Any], authorizers: dict[str, Any]) -> str:
    kind = str(route.get("authorization_type", "NONE"))
    if kind == "JWT":
        (name,) = referenced(route, "aws_apigatewayv2_authorizer") or {""}
        jwt = authorizers.get(name, {}).get("jwt_configuration", {})
        scopes = ", ".join(route.get("authorization_scopes", [])) or "any scope"
        return f"JWT from {jwt.get('issuer')} (audience {', '.join(jwt.get('audience', []))}; {scopes})"
    return {"AWS_IAM": "IAM (SigV4)", "NONE": "no auth: anyone"}.get(kind, kind)


def _apis(tf_json: dict[str, Any]) -> Iterator[Exposure]:
    """HTTP API routes: API Gateway endpoints are on the internet; what guards each is its auth."""
    apis, authorizers = resources(tf_json, "aws_apigatewayv2_api"), resources(tf_json, "aws_apigatewayv2_authorizer")
    for name, route in resources(tf_json, "aws_apigatewayv2_route").items():
        (api,) = referenced(route, "aws_apigatewayv2_api") or {""}
        yield Exposure(
            kind="api",
            address=f"aws_apigatewayv2_route.{name}",
            detail=f"HTTPS {route.get('route_key')} on API {apis.get(api, {}).get('name', api)}: "
            f"{_route_auth(route, authorizers)}",
            sources=("0.0.0.0/0",),
            public=True,
        )


def exposures(tf_json: dict[str, Any]) -> tuple[Exposure, ...]:
    """Every listener, ingress rule, public IP and API route of a stack."""
    return (*_listeners(tf_json), *_ingress(tf_json), *_public_ips(tf_json), *_apis(tf_json))
