"""Observability: log groups, VPC flow logs, the alarm topic and CloudWatch alarms."""

from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from sdk.constructs.naming import assume_role_policy, policy_json
from sdk.constructs.structs import new
from sdk.specs import AlarmsSpec


class LogGroup(Construct):
    """`.log_group` with retention; `.arn` and `.name`."""

    def __init__(self, scope: Construct, id_: str, *, name: str, retention_days: int) -> None:
        super().__init__(scope, id_)
        self.log_group = new(CloudwatchLogGroup, self, "group", name=name, retention_in_days=retention_days)
        self.name, self.arn = self.log_group.name, self.log_group.arn


class FlowLogs(Construct):
    """Rejected and accepted traffic of the VPC to CloudWatch Logs (`.flow_log`, `.log_group`, `.role`)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, vpc_id: str, retention_days: int = 90) -> None:
        super().__init__(scope, id_)
        self.log_group = LogGroup(self, "logs", name=f"/vpc/{name}/flow-logs", retention_days=retention_days)
        self.role = new(
            IamRole,
            self,
            "role",
            name=f"{name}-flow-logs",
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
                    }
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


class AlarmTopic(Construct):
    """`.arn`: the given topic, a created encrypted one, or None (alarms then only show in the console)."""

    def __init__(self, scope: Construct, id_: str, *, name: str, spec: AlarmsSpec) -> None:
        super().__init__(scope, id_)
        self.topic: SnsTopic | None = None
        self.arn: str | None = spec.sns_topic_arn
        if spec.create_topic:
            self.topic = new(SnsTopic, self, "topic", name=f"{name}-alarms", kms_master_key_id="alias/aws/sns")
            self.arn = self.topic.arn

    def actions(self) -> list[str]:
        return [self.arn] if self.arn else []


def alarm(
    scope: Construct, id_: str, *, name: str, description: str, topic: AlarmTopic, **settings: Any
) -> CloudwatchMetricAlarm:
    """One alarm wired to the topic; missing data is not breaching unless the caller says otherwise."""
    settings.setdefault("treat_missing_data", "notBreaching")
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
