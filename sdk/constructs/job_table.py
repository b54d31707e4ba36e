"""Job table: on-demand DynamoDB keyed by job id, with the status index, TTL, PITR and encryption.

Key, index and TTL names come from `sdk.jobs.schema`, the module the client and worker use.
"""

from sdk.constructs.engine import Construct, DynamodbTable
from sdk.constructs.stack import is_destroyable
from sdk.constructs.structs import new
from sdk.jobs.schema import CREATED_AT_ATTRIBUTE, HASH_KEY, STATUS_ATTRIBUTE, STATUS_INDEX, TTL_ATTRIBUTE


class JobTable(Construct):
    """`.table`, `.arn`, `.name`, `.index_arn` (the status index)."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, deletion_protection: bool = True, kms_key_arn: str | None = None
    ) -> None:
        super().__init__(scope, id_)
        self.table = new(
            DynamodbTable,
            self,
            "table",
            name=name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            attribute=[
                {"name": HASH_KEY, "type": "S"},
                {"name": STATUS_ATTRIBUTE, "type": "S"},
                {"name": CREATED_AT_ATTRIBUTE, "type": "S"},
            ],
            # Rows are small (payload, result, error); ALL keeps status listings to one query.
            global_secondary_index=[
                {
                    "name": STATUS_INDEX,
                    "hash_key": STATUS_ATTRIBUTE,
                    "range_key": CREATED_AT_ATTRIBUTE,
                    "projection_type": "ALL",
                }
            ],
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            # AWS-managed key (aws/dynamodb) unless a customer key is given; DynamoDB uses it through its grant.
            server_side_encryption={"enabled": True, **({"kms_key_arn": kms_key_arn} if kms_key_arn else {})},
            deletion_protection_enabled=deletion_protection and not is_destroyable(self),
        )
        self.arn, self.name = self.table.arn, self.table.name
        self.index_arn = f"{self.arn}/index/{STATUS_INDEX}"
