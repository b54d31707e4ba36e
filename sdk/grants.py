"""Typed IAM grants: each names one resource and becomes least-privilege statements (never `*` actions)."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from sdk.specs import ModelSource, S3ModelSource, Spec, arn_parts, kms_key_arn

Statement = dict[str, Any]


def _arn_of(service: str) -> Any:
    def check(cls: type, value: str) -> str:
        parts = arn_parts(value)
        if parts is not None and parts[0] != service:
            raise ValueError(f"expected an {service} ARN (arn:aws:{service}:...), got {value!r}")
        return value

    return field_validator("arn")(classmethod(check))


def kms_key_statements(
    sid: str, key_arn: str, actions: list[str], service: str, region: str | None = None
) -> list[Statement]:
    """Use of a customer KMS key only through one service (kms:ViaService), in the key's region (or `region` when the
    ARN is a token). AWS-managed keys (aws/s3, aws/dynamodb) need none: their key policy admits the account via the
    service."""
    parts = arn_parts(key_arn)
    key_region = parts[1] if parts is not None and parts[1] else region
    via = f"{service}.{key_region}.amazonaws.com" if key_region else f"{service}.*.amazonaws.com"
    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": [key_arn],
            "Condition": {"StringLike" if "*" in via else "StringEquals": {"kms:ViaService": via}},
        }
    ]


def check_kms_key_arn(value: str | None) -> str | None:
    parts = arn_parts(value) if value is not None else None
    if parts is not None and parts[0] != "kms":
        raise ValueError(f"expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got {value!r}")
    return value


class S3PutGrant(Spec):
    """PutObject (multipart uploads too) under a prefix. Encryption is the bucket's job: a policy condition on
    s3:x-amz-server-side-encryption would deny UploadPart (it cannot carry the header) and PUTs that rely on the
    bucket's default encryption. On a bucket you do not own, make sure it has default encryption."""

    kind: Literal["s3_put"] = Field(default="s3_put", description="Grant type (discriminator). Default s3_put.")
    arn: str = Field(description="Bucket ARN. Required.")
    prefix: str = Field(pattern=r"^[^*]*/$", description="Key prefix ending in '/', no wildcards. Required.")
    kms_key_arn: str | None = Field(
        default=None,
        description="The bucket's customer KMS key (SSE-KMS): granted GenerateDataKey and Decrypt (multipart "
        "uploads) through S3 only. Default None: SSE-S3 or the AWS-managed aws/s3 key, nothing to grant.",
    )
    _check = _arn_of("s3")
    _key = field_validator("kms_key_arn")(classmethod(lambda cls, value: check_kms_key_arn(value)))

    def statements(self) -> list[Statement]:
        put = {
            "Sid": "PutUnderPrefix",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{self.arn}/{self.prefix}*"],
        }
        if self.kms_key_arn is None:
            return [put]
        return [put, *kms_key_statements("BucketKey", self.kms_key_arn, ["kms:GenerateDataKey", "kms:Decrypt"], "s3")]


class S3ReadGrant(Spec):
    """GetObject and ListBucket under a prefix of a bucket."""

    kind: Literal["s3_read"] = Field(default="s3_read", description="Grant type (discriminator). Default s3_read.")
    arn: str = Field(description="Bucket ARN. Required.")
    prefix: str = Field(pattern=r"^[^*]*/$", description="Key prefix ending in '/'. Required.")
    kms_key_arn: str | None = Field(
        default=None, description="Customer-managed key of the objects (kms:Decrypt through S3). Default None."
    )
    _check = _arn_of("s3")

    @field_validator("kms_key_arn")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return value if value is None else kms_key_arn(value)

    def statements(self) -> list[Statement]:
        decrypt = [_decrypt_through_s3(self.kms_key_arn)] if self.kms_key_arn else []
        return [
            {
                "Sid": "ReadUnderPrefix",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{self.arn}/{self.prefix}*"],
            },
            {
                "Sid": "ListPrefix",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [self.arn],
                "Condition": {"StringLike": {"s3:prefix": [f"{self.prefix}*"]}},
            },
            *decrypt,
        ]


def _decrypt_through_s3(key_arn: str) -> Statement:
    """GetObject on an SSE-KMS object needs kms:Decrypt on its key; S3 calls KMS for the reader, so the grant is
    limited to requests S3 makes in the key's region (kms:ViaService, AWS KMS condition keys)."""
    statement: Statement = {"Sid": "DecryptViaS3", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]}
    if (parts := arn_parts(key_arn)) is not None:
        statement["Condition"] = {"StringEquals": {"kms:ViaService": f"s3.{parts[1]}.amazonaws.com"}}
    return statement


class DynamoDbItemGrant(Spec):
    """Item reads (and writes unless write=False) on one DynamoDB table and its indexes."""

    kind: Literal["dynamodb_items"] = Field(
        default="dynamodb_items", description="Grant type (discriminator). Default dynamodb_items."
    )
    arn: str = Field(description="Table ARN. Required.")
    write: bool = Field(default=True, description="Allow Put/Update/Delete too. Default True.")
    _check = _arn_of("dynamodb")

    def statements(self) -> list[Statement]:
        actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
        if self.write:
            actions += ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        return [
            {"Sid": "TableItems", "Effect": "Allow", "Action": actions, "Resource": [self.arn, f"{self.arn}/index/*"]}
        ]


class KinesisPutGrant(Spec):
    """PutRecord/PutRecords (and DescribeStreamSummary) on one Kinesis data stream."""

    kind: Literal["kinesis_put"] = Field(
        default="kinesis_put", description="Grant type (discriminator). Default kinesis_put."
    )
    arn: str = Field(description="Stream ARN. Required.")
    _check = _arn_of("kinesis")

    def statements(self) -> list[Statement]:
        return [
            {
                "Sid": "PutRecords",
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"],
                "Resource": [self.arn],
            }
        ]


class SqsSendGrant(Spec):
    """SendMessage (and GetQueueAttributes) on one SQS queue."""

    kind: Literal["sqs_send"] = Field(default="sqs_send", description="Grant type (discriminator). Default sqs_send.")
    arn: str = Field(description="Queue ARN. Required.")
    _check = _arn_of("sqs")

    def statements(self) -> list[Statement]:
        return [
            {
                "Sid": "SendMessages",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                "Resource": [self.arn],
            }
        ]


Grant = Annotated[
    S3PutGrant | S3ReadGrant | DynamoDbItemGrant | KinesisPutGrant | SqsSendGrant, Field(discriminator="kind")
]


def grant_statements(grants: tuple[Grant, ...] | list[Grant]) -> list[Statement]:
    """All statements, Sids made unique and stable by position."""
    out: list[Statement] = []
    for index, grant in enumerate(grants):
        for statement in grant.statements():
            out.append({**statement, "Sid": f"{statement['Sid']}{index}"})
    return out


def model_source_grants(source: ModelSource | None) -> tuple[Grant, ...]:
    """What the task role needs to fetch the model: read on an S3 source's prefix; the Hub needs no AWS grant."""
    if isinstance(source, S3ModelSource):
        return (S3ReadGrant(arn=f"arn:aws:s3:::{source.bucket}", prefix=source.prefix, kms_key_arn=source.kms_key_arn),)
    return ()
