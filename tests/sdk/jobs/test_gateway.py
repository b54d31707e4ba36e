"""The job gateway's Lambda handler, in-process, on API Gateway v2 events against the moto server."""

import base64
import json
import threading
import urllib.request
from typing import Any

import pytest

from sdk.jobs import JobClient, JobContext, JobStatus, Worker
from sdk.jobs.gateway import Gateway, GatewaySettings


def event(route: str, *, body: Any = None, job_id: str | None = None, sub: str | None = "alice", **auth: Any) -> dict:
    """A payload format 2.0 event as API Gateway sends it after a JWT authorizer (or `iam=` / no identity)."""
    authorizer: dict[str, Any] = {}
    if sub is not None:
        authorizer["jwt"] = {"claims": {"sub": sub, "scope": auth.get("scope", "jobs/submit jobs/read")}, "scopes": []}
    if "iam" in auth:
        authorizer = {"iam": {"userArn": auth["iam"]}}
    method, path = route.split(" ", 1)
    out: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path.replace("{id}", job_id or ""),
        "requestContext": {"authorizer": authorizer, "http": {"method": method}},
        "isBase64Encoded": False,
    }
    if job_id is not None:
        out["pathParameters"] = {"id": job_id}
    if body is not None:
        out["body"] = body if isinstance(body, str) else json.dumps(body)
    return out


def call(gateway: Gateway, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    out = gateway(event(*args, **kwargs))
    return out["statusCode"], json.loads(out["body"]), out["headers"]


@pytest.fixture
def client(job_resources: Any) -> JobClient:
    return JobClient(job_resources.queue_url, job_resources.table_name, job_resources.bucket)


@pytest.fixture
def gateway(client: JobClient) -> Gateway:
    return Gateway(client, GatewaySettings(submit_scope="jobs/submit", read_scope="jobs/read"))


def shout(ctx: JobContext) -> dict[str, Any]:
    text = ctx.inputs["prompt.txt"].read_text()
    (ctx.output_dir / "upper.txt").write_text(text.upper())
    return {"words": len(text.split()), "lang": ctx.payload["lang"]}


def run_one_job(jobs: Any, job_id: str) -> None:
    worker = Worker(shout, jobs.config())
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        JobClient(jobs.resources.queue_url, jobs.resources.table_name, jobs.resources.bucket).wait(job_id, 60, 0.2)
    finally:
        worker.stop()
        thread.join(timeout=30)


def fetch(url: str, data: bytes | None = None, method: str = "GET") -> bytes:
    # An explicit type: urllib's default (form-urlencoded) makes moto's server parse the body as a form.
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return bytes(reply.read())


def test_a_job_submitted_inline_runs_on_the_real_worker_and_its_outputs_download_by_url(gateway, jobs):
    # GIVEN a submit with an inline input
    body = {
        "kind": "shout",
        "payload": {"lang": "en"},
        "inputs": {"prompt.txt": base64.b64encode(b"a red cube").decode()},
    }
    # WHEN it is submitted, a worker runs it and the caller reads it back
    status, submitted, _ = call(gateway, "POST /jobs", body=body)
    assert status == 201 and submitted["started"] is True, submitted
    run_one_job(jobs, submitted["job_id"])
    status, job, _ = call(gateway, "GET /jobs/{id}", job_id=submitted["job_id"])
    # THEN it SUCCEEDED with the handler's result and a presigned URL that serves the output file
    assert status == 200 and job["status"] == "SUCCEEDED", job
    assert job["result"] == {"words": 3, "lang": "en"}
    assert fetch(job["outputs"]["upper.txt"]) == b"A RED CUBE"


def test_a_job_with_uploads_waits_for_its_files_and_starts_once_they_are_there(gateway, jobs):
    # GIVEN a submit that asks for an upload URL
    status, submitted, _ = call(
        gateway, "POST /jobs", body={"kind": "shout", "payload": {"lang": "de"}, "uploads": ["prompt.txt"]}
    )
    assert status == 201 and submitted["started"] is False
    job_id = submitted["job_id"]
    # WHEN it is started before the upload, THEN 409 names the missing input and nothing was queued
    status, error, _ = call(gateway, "POST /jobs/{id}/start", job_id=job_id)
    assert (status, error["error"]["field"]) == (409, "inputs") and "prompt.txt" in error["error"]["message"]
    assert jobs.queue_depth() == 0
    # WHEN the file is PUT to its URL and the job started (twice: the second sends nothing)
    fetch(submitted["upload_urls"]["prompt.txt"], b"ein roter wuerfel", "PUT")
    assert call(gateway, "POST /jobs/{id}/start", job_id=job_id)[0] == 202
    assert call(gateway, "POST /jobs/{id}/start", job_id=job_id)[0] == 202
    assert jobs.queue_depth() == 1
    run_one_job(jobs, job_id)
    # THEN the worker ran it on the uploaded file
    job = call(gateway, "GET /jobs/{id}", job_id=job_id)[1]
    assert job["result"] == {"words": 3, "lang": "de"} and job["awaiting_uploads"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payload": {}}, "kind"),
        ({"kind": "bad kind!"}, "kind"),
        ({"kind": "x", "colour": "red"}, "colour"),
        ({"kind": "x", "payload": [1]}, "payload"),
        ({"kind": "x", "inputs": {"../etc/passwd": "YQ=="}}, "inputs"),
        ({"kind": "x", "inputs": {"a.txt": "not base64!"}}, "inputs"),
        ({"kind": "x", "uploads": ["a.txt", "a.txt"]}, "uploads"),
        ({"kind": "x", "inputs": {"a.txt": "YQ=="}, "uploads": ["a.txt"]}, "inputs"),
        ("{not json", "body"),
        ("[1, 2]", "body"),
        (None, "body"),
    ],
)
def test_a_bad_submit_is_a_400_that_names_the_field_and_queues_nothing(gateway, jobs, body, field):
    # GIVEN a malformed body WHEN it is submitted
    status, error, _ = call(gateway, "POST /jobs", body=body)
    # THEN 400 naming the field, and no message was sent
    assert status == 400, error
    assert error["error"]["field"].split(".")[0] == field, error
    assert jobs.queue_depth() == 0


def test_a_body_over_the_bound_is_a_413_before_it_is_parsed(client):
    # GIVEN a 1 KiB body bound WHEN a 2 KiB inline input is sent
    gateway = Gateway(client, GatewaySettings(max_body_bytes=1024))
    body = {"kind": "x", "inputs": {"a.bin": base64.b64encode(b"0" * 2048).decode()}}
    status, error, _ = call(gateway, "POST /jobs", body=body)
    # THEN 413 on the body
    assert (status, error["error"]["field"]) == (413, "body")


def test_a_payload_over_the_message_limit_is_a_400_on_payload(gateway):
    # GIVEN a payload larger than an SQS message (the JobMessage bound) WHEN it is submitted
    gateway.settings = GatewaySettings(max_body_bytes=6 * 1024 * 1024 - 65536)
    status, error, _ = call(gateway, "POST /jobs", body={"kind": "x", "payload": {"blob": "x" * 300_000}})
    # THEN 400 on payload
    assert (status, error["error"]["field"]) == (400, "payload"), error


def test_the_caller_is_the_jwt_subject_or_the_iam_principal_and_nobody_is_refused(gateway):
    # GIVEN a job of alice (JWT)
    job_id = call(gateway, "POST /jobs", body={"kind": "x"})[1]["job_id"]
    # WHEN bob (JWT), an IAM principal and a request without identity ask for it
    # THEN bob and the IAM principal get 404 (its existence is not revealed), no identity gets 401
    assert call(gateway, "GET /jobs/{id}", job_id=job_id, sub="bob")[0] == 404
    assert call(gateway, "GET /jobs/{id}", job_id=job_id, sub=None, iam="arn:aws:iam::1:user/ci")[0] == 404
    assert call(gateway, "GET /jobs/{id}", job_id=job_id, sub=None)[0] == 401
    assert call(gateway, "GET /jobs/{id}", job_id=job_id)[0] == 200
    # AND an IAM principal owns the jobs it submits
    iam_job = call(gateway, "POST /jobs", body={"kind": "x"}, sub=None, iam="arn:aws:iam::1:user/ci")[1]["job_id"]
    assert call(gateway, "GET /jobs/{id}", job_id=iam_job, sub=None, iam="arn:aws:iam::1:user/ci")[0] == 200


def test_a_token_without_the_routes_scope_is_a_403(gateway):
    # GIVEN a token with the read scope only WHEN it submits, THEN 403 on scope
    status, error, _ = call(gateway, "POST /jobs", body={"kind": "x"}, scope="jobs/read")
    assert (status, error["error"]["field"]) == (403, "scope")
    # AND it may read
    job_id = call(gateway, "POST /jobs", body={"kind": "x"})[1]["job_id"]
    assert call(gateway, "GET /jobs/{id}", job_id=job_id, scope="jobs/read")[0] == 200


def test_unknown_and_malformed_job_ids_are_404_and_400(gateway):
    assert call(gateway, "GET /jobs/{id}", job_id="0" * 32)[0] == 404
    assert call(gateway, "GET /jobs/{id}", job_id="quota#x")[1]["error"]["field"] == "id"
    assert call(gateway, "DELETE /jobs/{id}", job_id="../x")[0] == 400


def test_the_submission_quota_is_per_caller_and_window_and_answers_429_with_retry_after(client, job_resources):
    # GIVEN a quota of 2 per hour and a clock
    now = [7200.0 + 100]
    gateway = Gateway(client, GatewaySettings(quota=2), clock=lambda: now[0])
    # WHEN alice submits 3 times
    statuses = [call(gateway, "POST /jobs", body={"kind": "x"})[0] for _ in range(3)]
    status, error, headers = call(gateway, "POST /jobs", body={"kind": "x"})
    # THEN the third and later are 429 with the seconds to the next window; bob is not affected
    assert statuses == [201, 201, 429] and status == 429 and error["error"]["field"] == "quota"
    assert headers["Retry-After"] == "3500"
    assert call(gateway, "POST /jobs", body={"kind": "x"}, sub="bob")[0] == 201
    # AND the counter is an item of the job table with a TTL; the next window starts afresh
    import boto3

    items = boto3.client("dynamodb").scan(TableName=job_resources.table_name)["Items"]
    counters = [i for i in items if i["job_id"]["S"].startswith("quota#")]
    assert sorted(int(i["count"]["N"]) for i in counters) == [1, 2] and all("expires_at" in i for i in counters)
    now[0] += 3600
    assert call(gateway, "POST /jobs", body={"kind": "x"})[0] == 201


def test_cancel_cancels_a_pending_job_once(gateway):
    # GIVEN a pending job WHEN it is cancelled twice
    job_id = call(gateway, "POST /jobs", body={"kind": "x"})[1]["job_id"]
    first = call(gateway, "DELETE /jobs/{id}", job_id=job_id)
    second = call(gateway, "DELETE /jobs/{id}", job_id=job_id)
    # THEN the first cancels it, the second reports it already ended; another caller cannot cancel it
    assert first[:2] == (200, {"job_id": job_id, "cancelled": True, "status": "CANCELLED"})
    assert second[1]["cancelled"] is False
    assert call(gateway, "DELETE /jobs/{id}", job_id=job_id, sub="mallory")[0] == 404
    assert JobStatus(call(gateway, "GET /jobs/{id}", job_id=job_id)[1]["status"]) is JobStatus.CANCELLED


def test_health_answers_without_identity_and_an_unknown_route_is_404(gateway):
    assert call(gateway, "GET /health", sub=None)[:2] == (200, {"status": "ok"})
    assert call(gateway, "PUT /jobs", sub=None)[0] == 404


def test_an_aws_failure_is_a_500_without_details(client):
    # GIVEN a client whose table does not exist WHEN a job is read THEN 500, the body names no internals
    broken = Gateway(JobClient(client.queue_url, "no-such-table", client.bucket), GatewaySettings())
    status, error, _ = call(broken, "GET /jobs/{id}", job_id="abc")
    assert status == 500 and "no-such-table" not in json.dumps(error)


def test_settings_round_trip_through_the_environment_the_construct_sets():
    settings = GatewaySettings(quota=5, submit_scope="jobs/submit", allow_anonymous=True)
    assert GatewaySettings.from_env(settings.environment()) == settings
