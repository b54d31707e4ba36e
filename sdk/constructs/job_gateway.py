"""JobGateway: an API Gateway HTTP API + the sdk.jobs.gateway Lambda in front of one job stream.

Takes plain references (queue, table, bucket, the submitter policy, the alarm topic), not a blueprint. Routes and
the scope each needs come from sdk.jobs.gateway.ROUTES, so API Gateway and the handler check the same table."""

import json
from typing import Any

from sdk import lambda_zip
from sdk.constructs.engine import (
    Apigatewayv2Api,
    Apigatewayv2ApiMapping,
    Apigatewayv2Authorizer,
    Apigatewayv2DomainName,
    Apigatewayv2Integration,
    Apigatewayv2Route,
    Apigatewayv2Stage,
    CloudwatchLogGroup,
    CloudwatchMetricAlarm,
    Construct,
    IamRolePolicyAttachment,
    LambdaFunction,
    LambdaPermission,
)
from sdk.constructs.iam import Statement, _role
from sdk.constructs.naming import iam_name
from sdk.constructs.outputs import stable_output
from sdk.constructs.review_hints import skip_check
from sdk.constructs.structs import new
from sdk.gateway_spec import GatewaySpec
from sdk.jobs.config import BUCKET_ENV, PREFIX_ENV, QUEUE_URL_ENV, TABLE_ENV
from sdk.jobs.gateway import ROUTES, SUBMIT

STAGE = "$default"
# API Gateway HTTP APIs end an integration after 30 s (quotas: "Maximum integration timeout"); the handler's work
# is a few DynamoDB/SQS/S3 calls.
TIMEOUT_SECONDS = 29
# $context variables of HTTP API access logs (apigateway/latest/developerguide/http-api-logging-variables.html).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.authorizer.claims.sub",
        "principal": "$context.identity.userArn",
        "time": "$context.requestTime",
        "route": "$context.routeKey",
        "status": "$context.status",
        "length": "$context.responseLength",
        "latency": "$context.responseLatency",
        "authError": "$context.authorizer.error",
        "integrationError": "$context.integrationErrorMessage",
    },
    sort_keys=True,
)


class JobGateway(Construct):
    """`.api`, `.stage`, `.routes` (route key -> route), `.authorizer` (JWT) or None, `.function`, `.role`,
    `.access_logs`, `.alarms`, `.url` (the custom domain's, or the API's endpoint)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        spec: GatewaySpec,
        region: str,
        queue_url: str,
        table_name: str,
        bucket_name: str,
        bucket_arn: str,
        prefix: str,
        submitter_policy_arn: str,
        alarm_topic_arn: str | None,
    ) -> None:
        super().__init__(scope, id_)
        self.name, self.spec = f"{name}-jobs-gateway", spec
        environment = {QUEUE_URL_ENV: queue_url, TABLE_ENV: table_name, BUCKET_ENV: bucket_name, PREFIX_ENV: prefix}
        env = {**environment, **spec.settings().environment()}
        self._function(region, env, submitter_policy_arn, f"{bucket_arn}/{prefix}*/inputs/*")
        self._api()
        self._stage()
        self._domain()
        self._alarms(name, alarm_topic_arn)
        stable_output(self, "api_url", value=self.url, description="Job gateway base URL (POST /jobs, GET /jobs/{id})")

    def _log_group(self, id_: str, name: str) -> CloudwatchLogGroup:
        return new(
            CloudwatchLogGroup,
            self,
            id_,
            name=name,
            retention_in_days=self.spec.log_retention_days,
            kms_key_id=self.spec.log_kms_key_arn,
        )

    def _function(self, region: str, environment: dict[str, str], submitter_policy_arn: str, inputs_arn: str) -> None:
        logs = self._log_group("function_logs", f"/aws/lambda/{self.name}")
        statements: list[Statement] = [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{logs.arn}:*"],
            },
            # POST /jobs/{id}/start checks that the uploads exist (HeadObject needs s3:GetObject); the submitter
            # policy covers the rest (send, rows, input PUT URLs, output GET URLs).
            {"Sid": "CheckUploads", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [inputs_arn]},
        ]
        self.role = _role(self, "role", iam_name(self.name, region, "role"), "lambda.amazonaws.com", statements)
        new(IamRolePolicyAttachment, self, "submitter", role=self.role.name, policy_arn=submitter_policy_arn)
        self.function = new(
            LambdaFunction,
            self,
            "function",
            function_name=self.name,
            description="Job gateway: HTTP requests -> sdk.jobs (submit, status, cancel)",
            role=self.role.arn,
            handler=lambda_zip.HANDLER,
            runtime=lambda_zip.RUNTIME,
            architectures=[lambda_zip.ARCHITECTURE],
            filename=lambda_zip.gateway_zip_name(),
            source_code_hash=lambda_zip.zip_hash(),
            memory_size=self.spec.memory_mib,
            timeout=TIMEOUT_SECONDS,
            reserved_concurrent_executions=self.spec.reserved_concurrency,
            environment={"variables": environment},
            depends_on=[logs],
        )
        skip_check(self.function, "CKV_AWS_117", "calls only public AWS APIs (SQS, DynamoDB, S3): no VPC to reach")
        skip_check(self.function, "CKV_AWS_116", "invoked synchronously by API Gateway: a failure is the HTTP answer")
        skip_check(self.function, "CKV_AWS_173", "environment holds resource names and limits only, no secrets")
        skip_check(self.function, "CKV_AWS_272", "the zip is built at synth from this repository, not signed")
        skip_check(self.function, "CKV_AWS_50", "X-Ray tracing is opt-in; access logs carry the request id")

    def _api(self) -> None:
        spec = self.spec
        self.api = new(
            Apigatewayv2Api,
            self,
            "api",
            name=self.name,
            protocol_type="HTTP",
            description="Job gateway: submit and follow GPU jobs over HTTPS",
            disable_execute_api_endpoint=spec.domain_name is not None,
        )
        self.authorizer: Apigatewayv2Authorizer | None = None
        if spec.uses_jwt:
            self.authorizer = new(
                Apigatewayv2Authorizer,
                self,
                "authorizer",
                api_id=self.api.id,
                name=f"{self.name}-jwt",
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={"issuer": spec.jwt_issuer, "audience": list(spec.jwt_audience)},
            )
        integration = new(
            Apigatewayv2Integration,
            self,
            "integration",
            api_id=self.api.id,
            integration_type="AWS_PROXY",
            integration_uri=self.function.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=(TIMEOUT_SECONDS + 1) * 1000,
        )
        self.routes = {key: self._route(key, scope, integration.id) for key, scope in ROUTES.items()}
        new(
            LambdaPermission,
            self,
            "invoke",
            statement_id="ApiGatewayInvoke",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.api.execution_arn}/*/*",
        )

    def _route(self, key: str, scope: str | None, integration_id: str) -> Apigatewayv2Route:
        spec = self.spec
        auth: dict[str, Any] = {"authorization_type": "NONE"}
        if scope is not None and spec.auth == "iam":
            auth = {"authorization_type": "AWS_IAM"}
        if scope is not None and self.authorizer is not None:
            wanted = spec.submit_scope if scope == SUBMIT else spec.read_scope
            auth = {"authorization_type": "JWT", "authorizer_id": self.authorizer.id}
            if wanted:
                auth["authorization_scopes"] = [wanted]
        route_id = key.lower().replace(" /", "_").replace("/", "_").replace("{", "").replace("}", "")
        route = new(
            Apigatewayv2Route,
            self,
            f"route_{route_id}",
            api_id=self.api.id,
            route_key=key,
            target=f"integrations/{integration_id}",
            **auth,
        )
        if auth["authorization_type"] == "NONE":
            reason = "liveness only, no job data" if scope is None else "anonymous by name (auth='none_i_understand')"
            skip_check(route, "CKV_AWS_309", reason)
        return route

    def _stage(self) -> None:
        spec = self.spec
        self.access_logs = self._log_group("access_logs", f"/aws/apigateway/{self.name}")
        submit_routes = [key for key, scope in ROUTES.items() if key.startswith("POST /jobs") and scope == SUBMIT]
        self.stage = new(
            Apigatewayv2Stage,
            self,
            "stage",
            api_id=self.api.id,
            name=STAGE,
            auto_deploy=True,
            default_route_settings={
                "throttling_rate_limit": spec.rate_limit,
                "throttling_burst_limit": spec.burst_limit,
                "detailed_metrics_enabled": True,
            },
            route_settings=[
                {
                    "route_key": key,
                    "throttling_rate_limit": spec.submit_rate_limit,
                    "throttling_burst_limit": spec.submit_burst_limit,
                    "detailed_metrics_enabled": True,
                }
                for key in submit_routes
            ],
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            depends_on=list(self.routes.values()),
        )
        self.url = self.api.api_endpoint

    def _domain(self) -> None:
        spec = self.spec
        if spec.domain_name is None:
            return
        domain = new(
            Apigatewayv2DomainName,
            self,
            "domain",
            domain_name=spec.domain_name,
            domain_name_configuration={
                "certificate_arn": spec.certificate_arn,
                "endpoint_type": "REGIONAL",
                "security_policy": "TLS_1_2",
            },
        )
        new(
            Apigatewayv2ApiMapping,
            self,
            "mapping",
            api_id=self.api.id,
            domain_name=domain.domain_name,
            stage=self.stage.id,
        )
        self.url = f"https://{spec.domain_name}"

    def _alarms(self, name: str, topic_arn: str | None) -> None:
        actions = [topic_arn] if topic_arn else []
        common: dict[str, Any] = {
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": 1,
            "period": 300,
            "statistic": "Sum",
            "treat_missing_data": "notBreaching",
            "alarm_actions": actions,
            "ok_actions": actions,
        }
        api = {"namespace": "AWS/ApiGateway", "dimensions": {"ApiId": self.api.id, "Stage": STAGE}}
        self.alarms = {
            "errors_5xx": new(
                CloudwatchMetricAlarm,
                self,
                "errors_5xx",
                alarm_name=f"{name}-gateway-5xx",
                alarm_description="The job gateway answered 5xx (handler error or timeout): see its log group",
                metric_name="5xx",
                threshold=self.spec.errors_5xx_alarm_threshold,
                **api,
                **common,
            ),
            "throttled": new(
                CloudwatchMetricAlarm,
                self,
                "throttled",
                alarm_name=f"{name}-gateway-throttled",
                alarm_description="Gateway calls hit the handler's reserved concurrency (clients got 5xx/429)",
                namespace="AWS/Lambda",
                metric_name="Throttles",
                dimensions={"FunctionName": self.function.function_name},
                threshold=0,
                **common,
            ),
        }
