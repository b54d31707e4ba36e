"""`python -m sdk`: what a user's app, spec and ids do at the command line, run as a user runs it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sdk.tfjson import stack_file

REPO = Path(__file__).resolve().parents[2]

TINY = """
from sdk.constructs.stack import GpuStack

def build_app(app):
    GpuStack(app, "tiny", region="us-east-1")
"""

QUEUE = """
from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec
from sdk.constructs.stack import GpuStack

def build_app(app):
    stack = GpuStack(app, "eu", region="eu-west-1")
    spec = IdleStopGpuQueueSpec(
        name="jobs", capacity={{"instance_types": ["g6.xlarge"]}}, container={{"image": "ghcr.io/a/w:1"}}, {extra}
    )
    IdleStopGpuQueue(stack, "jobs", spec=spec)
"""

# Two independent errors in two nested specs (alarms, grants) and one of the blueprint's own cross-field checks.
THREE_PROBLEMS = """
from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec
from sdk.constructs.stack import GpuStack

def build_app(app):
    spec = AlbInferenceSpec(
        name="svc",
        capacity={"instance_types": ["g5.xlarge"]},
        container={"image": "ghcr.io/a/w:1", "port": 8080},
        alarms={"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:t", "create_topic": True},
        grants=[{"kind": "sqs_send", "arn": "not-an-arn"}],
        alb={
            "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f5c8a3e-1111-4d2b-9a9e-5d1e2c3b4a55",
            "allowed_cidrs": ["10.0.0.0/8"],
            "health_check_path": "healthz",
        },
    )
    AlbInferenceService(GpuStack(app, "svc", region="us-east-1"), "svc", spec=spec)
"""

STACKS = """
from sdk.constructs.stack import GpuStack

def build_app(app):
    {body}
"""

OTHER_STACK = {"resource": {"aws_sqs_queue": {"q": {"name": "kept"}}}}

# (case, app file name, app source, extra args, exit code, first line of output)
CASES = [
    ("an app other than the examples writes to out/", "tiny_app.py", TINY, [], 0, "tiny: 0 resources, ~$0/month"),
    ("an app is given by its file path", "apps/tiny_app.py", TINY, [], 0, "tiny: 0 resources, ~$0/month"),
    (
        "an app module that is not on the path says how to name it",
        None,
        None,
        ["--app", "no_such_app"],
        2,
        "error: --app no_such_app: no module 'no_such_app' on the path. Fix: run from the folder holding "
        "no_such_app.py, or pass its path (--app path/to/no_such_app.py)",
    ),
    (
        "every problem of a spec is reported at once, one line each",
        "three.py",
        THREE_PROBLEMS,
        [],
        2,
        "error: 3 problems in AlbInferenceSpec; nothing was written",
    ),
    (
        "a region typo in the stack is refused by field",
        "typo.py",
        STACKS.format(body='GpuStack(app, "s", region="us-east1")'),
        [],
        2,
        "error: region: 'us-east1' is not an AWS region. Fix: one of us-east-1, us-east-2, us-gov-east-1, "
        "us-gov-west-1, us-west-1, us-west-2",
    ),
    (
        "a spec region other than the stack's is refused by field",
        "mismatch.py",
        QUEUE.format(extra='region="us-east-1"'),
        [],
        2,
        "error: region: 'us-east-1' but stack 'eu' deploys to 'eu-west-1'. Fix: leave region unset (the stack's), "
        "or GpuStack(app, 'eu', region='us-east-1')",
    ),
    (
        "a duplicate stack id is named with the fix",
        "dup.py",
        STACKS.format(body='GpuStack(app, "a", region="us-east-1"); GpuStack(app, "a", region="us-east-1")'),
        [],
        2,
        "error: id 'a': used twice in App. Fix: give each construct in one scope its own id",
    ),
    (
        "a stack id with a space is named with the fix",
        "space.py",
        STACKS.format(body='GpuStack(app, "my stack", region="us-east-1")'),
        [],
        2,
        "error: stack id 'my stack': contains whitespace. Fix: e.g. 'my-stack'",
    ),
]


def _python_m_sdk(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the checkout's sdk, not one installed in the venv
    return subprocess.run(
        [sys.executable, "-m", "sdk", *args], capture_output=True, encoding="utf-8", check=False, cwd=cwd, env=env
    )


def _other_stack(root: Path) -> Path:
    path = stack_file(root / "generated", "other")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(OTHER_STACK), encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "file", "source", "args", "code", "first"), CASES, ids=[c[0] for c in CASES])
def test_the_cli_exits_with_the_code_and_first_line_each_case_promises(tmp_path, case, file, source, args, code, first):
    # GIVEN a checkout-like folder with another app's stack in generated/ and the case's app file
    other = _other_stack(tmp_path)
    if file is not None:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text(textwrap.dedent(source), encoding="utf-8")
        args = ["--app", file.removesuffix(".py") if "/" not in file else file, *args]
    # WHEN `python -m sdk synth` runs there
    result = _python_m_sdk(tmp_path, "synth", *args)
    # THEN it exits with the case's code, its first line is the case's, and no traceback is shown
    output = (result.stdout + result.stderr).splitlines()
    assert (result.returncode, output[0]) == (code, first), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # AND the other stack in generated/ is untouched; a built app's stack is in out/
    assert json.loads(other.read_text(encoding="utf-8")) == OTHER_STACK
    assert stack_file(tmp_path / "out", "tiny").exists() == (code == 0)


def test_the_three_problems_are_one_line_each_with_their_field_and_fix(tmp_path):
    # GIVEN an app whose spec has two nested errors and a blueprint-level one
    (tmp_path / "three.py").write_text(textwrap.dedent(THREE_PROBLEMS), encoding="utf-8")
    # WHEN it is synthesized
    result = _python_m_sdk(tmp_path, "synth", "--app", "three")
    # THEN each problem is on its own line, naming its field
    lines = result.stderr.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "grants.0.sqs_send.arn",
        "alarms.create_topic",
        "alb.health_check_path",
    ]
    assert all("Fix:" in line for line in lines), lines


def test_synth_into_a_folder_with_another_apps_stack_keeps_it_and_prune_deletes_it(tmp_path):
    # GIVEN generated/ holding a stack the app does not build
    other = _other_stack(tmp_path)
    (tmp_path / "tiny_app.py").write_text(TINY, encoding="utf-8")
    # WHEN the app is synthesized into generated/
    kept = _python_m_sdk(tmp_path, "synth", "--app", "tiny_app", "--out", "generated")
    # THEN the other stack is kept and reported
    assert kept.returncode == 0 and other.exists()
    assert kept.stdout.splitlines()[-1] == "generated/other: not built by tiny_app, kept; --prune deletes it"
    # AND with --prune it is deleted and reported
    pruned = _python_m_sdk(tmp_path, "synth", "--app", "tiny_app", "--out", "generated", "--prune")
    assert pruned.returncode == 0 and not other.parent.exists() and (tmp_path / "generated" / "tiny").is_dir()
    assert pruned.stdout.splitlines()[-1] == "generated/other: not built by tiny_app, deleted (--prune)"


def test_review_of_another_app_leaves_generated_alone(tmp_path):
    # GIVEN generated/ holding the examples' (here: another) stack
    other = _other_stack(tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()}
    (tmp_path / "tiny_app.py").write_text(TINY, encoding="utf-8")
    # WHEN `python -m sdk review --app tiny_app` runs without --out or --against
    result = _python_m_sdk(tmp_path, "review", "--app", "tiny_app")
    # THEN it reviews into out/, flags nothing, and generated/ is byte for byte as it was (no "stack removed")
    assert (result.returncode, result.stdout.splitlines()[0]) == (
        0,
        "out/tiny/REVIEW.md: 0 change(s), $0.00/month; nothing to flag",
    ), result.stdout + result.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()} == before
    assert other.exists()
