"""The review as a whole: flags, exit codes, written reports, cost figures, checkov, the CLI."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdk.catalog import CATALOG
from sdk.review import exit_code, review_dir, review_stack, write_reviews
from sdk.tfjson import STACK_FILE, load_stack, stack_file
from tests.sdk.review.conftest import GENERATED, PUBLIC


def _write(directory: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    for name, tf_json in stacks.items():
        (directory / name).mkdir(parents=True, exist_ok=True)
        stack_file(directory, name).write_text(json.dumps(tf_json, indent=2), encoding="utf-8")
    return directory


def _open_ssh(tf_json: dict[str, Any]) -> None:
    name, _ = next(iter(tf_json["resource"]["aws_security_group"].items()))
    tf_json["resource"]["aws_vpc_security_group_ingress_rule"]["ssh"] = {
        "security_group_id": f"${{aws_security_group.{name}.id}}",
        "ip_protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
        "cidr_ipv4": "0.0.0.0/0",
    }


def test_the_committed_examples_reviewed_against_themselves_flag_nothing(tmp_path):
    # GIVEN generated/ reviewed against itself
    reviews = review_dir(GENERATED, GENERATED, run_policy=False)
    # WHEN the reports are written
    paths = write_reviews(reviews, tmp_path)
    # THEN there are no changes or flags, exit code 0, and each REVIEW.md has every section
    assert reviews and all(not r.changes and not r.flags for r in reviews)
    assert exit_code(reviews) == 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for heading in ("## Changes", "## Exposure", "## IAM", "## GPU capacity", "## Cost", "## Policy"):
            assert heading in text, (path, heading)


def test_new_public_ssh_is_flagged_with_its_address_and_exits_1(public_stack):
    # GIVEN the public example plus an SSH rule open to the world
    before = json.loads(json.dumps(public_stack))
    _open_ssh(public_stack)
    # WHEN reviewed against the committed version
    review = review_stack(PUBLIC, public_stack, before)
    # THEN the diff adds that address, the flag names it with its CIDR, and the exit code is 1
    assert [(c.address, c.kind) for c in review.changes] == [("aws_vpc_security_group_ingress_rule.ssh", "added")]
    group = next(iter(public_stack["resource"]["aws_security_group"]))
    assert review.flags == (
        "new public exposure: aws_vpc_security_group_ingress_rule.ssh: "
        f"tcp 22 into aws_security_group.{group} from 0.0.0.0/0",
    )
    assert exit_code([review]) == 1


def test_a_new_wildcard_action_is_flagged(public_stack):
    # GIVEN the task role's policy widened to s3:*
    before = json.loads(json.dumps(public_stack))
    policies = public_stack["resource"]["aws_iam_role_policy"]
    name = next(n for n in policies if "task" in n)
    document = json.loads(policies[name]["policy"])
    document["Statement"][0]["Action"] = "s3:*"
    policies[name]["policy"] = json.dumps(document)
    # WHEN reviewed
    review = review_stack(PUBLIC, public_stack, before)
    # THEN the policy change is listed at its path and the new wildcard is flagged for the owning role
    (change,) = review.changes
    assert change.address == f"aws_iam_role_policy.{name}"
    assert [a.path for a in change.attributes] == ["policy.Statement[0].Action"]
    owner = policies[name]["role"].split(".")[1]
    assert review.flags == (f"new IAM wildcard: aws_iam_role.{owner}: s3:*",)


def test_cost_up_beyond_the_threshold_is_flagged_and_below_it_is_not(public_stack):
    # GIVEN the public example with twice the typical hosts in its hint
    before = json.loads(json.dumps(public_stack))
    hints = public_stack["//"]["gpu_blueprints"]
    for hint in hints.values():
        for capacity in hint["gpu_capacity"]:
            capacity["typical_hosts"] *= 2
    # WHEN reviewed at a 10% threshold and at a 1000% threshold
    strict = review_stack(PUBLIC, public_stack, before, cost_threshold_percent=10)
    lenient = review_stack(PUBLIC, public_stack, before, cost_threshold_percent=1000)
    # THEN only the strict review flags the increase, with its percentage
    assert strict.cost_change_percent is not None and strict.cost_change_percent > 10
    assert strict.flags == (f"typical cost up {strict.cost_change_percent:.1f}% (threshold 10%)",)
    assert lenient.flags == ()


def test_review_cost_of_the_public_example_matches_the_catalog_by_hand(public_stack):
    # GIVEN the public example's hint (first type, hosts, on-demand base, Spot share)
    review = review_stack(PUBLIC, public_stack, public_stack)
    (row,) = review.capacity
    price = CATALOG.get(row.instance_types[0]).on_demand_usd_per_hour
    # WHEN the typical GPU line is recomputed: base hosts on-demand, the Spot share at 40% of on-demand
    hosts = row.typical_hosts * row.duty_cycle
    spot = max(hosts - row.on_demand_base, 0) * row.spot_percent / 100
    expected = price * 730 * ((hosts - spot) + spot * 0.4)
    line = next(line for line in review.cost.lines if line.component == f"GPU hosts ({row.asg})")
    # THEN the review's figure agrees to the cent, and the ASG's max matches the hint
    assert line.typical_usd == pytest.approx(expected, abs=0.01)
    assert row.asg_max_size == row.max_hosts
    # AND the minimum counts the host min_tasks=1 keeps running, while the ASG min stays 0 (managed scaling)
    assert (row.asg_min_size, row.min_hosts) == (0, 1)


def test_json_format_writes_a_machine_readable_review(tmp_path, internal_stack):
    # GIVEN a review of the internal example
    review = review_stack("llm-internal", internal_stack, None)
    # WHEN written as JSON
    (path,) = write_reviews([review], tmp_path, "json")
    data = json.loads(path.read_text(encoding="utf-8"))
    # THEN it carries the totals, the exposure and the new-stack diff
    assert path.name == "review.json"
    assert data["cost"]["typical_monthly_usd"] == review.cost.typical_monthly_usd
    assert data["new_stack"] is True and len(data["changes"]) == len(review.changes)


@pytest.mark.slow
def test_checkov_reports_per_stack_with_documented_skips_and_finds_a_new_failure(tmp_path, public_stack):
    # GIVEN the public example with an inline security group open on SSH, and the committed baseline
    group = next(iter(public_stack["resource"]["aws_security_group"].values()))
    group["ingress"] = [
        {
            "protocol": "tcp",
            "from_port": 22,
            "to_port": 22,
            "cidr_blocks": ["0.0.0.0/0"],
            "description": "ssh",
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "security_groups": [],
            "self": False,
        }
    ]
    new_dir = _write(tmp_path / "new", {PUBLIC: public_stack})
    baseline = _write(tmp_path / "baseline", {PUBLIC: load_stack(GENERATED, PUBLIC)})
    # WHEN reviewed with checkov
    (review,) = review_dir(new_dir, baseline)
    # THEN checkov ran, reports the SSH check failure by id, lists the skips with reasons, and the review exits 1
    assert review.policy is not None and review.policy.passed > 0
    assert "CKV_AWS_24" in {f.check_id for f in review.policy.failed}
    assert any(skip.startswith("CKV_AWS_338: ") for skip in review.policy.documented_skips)
    assert exit_code([review]) == 1


@pytest.mark.slow
def test_python_m_sdk_review_synthesizes_and_writes_reviews_beside_the_json(tmp_path):
    # GIVEN the bundled example app and the committed generated/
    # WHEN `python -m sdk review` runs into a scratch output folder
    result = subprocess.run(
        [sys.executable, "-m", "sdk", "review", "--out", str(tmp_path), "--against", str(GENERATED)],
        capture_output=True,
        encoding="utf-8",
        check=False,
        cwd=GENERATED.parent,
    )
    # THEN it exits 0 (nothing changed), and each stack has REVIEW.md beside its cdk.tf.json
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in (p.parent.name for p in GENERATED.glob(f"*/{STACK_FILE}")):
        assert (tmp_path / stack / "REVIEW.md").exists() and stack_file(tmp_path, stack).exists()
    assert "nothing to flag" in result.stdout


def test_a_changed_spec_shows_in_the_diff_with_its_addresses_and_attributes(tmp_path):
    # GIVEN the public example with max_tasks raised from 6 to 8, synthesized for real
    from examples import SDXL, sdxl_public
    from sdk.constructs.engine import App

    spec = SDXL.model_validate({**SDXL.model_dump(), "scaling": {**SDXL.scaling.model_dump(), "max_tasks": 8}})
    app = App(outdir=str(tmp_path))
    sdxl_public(app, spec)
    app.synth()
    new = load_stack(tmp_path / "stacks", PUBLIC)
    before = load_stack(GENERATED, PUBLIC)
    # WHEN it is reviewed against the committed stack
    review = review_stack(PUBLIC, new, before, policy=None)
    # THEN exactly the ASG bound (200% deployments of 8 tasks) and the scaling target change, in place,
    changed = {c.address: {a.path: (a.before, a.after) for a in c.attributes} for c in review.changes}
    assert {kind.split(".")[0] for kind in changed} == {"aws_autoscaling_group", "aws_appautoscaling_target"}
    (asg,) = [v for k, v in changed.items() if k.startswith("aws_autoscaling_group.")]
    (target,) = [v for k, v in changed.items() if k.startswith("aws_appautoscaling_target.")]
    assert asg == {"max_size": (12, 16)} and target == {"max_capacity": (6, 8)}
    assert not any(c.replacement for c in review.changes)
    # and two more typical hosts cost more than the 10% threshold: the one flag
    assert review.cost_change_percent is not None and review.cost_change_percent > 10
    assert review.flags == (f"typical cost up {review.cost_change_percent:.1f}% (threshold 10%)",)


def test_a_stack_the_app_no_longer_builds_is_reviewed_as_destroyed_and_flagged(public_stack):
    # GIVEN the committed public stack, and an app that no longer has it
    from sdk.review import review_stacks

    # WHEN reviewed
    (review,) = review_stacks({}, {PUBLIC: public_stack}, run_policy=False)
    # THEN every resource is a removal, the reviewer is told, and the exit code is 1
    assert review.removed_stack and review.changes and all(c.kind == "removed" for c in review.changes)
    assert review.flags[0] == f"stack removed: {len(review.changes)} resources would be destroyed"
    assert exit_code([review]) == 1


def test_a_checkov_that_crashes_is_flagged_instead_of_passing_the_gate(tmp_path, public_stack, monkeypatch):
    # GIVEN an installed checkov that dies without a report (a broken upgrade, say)
    from sdk.review import policy

    broken = tmp_path / "checkov"
    broken.write_text("#!/bin/sh\necho 'ImportError: boom' >&2\nexit 2\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setattr(policy, "_checkov", lambda: str(broken))
    new_dir = _write(tmp_path / "new", {PUBLIC: public_stack})
    # WHEN the unchanged stack is reviewed with policy checks
    (review,) = review_dir(new_dir, new_dir)
    # THEN the review says the policy was not checked, why, and exits 1
    assert (
        review.policy is not None and "exited 2" in review.policy.error and "ImportError: boom" in review.policy.error
    )
    assert review.flags == (f"policy not checked: {review.policy.error}",)
    assert exit_code([review]) == 1
    (path,) = write_reviews([review], tmp_path / "out")
    assert "checkov is installed but did not check this stack" in path.read_text(encoding="utf-8")


def _run_sdk(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(GENERATED.parent)}  # the checkout's sdk and blueprints
    return subprocess.run(
        [sys.executable, "-m", "sdk", *args], capture_output=True, encoding="utf-8", check=False, cwd=cwd, env=env
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_make_review_then_synth_then_review_again_changes_no_byte(tmp_path):
    # GIVEN a copy of the committed generated/ in which one stack is one resource behind the app (a spec change)
    shutil.copytree(GENERATED, tmp_path / "generated")
    shutil.copy(GENERATED.parent / "pyproject.toml", tmp_path)  # the project's settings: its app writes generated/
    stale = stack_file(tmp_path / "generated", PUBLIC)
    tf_json = json.loads(stale.read_text(encoding="utf-8"))
    tf_json["resource"].pop("aws_cloudwatch_metric_alarm")
    stale.write_text(json.dumps(tf_json, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    # WHEN the documented workflow runs (`make review`, then `make synth`) and then `make review` on that clean state
    first = _run_sdk(tmp_path, "review")
    _run_sdk(tmp_path, "synth")
    after_workflow = _tree(tmp_path / "generated")
    again = _run_sdk(tmp_path, "review")
    # THEN the first review printed the change, the second found none, and no byte changed: REVIEW.md holds no diff
    # against the folder it is written into, and checkov's findings come sorted
    (line,) = [line for line in first.stdout.splitlines() if line.startswith(f"generated/{PUBLIC}/REVIEW.md: ")]
    assert not line.split(": ")[1].startswith("0 change(s)"), line
    assert again.returncode == 0, again.stdout + again.stderr
    assert _tree(tmp_path / "generated") == after_workflow
    # AND the JSON is the committed JSON again
    assert {k: v for k, v in after_workflow.items() if k.endswith(".json")} == {
        k: v for k, v in _tree(GENERATED).items() if k.endswith(".json")
    }


def test_the_capacity_table_says_which_gpu_metrics_each_group_publishes(tmp_path):
    # GIVEN the committed examples (every GPU group publishes the default GPU metrics)
    reviews = review_dir(GENERATED, GENERATED, run_policy=False)
    # WHEN their capacity rows and reports are read
    rows = [row for review in reviews for row in review.capacity]
    text = write_reviews(reviews, tmp_path)[0].read_text(encoding="utf-8")
    # THEN each row names the measurements and namespace, and the table has the column
    assert rows and {row.gpu_metrics for row in rows} == {"5 per GPU + group -> GpuBlueprints"}
    assert "| Warm pool | GPU metrics |" in text and "| 5 per GPU + group -> GpuBlueprints |" in text


def test_a_blue_green_deployment_that_cannot_fit_the_asg_maximum_is_flagged(public_stack):
    # GIVEN the blue/green public example (6 tasks at most, one per host: 12 hosts with the green fleet), its ASG
    # capped at 8 hosts, e.g. by a capacity.max_hosts set for the rolling days
    before = json.loads(json.dumps(public_stack))
    for asg in public_stack["resource"]["aws_autoscaling_group"].values():
        asg["max_size"] = 8
    # WHEN reviewed, and the uncapped stack too
    capped, fits = review_stack(PUBLIC, public_stack, before), review_stack(PUBLIC, before, before)
    # THEN the capped one is flagged with the service, the peak and the hosts it needs; the uncapped one is not
    flagged = [f for f in capped.flags if f.startswith("deployment does not fit the ASG maximum")]
    assert len(flagged) == 1, capped.flags
    assert "a BLUE_GREEN deployment at 6 tasks runs 12 and needs 12 hosts" in flagged[0]
    assert "stops at 8" in flagged[0]
    assert fits.deployment_problems == ()
