"""docs/job_gateway.md: its curl blocks run against the real handler, and the OpenAPI document is current."""

import base64
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sdk.jobs import JobClient, JobContext, Worker
from sdk.jobs.gateway import ROUTES, Gateway, GatewaySettings
from sdk.jobs.gateway_openapi import render

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "job_gateway.md"
SCOPES = {"submit": "jobs/submit", "read": "jobs/read"}
_TEMPLATES = [
    (re.compile("^" + re.sub(r"\\\{id\\\}", "([^/]+)", re.escape(p)) + "$"), p)
    for p in {k.split(" ", 1)[1] for k in ROUTES}
]


def token(claims: dict[str, Any]) -> str:
    """An unsigned JWT: the adapter stands in for API Gateway's authorizer, which would verify the signature."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")  # noqa: E731
    return f"{part({'alg': 'none'})}.{part(claims)}."


def claims_of(header: str) -> dict[str, Any]:
    payload = header.removeprefix("Bearer ").split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def adapter(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    """HTTP -> API Gateway payload 2.0 event -> handler -> HTTP, with the JWT authorizer's route and scope checks."""

    class Handler(BaseHTTPRequestHandler):
        def do_any(self) -> None:
            path = self.path.split("?", 1)[0]
            match = next(((m, t) for r, t in _TEMPLATES if (m := r.match(path))), None)
            key = f"{self.command} {match[1]}" if match else ""
            if key not in ROUTES:
                return self.reply(404, {"message": "Not Found"}, {})
            event: dict[str, Any] = {"version": "2.0", "routeKey": key, "rawPath": path, "requestContext": {}}
            if match and match[0].groups():
                event["pathParameters"] = {"id": match[0].group(1)}
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if body:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
            scope = ROUTES[key]
            if scope is not None:
                claims = claims_of(self.headers.get("authorization", ""))
                if SCOPES[scope] not in claims.get("scope", "").split():
                    return self.reply(403, {"message": "Forbidden"}, {})
                event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": []}}
            out = gateway(event)
            self.reply(out["statusCode"], json.loads(out["body"]), out["headers"])

        do_GET = do_POST = do_DELETE = do_PUT = do_any

        def reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {**headers, "content-length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def api(job_resources: Any) -> Iterator[str]:
    client = JobClient(job_resources.queue_url, job_resources.table_name, job_resources.bucket)
    gateway = Gateway(client, GatewaySettings(submit_scope="jobs/submit", read_scope="jobs/read"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), adapter(gateway))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def count_words(ctx: JobContext) -> dict[str, Any]:
    text = ctx.inputs["prompt.txt"].read_text()
    (ctx.output_dir / "upper.txt").write_text(text.upper())
    return {"words": len(text.split()), "lang": ctx.payload["lang"]}


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the doc's blocks need curl and jq")
def test_the_docs_curl_flow_submits_runs_and_fetches_a_job_through_the_real_handler(api, jobs, tmp_path):
    # GIVEN the gateway behind a local adapter, a worker for count-words, and a token with both scopes
    worker = Worker(count_words, jobs.config(), kinds={"count-words"})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "API": api,
        "TOKEN": token({"sub": "ci", "scope": "jobs/submit jobs/read"}),
    }
    try:
        # WHEN the doc's first block runs
        first, uploads = bash_blocks()
        out = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", first],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        # THEN it prints the result and the output file fetched by its presigned URL
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == ['{"words":6,"lang":"en"}', "A RED CUBE ON A TABLE"]
        # WHEN the upload block runs THEN the job was started after its file reached S3
        out = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", uploads],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        job_id, status = out.stdout.split()
        assert status in {"PENDING", "RUNNING", "SUCCEEDED"}
        assert jobs.client.wait(job_id, 60, 0.2).result == {"words": 4, "lang": "en"}
    finally:
        worker.stop()
        thread.join(timeout=30)


def test_the_adapter_refuses_a_token_without_the_scope_like_api_gateway(api):
    # GIVEN a read-only token WHEN it submits through the adapter THEN 403 before the handler
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{api}/jobs",
        data=b'{"kind": "x"}',
        method="POST",
        headers={"authorization": f"Bearer {token({'sub': 'a', 'scope': 'jobs/read'})}"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 403


def test_the_shipped_openapi_document_is_generated_from_the_handlers_models():
    # GIVEN the handler's models and routes WHEN the document is rendered THEN it equals the shipped copy
    shipped = (ROOT / "docs" / "job_gateway.openapi.json").read_text(encoding="utf-8")
    assert shipped == render(), "stale: python -m sdk.jobs.gateway_openapi docs/job_gateway.openapi.json"
    document = json.loads(shipped)
    assert {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops} == set(ROUTES)
    assert document["paths"]["/jobs"]["post"]["security"][0] == {"jwt": ["submit"]}
    assert set(document["components"]["schemas"]["SubmitRequest"]["properties"]) == {
        "kind",
        "payload",
        "inputs",
        "uploads",
    }
