"""A small cdktf app over several provider submodules, for the stock-vs-lazy import tests and bench.

`build_app(app)` follows the `python -m sdk synth --app MODULE` convention; `main(out_dir, stats)`
synthesizes into out_dir by itself and writes which provider submodules the process loaded (the engine
names come from sdk.constructs.engine, so the provider import hook is in place before cdktf loads).
"""

import json
import sys
from pathlib import Path

from sdk.constructs.engine import (
    App,
    AwsProvider,
    Construct,
    DataAwsSsmParameter,
    IamRole,
    LaunchTemplate,
    S3Bucket,
    SqsQueue,
    Subnet,
    TerraformOutput,
    TerraformStack,
    Vpc,
    aws,
)

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


class _Stack(TerraformStack):
    def __init__(self, scope: Construct, name: str) -> None:
        super().__init__(scope, name)
        AwsProvider(
            self, "aws", region="us-east-1", default_tags=[aws.provider.AwsProviderDefaultTags(tags={"app": name})]
        )
        vpc = Vpc(self, "vpc", cidr_block="10.0.0.0/16", enable_dns_hostnames=True)
        Subnet(self, "subnet", vpc_id=vpc.id, cidr_block="10.0.1.0/24", availability_zone="us-east-1a")
        ami = DataAwsSsmParameter(
            self, "ami", name="/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
        )
        imdsv2 = aws.launch_template.LaunchTemplateMetadataOptions(http_tokens="required")
        template = LaunchTemplate(self, "lt", image_id=ami.value, metadata_options=imdsv2)
        policy = aws.data_aws_iam_policy_document
        ecs = policy.DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=["ecs.amazonaws.com"])
        assume = policy.DataAwsIamPolicyDocumentStatement(actions=["sts:AssumeRole"], principals=[ecs])
        trust = policy.DataAwsIamPolicyDocument(self, "trust", statement=[assume])
        IamRole(self, "role", assume_role_policy=trust.json)
        queue = SqsQueue(self, "queue", message_retention_seconds=1209600)
        bucket = S3Bucket(self, "bucket", bucket_prefix="renders-")
        # Values read back from JS: a struct output reference and plain tokens.
        TerraformOutput(self, "http_tokens", value=template.metadata_options.http_tokens)
        TerraformOutput(self, "queue_url", value=queue.url)
        TerraformOutput(self, "bucket_arn", value=bucket.arn)


def build_app(app: App) -> None:
    """Two stacks, so the output has more than one stack folder."""
    _Stack(app, "fast-import-a")
    _Stack(app, "fast-import-b")


def loaded_provider_submodules() -> list[str]:
    """Provider submodules in sys.modules (the package's own `_jsii`/`_private` helpers left out)."""
    prefix = PROVIDER_PACKAGE + "."
    names = (name.removeprefix(prefix) for name in sys.modules if name.startswith(prefix))
    return sorted(name for name in names if "._" not in f".{name}")


def main(out_dir: str, stats_path: str) -> None:
    app = App(outdir=out_dir)
    build_app(app)
    app.synth()
    Path(stats_path).write_text(json.dumps({"provider_submodules": loaded_provider_submodules()}), encoding="utf-8")
