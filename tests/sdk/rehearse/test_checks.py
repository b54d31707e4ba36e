"""Read-back checks of the rehearsal that have no example-wide test of their own: HTTP API routes and stages."""

from typing import Any

import boto3

from sdk.rehearse.checks import http_apis


def deployed_api() -> tuple[dict[str, Any], dict[str, Any]]:
    """An HTTP API with a JWT route and a throttled stage in the emulator, and the tf + state that describe it."""
    api = boto3.client("apigatewayv2")
    api_id = api.create_api(Name="rehearse-gw", ProtocolType="HTTP")["ApiId"]
    authorizer = api.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com/", "Audience": ["a"]},
    )["AuthorizerId"]
    route = api.create_route(
        ApiId=api_id,
        RouteKey="POST /jobs",
        AuthorizationType="JWT",
        AuthorizerId=authorizer,
        AuthorizationScopes=["jobs/submit"],
    )["RouteId"]
    api.create_stage(
        ApiId=api_id,
        StageName="$default",
        DefaultRouteSettings={"ThrottlingRateLimit": 20.0, "ThrottlingBurstLimit": 40},
        RouteSettings={"POST /jobs": {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 10}},
    )
    tf = {"resource": {"aws_apigatewayv2_route": {"r": {}}, "aws_apigatewayv2_stage": {"s": {}}}}
    state = {
        "aws_apigatewayv2_route.r": {
            "api_id": api_id,
            "id": route,
            "authorization_type": "JWT",
            "authorization_scopes": ["jobs/submit"],
        },
        "aws_apigatewayv2_stage.s": {
            "api_id": api_id,
            "name": "$default",
            "default_route_settings": [{"throttling_rate_limit": 20, "throttling_burst_limit": 40}],
            "route_settings": [{"route_key": "POST /jobs", "throttling_rate_limit": 5, "throttling_burst_limit": 10}],
        },
    }
    return tf, state


def test_routes_and_stage_throttles_read_back_as_emitted_and_a_difference_is_named(aws_env):
    # GIVEN an API deployed as its state says
    tf, state = deployed_api()
    # WHEN read back THEN both checks pass
    assert list(http_apis(tf, state, boto3.client)) == [
        ("aws_apigatewayv2_route.r", None),
        ("aws_apigatewayv2_stage.s", None),
    ]
    # WHEN the state expects other scopes and a tighter submit throttle THEN each check names what differs
    state["aws_apigatewayv2_route.r"]["authorization_scopes"] = ["jobs/read"]
    state["aws_apigatewayv2_stage.s"]["route_settings"][0]["throttling_rate_limit"] = 1
    problems = dict(http_apis(tf, state, boto3.client))
    assert "jobs/read" in str(problems["aws_apigatewayv2_route.r"])
    assert "throttles" in str(problems["aws_apigatewayv2_stage.s"])
