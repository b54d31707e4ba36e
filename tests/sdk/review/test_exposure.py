"""Exposure summary: every listener, ingress rule and public IP, checked against the stack's resources."""

from sdk.review.exposure import exposures
from sdk.tfjson import resources


def test_every_listener_and_ingress_rule_of_the_public_example_is_listed(public_stack):
    # GIVEN the public example
    items = exposures(public_stack)
    # WHEN listeners and ingress rules are collected
    listed = {i.address for i in items}
    # THEN each aws_lb_listener and aws_vpc_security_group_ingress_rule appears once by address
    for resource_type in ("aws_lb_listener", "aws_vpc_security_group_ingress_rule"):
        for name in resources(public_stack, resource_type):
            assert f"{resource_type}.{name}" in listed


def test_the_public_example_opens_443_and_80_to_the_world_and_nothing_else(public_stack):
    # GIVEN the public example's ingress rules
    ingress = resources(public_stack, "aws_vpc_security_group_ingress_rule").values()
    rules = {r["from_port"]: r for r in ingress if r.get("cidr_ipv4") == "0.0.0.0/0"}
    # WHEN exposure is summarized
    world = [i for i in exposures(public_stack) if i.open_to_world]
    # THEN the world-open items are exactly those rules, on 443 and 80, and flagged public
    assert sorted(rules) == [80, 443]
    assert sorted(i.detail.split(" into ")[0] for i in world) == ["tcp 443", "tcp 80"]
    assert all(i.public for i in world)


def test_internal_example_listeners_are_internal_and_ingress_comes_from_private_ranges(internal_stack):
    # GIVEN the internal example
    items = exposures(internal_stack)
    # WHEN its listeners and ingress are read
    listeners = [i for i in items if i.kind == "listener"]
    # THEN no listener or rule is public, and every CIDR is a private range or a security group
    assert listeners and all("internal ALB" in i.detail and not i.public for i in listeners)
    assert not any(i.public for i in items)
    for item in (i for i in items if i.kind == "ingress"):
        assert all(s.startswith(("10.", "aws_security_group.")) for s in item.sources), item


def test_inline_ingress_public_subnets_and_public_ip_templates_are_found():
    # GIVEN an inline SSH rule from anywhere, a public subnet and a launch template with a public IP
    stack = {
        "resource": {
            "aws_security_group": {
                "ssh": {"ingress": [{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}
            },
            "aws_subnet": {"pub": {"cidr_block": "10.0.0.0/24", "map_public_ip_on_launch": True}},
            "aws_launch_template": {"lt": {"network_interfaces": [{"associate_public_ip_address": "true"}]}},
        }
    }
    # WHEN exposure is summarized
    by_address = {i.address: i for i in exposures(stack)}
    # THEN all three are public, and the SSH rule names its port and world CIDR
    assert by_address["aws_security_group.ssh"].detail == "tcp 22"
    assert by_address["aws_security_group.ssh"].open_to_world
    assert by_address["aws_subnet.pub"].public and by_address["aws_launch_template.lt"].public


def test_each_api_route_is_public_exposure_that_names_its_auth():
    # GIVEN an HTTP API with a JWT route (scoped), an IAM route and an open route
    tf = {
        "resource": {
            "aws_apigatewayv2_api": {"api": {"name": "q-jobs-gateway"}},
            "aws_apigatewayv2_authorizer": {
                "jwt": {"jwt_configuration": {"issuer": "https://issuer.example.com/", "audience": ["aud-1"]}}
            },
            "aws_apigatewayv2_route": {
                "submit": {
                    "api_id": "${aws_apigatewayv2_api.api.id}",
                    "route_key": "POST /jobs",
                    "authorization_type": "JWT",
                    "authorizer_id": "${aws_apigatewayv2_authorizer.jwt.id}",
                    "authorization_scopes": ["jobs/submit"],
                },
                "signed": {
                    "api_id": "${aws_apigatewayv2_api.api.id}",
                    "route_key": "GET /x",
                    "authorization_type": "AWS_IAM",
                },
                "open": {
                    "api_id": "${aws_apigatewayv2_api.api.id}",
                    "route_key": "GET /health",
                    "authorization_type": "NONE",
                },
            },
        }
    }
    # WHEN its exposure is listed
    found = {e.address: e for e in exposures(tf) if e.kind == "api"}
    # THEN every route is public, and each says who may call it
    assert all(e.public for e in found.values()) and len(found) == 3
    assert found["aws_apigatewayv2_route.submit"].detail == (
        "HTTPS POST /jobs on API q-jobs-gateway: JWT from https://issuer.example.com/ (audience aud-1; jobs/submit)"
    )
    assert found["aws_apigatewayv2_route.signed"].detail.endswith(": IAM (SigV4)")
    assert found["aws_apigatewayv2_route.open"].detail.endswith(": no auth: anyone")
