"""Shared pytest fixtures. Section owners: the moto server fixtures belong to the sdk.jobs work."""

import contextlib
import copy
import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# -- AWS on a local moto server (sdk.jobs) -------------------------------------------------------------------
# Real boto3 over real HTTP against moto in server mode on 127.0.0.1. Subprocesses inherit the environment,
# so a worker started with subprocess talks to the same server.

AWS_REGION = "us-east-1"
MAX_RECEIVE_COUNT = 3


@dataclass(frozen=True)
class JobResources:
    """A fresh queue + DLQ (redrive after MAX_RECEIVE_COUNT receives), job table and bucket."""

    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    table_name: str
    bucket: str
    endpoint_url: str
    region: str = AWS_REGION
    max_receive_count: int = MAX_RECEIVE_COUNT

    def worker_env(self, **extra: str) -> dict[str, str]:
        """The GPU_JOBS_* variables an ECS task definition would set for a worker on these resources."""
        base = {
            "GPU_JOBS_QUEUE_URL": self.queue_url,
            "GPU_JOBS_TABLE": self.table_name,
            "GPU_JOBS_BUCKET": self.bucket,
            "GPU_JOBS_PREFIX": "jobs/",
        }
        return {**base, **extra}


class _AtomicRequests:
    """WSGI wrapper: one SQS and one DynamoDB request at a time, and UpdateItem all-or-nothing. The services
    apply each request atomically; moto does not lock (a conditional write can pass twice, two receives can hand
    out the same message or race a DLQ move), and its UpdateItem applies the SET actions before the one that
    failed (e.g. an item over 400 KB). Without this the tests would measure moto's races and half-writes. Test
    workers short-poll (wait 0), so no request holds a lock for long."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._locks = {"DynamoDB_": threading.Lock(), "AmazonSQS.": threading.Lock()}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        lock = next((lock for prefix, lock in self._locks.items() if target.startswith(prefix)), None)
        if lock is None:
            return self._app(environ, start_response)
        with lock:
            if target.endswith(".UpdateItem"):
                return self._all_or_nothing(environ, start_response)
            return list(self._app(environ, start_response))

    def _all_or_nothing(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """Run an UpdateItem; when it answers an error, put the item back as it was before the request."""
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        items, key = _moto_item_slot(json.loads(body or b"{}"))
        before = copy.deepcopy(items.get(key)) if items is not None else None
        statuses: list[str] = []

        def recording(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        out = list(self._app(environ, recording))
        if items is not None and statuses and not statuses[0].startswith("2"):
            if before is None:
                items.pop(key, None)
            else:
                items[key] = before
        return out


def _moto_item_slot(request: dict[str, Any]) -> tuple[Any, Any]:
    """(the moto table's items dict, the request's hash key in it), or (None, None) for an unknown table."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    for regions in list(dynamodb_backends.values()):
        for backend in list(regions.values()):
            table = backend.tables.get(request.get("TableName"))
            if table is not None and table.hash_key_attr in request.get("Key", {}):
                return table.items, DynamoType(request["Key"][table.hash_key_attr])
    return None, None


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Endpoint URL of a moto server on 127.0.0.1 (free port), shared by the whole session."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:  # as moto's, with requests made atomic
            app = _AtomicRequests(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns failure reports
    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_env(moto_server: str) -> Iterator[dict[str, str]]:
    """Fake credentials, us-east-1 and AWS_ENDPOINT_URL (honoured by boto3 itself) set in os.environ."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": AWS_REGION,
        "AWS_REGION": AWS_REGION,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "ECS_AGENT_URI"):
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture
def job_resources(aws_env: dict[str, str]) -> Iterator[JobResources]:
    """Unique queue + DLQ, job table (schema from sdk.jobs.schema) and bucket; deleted afterwards."""
    import boto3

    name = f"jobs-{uuid.uuid4().hex[:12]}"
    sqs, s3, ddb = boto3.client("sqs"), boto3.client("s3"), boto3.client("dynamodb")
    dlq_url, dlq_arn = _create_queue(sqs, f"{name}-dlq", {})
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    queue_url, queue_arn = _create_queue(sqs, name, {"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "2"})
    _create_job_table(ddb, name)
    s3.create_bucket(Bucket=name)
    yield JobResources(queue_url, queue_arn, dlq_url, dlq_arn, name, name, aws_env["AWS_ENDPOINT_URL"])
    for cleanup in (
        lambda: sqs.delete_queue(QueueUrl=queue_url),
        lambda: sqs.delete_queue(QueueUrl=dlq_url),
        lambda: ddb.delete_table(TableName=name),
        lambda: _delete_bucket(s3, name),
    ):
        with contextlib.suppress(Exception):  # a test may have deleted it on purpose
            cleanup()


def _create_queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _create_job_table(ddb: Any, name: str) -> None:
    from sdk.jobs.schema import CREATED_AT_ATTRIBUTE, HASH_KEY, STATUS_ATTRIBUTE, STATUS_INDEX, TTL_ATTRIBUTE

    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in (HASH_KEY, STATUS_ATTRIBUTE, CREATED_AT_ATTRIBUTE)
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": STATUS_INDEX,
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": STATUS_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": CREATED_AT_ATTRIBUTE, "KeyType": "RANGE"},
                ],
            }
        ],
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})


def _delete_bucket(s3: Any, name: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


# -- Terraform reading our JSON (spec strings) --------------------------------------------------------------------


@pytest.fixture
def terraform_reads(tmp_path):
    """A function: the string Terraform evaluates a JSON string value to (a local in an empty root module; no
    provider is needed, so it runs offline). Skips when terraform is not on PATH."""
    import shutil
    import subprocess

    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null"}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"

    def read(value: str) -> str:
        (tmp_path / "main.tf.json").write_text(json.dumps({"locals": {"value": value}}), encoding="utf-8")
        subprocess.run(["terraform", "init", "-input=false"], cwd=tmp_path, env=env, check=True, capture_output=True)
        out = subprocess.run(
            ["terraform", "console"], input=b"jsonencode(local.value)\n", cwd=tmp_path, env=env, capture_output=True
        )
        assert out.returncode == 0, out.stderr.decode()
        return json.loads(json.loads(out.stdout.decode().strip()))

    return read
