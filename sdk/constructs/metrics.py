"""CloudWatch metric queries: the one home of the metrics and metric math that alarms, scaling alarms (and dashboards)
read. Plain data (alarm `metric_query` dicts), no cdktf."""

from dataclasses import dataclass
from typing import Any

Query = dict[str, Any]
PERIOD_SECONDS = 60


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str = "Maximum"

    def query(self, id_: str) -> Query:
        """One `metric_query` entry that feeds an expression (not returned itself)."""
        metric = {
            "namespace": self.namespace,
            "metric_name": self.name,
            "period": PERIOD_SECONDS,
            "stat": self.stat,
            "dimensions": self.dimensions,
        }
        return {"id": id_, "return_data": False, "metric": metric}


def customized_metric(metric: Metric) -> dict[str, Any]:
    """A target-tracking customized_metric_specification reading `metric` (e.g. the GPU group's average utilisation,
    sdk.constructs.gpu_metrics.utilisation_metric)."""
    return {
        "namespace": metric.namespace,
        "metric_name": metric.name,
        "statistic": metric.stat,
        "dimensions": [{"name": key, "value": value} for key, value in metric.dimensions.items()],
    }


def sqs_metric(queue_name: str, name: str) -> Metric:
    return Metric("AWS/SQS", name, {"QueueName": queue_name})


def queue_metrics(queue_name: str) -> dict[str, Metric]:
    """The queue's SQS metrics by the ids the scaling expressions use."""
    return {
        "visible": sqs_metric(queue_name, "ApproximateNumberOfMessagesVisible"),
        "in_flight": sqs_metric(queue_name, "ApproximateNumberOfMessagesNotVisible"),
        "age": sqs_metric(queue_name, "ApproximateAgeOfOldestMessage"),
    }


def service_metric(cluster_name: str, service_name: str, name: str, stat: str = "Maximum") -> Metric:
    """A Container Insights metric of one service (the cluster has Container Insights on)."""
    return Metric("ECS/ContainerInsights", name, {"ClusterName": cluster_name, "ServiceName": service_name}, stat)


def running_tasks_metric(cluster_name: str, service_name: str) -> Metric:
    return service_metric(cluster_name, service_name, "RunningTaskCount")


def alb_metric(name: str, dimensions: dict[str, str]) -> Metric:
    return Metric("AWS/ApplicationELB", name, dimensions, "Sum")


def metric_math(metrics: dict[str, Metric], expression: str, *, id_: str, label: str) -> list[Query]:
    """An alarm's metric_query: `expression` names metrics as `{id}` and reads each as FILL(id, 0); metrics it
    does not name are left out.

    A metric with no datapoint in a period (SQS publishes ApproximateNumberOfMessagesNotVisible only while a
    message is in flight) would leave the whole sum without a datapoint, so alarms would never see the backlog.
    """
    metrics = {key: m for key, m in metrics.items() if f"{{{key}}}" in expression}
    filled = {key: f"FILL({key}, 0)" for key in metrics}
    result = {"id": id_, "expression": expression.format(**filled), "label": label, "return_data": True}
    return [*(m.query(key) for key, m in metrics.items()), result]


def outstanding_jobs_query(queue_name: str) -> list[Query]:
    """Visible + in-flight messages: jobs waiting plus jobs a worker holds."""
    metrics = queue_metrics(queue_name)
    return metric_math(
        {k: metrics[k] for k in ("visible", "in_flight")},
        "{visible} + {in_flight}",
        id_="outstanding",
        label="outstanding jobs",
    )


def consumer_queries(queue_name: str, *, own: str, other: str, after_seconds: int = 0) -> dict[str, list[Query]]:
    """Backlog and idle metric math of one of two consumers of a queue (`own`, `other`: their cluster = service
    names). Jobs waiting count only once the oldest waited `after_seconds`; in-flight jobs count as this consumer's
    only beyond the other consumer's running tasks (each task holds at most one job)."""
    metrics = {
        **queue_metrics(queue_name),
        "own_running": running_tasks_metric(own, own),
        "other_running": running_tasks_metric(other, other),
    }
    held = "IF({in_flight} > {other_running}, {in_flight} - {other_running}, 0)"
    if after_seconds:
        backlog = f"IF({{age}} > {after_seconds}, {{visible}} + {{own_running}}, 0)"
        waiting = f"IF({{age}} > {after_seconds}, {{visible}}, 0)"
    else:
        backlog, waiting = "{visible} + {own_running}", "{visible}"
    return {
        "backlog": metric_math(metrics, backlog, id_="jobs", label="jobs for this consumer"),
        "idle": metric_math(
            metrics, f"{waiting} + {held}", id_="outstanding", label="jobs this consumer holds or should"
        ),
    }


def missing_tasks_query(cluster_name: str, service_name: str) -> list[Query]:
    """Desired minus running tasks of a service (Container Insights averages)."""
    return [
        service_metric(cluster_name, service_name, "DesiredTaskCount", "Average").query("desired"),
        service_metric(cluster_name, service_name, "RunningTaskCount", "Average").query("running"),
        {"id": "gap", "expression": "desired - running", "label": "missing tasks", "return_data": True},
    ]


def error_rate_query(dimensions: dict[str, str]) -> list[Query]:
    """Target 5xx responses as a percentage of an ALB target group's requests (0 without requests)."""
    return [
        alb_metric("HTTPCode_Target_5XX_Count", dimensions).query("errors"),
        alb_metric("RequestCount", dimensions).query("requests"),
        {
            "id": "rate",
            "expression": "IF(requests > 0, 100 * errors / requests, 0)",
            "label": "5xx percent",
            "return_data": True,
        },
    ]
