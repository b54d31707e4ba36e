"""generated/ is what the code synthesizes now, and it passes checkov, botocore's ECS model and IAM rules."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from sdk.review.policy import PolicyResult, global_skips, resource_skips, run_checkov
from sdk.synth import write_stacks
from sdk.tfjson import STACK_FILE

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"


def test_generated_matches_what_the_code_synthesizes_now(example_stacks, tmp_path):
    # GIVEN the stacks synthesized from the current code
    write_stacks(example_stacks, tmp_path)
    # WHEN compared with the committed generated/ folder
    committed = sorted(p.relative_to(GENERATED) for p in GENERATED.glob(f"*/{STACK_FILE}"))
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.glob(f"*/{STACK_FILE}"))
    # THEN the same stacks exist, byte for byte (run `make synth` and commit when this fails)
    assert committed == fresh
    for rel in fresh:
        assert (GENERATED / rel).read_bytes() == (tmp_path / rel).read_bytes(), f"{rel} is stale: run make synth"
        # and nothing in it depends on where the checkout lives (e.g. an absolute state path)
        assert str(ROOT) not in (tmp_path / rel).read_text(encoding="utf-8")


def test_synth_output_is_byte_identical_across_runs(example_stacks, tmp_path):
    # GIVEN one synth written to disk WHEN the CLI synthesizes again in a fresh process
    write_stacks(example_stacks, tmp_path / "first")
    subprocess.run(
        [sys.executable, "-m", "sdk", "synth", "--out", str(tmp_path / "second")],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    # THEN both outputs are identical
    for path in (tmp_path / "first").glob(f"*/{STACK_FILE}"):
        assert path.read_bytes() == (tmp_path / "second" / path.parent.name / STACK_FILE).read_bytes()


@pytest.fixture(scope="module")
def checkov_results(example_stacks, tmp_path_factory) -> dict[str, PolicyResult]:
    """One checkov run over the synthesized stacks, every check on, skips applied by sdk.review.policy."""
    if shutil.which("checkov", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("checkov is installed by `make test` (dev extra)")
    stacks = tmp_path_factory.mktemp("checkov")
    write_stacks(example_stacks, stacks)
    return run_checkov(stacks, ROOT)


def test_checkov_reports_no_failed_checks_on_generated(checkov_results):
    # GIVEN the synthesized stacks, the skips in .checkov.yaml and those resources carry
    # WHEN checkov scans them as terraform_json
    results = list(checkov_results.values())
    # THEN it ran on every stack and every check that is not skipped passed
    assert not [r.error for r in results if r.error]
    assert [(f.check_id, f.resource) for r in results for f in r.failed] == []
    assert sum(r.passed for r in results) > 100


def test_every_skipped_check_still_fails_where_it_is_skipped(checkov_results, example_stacks):
    # GIVEN checkov run without any skip, and the skips of .checkov.yaml and of the resources
    results = checkov_results.items()
    # WHEN the findings each skip suppresses are collected
    skipped = {(stack, f.scope, f.check_id, f.resource) for stack, r in results for f in r.skipped}
    # THEN every global skip suppresses a failure somewhere (else it is stale and would hide a regression)
    assert set(global_skips(ROOT)) == {check for _, scope, check, _ in skipped if scope == "global"}
    assert all(r.unused_global_skips == () for _, r in results)
    # and every per-resource skip suppresses a failure on its own resource
    own = {
        (stack, check, address)
        for stack, tf in example_stacks.items()
        for address, checks in resource_skips(tf).items()
        for check in checks
    }
    assert own and own == {(stack, check, address) for stack, scope, check, address in skipped if scope == "resource"}
    assert [skip for _, r in results for skip in r.stale_skips] == []


def _task_definitions(stacks: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{stack}.{name}", td)
        for stack, tf in stacks.items()
        for name, td in tf.get("resource", {}).get("aws_ecs_task_definition", {}).items()
    ]


def test_every_container_definition_validates_against_botocores_ecs_model(example_stacks):
    # GIVEN botocore's ECS service model
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    task_definitions = _task_definitions(example_stacks)
    assert task_definitions
    for address, td in task_definitions:
        # WHEN a task definition's container definitions are checked as RegisterTaskDefinition input
        params = {
            "family": td["family"],
            "containerDefinitions": json.loads(td["container_definitions"]),
            "networkMode": td["network_mode"],
            "requiresCompatibilities": td["requires_compatibilities"],
            "cpu": td["cpu"],
            "memory": td["memory"],
        }
        report = ParamValidator().validate(params, shape)
        # THEN botocore finds nothing wrong
        assert not report.has_errors(), f"{address}: {report.generate_report()}"


def _policy_documents(tf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for kind in ("aws_iam_role_policy", "aws_iam_policy"):
        for name, res in tf.get("resource", {}).get(kind, {}).items():
            docs.append((f"{kind}.{name}", json.loads(res["policy"])))
    return docs


def test_no_iam_policy_grants_a_wildcard_action(example_stacks):
    for stack, tf in example_stacks.items():
        documents = _policy_documents(tf)
        assert documents, f"{stack} has no inline policies"
        for address, document in documents:
            for statement in document["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                # THEN no action has a wildcard (the S3 TLS-only Deny is a bucket policy, not IAM)
                assert not [a for a in actions if "*" in a], f"{stack} {address}: {actions}"


def test_every_alarm_topic_we_create_is_under_a_customer_key_that_cloudwatch_may_use(example_stacks):
    checked = 0
    for stack, tf in example_stacks.items():
        topics = tf.get("resource", {}).get("aws_sns_topic", {})
        keys = tf.get("resource", {}).get("aws_kms_key", {})
        for alarm in tf.get("resource", {}).get("aws_cloudwatch_metric_alarm", {}).values():
            # GIVEN every created topic an alarm notifies
            for action in alarm.get("alarm_actions", []):
                match = re.fullmatch(r"\$\{aws_sns_topic\.(\w+)\.arn\}", action)
                if match is None:
                    continue
                key_ref = topics[match.group(1)]["kms_master_key_id"]
                # THEN it is never under an AWS-managed key (alias/aws/*: CloudWatch cannot use those)
                assert not key_ref.startswith("alias/aws/"), f"{stack}: {key_ref}"
                # AND its customer key's policy lets CloudWatch decrypt and make data keys
                key = keys[re.fullmatch(r"\$\{aws_kms_key\.(\w+)\.arn\}", key_ref).group(1)]
                grants = [s for s in json.loads(key["policy"])["Statement"] if s["Principal"] == CLOUDWATCH]
                assert grants and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(grants[0]["Action"]), stack
                checked += 1
    assert checked, "no example notifies a created topic"


CLOUDWATCH = {"Service": "cloudwatch.amazonaws.com"}


def test_the_committed_lambda_zips_are_the_ones_the_code_builds_now(example_stacks, tmp_path):
    # GIVEN the stacks written with their assets (the job gateway's zip) WHEN compared with generated/
    write_stacks(example_stacks, tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.glob("*/assets/*"))
    committed = sorted(p.relative_to(GENERATED) for p in GENERATED.glob("*/assets/*"))
    # THEN the same files, byte for byte (run `python -m sdk synth` and commit when this fails)
    assert fresh == committed and fresh
    assert all((GENERATED / rel).read_bytes() == (tmp_path / rel).read_bytes() for rel in fresh)
