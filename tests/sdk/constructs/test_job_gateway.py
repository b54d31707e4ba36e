"""JobGateway: HTTP API, routes with their auth and scopes, stage throttles and access logs, the Lambda, alarms."""

import json
from typing import Any

import pytest

from sdk import lambda_zip
from sdk.constructs.engine import Testing
from sdk.constructs.job_gateway import JobGateway
from sdk.constructs.stack import GpuStack
from sdk.gateway_spec import GatewaySpec
from sdk.jobs.gateway import ROUTES, GatewaySettings

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123"
SUBMITTER = "arn:aws:iam::123456789012:policy/team-submitter"
TOPIC = "arn:aws:sns:us-east-1:123456789012:team-alarms"
BUCKET_ARN = "arn:aws:s3:::team-jobs-x"


def synth(**spec: Any) -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "g", region="us-east-1")
    JobGateway(
        stack,
        "gateway",
        name="team",
        spec=GatewaySpec(**{"jwt_issuer": ISSUER, "jwt_audience": ("client-1",), **spec}),
        region="us-east-1",
        queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/team-jobs",
        table_name="team-jobs",
        bucket_name="team-jobs-x",
        bucket_arn=BUCKET_ARN,
        prefix="jobs/",
        submitter_policy_arn=SUBMITTER,
        alarm_topic_arn=TOPIC,
    )
    return json.loads(Testing.synth(stack))


def one(tf: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = tf["resource"][kind].values()
    return resource


def routes(tf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["route_key"]: r for r in tf["resource"]["aws_apigatewayv2_route"].values()}


@pytest.fixture(scope="module")
def jwt() -> dict[str, Any]:
    return synth()


def test_every_handler_route_is_an_api_route_with_the_jwt_authorizer_and_its_scope(jwt):
    # GIVEN the default spec (JWT) WHEN synthesized
    found = routes(jwt)
    # THEN the routes are the handler's; submit routes need the submit scope, reads the read scope, health is open
    assert set(found) == set(ROUTES)
    assert found["POST /jobs"]["authorization_scopes"] == ["jobs/submit"]
    assert found["DELETE /jobs/{id}"]["authorization_scopes"] == ["jobs/submit"]
    assert found["GET /jobs/{id}"]["authorization_scopes"] == ["jobs/read"]
    assert {r["authorization_type"] for k, r in found.items() if k != "GET /health"} == {"JWT"}
    assert found["GET /health"]["authorization_type"] == "NONE"
    authorizer = one(jwt, "aws_apigatewayv2_authorizer")
    assert authorizer["jwt_configuration"] == {"issuer": ISSUER, "audience": ["client-1"]}
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    assert one(jwt, "aws_apigatewayv2_api")["protocol_type"] == "HTTP"


def test_the_stage_throttles_by_default_and_submits_tighter_and_logs_the_caller(jwt):
    stage = one(jwt, "aws_apigatewayv2_stage")
    assert stage["name"] == "$default" and stage["auto_deploy"] is True
    assert (
        stage["default_route_settings"]["throttling_rate_limit"],
        stage["default_route_settings"]["throttling_burst_limit"],
    ) == (20, 40)
    assert {
        (s["route_key"], s["throttling_rate_limit"], s["throttling_burst_limit"]) for s in stage["route_settings"]
    } == {
        ("POST /jobs", 5, 10),
        ("POST /jobs/{id}/start", 5, 10),
    }
    log_format = json.loads(stage["access_log_settings"]["format"])
    assert log_format["caller"] == "$context.authorizer.claims.sub"
    assert log_format["principal"] == "$context.identity.userArn"
    groups = {g["name"]: g for g in jwt["resource"]["aws_cloudwatch_log_group"].values()}
    assert set(groups) == {"/aws/apigateway/team-jobs-gateway", "/aws/lambda/team-jobs-gateway"}


def test_the_lambda_runs_the_packaged_handler_with_bounded_concurrency_and_the_settings_env(jwt):
    function = one(jwt, "aws_lambda_function")
    assert function["handler"] == "sdk.jobs.gateway.handler"
    assert function["filename"] == lambda_zip.gateway_zip_name()
    assert function["source_code_hash"] == lambda_zip.zip_hash()
    assert function["reserved_concurrent_executions"] == 10
    env = function["environment"]["variables"]
    assert env["GPU_JOBS_TABLE"] == "team-jobs" and env["GPU_JOBS_PREFIX"] == "jobs/"
    settings = GatewaySettings.from_env(env)
    assert (settings.submit_scope, settings.read_scope, settings.allow_anonymous) == ("jobs/submit", "jobs/read", False)
    integration = one(jwt, "aws_apigatewayv2_integration")
    assert integration["payload_format_version"] == "2.0" and integration["integration_type"] == "AWS_PROXY"
    permission = one(jwt, "aws_lambda_permission")
    assert permission["principal"] == "apigateway.amazonaws.com" and permission["source_arn"].endswith("/*/*")


def test_the_role_is_the_submitter_policy_plus_its_logs_and_reading_uploads(jwt):
    assert one(jwt, "aws_iam_role_policy_attachment")["policy_arn"] == SUBMITTER
    role = one(jwt, "aws_iam_role")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    statements = json.loads(one(jwt, "aws_iam_role_policy")["policy"])["Statement"]
    assert {s["Sid"]: s["Action"] for s in statements} == {
        "Logs": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "CheckUploads": ["s3:GetObject"],
    }
    assert statements[1]["Resource"] == [f"{BUCKET_ARN}/jobs/*/inputs/*"]


def test_alarms_on_5xx_and_throttles_notify_the_topic(jwt):
    alarms = {a["alarm_name"]: a for a in jwt["resource"]["aws_cloudwatch_metric_alarm"].values()}
    assert set(alarms) == {"team-gateway-5xx", "team-gateway-throttled"}
    assert (
        alarms["team-gateway-5xx"]["metric_name"] == "5xx"
        and alarms["team-gateway-5xx"]["namespace"] == "AWS/ApiGateway"
    )
    assert alarms["team-gateway-throttled"]["metric_name"] == "Throttles"
    assert all(a["alarm_actions"] == [TOPIC] for a in alarms.values())
    assert jwt["output"]["gateway_api_url"]["value"].endswith(".api_endpoint}")


def test_iam_auth_signs_every_job_route_and_has_no_authorizer():
    tf = synth(auth="iam", jwt_issuer=None, jwt_audience=())
    found = routes(tf)
    assert "aws_apigatewayv2_authorizer" not in tf["resource"]
    assert {k: r["authorization_type"] for k, r in found.items()} == {
        k: "NONE" if s is None else "AWS_IAM" for k, s in ROUTES.items()
    }


def test_a_custom_domain_gets_tls_1_2_and_the_default_endpoint_is_turned_off():
    cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    tf = synth(domain_name="jobs.example.com", certificate_arn=cert)
    domain = one(tf, "aws_apigatewayv2_domain_name")
    assert domain["domain_name_configuration"] == {
        "certificate_arn": cert,
        "endpoint_type": "REGIONAL",
        "security_policy": "TLS_1_2",
    }
    assert one(tf, "aws_apigatewayv2_api")["disable_execute_api_endpoint"] is True
    assert tf["output"]["gateway_api_url"]["value"] == "https://jobs.example.com"


def test_synthesizing_twice_gives_the_same_bytes():
    assert json.dumps(synth(), sort_keys=True) == json.dumps(synth(), sort_keys=True)
