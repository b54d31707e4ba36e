"""The moto server the AWS tests run against behaves like the services where our code depends on it."""

import boto3
import pytest
from botocore.exceptions import ClientError


def oversize_update(ddb, table: str, key: dict) -> None:
    """One UpdateItem that sets the status, then an attribute that takes the item over DynamoDB's 400 KB."""
    ddb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #s = :done, #r = :big",
        ExpressionAttributeNames={"#s": "status", "#r": "result"},
        ExpressionAttributeValues={":done": {"S": "SUCCEEDED"}, ":big": {"S": "x" * 410_000}},
    )


def test_an_update_that_fails_validation_leaves_the_item_unchanged(job_resources) -> None:
    # GIVEN a job row
    ddb = boto3.client("dynamodb")
    key = {"job_id": {"S": "j1"}}
    ddb.put_item(TableName=job_resources.table_name, Item={**key, "status": {"S": "RUNNING"}})
    # WHEN one UpdateItem sets the status and then an attribute that takes the item over 400 KB
    with pytest.raises(ClientError) as raised:
        oversize_update(ddb, job_resources.table_name, key)
    # THEN DynamoDB's answer is a ValidationException and, as DynamoDB does, nothing of the update was applied
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    item = ddb.get_item(TableName=job_resources.table_name, Key=key, ConsistentRead=True)["Item"]
    assert item == {**key, "status": {"S": "RUNNING"}}


def test_an_update_that_fails_on_a_missing_item_creates_nothing(job_resources) -> None:
    # GIVEN no row for a key
    ddb = boto3.client("dynamodb")
    key = {"job_id": {"S": "ghost"}}
    # WHEN an UpdateItem that would create it fails validation
    with pytest.raises(ClientError):
        oversize_update(ddb, job_resources.table_name, key)
    # THEN no item was left behind
    assert "Item" not in ddb.get_item(TableName=job_resources.table_name, Key=key, ConsistentRead=True)
