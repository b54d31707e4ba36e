"""Observability: a created alarm topic is one CloudWatch can actually publish to; flow logs can write."""

import json
from typing import Any

from sdk.constructs.engine import Testing
from sdk.constructs.metrics import Metric, sqs_metric
from sdk.constructs.observability import AlarmTopic, FlowLogs, alarm
from sdk.constructs.stack import GpuStack
from sdk.specs import AlarmsSpec

ACCOUNT, REGION = "123456789012", "eu-west-1"


def synth_topic() -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "t", region=REGION)
    topic = AlarmTopic(
        stack, "topic", name="svc", spec=AlarmsSpec(create_topic=True), region=REGION, account_id=ACCOUNT
    )
    alarm(
        stack,
        "errors",
        name="svc-errors",
        description="errors",
        topic=topic,
        namespace="AWS/X",
        metric_name="Errors",
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
    )
    return json.loads(Testing.synth(stack))["resource"]


def test_a_created_alarm_topic_uses_its_own_rotated_key_that_cloudwatch_alarms_of_this_account_may_use():
    # GIVEN an alarm topic created for "svc" WHEN it is synthesized
    resources = synth_topic()
    [(key_id, key)] = resources["aws_kms_key"].items()
    [topic] = resources["aws_sns_topic"].values()
    # THEN the topic is under the created customer key, never the AWS-managed aws/sns key
    assert topic["kms_master_key_id"] == f"${{aws_kms_key.{key_id}.arn}}"
    assert key["enable_key_rotation"] is True
    [alias] = resources["aws_kms_alias"].values()
    assert alias["name"] == "alias/svc-alarms"
    # AND the key policy keeps the account as administrator and lets CloudWatch use it for this account's alarms only
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    assert statements["AccountAdministers"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    cloudwatch = statements["CloudWatchAlarmsPublish"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:svc-*"},
    }


def test_only_this_accounts_alarms_of_the_blueprint_may_publish_to_the_created_topic():
    # GIVEN the synthesized topic WHEN its topic policy is read
    resources = synth_topic()
    [topic_id] = resources["aws_sns_topic"]
    [policy] = resources["aws_sns_topic_policy"].values()
    [statement] = json.loads(policy["policy"])["Statement"]
    # THEN CloudWatch may publish, scoped like the key, and the alarm notifies that topic
    assert (statement["Principal"], statement["Action"]) == ({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")
    assert statement["Resource"] == f"${{aws_sns_topic.{topic_id}.arn}}"
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:svc-*"}
    [errors] = resources["aws_cloudwatch_metric_alarm"].values()
    assert errors["alarm_actions"] == [f"${{aws_sns_topic.{topic_id}.arn}}"]


def test_the_flow_log_role_may_look_up_log_groups_and_write_only_its_own():
    # GIVEN flow logs of a VPC WHEN synthesized
    stack = GpuStack(Testing.app(), "f", region=REGION)
    FlowLogs(stack, "flow", name="svc", vpc_id="vpc-1")
    [policy] = json.loads(Testing.synth(stack))["resource"]["aws_iam_role_policy"].values()
    statements = json.loads(policy["policy"])["Statement"]
    # THEN every action AWS lists for the flow-log role is granted; writes only to the flow-log group
    actions = {a: s["Resource"] for s in statements for a in s["Action"]}
    assert actions["logs:DescribeLogGroups"] == "*"
    for write in ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"):
        assert actions[write][0].startswith("${aws_cloudwatch_log_group.") and actions[write][0].endswith(":*")


def synth_metric_alarms() -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "t", region=REGION)
    topic = AlarmTopic(stack, "topic", name="svc", spec=AlarmsSpec(), region=REGION, account_id=ACCOUNT)
    common: dict[str, Any] = {"topic": topic, "period": 60, "evaluation_periods": 1, "threshold": 0}
    common["comparison_operator"] = "GreaterThanThreshold"
    latency = Metric("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/a/1"}, "p95")
    alarm(stack, "latency", name="svc-latency", description="slow", metric=latency, **common)
    trimmed = Metric("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/a/1"}, "tm90")
    alarm(stack, "trimmed", name="svc-trimmed", description="slow", metric=trimmed, **common)
    alarm(
        stack,
        "age",
        name="svc-age",
        description="old",
        metric=sqs_metric("q", "ApproximateAgeOfOldestMessage"),
        **common,
    )
    return json.loads(Testing.synth(stack))["resource"]["aws_cloudwatch_metric_alarm"]


def test_an_alarm_on_one_metric_reads_its_namespace_name_dimensions_and_statistic():
    # GIVEN alarms given a Metric each (a percentile, and the default Maximum)
    # WHEN the stack is synthesized
    alarms = {a["alarm_name"]: a for a in synth_metric_alarms().values()}
    latency, age = alarms["svc-latency"], alarms["svc-age"]
    # THEN a basic statistic is a statistic, any other (a percentile, a trimmed mean) an extended statistic
    assert (latency["namespace"], latency["metric_name"]) == ("AWS/ApplicationELB", "TargetResponseTime")
    assert latency["extended_statistic"] == "p95" and "statistic" not in latency
    assert latency["dimensions"] == {"LoadBalancer": "app/a/1"}
    assert (age["namespace"], age["statistic"], age["dimensions"]) == ("AWS/SQS", "Maximum", {"QueueName": "q"})
    assert "extended_statistic" not in age
    assert alarms["svc-trimmed"]["extended_statistic"] == "tm90" and "statistic" not in alarms["svc-trimmed"]


def test_a_created_alarm_topic_and_flow_logs_read_each_attribute_from_jsii_once():
    # GIVEN a stack WHEN a created alarm topic and a VPC's flow logs are built, every jsii kernel request recorded
    from tests.jsii_requests import recorded_requests, repeated_reads

    stack = GpuStack(Testing.app(), "t", region=REGION)
    with recorded_requests() as requests:
        AlarmTopic(stack, "topic", name="svc", spec=AlarmsSpec(create_topic=True), region=REGION, account_id=ACCOUNT)
        FlowLogs(stack, "flow_logs", name="svc", vpc_id="vpc-0123")
    # THEN no attribute (the topic's arn, the log group's arn) was asked of jsii twice: the token is passed on
    assert repeated_reads(requests) == []
