"""Every dashboard of the example stacks reads only metrics that exist: ours (the worker's EMF metrics, the GPU
agent's) or ones AWS publishes for these resources, with dimensions naming resources of the same stack."""

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sdk.gpu_metrics import DEFAULT_MEASUREMENTS, metric_name
from sdk.jobs.config import WorkerConfig
from sdk.synth import synth_app
from sdk.tfjson import resources

# AWS-published metrics and their dimension sets: ALB (elb/latest/application/load-balancer-cloudwatch-metrics.html),
# SQS (AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html), Container Insights
# (AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html), Auto Scaling group metrics
# (autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html, only once enabled on the group).
TARGET_GROUP = frozenset({"LoadBalancer", "TargetGroup"})
AWS_METRICS: dict[tuple[str, str], frozenset[str]] = {
    **{
        ("AWS/ApplicationELB", name): TARGET_GROUP
        for name in (
            "RequestCount",
            "TargetResponseTime",
            "HTTPCode_Target_4XX_Count",
            "HTTPCode_Target_5XX_Count",
            "HealthyHostCount",
            "UnHealthyHostCount",
        )
    },
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"): frozenset({"LoadBalancer"}),
    **{
        ("AWS/SQS", name): frozenset({"QueueName"})
        for name in (
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateAgeOfOldestMessage",
        )
    },
    **{
        ("ECS/ContainerInsights", name): frozenset({"ClusterName", "ServiceName"})
        for name in ("RunningTaskCount", "DesiredTaskCount")
    },
    **{
        ("AWS/AutoScaling", name): frozenset({"AutoScalingGroupName"})
        for name in ("GroupInServiceInstances", "GroupDesiredCapacity", "WarmPoolWarmedCapacity")
    },
}
JOBS_NAMESPACE = WorkerConfig.model_fields["metrics_namespace"].default


@pytest.fixture(scope="module")
def example_stacks() -> dict[str, dict[str, Any]]:
    return synth_app("examples")


def worker_metric_names() -> set[str]:
    """The metric names the worker passes to Metrics.emit (sdk/jobs/worker.py), read from its source."""
    tree = ast.parse((Path(__file__).parents[3] / "sdk/jobs/worker.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
            names |= {k.arg for k in node.keywords if k.arg}
            names |= {
                key.value
                for k in node.keywords
                if k.arg is None
                for d in ast.walk(k.value)
                if isinstance(d, ast.Dict)
                for key in d.keys
                if isinstance(key, ast.Constant)
            }
    return names


def widget_metrics(dashboard: dict[str, Any]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(namespace, name, dimensions, options) of every metric line (expression lines left out)."""
    found = []
    for widget in json.loads(dashboard["dashboard_body"])["widgets"]:
        for line in widget["properties"]["metrics"]:
            if isinstance(line[0], str):
                namespace, name, *rest = line
                options = rest.pop() if rest and isinstance(rest[-1], dict) else {}
                found.append((namespace, name, dict(zip(rest[::2], rest[1::2], strict=True)), options))
    return found


def names_in(stack: dict[str, Any], kind: str, attribute: str = "name") -> set[str]:
    """The names of a stack's resources of one kind: their literal names and the references to them."""
    found = resources(stack, kind)
    return {str(r.get(attribute)) for r in found.values()} | {f"${{{kind}.{key}.{attribute}}}" for key in found}


def dimension_owners(stack: dict[str, Any]) -> dict[str, set[str]]:
    queues = names_in(stack, "aws_sqs_queue")
    return {
        "LoadBalancer": {f"${{aws_lb.{key}.arn_suffix}}" for key in resources(stack, "aws_lb")},
        "TargetGroup": {
            f"${{aws_lb_target_group.{key}.arn_suffix}}" for key in resources(stack, "aws_lb_target_group")
        },
        "QueueName": queues,
        "Queue": queues,
        "ClusterName": names_in(stack, "aws_ecs_cluster"),
        "ServiceName": names_in(stack, "aws_ecs_service"),
        "AutoScalingGroupName": names_in(stack, "aws_autoscaling_group"),
    }


def test_every_example_stack_has_one_dashboard_per_gpu_service_with_its_url_as_an_output(example_stacks):
    for name, stack in example_stacks.items():
        # GIVEN an example stack WHEN synthesized
        dashboards = resources(stack, "aws_cloudwatch_dashboard")
        services = resources(stack, "aws_ecs_service")
        # THEN each GPU service has a dashboard named after it, and each dashboard's console URL is an output
        assert sorted(d["dashboard_name"] for d in dashboards.values()) == sorted(
            s["name"] for s in services.values()
        ), name
        urls = {o["value"] for key, o in stack["output"].items() if key.endswith("_dashboard_url")}
        assert urls == {
            f"https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/"
            f"{d['dashboard_name']}"
            for d in dashboards.values()
        }, name


def test_every_widget_reads_a_metric_we_emit_or_aws_publishes_with_dimensions_of_this_stack(example_stacks):
    gpu_names = {metric_name(m) for m in DEFAULT_MEASUREMENTS}
    jobs_names = worker_metric_names()
    assert {"JobsStarted", "JobsSucceeded", "JobsFailed", "JobDuration"} <= jobs_names
    for stack_name, stack in example_stacks.items():
        owners = dimension_owners(stack)
        enabled = {
            g["name"]: set(g.get("enabled_metrics", ())) for g in resources(stack, "aws_autoscaling_group").values()
        }
        for dashboard in resources(stack, "aws_cloudwatch_dashboard").values():
            # GIVEN each metric line of each widget of the stack's dashboards
            for namespace, name, dimensions, _ in widget_metrics(dashboard):
                where = f"{stack_name}: {namespace} {name} {dimensions}"
                # THEN it is an AWS metric with its documented dimensions, or one our agent or worker publishes
                if namespace == "GpuBlueprints":
                    assert name in gpu_names and set(dimensions) == {"AutoScalingGroupName"}, where
                elif namespace == JOBS_NAMESPACE:
                    assert name in jobs_names and set(dimensions) == {"Queue"}, where
                else:
                    assert AWS_METRICS.get((namespace, name)) == set(dimensions), where
                # AND every dimension names a resource of this stack
                for key, value in dimensions.items():
                    assert value in owners[key], where
                # AND an Auto Scaling group metric is one the group has enabled
                if namespace == "AWS/AutoScaling":
                    assert name in enabled[dimensions["AutoScalingGroupName"]], where


def test_the_dashboard_body_is_compact_sorted_json_that_a_second_synth_reproduces(example_stacks):
    again = synth_app("examples")
    for name, stack in example_stacks.items():
        for key, dashboard in resources(stack, "aws_cloudwatch_dashboard").items():
            body = dashboard["dashboard_body"]
            # GIVEN a dashboard body WHEN parsed and re-dumped with sorted keys THEN it is byte-identical
            assert json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")) == body
            # AND a second synth writes the same bytes
            assert resources(again[name], "aws_cloudwatch_dashboard")[key]["dashboard_body"] == body
            # AND widgets fill a 24-column grid, two a row, without overlapping
            cells = [(w["x"], w["y"]) for w in json.loads(body)["widgets"]]
            assert len(set(cells)) == len(cells) and all(x in (0, 12) for x, _ in cells)


@pytest.mark.parametrize("pattern", [r"\$\$\{", r"%%\{"])
def test_references_in_the_body_stay_terraform_references_and_nothing_else_is_escaped(example_stacks, pattern):
    # GIVEN every dashboard body WHEN searched for escaped template sequences THEN there are none
    for stack in example_stacks.values():
        for dashboard in resources(stack, "aws_cloudwatch_dashboard").values():
            assert not re.search(pattern, dashboard["dashboard_body"])
