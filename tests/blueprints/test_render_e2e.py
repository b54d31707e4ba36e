"""End to end without AWS: a 3MF render job submitted with JobClient to moto, consumed by `render_worker serve`
(a CPU subprocess) with the environment the FractionalGpuRenderer task definition sets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blueprints.fractional_renderer import FractionalRendererSpec, RenderSettings, RenderWorkerSpec
from sdk.jobs import JobClient, JobStatus
from tests.conftest import JobResources

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "3mf"
VIEWS = ("front", "back", "left", "right", "iso")
WORKER_TIMEOUT_S = 240
# A square pyramid, 20 mm base, 15 mm tall: distinct silhouettes from the front, top and iso views.
PYRAMID_VERTICES = ((0, 0, 0), (20, 0, 0), (20, 20, 0), (0, 20, 0), (10, 10, 15))
PYRAMID_TRIANGLES = ((0, 2, 1), (0, 3, 2), (0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 0, 4))


def write_pyramid_3mf(path: Path) -> Path:
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    mesh = model.AddMeshObject()
    mesh.SetName("pyramid")
    mesh.SetGeometry(
        [lib3mf.Position(tuple(float(c) for c in v)) for v in PYRAMID_VERTICES],
        [lib3mf.Triangle(t) for t in PYRAMID_TRIANGLES],
    )
    model.AddBuildItem(mesh, wrapper.GetIdentityTransform())
    model.QueryWriter("3mf").WriteToFile(str(path))
    return path


SPEC = FractionalRendererSpec(
    name="render-e2e",
    worker=RenderWorkerSpec(image="render-worker:test"),
    render=RenderSettings(views=VIEWS, size=48, samples=1, device="cpu"),
)


def task_environment(tmp_path: Path, jobs: JobResources) -> dict[str, str]:
    """The renderer task's environment (render defaults from the spec, GPU_JOBS_* from the queue), with the
    container's scratch and kernel-cache volumes mapped to temporary folders."""
    env = {
        **os.environ,
        **SPEC.container.environment,
        **jobs.worker_env(GPU_JOBS_VISIBILITY_TIMEOUT="120", GPU_JOBS_WAIT_SECONDS="1", GPU_JOBS_IDLE_EXIT_SECONDS="4"),
        "RENDER_KERNEL_CACHE_DIR": str(tmp_path / "kernel-cache"),
        "RENDER_HEARTBEAT_FILE": str(tmp_path / "scratch" / "render-worker.heartbeat"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("ECS_AGENT_URI", None)  # no ECS agent here: task protection is skipped
    return env


def serve_until_idle(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "render_worker", *SPEC.container.command],  # the image's ENTRYPOINT + the task's command
        env=env,
        cwd=REPO,
        capture_output=True,
        encoding="utf-8",
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )


def render_and_collect(tmp_path: Path, jobs: JobResources, model: Path) -> tuple[str, JobClient, dict]:
    client = JobClient(jobs.queue_url, jobs.table_name, jobs.bucket)
    job_id = client.submit("render", inputs={f"model{model.suffix}": model})
    worker = serve_until_idle(task_environment(tmp_path, jobs))
    assert worker.returncode == 0, worker.stderr[-3000:]
    record = client.status(job_id)
    assert record.status is JobStatus.SUCCEEDED, (record, worker.stderr[-3000:])
    files = client.download_outputs(job_id, tmp_path / "outputs")
    report = json.loads((tmp_path / "outputs" / "render.json").read_text(encoding="utf-8"))
    return job_id, client, {"files": sorted(p.name for p in files), "report": report}


def test_a_submitted_3mf_job_is_rendered_by_the_worker_into_views_and_a_report_in_the_bucket(
    tmp_path: Path, job_resources: JobResources
):
    # GIVEN a pyramid written as 3MF by lib3mf, submitted as a render job with no payload (task defaults apply)
    model = write_pyramid_3mf(tmp_path / "pyramid.3mf")

    # WHEN render_worker serve consumes the queue on CPU until it has been idle
    job_id, client, result = render_and_collect(tmp_path, job_resources, model)

    # THEN the five validation views and render.json are in the bucket, rendered with the task's defaults
    assert {f"{view}.png" for view in VIEWS} | {"render.json"} <= set(result["files"])
    keys = client.outputs(job_id)
    assert client.output_key(job_id, "render.json") in keys
    report = result["report"]
    assert [v["name"] for v in report["views"]] == list(VIEWS)
    assert report["device"]["backend"] == "cpu"
    assert report["triangles"] == len(PYRAMID_TRIANGLES)
    # AND the job row is SUCCEEDED with a summary pointing at the report
    record = client.status(job_id)
    assert record.result is not None and record.result["report"] == "render.json"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"3MF samples not present at {SAMPLES}")
def test_a_3mf_consortium_sample_renders_end_to_end(tmp_path: Path, job_resources: JobResources):
    # GIVEN the 3MF Consortium's box sample (never committed; the test skips without it)
    model = tmp_path / "box.3mf"
    model.write_bytes((SAMPLES / "box.3mf").read_bytes())

    # WHEN it is submitted and the worker serves the queue
    _, _, result = render_and_collect(tmp_path, job_resources, model)

    # THEN every view rendered and the report counts the sample's triangles
    assert {f"{view}.png" for view in VIEWS} <= set(result["files"])
    assert result["report"]["triangles"] > 0
