"""Observability: log groups, VPC flow logs, the alarm topic and CloudWatch alarms."""

from functools import cached_property
from typing import Any

from sdk.constructs.engine import (
    CloudwatchLogGroup,
    CloudwatchMetricAlarm,
    Construct,
    FlowLog,
    IamRole,
    IamRolePolicy,
    KmsAlias,
    KmsKey,
    SnsTopic,
    SnsTopicPolicy,
)
from sdk.constructs.metrics import PERIOD_SECONDS, Metric
from sdk.constructs.naming import assume_role_policy, iam_name, policy_json
from sdk.constructs.stack import required_stack_region
from sdk.constructs.structs import new
from sdk.specs import AlarmsSpec


class LogGroup(Construct):
    """`.log_group` with retention; `.arn` and `.name` (each a jsii round trip, asked when first used)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, retention_days: int) -> None:
        super().__init__(scope, id_)
        self.log_group = new(CloudwatchLogGroup, self, "group", name=name, retention_in_days=retention_days)

    @cached_property
    def name(self) -> str:
        return self.log_group.name

    @cached_property
    def arn(self) -> str:
        return self.log_group.arn


class FlowLogs(Construct):
    """Rejected and accepted traffic of the VPC to CloudWatch Logs (`.flow_log`, `.log_group`, `.role`)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, vpc_id: str, retention_days: int = 90) -> None:
        super().__init__(scope, id_)
        self.log_group = LogGroup(self, "logs", name=f"/vpc/{name}/flow-logs", retention_days=retention_days)
        self.role = new(
            IamRole,
            self,
            "role",
            name=iam_name(name, required_stack_region(scope), "flow-logs"),
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
        )
        new(
            IamRolePolicy,
            self,
            "policy",
            role=self.role.id,
            name="write-flow-logs",
            policy=policy_json(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": [f"{self.log_group.arn}:*"],
                    },
                    # The VPC user guide's flow-log role (flow-logs-iam-role.html) lists DescribeLogGroups on "*":
                    # delivery looks its group up before writing.
                    {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
                ]
            ),
        )
        self.flow_log = new(
            FlowLog,
            self,
            "flow_log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination=self.log_group.arn,
            iam_role_arn=self.role.arn,
            tags={"Name": f"{name}-flow-logs"},
        )


def alarm_source(name: str, region: str, account_id: str) -> dict[str, Any]:
    """Conditions that let CloudWatch act only for this account's alarms named `<name>-*` (confused deputy)."""
    return {
        "StringEquals": {"aws:SourceAccount": account_id},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}-*"},
    }


def alarm_topic_key_policy(name: str, region: str, account_id: str) -> str:
    """CloudWatch cannot publish to a topic under the AWS-managed aws/sns key (its policy cannot be changed to let
    cloudwatch.amazonaws.com use it): a customer key must allow kms:Decrypt and kms:GenerateDataKey* (AWS SNS
    developer guide, sns-key-management.html#compatibility-with-aws-services)."""
    return policy_json(
        [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": alarm_source(name, region, account_id),
            },
        ]
    )


class AlarmTopic(Construct):
    """`.arn`: the given topic, a created one, or None (alarms then only show in the console). A created topic is
    encrypted with its own customer key (`.key`, rotated, alias `alias/<name>-alarms`) that CloudWatch may use, and
    its topic policy lets only this account's `<name>-*` alarms publish."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, spec: AlarmsSpec, region: str, account_id: str
    ) -> None:
        super().__init__(scope, id_)
        self.topic: SnsTopic | None = None
        self.key: KmsKey | None = None
        self.arn: str | None = spec.sns_topic_arn
        if spec.create_topic:
            self.key = new(
                KmsKey,
                self,
                "key",
                description=f"Encrypts the {name} alarm topic; CloudWatch alarms may use it",
                enable_key_rotation=True,
                policy=alarm_topic_key_policy(name, region, account_id),
            )
            new(KmsAlias, self, "alias", name=f"alias/{name}-alarms", target_key_id=self.key.key_id)
            self.topic = new(SnsTopic, self, "topic", name=f"{name}-alarms", kms_master_key_id=self.key.arn)
            self.arn = self.topic.arn  # one jsii round trip, passed on below
            publish = {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": self.arn,
                "Condition": alarm_source(name, region, account_id),
            }
            new(SnsTopicPolicy, self, "policy", arn=self.arn, policy=policy_json([publish]))

    def actions(self) -> list[str]:
        return [self.arn] if self.arn else []


def alarm(
    scope: Construct,
    id_: str,
    *,
    name: str,
    description: str,
    topic: AlarmTopic,
    metric: Metric | None = None,
    **settings: Any,
) -> CloudwatchMetricAlarm:
    """One alarm wired to the topic, on one `metric` or on the `metric_query` in settings; missing data is not
    breaching unless the caller says otherwise."""
    settings.setdefault("treat_missing_data", "notBreaching")
    if metric is not None:
        settings = {**metric.alarm_fields(settings.pop("period", PERIOD_SECONDS)), **settings}
    return new(
        CloudwatchMetricAlarm,
        scope,
        id_,
        alarm_name=name,
        alarm_description=description,
        alarm_actions=topic.actions(),
        ok_actions=topic.actions(),
        **settings,
    )
