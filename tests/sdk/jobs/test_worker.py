"""Worker behaviour against moto (real boto3 over HTTP): one job at a time, observable through the table and queues."""

import io
import json
from pathlib import Path

from sdk.jobs import JobStatus


def test_a_job_runs_with_its_inputs_and_its_outputs_land_in_s3(jobs, tmp_path: Path) -> None:
    # GIVEN a job with an input file and a worker
    mesh = tmp_path / "model.3mf"
    mesh.write_bytes(b"3mf bytes")
    job_id = jobs.client.submit("render", {"n": 7}, inputs={"model.3mf": mesh})
    metrics = io.StringIO()
    worker = jobs.worker(metrics_stream=metrics)
    # WHEN the worker runs one receive cycle
    assert worker.run_once()
    # THEN the job SUCCEEDED once with the handler's result, its outputs uploaded and its message deleted
    record = jobs.client.status(job_id)
    assert record.status is JobStatus.SUCCEEDED
    assert record.result == {"n": 7, "attempt": 1}
    assert record.attempts == 1
    assert jobs.row(job_id)["effects"] == "1"
    assert jobs.client.outputs(job_id) == [f"jobs/{job_id}/outputs/logs/run.txt",
                                          f"jobs/{job_id}/outputs/model.3mf.copy"]
    body = jobs.s3.get_object(Bucket=jobs.resources.bucket, Key=f"jobs/{job_id}/outputs/model.3mf.copy")["Body"]
    assert body.read() == b"3mf bytes"
    assert jobs.queue_depth() == 0
    emitted = [json.loads(line) for line in metrics.getvalue().splitlines()]
    assert [next(k for k in line if k.startswith("Job")) for line in emitted] == ["JobsStarted", "JobsSucceeded"]
