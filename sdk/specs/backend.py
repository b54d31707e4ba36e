"""Terraform state backend specs: a local file (default) or an S3 object with native locking."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from sdk.specs import Region, Spec, problems_to_error

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _bucket_name(value: str) -> str:
    if not _BUCKET.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{value!r} is not an S3 bucket name. Fix: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _state_path(value: str) -> str:
    """Backend settings take no expressions, and a relative path keeps the output portable."""
    if not value or value.startswith("/") or value.endswith("/") or "${" in value or "%{" in value:
        raise ValueError(f"{value!r} is not a state path. Fix: a relative path like 'team/stack/terraform.tfstate'")
    return value


StatePath = Annotated[str, AfterValidator(_state_path)]


class LocalBackendSpec(Spec):
    """State in a local file (the default): for trying a stack out, not for a team."""

    kind: Literal["local"] = Field(default="local", description="Backend type. Default local.")
    path: StatePath | None = Field(
        default=None, description="State file, relative to the stack folder. Default terraform.<stack>.tfstate."
    )


class S3BackendSpec(Spec):
    """State in an S3 object, locked with S3's native lock file (Terraform >= 1.10, no DynamoDB table)."""

    kind: Literal["s3"] = Field(default="s3", description="Backend type. Default s3.")
    bucket: Annotated[str, AfterValidator(_bucket_name)] = Field(description="State bucket (no default).")
    key: StatePath | None = Field(default=None, description="State object key. Default <stack>/terraform.tfstate.")
    region: Region | None = Field(default=None, description="Region of the bucket. Default: the stack's region.")
    encrypt: bool = Field(default=True, description="Server-side encryption of the state object. Default True.")
    kms_key_id: str | None = Field(
        default=None, description="KMS key ARN for the state object (needs encrypt). Default None: SSE-S3."
    )
    use_lockfile: bool = Field(
        default=True, description="S3 native locking (a .tflock object beside the state). Default True."
    )

    @model_validator(mode="after")
    def _kms_needs_encrypt(self) -> "S3BackendSpec":
        if self.kms_key_id is not None and not self.encrypt:
            problems_to_error(["backend.kms_key_id: a KMS key encrypts only with encrypt=True. Fix: drop encrypt."])
        return self


BackendSpec = Annotated[LocalBackendSpec | S3BackendSpec, Field(discriminator="kind")]
