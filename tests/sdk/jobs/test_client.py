"""JobClient against moto: what submit writes, and that no failure leaves a silent PENDING job."""

import json
from pathlib import Path

import boto3
import pytest

from sdk.jobs import JobClient, JobNotFoundError, JobStatus, JobSubmitError


def _client(res, **overrides) -> JobClient:
    args = {"queue_url": res.queue_url, "table_name": res.table_name, "bucket": res.bucket, **overrides}
    return JobClient(**args)


def test_submit_writes_the_row_the_inputs_and_the_message(job_resources, tmp_path: Path) -> None:
    # GIVEN an input file and bytes
    path = tmp_path / "model.stl"
    path.write_bytes(b"solid")
    # WHEN a job is submitted
    job_id = _client(job_resources).submit("render", {"views": 5}, inputs={"model.stl": path, "cfg.json": b"{}"})
    # THEN the row is PENDING, the inputs are in S3 and the message names them
    record = _client(job_resources).status(job_id)
    assert (record.status, record.kind, record.payload, record.attempts) == (
        JobStatus.PENDING,
        "render",
        {"views": 5},
        0,
    )
    s3 = boto3.client("s3")
    assert s3.get_object(Bucket=job_resources.bucket, Key=f"jobs/{job_id}/inputs/model.stl")["Body"].read() == b"solid"
    msg = boto3.client("sqs").receive_message(QueueUrl=job_resources.queue_url, WaitTimeSeconds=1)["Messages"][0]
    body = json.loads(msg["Body"])
    assert body["job_id"] == job_id
    assert body["inputs"] == {
        "model.stl": f"jobs/{job_id}/inputs/model.stl",
        "cfg.json": f"jobs/{job_id}/inputs/cfg.json",
    }
    assert record.expires_at is not None and record.expires_at > record.created_at.timestamp() + 29 * 86400


@pytest.mark.parametrize(
    ("kind", "inputs", "error"),
    [
        ("bad kind!", {}, "kind .bad kind!.: use 1-64 letters"),
        ("render", {"../x": b""}, "plain file name"),
        ("render", {"m.stl": Path("/nonexistent/m.stl")}, "is not a readable file"),
    ],
)
def test_bad_arguments_raise_before_anything_is_written(job_resources, kind, inputs, error) -> None:
    with pytest.raises(ValueError, match=error):
        _client(job_resources).submit(kind, {}, inputs=inputs)
    scan = boto3.client("dynamodb").scan(TableName=job_resources.table_name)
    assert scan["Count"] == 0


def test_a_message_that_cannot_be_sent_fails_the_row_with_the_reason(job_resources) -> None:
    # GIVEN a client whose queue no longer exists
    boto3.client("sqs").delete_queue(QueueUrl=job_resources.queue_url)
    client = _client(job_resources)
    # WHEN a job is submitted
    with pytest.raises(JobSubmitError) as caught:
        client.submit("render", {})
    # THEN the row is FAILED with the same reason, not PENDING forever
    record = client.status(caught.value.job_id)
    assert record.status is JobStatus.FAILED
    assert record.error == caught.value.reason
    assert caught.value.reason.startswith("submit failed while sending the message:")


def test_an_input_that_cannot_be_uploaded_fails_the_row(job_resources) -> None:
    client = _client(job_resources, bucket="no-such-bucket-here")
    with pytest.raises(JobSubmitError, match=r"while uploading inputs: .*NoSuchBucket"):
        client.submit("render", {}, inputs={"a": b"1"})
    rows = boto3.client("dynamodb").scan(TableName=job_resources.table_name)["Items"]
    assert [r["status"]["S"] for r in rows] == ["FAILED"]


def test_status_of_an_unknown_job_names_the_table(job_resources) -> None:
    with pytest.raises(JobNotFoundError, match=f"no job 'nope' in table {job_resources.table_name}"):
        _client(job_resources).status("nope")


def test_wait_times_out_naming_the_status(job_resources) -> None:
    client = _client(job_resources)
    job_id = client.submit("render", {})
    with pytest.raises(TimeoutError, match=f"job {job_id} still PENDING after 0.3s"):
        client.wait(job_id, timeout=0.3, poll=0.1)


def test_wait_returns_a_finished_job(job_resources) -> None:
    client = _client(job_resources)
    job_id = client.submit("render", {})
    client.cancel(job_id)
    assert client.wait(job_id, timeout=5).status is JobStatus.CANCELLED


def test_cancel_is_true_once(job_resources) -> None:
    client = _client(job_resources)
    job_id = client.submit("render", {})
    assert client.cancel(job_id) is True
    assert client.cancel(job_id) is False
    with pytest.raises(JobNotFoundError):
        client.cancel("nope")


def test_outputs_lists_and_downloads_only_the_jobs_outputs(job_resources, tmp_path: Path) -> None:
    # GIVEN outputs of two jobs in the bucket
    client, s3 = _client(job_resources), boto3.client("s3")
    for key in ("jobs/a/outputs/v/1.png", "jobs/a/outputs/log.txt", "jobs/ab/outputs/x", "jobs/a/inputs/m"):
        s3.put_object(Bucket=job_resources.bucket, Key=key, Body=key.encode())
    # WHEN job a's outputs are listed and downloaded
    keys = client.outputs("a")
    files = client.download_outputs("a", tmp_path)
    # THEN only its outputs/ keys appear, and the files keep their relative paths
    assert keys == ["jobs/a/outputs/log.txt", "jobs/a/outputs/v/1.png"]
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["log.txt", "v/1.png"]
    assert (tmp_path / "v" / "1.png").read_bytes() == b"jobs/a/outputs/v/1.png"


def test_from_env_uses_the_worker_variables(job_resources, monkeypatch) -> None:
    for name, value in job_resources.worker_env(GPU_JOBS_PREFIX="r/").items():
        monkeypatch.setenv(name, value)
    client = JobClient.from_env()
    assert (client.queue_url, client.bucket, client.prefix) == (job_resources.queue_url, job_resources.bucket, "r/")
