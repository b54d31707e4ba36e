"""A private S3 bucket: owner-enforced, public access blocked, encrypted, versioned, TLS-only, expiring."""

from collections.abc import Callable
from typing import Any, Literal

from sdk.constructs.engine import (
    Construct,
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketOwnershipControls,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketVersioningA,
)
from sdk.constructs.naming import policy_json
from sdk.constructs.stack import is_destroyable
from sdk.constructs.structs import new


class SecureBucket(Construct):
    """`.bucket`, `.arn`, `.name`. `extra_statements(arn)` (e.g. log delivery) join the TLS-only deny."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket_prefix: str,
        expire_days: int,
        sse: Literal["aws:kms", "AES256"] = "aws:kms",
        extra_statements: Callable[[str], list[dict[str, Any]]] | None = None,
        force_destroy: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        force_destroy = force_destroy or is_destroyable(scope)  # scope's stack is known already (no round trip)
        self.bucket = new(S3Bucket, self, "bucket", bucket_prefix=bucket_prefix, force_destroy=force_destroy)
        self.arn, self.name = self.bucket.arn, self.bucket.bucket
        bucket_id = self.bucket.id  # one jsii round trip, passed to every part below
        new(
            S3BucketOwnershipControls,
            self,
            "ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
        )
        self.public_access_block = new(
            S3BucketPublicAccessBlock,
            self,
            "public_access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        new(
            S3BucketServerSideEncryptionConfigurationA,
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": sse},
                    "bucket_key_enabled": sse == "aws:kms",
                }
            ],
        )
        new(
            S3BucketVersioningA,
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
        )
        new(
            S3BucketLifecycleConfiguration,
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=[
                {
                    "id": "expire",
                    "status": "Enabled",
                    "filter": [{}],
                    "expiration": [{"days": expire_days}],
                    "noncurrent_version_expiration": [{"noncurrent_days": 7}],
                    "abort_incomplete_multipart_upload": [{"days_after_initiation": 1}],
                }
            ],
        )
        tls_only = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [self.arn, f"{self.arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        self.policy = new(
            S3BucketPolicy,
            self,
            "policy",
            bucket=bucket_id,
            policy=policy_json([tls_only, *(extra_statements(self.arn) if extra_statements else [])]),
            depends_on=[self.public_access_block],
        )
