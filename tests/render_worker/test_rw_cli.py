"""`python -m render_worker` as operators run it: exit codes and messages, not tracebacks.

Named test_rw_cli.py so it cannot clash with an sdk CLI test module of the same basename.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from render_worker.cli import EXIT_INPUT, EXIT_NO_GPU, EXIT_UNHEALTHY, main
from render_worker.health import Liveness

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "render_worker", *args], cwd=ROOT, capture_output=True, encoding="utf-8", timeout=180,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_probe_json_reports_layers_and_require_gpu_fails_without_one(tmp_path: Path) -> None:
    # GIVEN this GPU-less machine WHEN the probe runs with --json --require-gpu
    run = _run("probe", "--json", "--require-gpu", "--no-torch", "--dev-root", str(tmp_path))
    # THEN it prints every layer and the CPU verdict, and exits with the no-GPU code
    report = json.loads(run.stdout)
    assert [layer["name"] for layer in report["layers"]][:2] == ["device_nodes", "nvml"]
    assert report["verdict"]["backend"] == "cpu"
    assert run.returncode == EXIT_NO_GPU


def test_render_writes_outputs_and_exits_zero(models, tmp_path: Path) -> None:
    # GIVEN a small 3MF WHEN the render command runs at 32 px with one view
    model = models.write_3mf(tmp_path / "cube.3mf")
    env = {"RENDER_KERNEL_CACHE_DIR": str(tmp_path / "k")}
    run = _run("render", str(model), "--out", str(tmp_path / "out"), "--views", "iso", "--size", "32",
               "--samples", "1", "--no-denoise", env=env)  # fmt: skip
    # THEN it succeeds and says where the outputs are
    assert run.returncode == 0, run.stderr[-2000:]
    assert "rendered cube.3mf on cpu" in run.stdout
    assert json.loads((tmp_path / "out" / "render.json").read_text(encoding="utf-8"))["options"]["denoise"] is False


def test_render_of_a_bad_file_is_one_line_and_exit_code_2(tmp_path: Path, capsys) -> None:
    # GIVEN a truncated 3MF WHEN rendered THEN one error line, no traceback, exit 2
    bad = tmp_path / "cut.3mf"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert main(["render", str(bad), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: cut.3mf is not a 3MF package") and "Traceback" not in err


def test_a_bad_option_is_named(tmp_path: Path, capsys) -> None:
    assert main(["render", str(tmp_path / "x.stl"), "--out", str(tmp_path), "--views", "side"]) == EXIT_INPUT
    assert "unknown view(s) ['side']" in capsys.readouterr().err


def test_health_follows_the_job_loops_newest_stamp(tmp_path: Path, monkeypatch, capsys) -> None:
    # GIVEN the health file the job loop stamps (RENDER_HEARTBEAT_FILE)
    path = tmp_path / "hb"
    monkeypatch.setenv("RENDER_HEARTBEAT_FILE", str(path))
    # WHEN health runs without a stamp, after a fresh poll stamp, and after a poll stamp two minutes old
    missing = main(["health"])
    Liveness(path).stamp("polling the queue", 80)
    fresh = main(["health", "--max-age", "30"])
    Liveness(path, clock=lambda: time.time() - 120).stamp("polling the queue", 80)
    stale = main(["health", "--max-age", "30"])
    # THEN it fails, passes, and fails naming the step that overran its bound (a touched file alone proves nothing)
    assert (missing, fresh, stale) == (EXIT_UNHEALTHY, 0, EXIT_UNHEALTHY)
    assert "polling the queue since 120s, longer than its 80s bound" in capsys.readouterr().err
