"""docs/jobs.md's local example runs as written: against the suite's moto resources, and with its own setup."""

import os
import re
import subprocess
import sys
from pathlib import Path

from sdk.jobs import OPTIONAL_WORKER_ENV_VARS, WORKER_ENV_VARS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "jobs.md").read_text(encoding="utf-8")
SETUP, EXAMPLE = re.findall(r"```python\n(.*?)```", DOC, re.S)[:2]


def run_python(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, encoding="utf-8", timeout=180
    )


def test_the_example_submits_runs_and_waits_for_a_job_on_the_suites_moto_resources(job_resources, tmp_path):
    # GIVEN the doc's example block and the GPU_JOBS_* settings of a fresh queue, table and bucket on moto
    env = job_resources.worker_env()
    # WHEN it runs as a script
    run = run_python(EXAMPLE, tmp_path, env)
    # THEN its own asserts hold (SUCCEEDED, the result, the uploaded output) and it prints the job
    assert run.returncode == 0, run.stderr[-3000:]
    assert "SUCCEEDED" in run.stdout and "{'words': 6, 'lang': 'en'}" in run.stdout
    assert (tmp_path / "demo-outputs" / "upper.txt").read_text() == "A RED CUBE ON A TABLE"


def test_the_setup_block_creates_what_the_example_needs_on_a_bare_moto_server(aws_env, tmp_path):
    # GIVEN only a moto server (aws_env: its endpoint and fake credentials), no GPU_JOBS_* settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPU_JOBS_")}
    # WHEN the setup block and the example run as one script
    run = run_python(SETUP + "\n" + EXAMPLE, tmp_path, {**env, **aws_env})
    # THEN the job succeeds on the queue, table and bucket the setup created
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "demo-outputs" / "upper.txt").is_file()


def test_the_settings_table_lists_every_variable_the_worker_reads():
    # GIVEN the doc's settings table WHEN its variable names are read THEN it lists every GPU_JOBS_* the worker reads
    listed = set(re.findall(r"^\| `(GPU_JOBS_[A-Z_]+)` \|", DOC, re.M))
    assert listed == {*WORKER_ENV_VARS, *OPTIONAL_WORKER_ENV_VARS}
