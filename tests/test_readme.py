"""The README's example script is real: saved as my_app.py, `python -m sdk synth --app my_app` synthesizes it."""

import os
import re
import subprocess
import sys
from pathlib import Path

from sdk.tfjson import load_stack

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_service_script_synthesizes_as_the_readme_says(tmp_path):
    # GIVEN the README's python block saved as my_app.py
    (block,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)[:1]
    (tmp_path / "my_app.py").write_text(block, encoding="utf-8")
    # WHEN the README's command runs on it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-m", "sdk", "synth", "--app", "my_app", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=300,
    )
    # THEN it succeeds, prints the stack's line, and writes an ECS service behind an HTTPS listener
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("sdxl: ")
    stack = load_stack(tmp_path / "out", "sdxl")
    assert len(stack["resource"]["aws_ecs_service"]) == 1
    assert any(listener["protocol"] == "HTTPS" for listener in stack["resource"]["aws_lb_listener"].values())
