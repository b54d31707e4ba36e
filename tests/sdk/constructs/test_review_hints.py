"""review_hints.skip_check: a resource's own checkov skip, written where sdk.review.policy reads it."""

from pathlib import Path
from typing import Any

import pytest

from sdk.constructs.engine import App, SqsQueue, Testing
from sdk.constructs.review_hints import skip_check
from sdk.constructs.stack import GpuStack
from sdk.review.policy import resource_skips
from sdk.tfjson import load_stack


def synth(tmp_path: Path, build: Any) -> dict[str, Any]:
    """The stack's JSON as `python -m sdk synth` writes it (Testing.synth drops the `//` keys)."""
    app = App(outdir=str(tmp_path))
    build(GpuStack(app, "t", region="us-east-1"))
    app.synth()
    return load_stack(tmp_path / "stacks", "t")


def test_skips_are_recorded_under_the_resources_comment_key_beside_cdktfs_metadata(tmp_path):
    # GIVEN a queue with two skips and a queue with none
    def build(stack: GpuStack) -> None:
        queue = SqsQueue(stack, "skipped", name="a")
        skip_check(queue, "CKV_AWS_27", "encrypted by the consumer. Really.")
        skip_check(queue, "CKV2_AWS_99", "second reason")
        SqsQueue(stack, "plain", name="b")

    # WHEN the stack is synthesized
    tf = synth(tmp_path, build)
    # THEN the review reads both skips with their reasons (dots in a reason survive), only on that queue,
    queue = tf["resource"]["aws_sqs_queue"]["skipped"]
    assert resource_skips(tf) == {
        "aws_sqs_queue.skipped": {"CKV_AWS_27": "encrypted by the consumer. Really.", "CKV2_AWS_99": "second reason"}
    }
    # and cdktf's own metadata under `//` is kept
    assert queue["//"]["metadata"]["path"] == "t/skipped"


@pytest.mark.parametrize(
    ("check_id", "reason"), [("CKV_AWS_27", " "), ("aws_s3_bucket.x", "a reason"), ("CKV_AWS_27.x", "a reason")]
)
def test_a_skip_without_a_reason_or_a_checkov_id_is_refused(check_id, reason):
    # GIVEN a queue WHEN it is given a skip without a reason or with something that is no checkov id
    queue = SqsQueue(GpuStack(Testing.app(), "t", region="us-east-1"), "q", name="q")
    # THEN the helper refuses it by name
    with pytest.raises(ValueError, match="a checkov id such as CKV_AWS_145 and a reason"):
        skip_check(queue, check_id, reason)


def test_recording_a_blueprints_hints_again_asks_jsii_only_to_write_them():
    # GIVEN a blueprint-like construct whose hints were recorded once
    from sdk.constructs.engine import Construct
    from sdk.constructs.review_hints import record_hints
    from sdk.hints import BlueprintHints
    from tests.jsii_requests import describe, recorded_requests

    blueprint = Construct(GpuStack(Testing.app(), "t", region="us-east-1"), "sdxl")
    hints = BlueprintHints(blueprint="AlbInferenceService")
    record_hints(blueprint, hints)
    # WHEN they are recorded again (a shared network's summary changed), every jsii kernel request recorded
    with recorded_requests() as requests:
        record_hints(blueprint, hints)
    # THEN the only round trip is the override itself: no walk from the stack down to the blueprint
    assert [describe(r) for r in requests] == ["Invoke addOverride"]
