"""The Blender child: bad input never reaches it, its errors keep their type, and a dead child is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from render_worker.config import Limits, RenderOptions, WorkerSettings
from render_worker.errors import DeviceUnavailable, InputError, RenderCrashed, RenderTimeout
from render_worker.isolation import RenderProcess

SLOW = RenderOptions(views=("front", "back", "left", "right", "iso"), size=256, samples=64, denoise=False)
FAST = RenderOptions(views=("iso",), size=32, samples=1, denoise=False)


def test_a_bad_file_is_rejected_before_the_child_starts(settings: WorkerSettings, tmp_path: Path) -> None:
    # GIVEN a fresh handle and a file that is not a 3MF
    process = RenderProcess(settings)
    bad = tmp_path / "junk.3mf"
    bad.write_bytes(b"not a zip")
    # WHEN it is rendered THEN InputError is raised and no Blender child was started
    with pytest.raises(InputError, match="not a zip file"):
        process.render(bad, tmp_path / "out", FAST)
    assert process.starts == 0 and not process.alive


def test_errors_raised_inside_the_child_keep_their_type(renderer: RenderProcess, models, tmp_path: Path) -> None:
    # GIVEN an XML-invalid 3MF (only lib3mf, inside the child, can tell) and a request for a missing GPU
    broken = models.write_raw_3mf(tmp_path / "broken.3mf", "<model><resources><object")
    cube = models.write_3mf(tmp_path / "cube.3mf")
    # WHEN each is rendered THEN the child's InputError and DeviceUnavailable reach the parent as such
    with pytest.raises(InputError, match="not a readable 3MF model"):
        renderer.render(broken, tmp_path / "a", FAST)
    with pytest.raises(DeviceUnavailable, match="OPTIX"):
        renderer.render(cube, tmp_path / "b", FAST.model_copy(update={"device": "optix"}))
    # AND the child is still the same warm process
    assert renderer.alive


def test_a_killed_child_fails_one_job_and_the_next_job_gets_a_new_child(
    settings: WorkerSettings, models, tmp_path: Path
) -> None:
    # GIVEN a warm child rendering a slow job
    process = RenderProcess(settings)
    process.start()
    first_pid = process.pid
    assert first_pid is not None
    model = models.write_3mf(tmp_path / "cube.3mf")
    threading.Timer(1.0, os.kill, (first_pid, signal.SIGKILL)).start()
    # WHEN the child is killed mid-render (as a segfault or the OOM killer would)
    with pytest.raises(RenderCrashed, match="killed by SIGKILL"):
        process.render(model, tmp_path / "slow", SLOW)
    # THEN the next job starts a new child and succeeds
    report = process.render(model, tmp_path / "next", FAST)
    assert process.pid != first_pid and process.starts == 2 and report.views[0].name == "iso"
    process.close()


def test_a_render_over_its_time_limit_is_killed_and_replaced(settings: WorkerSettings, models, tmp_path: Path) -> None:
    # GIVEN a time limit far below what the job needs
    process = RenderProcess(settings)
    model = models.write_3mf(tmp_path / "cube.3mf")
    process.start()
    # WHEN the slow job runs
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match=r"longer than 0\.5 s"):
        process.render(model, tmp_path / "slow", SLOW, Limits(render_timeout_s=0.5))
    # THEN it is stopped promptly and the child is gone until the next job
    assert time.monotonic() - started < 10 and not process.alive
    process.close()


def test_a_child_starts_even_when_the_parent_has_imported_bpy(settings: WorkerSettings, models, tmp_path: Path) -> None:
    # GIVEN a parent that imported bpy (which appends Blender's script folders to sys.path)
    import bpy  # noqa: F401

    process = RenderProcess(settings)
    # WHEN a fresh child renders THEN it imports the real bpy, not the scripts' shadow package
    report = process.render(models.write_3mf(tmp_path / "cube.3mf"), tmp_path / "out", FAST)
    assert report.triangles == 12
    process.close()
