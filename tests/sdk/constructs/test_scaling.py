"""Metric math for scaling alarms: every metric an expression adds is FILLed, unused ones are left out."""

import re

from sdk.constructs.scaling import metric_math, running_tasks_metric, sqs_metric


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
