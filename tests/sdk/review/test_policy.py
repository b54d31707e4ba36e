"""sdk.review.policy: checkov runs every check; .checkov.yaml and per-resource skips are applied, stale ones named."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdk.review import exit_code, render_markdown, review_stack
from sdk.review.policy import CACHE_ENV, PolicyResult, default_cache_dir, global_skips, run_checkov
from sdk.tfjson import stack_file

pytestmark = pytest.mark.skipif(
    shutil.which("checkov", path=str(Path(sys.executable).parent)) is None,
    reason="checkov is installed by `make test` (dev extra)",
)

CONFIG = """framework:
  - terraform_json
skip-check:
  # Log groups: AWS-managed encryption
  # by default.
  - CKV_AWS_158
  # No ASG in this stack: never fails.
  - CKV_AWS_315
"""


def skip(check: str, reason: str) -> dict[str, Any]:
    return {"//": {"checkov": {"skip": {check: reason}}, "metadata": {"path": "s/x"}}}


STACK = {
    "resource": {
        "aws_sqs_queue": {
            "skipped": {**skip("CKV_AWS_27", "the consumer encrypts"), "name": "a"},
            "plain": {"name": "b"},
            "encrypted": {**skip("CKV_AWS_27", "was unencrypted once"), "name": "c", "sqs_managed_sse_enabled": True},
        },
        "aws_cloudwatch_log_group": {"logs": {"name": "/ecs/x", "retention_in_days": 30}},
    }
}


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> PolicyResult:
    root = tmp_path_factory.mktemp("repo")
    (root / ".checkov.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "stacks" / "s").mkdir(parents=True)
    stack_file(root / "stacks", "s").write_text(json.dumps(STACK), encoding="utf-8")
    return run_checkov(root / "stacks", root)["s"]


def test_global_skips_are_read_with_their_multi_line_reasons(tmp_path):
    # GIVEN a .checkov.yaml whose reasons are the comment lines above each entry
    (tmp_path / ".checkov.yaml").write_text(CONFIG, encoding="utf-8")
    # WHEN read THEN each id has its reason, the lines joined
    assert global_skips(tmp_path) == {
        "CKV_AWS_158": "Log groups: AWS-managed encryption by default.",
        "CKV_AWS_315": "No ASG in this stack: never fails.",
    }


def test_a_resources_own_skip_suppresses_that_resource_only_with_its_reason(result):
    # GIVEN two unencrypted queues, one carrying a CKV_AWS_27 skip
    # WHEN checkov runs
    skipped = {(f.check_id, f.resource): (f.scope, f.reason) for f in result.skipped}
    failed = {(f.check_id, f.resource) for f in result.failed}
    # THEN the skipped queue is reported as skipped with its reason, by its Terraform address
    assert skipped[("CKV_AWS_27", "aws_sqs_queue.skipped")] == ("resource", "the consumer encrypts")
    # and the other queue still fails
    assert ("CKV_AWS_27", "aws_sqs_queue.plain") in failed


def test_a_global_skip_suppresses_every_resource_and_the_rest_still_fail(result):
    # GIVEN a log group without a KMS key and with retention under a year; only CKV_AWS_158 is skipped globally
    skipped = {(f.check_id, f.resource): (f.scope, f.reason) for f in result.skipped}
    failed = {(f.check_id, f.resource) for f in result.failed}
    # THEN the KMS check is skipped with the .checkov.yaml reason and the retention check fails
    assert skipped[("CKV_AWS_158", "aws_cloudwatch_log_group.logs")] == (
        "global",
        "Log groups: AWS-managed encryption by default.",
    )
    assert ("CKV_AWS_338", "aws_cloudwatch_log_group.logs") in failed


def test_skips_whose_check_no_longer_fails_are_named_stale(result):
    # GIVEN an encrypted queue still carrying a CKV_AWS_27 skip, and a global skip no resource fails
    # THEN the per-resource skip is stale and the global one unused
    assert result.stale_skips == (
        "CKV_AWS_27 on aws_sqs_queue.encrypted: the check does not fail there; drop its skip_check",
    )
    assert result.unused_global_skips == ("CKV_AWS_315",)


def test_the_review_flags_a_stale_skip_and_lists_per_resource_skips(result):
    # GIVEN the policy result of the stack WHEN the stack is reviewed against itself
    review = review_stack("s", STACK, STACK, policy=result)
    text = render_markdown(review)
    # THEN the stale skip is a flag (exit 1), and REVIEW.md names each per-resource skip and the unused global one
    assert f"stale checkov skip: {result.stale_skips[0]}" in review.flags
    assert exit_code([review]) == 1
    assert "- skipped `CKV_AWS_27` on `aws_sqs_queue.skipped` (this resource only): the consumer encrypts" in text
    assert "- STALE skip CKV_AWS_27 on aws_sqs_queue.encrypted" in text
    assert "- CKV_AWS_315: No ASG in this stack: never fails. (0 here; fails nowhere in this app)" in text


def test_a_stack_that_pins_the_terraform_version_is_checked_with_the_line_numbers_of_its_file(tmp_path):
    # GIVEN a stack as synth writes it, with terraform.required_version (checkov's terraform_json parser crashes on
    # that string: bridgecrewio/checkov#7454)
    stack = {**STACK, "terraform": {"required_version": ">= 1.10, < 2.0", "backend": {"local": {"path": "x"}}}}
    (tmp_path / "stacks" / "s").mkdir(parents=True)
    text = json.dumps(stack, indent=2, sort_keys=True) + "\n"
    stack_file(tmp_path / "stacks", "s").write_text(text, encoding="utf-8")
    # WHEN checkov runs over it
    result = run_checkov(tmp_path / "stacks", tmp_path)["s"]
    # THEN it reports checks (no error), and a finding's lines are the resource's lines in the stack file
    assert result.error == "" and result.failed
    plain = next(f for f in result.failed if f.resource == "aws_sqs_queue.plain")
    low = int(plain.lines.split("-")[0])
    assert text.splitlines()[low - 1].strip() == '"plain": {'


OTHER = {"resource": {"aws_sqs_queue": {"encrypted": {"name": "d", "sqs_managed_sse_enabled": True}}}}


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory) -> Path:
    """A repo with .checkov.yaml and two stacks, `s` (fails checks) and `t` (passes them)."""
    root = tmp_path_factory.mktemp("cached")
    (root / ".checkov.yaml").write_text(CONFIG, encoding="utf-8")
    for name, stack in (("s", STACK), ("t", OTHER)):
        (root / "stacks" / name).mkdir(parents=True)
        stack_file(root / "stacks", name).write_text(json.dumps(stack, indent=2), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def uncached(two_stacks) -> dict[str, PolicyResult]:
    return run_checkov(two_stacks / "stacks", two_stacks)


@pytest.fixture(scope="module")
def warm_cache(two_stacks, tmp_path_factory) -> tuple[Path, dict[str, PolicyResult]]:
    """A cache dir filled by one run over both stacks, and that run's results."""
    cache = tmp_path_factory.mktemp("cache")
    return cache, run_checkov(two_stacks / "stacks", two_stacks, cache_dir=cache)


@pytest.fixture
def checkov_calls(monkeypatch) -> list[list[str]]:
    """The stack folders of each real checkov run (subprocess.run still runs it; this only counts)."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command, *args, **kwargs):
        if Path(command[0]).name == "checkov" and "-d" in command:
            calls.append(sorted(p.name for p in Path(command[command.index("-d") + 1]).iterdir()))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    return calls


def copied(cache: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(cache, tmp_path / "cache"))


def test_a_cached_run_finds_the_same_as_an_uncached_one(uncached, warm_cache):
    # GIVEN two stacks checked once without a cache and once filling an empty cache
    _, first = warm_cache
    # THEN both runs report the same findings, skips and counts for every stack
    assert first == uncached
    assert first["s"].failed and first["t"].passed


def test_a_stack_whose_json_did_not_change_reuses_its_stored_result_without_running_checkov(
    two_stacks, uncached, warm_cache, checkov_calls, tmp_path
):
    # GIVEN a cache filled by a run over the same two stacks
    cache = copied(warm_cache[0], tmp_path)
    # WHEN the review checks them again
    again = run_checkov(two_stacks / "stacks", two_stacks, cache_dir=cache)
    # THEN checkov does not run at all and the findings are those of an uncached run
    assert checkov_calls == []
    assert again == uncached


def test_a_changed_stack_reruns_checkov_over_that_stack_only(two_stacks, warm_cache, checkov_calls, tmp_path):
    # GIVEN a filled cache, and stack t changed: its queue is no longer encrypted
    cache = copied(warm_cache[0], tmp_path)
    stacks = Path(shutil.copytree(two_stacks / "stacks", tmp_path / "stacks"))
    changed = {"resource": {"aws_sqs_queue": {"encrypted": {"name": "d"}}}}
    stack_file(stacks, "t").write_text(json.dumps(changed), encoding="utf-8")
    # WHEN checked again
    results = run_checkov(stacks, two_stacks, cache_dir=cache)
    # THEN checkov runs once, over t alone, and t's new failure is reported while s keeps its stored findings
    assert checkov_calls == [["t"]]
    assert "CKV_AWS_27" in {f.check_id for f in results["t"].failed}
    assert results["s"] == warm_cache[1]["s"]


def test_a_corrupt_cache_entry_is_ignored_and_checkov_runs_again(
    two_stacks, uncached, warm_cache, checkov_calls, tmp_path
):
    # GIVEN a filled cache whose entries were cut short (a full disk, a killed process)
    cache = copied(warm_cache[0], tmp_path)
    entries = list(cache.rglob("*.json"))
    for entry in entries:
        entry.write_text(entry.read_text(encoding="utf-8")[:20], encoding="utf-8")
    # WHEN checked again
    results = run_checkov(two_stacks / "stacks", two_stacks, cache_dir=cache)
    # THEN checkov runs over both stacks, finds what an uncached run finds, and the entries are readable again
    assert len(entries) == 2 and checkov_calls == [["s", "t"]]
    assert results == uncached
    assert all(isinstance(json.loads(entry.read_text(encoding="utf-8")), dict) for entry in entries)


def test_the_cache_lives_under_xdg_cache_home_unless_pointed_elsewhere(monkeypatch, tmp_path):
    # GIVEN XDG_CACHE_HOME set and no explicit cache dir
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # THEN the cache is gpu-blueprints under it; GPU_BLUEPRINTS_CACHE_DIR overrides it
    assert default_cache_dir() == tmp_path / "xdg" / "gpu-blueprints"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
