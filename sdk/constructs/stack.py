"""A Terraform stack with the AWS provider, pinned versions and default tags."""

from cdktf import LocalBackend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from sdk.constructs.structs import new


class GpuStack(TerraformStack):
    """`.provider`, `.region`. Every resource gets the default tags (owner, stack, managed-by)."""

    def __init__(self, scope: Construct, name: str, *, region: str, tags: dict[str, str] | None = None) -> None:
        super().__init__(scope, name)
        self.region = region
        # cdktf's default local backend records an absolute path: pin a relative one so output is portable.
        LocalBackend(self, path=f"terraform.{name}.tfstate")
        self.provider = new(
            AwsProvider,
            self,
            "aws",
            region=region,
            default_tags=[{"tags": {"managed-by": "gpu-blueprints", "stack": name, **(tags or {})}}],
        )
