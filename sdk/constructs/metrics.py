"""CloudWatch metric queries: the one home of the metrics and metric math that alarms, scaling alarms and dashboards
read. Plain data (alarm `metric_query` dicts, dashboard widget JSON), no cdktf."""

import json
from dataclasses import dataclass, field, replace
from typing import Any

Query = dict[str, Any]
PERIOD_SECONDS = 60
# PutMetricAlarm takes these as Statistic and any other (p95, tm90, IQM) as ExtendedStatistic, never both
# (CloudWatch API reference, PutMetricAlarm).
BASIC_STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})
# Auto Scaling group metrics the dashboards read (free at 1-minute granularity once enabled on the group).
HOST_METRICS = ("GroupInServiceInstances", "GroupDesiredCapacity")
WARM_POOL_METRICS = ("WarmPoolWarmedCapacity",)


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str = "Maximum"
    label: str = ""

    def alarm_fields(self, period: int = PERIOD_SECONDS) -> dict[str, Any]:
        """An alarm's single-metric arguments: a statistic other than the basic five goes in extended_statistic."""
        stat = "statistic" if self.stat in BASIC_STATISTICS else "extended_statistic"
        fields = {"namespace": self.namespace, "metric_name": self.name, "dimensions": self.dimensions}
        return {**fields, stat: self.stat, "period": period}

    def widget_line(self, **options: Any) -> list[Any]:
        """This metric as one line of a dashboard widget's `metrics` array."""
        dimensions = [part for item in self.dimensions.items() for part in item]
        shown = {"stat": self.stat, **({"label": self.label} if self.label else {}), **options}
        return [self.namespace, self.name, *dimensions, shown]

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


def alb_metric(name: str, dimensions: dict[str, str], stat: str = "Sum", label: str = "") -> Metric:
    return Metric("AWS/ApplicationELB", name, dimensions, stat, label)


def alb_metrics(dimensions: dict[str, str]) -> dict[str, Metric]:
    """A target group's ALB metrics (`dimensions`: LoadBalancer and TargetGroup); ELB 5xx is the load balancer's."""
    latency = {f"p{p}": alb_metric("TargetResponseTime", dimensions, f"p{p}", f"p{p}") for p in (50, 95, 99)}
    return {
        "requests": alb_metric("RequestCount", dimensions, label="requests"),
        **latency,
        "target_4xx": alb_metric("HTTPCode_Target_4XX_Count", dimensions, label="target 4xx"),
        "target_5xx": alb_metric("HTTPCode_Target_5XX_Count", dimensions, label="target 5xx"),
        "elb_5xx": alb_metric(
            "HTTPCode_ELB_5XX_Count", {"LoadBalancer": dimensions["LoadBalancer"]}, label="load balancer 5xx"
        ),
        "healthy": alb_metric("HealthyHostCount", dimensions, "Minimum", "healthy"),
        "unhealthy": alb_metric("UnHealthyHostCount", dimensions, "Maximum", "unhealthy"),
    }


def host_metrics(asg_name: str, *, warm_pool: bool) -> dict[str, Metric]:
    """The GPU group's Auto Scaling group metrics (GpuCapacity enables exactly these when a dashboard reads them)."""
    names = HOST_METRICS + (WARM_POOL_METRICS if warm_pool else ())
    labels = {
        "GroupInServiceInstances": "in service",
        "GroupDesiredCapacity": "desired",
        "WarmPoolWarmedCapacity": "warm pool",
    }
    return {n: Metric("AWS/AutoScaling", n, {"AutoScalingGroupName": asg_name}, "Average", labels[n]) for n in names}


def job_metrics(namespace: str, queue_name: str) -> dict[str, Metric]:
    """The worker's EMF metrics of one queue (sdk.jobs.telemetry: dimension Queue)."""
    counts = {
        key: Metric(namespace, f"Jobs{key.title()}", {"Queue": queue_name}, "Sum", key)
        for key in ("started", "succeeded", "failed", "retried")
    }
    duration = {
        f"duration_{stat}": Metric(namespace, "JobDuration", {"Queue": queue_name}, stat, stat)
        for stat in ("p50", "p95", "Maximum")
    }
    return counts | duration


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


def tasks_metrics(cluster_name: str, service_name: str) -> dict[str, Metric]:
    return {
        "desired": replace(service_metric(cluster_name, service_name, "DesiredTaskCount", "Average"), label="desired"),
        "running": replace(service_metric(cluster_name, service_name, "RunningTaskCount", "Average"), label="running"),
    }


def missing_tasks_query(cluster_name: str, service_name: str) -> list[Query]:
    """Desired minus running tasks of a service (Container Insights averages)."""
    return [
        *(m.query(key) for key, m in tasks_metrics(cluster_name, service_name).items()),
        {"id": "gap", "expression": "desired - running", "label": "missing tasks", "return_data": True},
    ]


def error_rate_query(dimensions: dict[str, str]) -> list[Query]:
    """Target 5xx responses as a percentage of an ALB target group's requests (0 without requests)."""
    return [
        alb_metrics(dimensions)["target_5xx"].query("errors"),
        alb_metrics(dimensions)["requests"].query("requests"),
        {
            "id": "rate",
            "expression": "IF(requests > 0, 100 * errors / requests, 0)",
            "label": "5xx percent",
            "return_data": True,
        },
    ]


Series = Metric | list[Query]  # one metric, or an alarm's metric math (the expression is the line shown)


def _lines(series: Series) -> list[list[Any]]:
    if isinstance(series, Metric):
        return [series.widget_line()]
    lines: list[list[Any]] = []
    for query in series:
        if "expression" in query:
            lines.append([{"expression": query["expression"], "id": query["id"], "label": query["label"]}])
        else:
            m = query["metric"]
            hidden = Metric(m["namespace"], m["metric_name"], m["dimensions"], m["stat"])
            lines.append(hidden.widget_line(id=query["id"], visible=False))
    return lines


@dataclass(frozen=True)
class Widget:
    """A time-series graph of `series`; `lines`: (label, value) horizontal annotations (budgets, alarm bounds)."""

    title: str
    series: tuple[Series, ...]
    unit: str = ""
    lines: tuple[tuple[str, float], ...] = field(default=())

    def properties(self, region: str) -> dict[str, Any]:
        props: dict[str, Any] = {
            "title": self.title,
            "region": region,
            "view": "timeSeries",
            "period": PERIOD_SECONDS,
            "metrics": [line for series in self.series for line in _lines(series)],
            "yAxis": {"left": {"min": 0, "label": self.unit, "showUnits": False}},
        }
        if self.lines:
            props["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in self.lines]}
        return props


WIDGET_WIDTH, WIDGET_HEIGHT, GRID_COLUMNS = 12, 6, 24


def dashboard_body(widgets: list[Widget], region: str) -> str:
    """The dashboard JSON: widgets in reading order, two a row; keys sorted so the body is byte-stable. Shape:
    CloudWatch user guide, CloudWatch-Dashboard-Body-Structure.html (metric widget properties, metric array format:
    id/stat/label/visible; annotations.horizontal; yAxis.left)."""
    per_row = GRID_COLUMNS // WIDGET_WIDTH
    placed = [
        {
            "type": "metric",
            "x": (index % per_row) * WIDGET_WIDTH,
            "y": (index // per_row) * WIDGET_HEIGHT,
            "width": WIDGET_WIDTH,
            "height": WIDGET_HEIGHT,
            "properties": widget.properties(region),
        }
        for index, widget in enumerate(widgets)
    ]
    return json.dumps({"widgets": placed}, sort_keys=True, separators=(",", ":"))


def dashboard_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
