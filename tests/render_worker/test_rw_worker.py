"""Queue mode against moto (real boto3 over HTTP): render jobs succeed with their outputs in S3, bad ones FAIL.

Named test_rw_worker.py because tests/sdk/jobs/test_worker.py exists and pytest's default import mode needs
unique basenames.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from render_worker.config import Limits, WorkerSettings
from render_worker.errors import RenderTimeout
from render_worker.isolation import RenderProcess
from render_worker.worker import RenderHandler
from sdk.jobs import JobClient, JobContext, JobStatus, PermanentJobError, Worker, WorkerConfig

ROOT = Path(__file__).resolve().parents[2]


def _client(res) -> JobClient:
    return JobClient(res.queue_url, res.table_name, res.bucket)


def _worker(res, renderer: RenderProcess, settings: WorkerSettings) -> Worker:
    config = WorkerConfig(
        queue_url=res.queue_url, table_name=res.table_name, bucket=res.bucket,
        visibility_timeout=30, wait_seconds=1, max_receive_count=res.max_receive_count,
    )  # fmt: skip
    return Worker(RenderHandler(renderer, settings), config, kinds={"render"})


def test_a_render_job_uploads_its_images_and_report(
    job_resources, renderer: RenderProcess, settings: WorkerSettings, models, tmp_path: Path
) -> None:
    # GIVEN a render job for an STL with a payload choosing one view at 48 px
    client = _client(job_resources)
    model = models.write_binary_stl(tmp_path / "cube.stl")
    job_id = client.submit("render", {"views": "iso", "size": 48}, inputs={"model.stl": model})
    # WHEN the render worker handles one message
    assert _worker(job_resources, renderer, settings).run_once()
    # THEN the job SUCCEEDED with a summary, and the PNG, contact sheet and render.json are in S3
    record = client.status(job_id)
    assert record.status is JobStatus.SUCCEEDED and record.result is not None, record
    assert record.result["views"] == ["iso.png"] and record.result["triangles"] == 12
    prefix = f"jobs/{job_id}/outputs/"
    assert sorted(client.outputs(job_id)) == [prefix + n for n in ("contact_sheet.png", "iso.png", "render.json")]
    body = boto3.client("s3").get_object(Bucket=job_resources.bucket, Key=prefix + "render.json")["Body"]
    assert json.loads(body.read())["options"]["size"] == 48


def test_a_bad_model_fails_the_job_at_once_with_the_reason(
    job_resources, renderer: RenderProcess, settings: WorkerSettings, tmp_path: Path
) -> None:
    # GIVEN a job whose 3MF is a text file
    client = _client(job_resources)
    junk = tmp_path / "model.3mf"
    junk.write_text("hello", encoding="utf-8")
    job_id = client.submit("render", {}, inputs={"model.3mf": junk})
    # WHEN it is handled THEN it is FAILED on the first attempt, with the reason, and not retried
    assert _worker(job_resources, renderer, settings).run_once()
    record = client.status(job_id)
    assert record.status is JobStatus.FAILED and record.attempts == 1
    assert "not a zip file" in (record.error or "")


def test_an_unknown_payload_key_or_missing_model_fails_the_job(
    job_resources, renderer: RenderProcess, settings: WorkerSettings, models, tmp_path: Path
) -> None:
    # GIVEN a job with a misspelt option, and a job without a model input
    client = _client(job_resources)
    model = models.write_obj(tmp_path / "cube.obj")
    typo = client.submit("render", {"sample": 4}, inputs={"model.obj": model})
    no_model = client.submit("render", {}, inputs={"mesh.obj": model})
    worker = _worker(job_resources, renderer, settings)
    # WHEN both are handled
    while worker.run_once():
        pass
    # THEN each FAILED with a message naming what to fix
    assert "unknown render payload key(s) ['sample']" in (client.status(typo).error or "")
    assert "input named 'model.<ext>'" in (client.status(no_model).error or "")


def test_serve_consumes_jobs_and_exits_when_idle(job_resources, models, tmp_path: Path) -> None:
    # GIVEN a job and the worker command as the container runs it (GPU_JOBS_* env, idle exit after 3 s)
    client = _client(job_resources)
    job_id = client.submit("render", {"views": "front", "size": 32, "samples": 1},
                           inputs={"model.ply": models.write_ply(tmp_path / "cube.ply")})  # fmt: skip
    render_env = {"RENDER_KERNEL_CACHE_DIR": str(tmp_path / "kernels"), "RENDER_HEARTBEAT_FILE": str(tmp_path / "hb"),
                  "TMPDIR": str(tmp_path / "scratch" / "tmp")}  # fmt: skip
    env = {**os.environ, **job_resources.worker_env(GPU_JOBS_IDLE_EXIT_SECONDS="3", GPU_JOBS_WAIT_SECONDS="1")}
    env.update(render_env)
    # WHEN `python -m render_worker serve` runs
    run = subprocess.run([sys.executable, "-m", "render_worker", "serve"], cwd=ROOT, env=env,
                         capture_output=True, encoding="utf-8", timeout=180)  # fmt: skip
    # THEN it rendered the job, wrote its heartbeat, made its scratch TMPDIR and exited cleanly once idle
    assert run.returncode == 0, run.stderr[-2000:]
    assert client.status(job_id).status is JobStatus.SUCCEEDED
    assert (tmp_path / "hb").is_file() and (tmp_path / "scratch" / "tmp").is_dir()
    # AND every line our loggers wrote, the worker's and its Blender child's, is a JSON object (Blender's own native
    # prints, e.g. "00:01.588  render | Saved: ...", are not ours)
    ours = [json.loads(line) for line in (run.stdout + run.stderr).splitlines() if line.startswith("{")]
    text = [line for line in run.stderr.splitlines() if line[:4].isdigit() and " render_worker." in line]
    assert text == [], text
    assert {"worker started", "worker stopped"} <= {line.get("msg") for line in ours}
    assert any(line.get("msg", "").startswith("blender warm-up") for line in ours)


def _context(job_id: str, attempt: int, model: Path, out: Path) -> JobContext:
    out.mkdir()
    logger = logging.LoggerAdapter(logging.getLogger("test"), {})
    return JobContext(job_id, "render", {"views": "front,back,left,right,iso", "size": 256}, {"model.3mf": model},
                      out, attempt, logger)  # fmt: skip


def test_a_crashed_render_is_retried_once_then_fails_the_job(settings: WorkerSettings, models, tmp_path: Path) -> None:
    # GIVEN a handler whose Blender child cannot finish in time (as when it hangs or dies)
    slow = settings.model_copy(update={"limits": Limits(render_timeout_s=0.3)})
    handler = RenderHandler(RenderProcess(slow), slow)
    model = models.write_3mf(tmp_path / "cube.3mf")
    # WHEN the first attempt fails THEN the error is left for SQS to retry (not permanent)
    with pytest.raises(RenderTimeout):
        handler(_context("j1", 1, model, tmp_path / "a"))
    # AND on the second attempt the same failure fails the job for good, saying so
    with pytest.raises(PermanentJobError, match="attempt 2; not retried again"):
        handler(_context("j1", 2, model, tmp_path / "b"))
    handler.renderer.close()
