"""The deploy rehearsal end to end: real terraform applies every stack against moto on 127.0.0.1, re-plans with no
changes, reads the deployed state back, destroys it and finds nothing left. Skips (one line) without terraform or
the hashicorp/aws provider mirror."""

import re
from pathlib import Path

import pytest

from sdk.rehearse import ToolMissing, details, find_toolchain, planned_changes, rehearse_stacks, table
from sdk.synth import synth_app, synth_with

ROOT = Path(__file__).resolve().parents[3]
try:
    TOOL = find_toolchain()
    MISSING = ""
except ToolMissing as missing:
    TOOL, MISSING = None, str(missing)

needs_terraform = pytest.mark.skipif(TOOL is None, reason=f"rehearsal needs terraform and its provider: {MISSING}")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/whisper:3"


def report(results, capsys) -> str:
    text = f"{table(results)}\n{details(results)}"
    with capsys.disabled():
        print(f"\n{text}")
    return text


def queue(name: str, **spec):
    from blueprints.idle_stop_queue import IdleStopGpuQueue, IdleStopGpuQueueSpec

    def add(stack, id_: str = "queue"):
        base = {"name": name, "capacity": {"instance_types": ["g5.xlarge"]}, "container": {"image": IMAGE}}
        IdleStopGpuQueue(stack, id_, spec=IdleStopGpuQueueSpec.model_validate({**base, **spec}))

    return add


def user_apps(app) -> None:
    """What users write beside our examples: their own VPC, two blueprints in one stack."""
    from examples import SDXL, AlbInferenceService
    from sdk.constructs.stack import GpuStack

    byo = GpuStack(app, "byo-vpc", region="us-east-1")
    queue(
        "whisper",
        network={
            "vpc_id": "vpc-0a1b2c3d4e5f60718",
            "private_subnet_ids": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        },
        capacity={"instance_types": ["g5.xlarge"], "warm_pool": {"min_size": 1}},
    )(byo)
    two = GpuStack(app, "two-blueprints", region="us-east-1")
    AlbInferenceService(two, "api", spec=SDXL.model_copy(update={"name": "api"}))
    queue("edits")(two)


def two_regions(app) -> None:
    from sdk.constructs.stack import GpuStack

    for region in ("us-east-1", "eu-west-1"):
        queue("transcribe", region=region)(GpuStack(app, f"transcribe-{region}", region=region))


def readme_app(tmp_path: Path, monkeypatch) -> dict:
    (block,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)[:1]
    (tmp_path / "readme_app.py").write_text(block, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return synth_app("readme_app")


@needs_terraform
def test_every_example_stack_applies_replans_clean_reads_back_and_destroys_without_leftovers(capsys):
    # GIVEN the example stacks as generated/ holds them
    stacks = synth_app("examples")
    # WHEN each is rehearsed in its own emulated account
    results = rehearse_stacks(stacks, jobs=3, tool=TOOL)
    text = report(results, capsys)
    # THEN every resource applied, nothing changes on re-plan, the read-back checks pass and nothing is left
    assert [r.stack for r in results] == sorted(stacks)
    assert [r.stack for r in results if not r.ok] == [], text
    assert all(r.checks_passed > 0 for r in results)


@needs_terraform
def test_apps_users_write_apply_clean_too(tmp_path, monkeypatch, capsys):
    # GIVEN the README's service, a queue in a VPC the user brings and two blueprints sharing one stack
    stacks = {**readme_app(tmp_path, monkeypatch), **synth_with(user_apps)}
    # WHEN rehearsed
    results = rehearse_stacks(stacks, jobs=3, tool=TOOL)
    text = report(results, capsys)
    # THEN each applies, re-plans clean and destroys; what they name outside themselves was stood in for
    assert [r.stack for r in results if not r.ok] == [], text
    world = {r.stack: r.world for r in results}
    assert any("certificate" in note for note in world["sdxl"])
    assert any(note.startswith("VPC vpc-0a1b2c3d4e5f60718 with 2 subnets") for note in world["byo-vpc"])


@needs_terraform
def test_the_same_blueprint_in_two_regions_of_one_account_applies_side_by_side(capsys):
    # GIVEN one queue blueprint in us-east-1 and eu-west-1 (IAM names are account-wide)
    stacks = synth_with(two_regions)
    # WHEN both are applied into one emulated account before either is destroyed
    results = rehearse_stacks(stacks, one_account=True, tool=TOOL)
    text = report(results, capsys)
    # THEN neither collides with the other
    assert [r.stack for r in results if not r.ok] == [], text


@needs_terraform
def test_a_stack_that_cannot_apply_fails_the_rehearsal_naming_the_step_and_the_error(capsys):
    # GIVEN a stack attaching an AWS-managed policy that does not exist
    def broken(app) -> None:
        from sdk.constructs.engine import IamRole, IamRolePolicyAttachment
        from sdk.constructs.stack import GpuStack

        stack = GpuStack(app, "broken", region="us-east-1")
        role = IamRole(stack, "role", name="r", assume_role_policy='{"Version":"2012-10-17","Statement":[]}')
        IamRolePolicyAttachment(stack, "p", role=role.name, policy_arn="arn:aws:iam::aws:policy/NoSuchPolicy")

    # WHEN rehearsed
    (result,) = rehearse_stacks(synth_with(broken), tool=TOOL)
    report([result], capsys)
    # THEN it fails at apply, says why, and is reported FAILED; what did apply was still destroyed
    assert not result.ok and result.failed_step == "apply"
    assert "NoSuchPolicy" in result.error
    assert "**FAILED**" in table([result]) and result.leftovers == []


def test_a_plan_that_would_change_something_is_read_as_changes():
    output = """
  # aws_ecs_service.s must be replaced
-/+ resource "aws_ecs_service" "s" {
  # aws_autoscaling_group.g will be updated in-place
Plan: 0 to add, 1 to change, 1 to destroy.
"""
    assert planned_changes(output) == [
        "aws_ecs_service.s must be replaced",
        "aws_autoscaling_group.g will be updated in-place",
    ]


def test_without_terraform_the_rehearsal_says_what_is_missing_in_one_line(monkeypatch, capsys):
    # GIVEN a machine without terraform on the PATH
    from sdk.cli import main

    monkeypatch.setenv("PATH", "/nonexistent")
    # WHEN the rehearsal is asked for THEN it says so in one line and exits with its own code
    assert main(["rehearse"]) == 3
    assert capsys.readouterr().out == "rehearsal skipped: terraform is not on the PATH\n"
