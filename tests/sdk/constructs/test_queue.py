"""JobQueue: SQS queue + DLQ with SSE, long polling, redrive and TLS-only policies, or a queue you bring."""

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from sdk.constructs.engine import TerraformOutput, Testing
from sdk.constructs.queue import (
    DLQ_RETENTION_SECONDS,
    LONG_POLL_SECONDS,
    JobQueue,
    queue_name_of,
)
from sdk.constructs.stack import GpuStack
from sdk.specs.queue import ExistingQueueSpec

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:team-jobs"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:team-jobs-dlq"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/team-jobs"


def synth_queue(**options: Any) -> tuple[JobQueue, dict[str, Any]]:
    stack = GpuStack(Testing.app(), "q", region="us-east-1")
    queue = JobQueue(stack, "jobs", name="render-jobs", **{"visibility_timeout_seconds": 960, **options})
    return queue, json.loads(Testing.synth(stack)).get("resource", {})


def by_name(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in resources["aws_sqs_queue"].values()}


@pytest.fixture(scope="module")
def created() -> dict[str, Any]:
    return synth_queue(max_receive_count=5)[1]


def test_the_queue_is_encrypted_long_polls_and_hides_a_received_job_for_the_visibility_timeout(created):
    queue = by_name(created)["render-jobs"]
    assert queue["sqs_managed_sse_enabled"] is True
    assert queue["receive_wait_time_seconds"] == LONG_POLL_SECONDS == 20
    assert queue["visibility_timeout_seconds"] == 960


def test_a_job_received_max_receive_count_times_moves_to_the_dlq(created):
    redrive = by_name(created)["render-jobs"]["redrive_policy"]
    dlq_key = next(k for k, q in created["aws_sqs_queue"].items() if q["name"] == "render-jobs-dlq")
    assert re.search(rf'"deadLetterTargetArn" = aws_sqs_queue\.{dlq_key}\.arn', redrive)
    assert '"maxReceiveCount" = 5' in redrive


def test_the_dlq_is_encrypted_keeps_jobs_14_days_and_accepts_redrive_only_from_its_queue(created):
    dlq = by_name(created)["render-jobs-dlq"]
    assert dlq["sqs_managed_sse_enabled"] is True
    assert dlq["message_retention_seconds"] == DLQ_RETENTION_SECONDS == 14 * 86400
    (allow,) = created["aws_sqs_queue_redrive_allow_policy"].values()
    queue_key = next(k for k, q in created["aws_sqs_queue"].items() if q["name"] == "render-jobs")
    dlq_key = next(k for k, q in created["aws_sqs_queue"].items() if q["name"] == "render-jobs-dlq")
    assert allow["queue_url"] == f"${{aws_sqs_queue.{dlq_key}.url}}"
    assert '"redrivePermission" = "byQueue"' in allow["redrive_allow_policy"]
    assert f'"sourceQueueArns" = [aws_sqs_queue.{queue_key}.arn]' in allow["redrive_allow_policy"]


def test_both_queues_deny_every_request_that_is_not_over_tls(created):
    policies = list(created["aws_sqs_queue_policy"].values())
    assert len(policies) == 2
    protected = set()
    for policy in policies:
        (statement,) = json.loads(policy["policy"])["Statement"]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statement["Resource"] == policy["queue_url"].replace(".url}", ".arn}")
        protected.add(policy["queue_url"])
    assert len(protected) == 2


def test_the_construct_exposes_names_urls_and_arns_of_what_it_created():
    # GIVEN a created queue whose attributes are exported as outputs
    stack = GpuStack(Testing.app(), "x", region="us-east-1")
    queue = JobQueue(stack, "jobs", name="render-jobs", visibility_timeout_seconds=60)
    for attribute in ("url", "arn", "name", "dlq_arn", "dlq_name", "dlq_url"):
        TerraformOutput(stack, attribute, value=getattr(queue, attribute))
    # WHEN synthesized
    tf = json.loads(Testing.synth(stack))
    keys = {q["name"]: k for k, q in tf["resource"]["aws_sqs_queue"].items()}
    outputs = {name: o["value"] for name, o in tf["output"].items()}
    # THEN each attribute is the matching attribute of the queue or the DLQ
    main, dlq = keys["render-jobs"], keys["render-jobs-dlq"]
    assert outputs == {
        "url": f"${{aws_sqs_queue.{main}.url}}",
        "arn": f"${{aws_sqs_queue.{main}.arn}}",
        "name": f"${{aws_sqs_queue.{main}.name}}",
        "dlq_arn": f"${{aws_sqs_queue.{dlq}.arn}}",
        "dlq_name": f"${{aws_sqs_queue.{dlq}.name}}",
        "dlq_url": f"${{aws_sqs_queue.{dlq}.url}}",
    }


def test_an_existing_queue_creates_no_queue_resources_and_exposes_its_names():
    # GIVEN a queue and DLQ managed elsewhere
    existing = ExistingQueueSpec(queue_arn=QUEUE_ARN, queue_url=QUEUE_URL, dlq_arn=DLQ_ARN)
    # WHEN the construct is synthesized
    queue, resources = synth_queue(existing=existing)
    # THEN nothing SQS is created and the names come from the ARNs
    assert not any(kind.startswith("aws_sqs") for kind in resources)
    assert (queue.queue, queue.dlq, queue.dlq_url) == (None, None, None)
    assert (queue.url, queue.arn, queue.name, queue.dlq_name) == (QUEUE_URL, QUEUE_ARN, "team-jobs", "team-jobs-dlq")


def test_a_queue_name_of_an_arn_known_only_at_apply_time_is_a_terraform_expression():
    stack = GpuStack(Testing.app(), "n", region="us-east-1")
    other = JobQueue(stack, "other", name="other", visibility_timeout_seconds=60)
    TerraformOutput(stack, "name", value=queue_name_of(other.arn))
    output = json.loads(Testing.synth(stack))["output"]["name"]["value"]
    assert re.fullmatch(r'\$\{element\(split\(":", aws_sqs_queue\.\w+\.arn\), 5\)\}', output)


@pytest.mark.parametrize("seconds", [-1, 43201])
def test_a_visibility_timeout_outside_sqs_limits_is_rejected_with_a_fix(seconds):
    with pytest.raises(ValueError, match=r"visibility_timeout_seconds: .* Fix: a shorter job timeout"):
        synth_queue(visibility_timeout_seconds=seconds)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("queue_arn", "arn:aws:sns:us-east-1:123456789012:topic", "expected an SQS queue ARN"),
        ("dlq_arn", "team-jobs-dlq", "is not an ARN"),
        ("queue_url", "sqs.us-east-1.amazonaws.com/123/q", "queue_url"),
    ],
)
def test_an_existing_queue_with_a_wrong_arn_or_url_names_the_field(field, value, message):
    values = {"queue_arn": QUEUE_ARN, "queue_url": QUEUE_URL, "dlq_arn": DLQ_ARN, field: value}
    with pytest.raises(ValidationError, match=message) as caught:
        ExistingQueueSpec(**values)
    assert caught.value.errors()[0]["loc"] == (field,)
