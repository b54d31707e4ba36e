"""JobTable: the DynamoDB table the job client and worker use, declared from sdk.jobs.schema's names."""

import json
import uuid
from typing import Any

import boto3
import pytest

from sdk.constructs.engine import Testing
from sdk.constructs.job_table import JobTable
from sdk.constructs.stack import GpuStack
from sdk.jobs.client import JobClient
from sdk.jobs.schema import CREATED_AT_ATTRIBUTE, HASH_KEY, STATUS_ATTRIBUTE, STATUS_INDEX, TTL_ATTRIBUTE


def synth_table(**options: Any) -> dict[str, Any]:
    stack = GpuStack(Testing.app(), "t", region="us-east-1")
    JobTable(stack, "jobs", name="render-jobs", **options)
    tables = json.loads(Testing.synth(stack))["resource"]["aws_dynamodb_table"]
    assert len(tables) == 1
    return next(iter(tables.values()))


def create_table_request(table: dict[str, Any], name: str) -> dict[str, Any]:
    """The synthesized table as a DynamoDB CreateTable request (what Terraform would send)."""
    return {
        "TableName": name,
        "BillingMode": table["billing_mode"],
        "KeySchema": _key_schema(table),
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attribute"]],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": g["name"],
                "KeySchema": _key_schema(g),
                "Projection": {"ProjectionType": g["projection_type"]},
            }
            for g in table["global_secondary_index"]
        ],
    }


def _key_schema(index: dict[str, Any]) -> list[dict[str, str]]:
    schema = [{"AttributeName": index["hash_key"], "KeyType": "HASH"}]
    if "range_key" in index:
        schema.append({"AttributeName": index["range_key"], "KeyType": "RANGE"})
    return schema


@pytest.fixture(scope="module")
def table() -> dict[str, Any]:
    return synth_table()


def test_the_table_is_on_demand_and_keyed_by_the_schemas_job_id(table):
    assert table["name"] == "render-jobs"
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == HASH_KEY == "job_id"
    assert "range_key" not in table
    assert {a["name"]: a["type"] for a in table["attribute"]} == {
        HASH_KEY: "S",
        STATUS_ATTRIBUTE: "S",
        CREATED_AT_ATTRIBUTE: "S",
    }


def test_the_status_index_lists_jobs_of_a_status_by_creation_time(table):
    (index,) = table["global_secondary_index"]
    assert index["name"] == STATUS_INDEX == "status-created_at"
    assert (index["hash_key"], index["range_key"]) == ("status", "created_at")
    assert index["projection_type"] == "ALL"


def test_rows_expire_by_ttl_and_the_table_has_pitr_encryption_and_deletion_protection(table):
    assert table["ttl"] == {"attribute_name": TTL_ATTRIBUTE, "enabled": True}
    assert TTL_ATTRIBUTE == "expires_at"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True


def test_deletion_protection_can_be_turned_off_for_scratch_stacks():
    assert synth_table(deletion_protection=False)["deletion_protection_enabled"] is False


def test_the_declared_table_serves_the_job_client_and_its_status_index_on_moto(table, aws_env):
    # GIVEN the synthesized table created on a moto server, and a queue and bucket for the client
    name = f"jobs-{uuid.uuid4().hex[:10]}"
    ddb, sqs, s3 = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("s3")
    ddb.create_table(**create_table_request(table, name))
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    s3.create_bucket(Bucket=name)
    # WHEN a job is submitted with the real client
    job_id = JobClient(queue_url, name, name).submit("edit", {"prompt": "a red chair"})
    # THEN the row is found by key and by the status index, newest last
    assert JobClient(queue_url, name, name).status(job_id).status == "PENDING"
    found = ddb.query(
        TableName=name,
        IndexName=STATUS_INDEX,
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": STATUS_ATTRIBUTE},
        ExpressionAttributeValues={":s": {"S": "PENDING"}},
    )["Items"]
    assert [item[HASH_KEY]["S"] for item in found] == [job_id]
    assert TTL_ATTRIBUTE in found[0]


def test_a_customer_kms_key_encrypts_the_table_when_given():
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert synth_table(kms_key_arn=arn)["server_side_encryption"] == {"enabled": True, "kms_key_arn": arn}
