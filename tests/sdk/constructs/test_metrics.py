"""Metric queries: every metric an expression adds is FILLed, unused ones are left out; one home for alarms."""

import json
import re

from sdk.constructs.metrics import (
    Widget,
    alb_metrics,
    consumer_queries,
    dashboard_body,
    dashboard_url,
    error_rate_query,
    metric_math,
    missing_tasks_query,
    running_tasks_metric,
    sqs_metric,
)


def test_every_metric_in_the_expression_is_read_as_fill_0_so_a_missing_datapoint_does_not_empty_the_sum():
    # GIVEN visible and in-flight SQS metrics (in-flight has no datapoint while nothing is in flight)
    metrics = {
        "visible": sqs_metric("q", "ApproximateNumberOfMessagesVisible"),
        "in_flight": sqs_metric("q", "ApproximateNumberOfMessagesNotVisible"),
    }
    # WHEN they are summed
    queries = metric_math(metrics, "{visible} + {in_flight}", id_="outstanding", label="jobs")
    # THEN the returned expression reads each metric only through FILL(id, 0)
    [result] = [q for q in queries if q["return_data"]]
    assert result["expression"] == "FILL(visible, 0) + FILL(in_flight, 0)"
    assert re.sub(r"FILL\((visible|in_flight), 0\)", "", result["expression"]).strip() == "+"
    assert [q["metric"]["metric_name"] for q in queries if "metric" in q] == [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    assert all(q["metric"]["dimensions"] == {"QueueName": "q"} and q["metric"]["period"] == 60 for q in queries[:2])


def test_metrics_the_expression_does_not_name_are_not_queried():
    # GIVEN three metrics, one of them a service's running tasks
    metrics = {
        "visible": sqs_metric("q", "ApproximateNumberOfMessagesVisible"),
        "age": sqs_metric("q", "ApproximateAgeOfOldestMessage"),
        "running": running_tasks_metric("c", "s"),
    }
    # WHEN the expression names two of them
    queries = metric_math(metrics, "{visible} + {running}", id_="x", label="x")
    # THEN only those two are queried, Container Insights' task count with its cluster and service
    assert [q["id"] for q in queries] == ["visible", "running", "x"]
    assert queries[1]["metric"]["namespace"] == "ECS/ContainerInsights"
    assert queries[1]["metric"]["dimensions"] == {"ClusterName": "c", "ServiceName": "s"}


def test_the_missing_tasks_query_subtracts_running_from_desired_tasks_of_one_service():
    # GIVEN a service's cluster and name
    # WHEN the missing-tasks query is built
    queries = missing_tasks_query("c", "s")
    # THEN it reads Container Insights' desired and running averages of that service and returns their difference
    assert [(q["id"], q["metric"]["metric_name"], q["metric"]["stat"]) for q in queries[:2]] == [
        ("desired", "DesiredTaskCount", "Average"),
        ("running", "RunningTaskCount", "Average"),
    ]
    assert all(q["metric"]["dimensions"] == {"ClusterName": "c", "ServiceName": "s"} for q in queries[:2])
    assert queries[2] == {"id": "gap", "expression": "desired - running", "label": "missing tasks", "return_data": True}


def test_the_error_rate_query_is_a_percentage_of_requests_and_zero_without_requests():
    # GIVEN an ALB target group's dimensions
    dims = {"LoadBalancer": "app/x/1", "TargetGroup": "targetgroup/y/2"}
    # WHEN the 5xx rate query is built
    queries = error_rate_query(dims)
    # THEN it sums 5xx and requests per minute on those dimensions and divides guarded against no requests
    assert [(q["metric"]["metric_name"], q["metric"]["stat"]) for q in queries[:2]] == [
        ("HTTPCode_Target_5XX_Count", "Sum"),
        ("RequestCount", "Sum"),
    ]
    assert all(q["metric"]["dimensions"] == dims and not q["return_data"] for q in queries[:2])
    assert queries[2]["expression"] == "IF(requests > 0, 100 * errors / requests, 0)" and queries[2]["return_data"]


def test_a_fallback_consumer_counts_waiting_jobs_only_once_the_oldest_waited_its_start_delay():
    # GIVEN two consumers of queue q, the fallback starting after 600 s
    # WHEN the fallback's queries are built
    queries = consumer_queries("q", own="fb", other="main", after_seconds=600)
    # THEN its backlog is gated on the oldest message's age and its idle sum leaves the primary's tasks out
    backlog = queries["backlog"][-1]["expression"]
    assert backlog == "IF(FILL(age, 0) > 600, FILL(visible, 0) + FILL(own_running, 0), 0)"
    assert "FILL(in_flight, 0) - FILL(other_running, 0)" in queries["idle"][-1]["expression"]
    running = {q["id"]: q["metric"]["dimensions"] for q in queries["idle"] if "metric" in q}
    assert running["other_running"] == {"ClusterName": "main", "ServiceName": "main"}


def test_a_percentile_goes_to_an_alarms_extended_statistic_and_other_stats_to_statistic():
    # GIVEN the ALB's p95 latency and a Sum count
    alb = alb_metrics({"LoadBalancer": "app/a/1", "TargetGroup": "targetgroup/t/2"})
    # WHEN each becomes an alarm's single-metric arguments
    # THEN the percentile is an extended statistic and the count a statistic, both at the given period
    assert alb["p95"].alarm_fields() == {
        "namespace": "AWS/ApplicationELB",
        "metric_name": "TargetResponseTime",
        "dimensions": {"LoadBalancer": "app/a/1", "TargetGroup": "targetgroup/t/2"},
        "extended_statistic": "p95",
        "period": 60,
    }
    assert alb["requests"].alarm_fields(period=300)["statistic"] == "Sum"
    # AND the load balancer's own 5xx carries only the LoadBalancer dimension
    assert alb["elb_5xx"].dimensions == {"LoadBalancer": "app/a/1"}


def test_a_widget_draws_metric_math_as_its_expression_with_the_inputs_hidden():
    # GIVEN a widget over the 5xx-rate metric math the alarm reads, with the alarm bound
    dims = {"LoadBalancer": "app/a/1", "TargetGroup": "targetgroup/t/2"}
    widget = Widget("5xx", (error_rate_query(dims),), "%", (("alarm", 5.0),))
    # WHEN its properties are built
    props = widget.properties("eu-west-1")
    # THEN the inputs are hidden lines with their ids and the expression is the one line shown
    assert props["metrics"] == [
        [
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            *sum(dims.items(), ()),
            {"stat": "Sum", "id": "errors", "visible": False},
        ],
        [
            "AWS/ApplicationELB",
            "RequestCount",
            *sum(dims.items(), ()),
            {"stat": "Sum", "id": "requests", "visible": False},
        ],
        [{"expression": "IF(requests > 0, 100 * errors / requests, 0)", "id": "rate", "label": "5xx percent"}],
    ]
    assert props["region"] == "eu-west-1"
    assert props["annotations"] == {"horizontal": [{"label": "alarm", "value": 5.0}]}


def test_the_dashboard_body_places_widgets_two_a_row_in_reading_order_as_sorted_compact_json():
    # GIVEN three widgets
    widgets = [Widget(f"w{i}", (sqs_metric("q", "ApproximateAgeOfOldestMessage"),)) for i in range(3)]
    # WHEN the body is built
    body = dashboard_body(widgets, "us-east-1")
    placed = json.loads(body)["widgets"]
    # THEN they fill 12-column halves row by row, and the JSON has sorted keys and no spaces
    assert [(w["x"], w["y"], w["width"], w["height"]) for w in placed] == [(0, 0, 12, 6), (12, 0, 12, 6), (0, 6, 12, 6)]
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    # AND the console URL names the region and the dashboard
    assert dashboard_url("eu-west-1", "svc") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/svc"
    )
