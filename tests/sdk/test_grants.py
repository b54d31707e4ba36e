"""Typed grants become least-privilege statements: one resource each, never a wildcard action."""

import pytest
from pydantic import TypeAdapter, ValidationError

from sdk.grants import (
    DynamoDbItemGrant,
    Grant,
    KinesisPutGrant,
    S3PutGrant,
    S3ReadGrant,
    grant_statements,
    model_source_grants,
)
from sdk.specs import HuggingFaceModelSource, S3ModelSource

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/jobs"


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_an_s3_put_grant_is_limited_to_its_prefix_and_allows_multipart_and_default_encryption_uploads():
    # GIVEN a put grant on a bucket WHEN it becomes statements
    [statement] = S3PutGrant(arn="arn:aws:s3:::bucket", prefix="out/").statements()
    # THEN only its prefix is writable, and no encryption-header condition denies UploadPart or default-encrypted PUTs
    assert statement["Resource"] == ["arn:aws:s3:::bucket/out/*"]
    assert statement["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    assert "Condition" not in statement


def test_an_s3_put_grant_on_a_bucket_with_a_customer_key_may_use_that_key_through_s3_only():
    # GIVEN a put grant on a bucket encrypted with a customer key WHEN it becomes statements
    _, key = S3PutGrant(arn="arn:aws:s3:::bucket", prefix="out/", kms_key_arn=KEY).statements()
    # THEN the key may make data keys and decrypt (multipart completion) only when S3 in its region asks
    assert (key["Action"], key["Resource"]) == (["kms:GenerateDataKey", "kms:Decrypt"], [KEY])
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_a_put_grant_key_that_is_not_a_kms_arn_is_rejected():
    with pytest.raises(ValidationError, match="KMS key ARN"):
        S3PutGrant(arn="arn:aws:s3:::bucket", prefix="out/", kms_key_arn="arn:aws:s3:::not-a-key")


def test_a_read_only_table_grant_has_no_write_actions():
    [statement] = DynamoDbItemGrant(arn=TABLE, write=False).statements()
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} & set(statement["Action"])
    assert statement["Resource"] == [TABLE, f"{TABLE}/index/*"]


def test_statement_ids_are_unique_and_no_action_has_a_wildcard():
    grants = [
        S3ReadGrant(arn="arn:aws:s3:::a", prefix="in/"),
        S3ReadGrant(arn="arn:aws:s3:::b", prefix="in/"),
        KinesisPutGrant(arn="arn:aws:kinesis:us-east-1:123456789012:stream/s"),
    ]
    statements = grant_statements(grants)
    assert len({s["Sid"] for s in statements}) == len(statements) == 5
    assert not [a for s in statements for a in s["Action"] if "*" in a]


def test_grants_parse_from_plain_data_by_kind():
    grant = TypeAdapter(Grant).validate_python(
        {"kind": "kinesis_put", "arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s"}
    )
    assert isinstance(grant, KinesisPutGrant)


@pytest.mark.parametrize(
    ("grant", "data"),
    [
        (S3PutGrant, {"arn": TABLE, "prefix": "out/"}),
        (S3PutGrant, {"arn": "arn:aws:s3:::b", "prefix": "out/*"}),
        (KinesisPutGrant, {"arn": "not-an-arn"}),
    ],
)
def test_a_grant_on_the_wrong_kind_of_resource_is_rejected(grant, data):
    with pytest.raises(ValidationError):
        grant.model_validate(data)


def test_a_cdktf_token_is_accepted_where_an_arn_is_expected():
    grant = S3PutGrant(arn="${TfToken[TOKEN.12]}", prefix="jobs/")
    assert grant.statements()[0]["Resource"] == ["${TfToken[TOKEN.12]}/jobs/*"]


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_an_s3_model_source_is_read_only_under_its_prefix_and_decrypts_only_through_s3():
    # GIVEN an S3 model source encrypted with a customer-managed key
    source = S3ModelSource(uri="s3://models-bucket/llama/v3/", kms_key_arn=KEY)
    # WHEN its grants become statements
    get, list_, decrypt = grant_statements(model_source_grants(source))
    # THEN objects under the prefix can be read and listed, nothing else in the bucket
    assert (get["Action"], get["Resource"]) == (["s3:GetObject"], ["arn:aws:s3:::models-bucket/llama/v3/*"])
    assert (list_["Action"], list_["Resource"]) == (["s3:ListBucket"], ["arn:aws:s3:::models-bucket"])
    assert list_["Condition"] == {"StringLike": {"s3:prefix": ["llama/v3/*"]}}
    # AND the key decrypts only for S3 in the key's region
    assert (decrypt["Action"], decrypt["Resource"]) == (["kms:Decrypt"], [KEY])
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_an_s3_source_without_a_customer_key_and_a_hub_source_need_no_kms_or_aws_grant():
    # GIVEN an SSE-S3 source and a Hub source WHEN their grants are built
    s3 = grant_statements(model_source_grants(S3ModelSource(uri="s3://models-bucket/m/")))
    hub = model_source_grants(HuggingFaceModelSource(repo_id="gpt2"))
    # THEN the S3 one has no KMS statement and the Hub one grants nothing
    assert [s["Action"] for s in s3] == [["s3:GetObject"], ["s3:ListBucket"]]
    assert hub == () and model_source_grants(None) == ()


def test_a_read_grant_refuses_a_key_that_is_not_a_kms_key_arn():
    with pytest.raises(ValidationError) as error:
        S3ReadGrant(arn="arn:aws:s3:::b", prefix="in/", kms_key_arn="arn:aws:kms:us-east-1:123456789012:alias/x")
    assert "kms_key_arn" in str(error.value) and "Fix:" in str(error.value)
