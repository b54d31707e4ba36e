"""SecureBucket: its parts reach the bucket through one id token."""

import json

from sdk.constructs.bucket import SecureBucket
from sdk.constructs.engine import Testing
from sdk.constructs.stack import GpuStack
from tests.jsii_requests import recorded_requests, repeated_reads


def test_a_secure_bucket_reads_its_id_from_jsii_once_and_every_part_refers_to_the_bucket():
    # GIVEN a stack WHEN a secure bucket is built, every jsii kernel request recorded
    stack = GpuStack(Testing.app(), "b", region="us-east-1")
    with recorded_requests() as requests:
        SecureBucket(stack, "outputs", bucket_prefix="svc-outputs-", expire_days=30)
    # THEN no attribute was asked of jsii twice (the id is passed to its six parts as one token)
    assert repeated_reads(requests) == []
    # AND every part still names the bucket by reference
    resources = json.loads(Testing.synth(stack))["resource"]
    [bucket] = resources["aws_s3_bucket"]
    parts = [part for kind, items in resources.items() if kind != "aws_s3_bucket" for part in items.values()]
    assert len(parts) == 6
    assert {part["bucket"] for part in parts} == {f"${{aws_s3_bucket.{bucket}.id}}"}
