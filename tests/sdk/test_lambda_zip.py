"""The job gateway's Lambda zip: byte-stable, and it runs with only what a Lambda Python runtime has (boto3)."""

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from sdk import lambda_zip

# What the Lambda Python runtime provides besides the standard library: boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
SITE = Path(boto3.__file__).resolve().parents[1]


def runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's Python version (PATH, then pyenv), if this machine has one."""
    found = [shutil.which("python3.12"), *map(str, sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")))]
    check = "import sys; assert sys.version_info[:2] == (3, 12)"
    return next((p for p in found if p and subprocess.run([p, "-c", check], capture_output=True).returncode == 0), None)


RUNTIME_PYTHON = runtime_python()

PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from sdk.jobs.gateway import handler
events = json.loads(sys.argv[3])
out = [handler(e, None) for e in events]
leaked = sorted(m for m in sys.modules if m.split(".")[0] in {"cdktf", "constructs", "jsii", "moto"})
print(json.dumps({"out": out, "leaked": leaked, "pydantic": sys.modules["pydantic"].__file__}))
"""


def test_the_zip_is_the_same_bytes_when_built_twice():
    # GIVEN the same sources WHEN the zip is built twice (no cache) THEN the bytes are equal
    assert lambda_zip.gateway_zip.__wrapped__() == lambda_zip.gateway_zip.__wrapped__()


def test_every_entry_has_a_fixed_date_and_mode_and_the_entries_are_sorted():
    archive = zipfile.ZipFile(io.BytesIO(lambda_zip.gateway_zip()))
    infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {(i.date_time, i.external_attr >> 16) for i in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}
    names = set(archive.namelist())
    assert {"sdk/__init__.py", "sdk/jobs/gateway.py", "pydantic/__init__.py"} <= names
    assert not any(n.startswith(("cdktf", "sdk/constructs", "blueprints")) for n in names)


@pytest.mark.skipif(RUNTIME_PYTHON is None, reason="needs a Python 3.12 interpreter (the Lambda runtime's version)")
def test_the_packaged_handler_serves_requests_on_python_3_12_with_only_boto3_beside_it(tmp_path, job_resources):
    # GIVEN the zip unpacked, and a folder holding only the packages a Lambda Python runtime has
    code, runtime = tmp_path / "task", tmp_path / "runtime"
    zipfile.ZipFile(io.BytesIO(lambda_zip.gateway_zip())).extractall(code)
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        (runtime / name).symlink_to(SITE / name)
    events = [
        {"routeKey": "GET /health", "requestContext": {}},
        {
            "routeKey": "POST /jobs",
            "requestContext": {"authorizer": {"jwt": {"claims": {"sub": "alice"}, "scopes": []}}},
            "body": json.dumps({"kind": "render", "payload": {"frames": 3}}),
        },
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(job_resources.worker_env())
    # WHEN Python 3.12 without site-packages (-S -I) imports the handler from them and calls it
    assert lambda_zip.RUNTIME == "python3.12" and RUNTIME_PYTHON is not None
    out = subprocess.run(
        [RUNTIME_PYTHON, "-S", "-I", "-c", PROBE, str(code), str(runtime), json.dumps(events)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # THEN it answers health and submits a job against the moto server, with the zip's pydantic (its cp312
    # pydantic_core) and no cdktf
    assert out.returncode == 0, out.stderr
    report: dict[str, Any] = json.loads(out.stdout)
    health, submitted = report["out"]
    assert health["statusCode"] == 200
    assert submitted["statusCode"] == 201, submitted
    assert report["pydantic"].startswith(str(code)) and report["leaked"] == []


def test_write_assets_writes_the_named_zip_and_drops_stale_ones(tmp_path):
    # GIVEN a stack whose Lambda names the zip, and a stale zip in its folder
    stale = tmp_path / f"{lambda_zip.ASSET_PREFIX}0000000000000000.zip"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    name = lambda_zip.gateway_zip_name()
    tf = {"resource": {"aws_lambda_function": {"gw": {"filename": name}}}}
    # WHEN the assets are written THEN the folder holds exactly the current zip
    assert lambda_zip.write_assets(tf, tmp_path) == [tmp_path / name]
    assert (tmp_path / name).read_bytes() == lambda_zip.gateway_zip() and not stale.exists()


def test_the_compiled_part_is_built_for_the_lambda_runtime_not_for_this_interpreter():
    names = zipfile.ZipFile(io.BytesIO(lambda_zip.gateway_zip())).namelist()
    assert [n for n in names if n.endswith(".so")] == ["pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so"]
