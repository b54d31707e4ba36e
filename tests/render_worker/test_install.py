"""The image's install steps are the ones this environment runs: `make setup` runs install.sh python (the
Dockerfile's step, the project with its render and probe extras) before the other extras; here install.sh verify
and the Dockerfile. What the image installs is checked in tests/test_package.py.

No Docker engine here: the Dockerfile is checked for the properties the task definition relies on, and its
install script's `verify` step (requirements, probe, one-view self-test render) runs against this venv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "render_worker"


def test_install_verify_passes_in_this_environment(tmp_path: Path) -> None:
    # GIVEN this venv WHEN the image's verify step runs against it
    env = {**os.environ, "RENDER_KERNEL_CACHE_DIR": str(tmp_path / "k")}
    run = subprocess.run(["sh", str(PACKAGE / "install.sh"), "verify", sys.executable], cwd=tmp_path, env=env,
                         capture_output=True, encoding="utf-8", timeout=300)  # fmt: skip
    # THEN requirements are met and the self-test rendered on the CPU
    assert run.returncode == 0, run.stderr[-2000:]
    assert "requirements ok" in run.stdout and "selftest ok: 12 triangles on cpu" in run.stdout


def test_the_worker_imports_no_cdktf() -> None:
    # GIVEN a fresh interpreter WHEN the worker's modules are imported THEN neither cdktf nor bpy was loaded
    code = "import sys, render_worker.cli, render_worker.worker; print(sorted({'cdktf', 'bpy'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, encoding="utf-8", check=True)
    assert run.stdout.strip() == "[]"


def test_the_dockerfile_uses_the_install_script_and_runs_unprivileged() -> None:
    # GIVEN the Dockerfile
    text = (PACKAGE / "Dockerfile").read_text(encoding="utf-8")
    # THEN its install steps are install.sh's, it drops root, declares both volumes and a health check
    assert re.search(r"^ARG CUDA_BASE=nvidia/cuda:\S+-runtime-", text, re.M)
    for step in ("system", "python", "verify"):
        assert f"install.sh {step}" in text
    assert re.findall(r"^USER (\S+)", text, re.M) == ["render"]
    assert 'VOLUME ["/scratch", "/var/cache/render-kernels"]' in text
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD \[\"python\", \"-m\", \"render_worker\", \"health\"", text, re.M)
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics" in text
    assert "SYS_ADMIN" not in text and "/dev/nvidia" not in text
