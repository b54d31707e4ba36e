"""JSON log lines and CloudWatch EMF metric lines."""

import io
import json
import logging

from sdk.jobs.telemetry import JsonFormatter, Metrics


def test_a_log_record_becomes_one_json_line_with_its_extras() -> None:
    # GIVEN a logger writing through the JSON formatter
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.jobs.telemetry")
    logger.addHandler(handler)
    logger.propagate = False
    # WHEN a record with extras is logged
    logger.warning("job %s failed", "j1", extra={"job_id": "j1", "attempt": 2})
    # THEN the line is JSON carrying the message and the extras
    line = json.loads(stream.getvalue())
    assert (line["level"], line["msg"], line["job_id"], line["attempt"]) == ("WARNING", "job j1 failed", "j1", 2)


def test_metrics_are_emf_lines_with_queue_and_kind_dimensions() -> None:
    # GIVEN a metrics emitter for a queue
    stream = io.StringIO()
    Metrics("GpuBlueprints/Jobs", "render-queue", stream).emit("render", JobsSucceeded=1, JobDuration=2.5)
    # WHEN the line is read back
    line = json.loads(stream.getvalue())
    directive = line["_aws"]["CloudWatchMetrics"][0]
    # THEN it declares the namespace, dimensions and units, and carries the values at the top level
    assert directive["Namespace"] == "GpuBlueprints/Jobs"
    assert directive["Dimensions"] == [["Queue"], ["Queue", "Kind"]]
    assert directive["Metrics"] == [
        {"Name": "JobsSucceeded", "Unit": "Count"},
        {"Name": "JobDuration", "Unit": "Seconds"},
    ]
    assert (line["Queue"], line["Kind"], line["JobsSucceeded"], line["JobDuration"]) == (
        "render-queue",
        "render",
        1,
        2.5,
    )
    assert isinstance(line["_aws"]["Timestamp"], int)
