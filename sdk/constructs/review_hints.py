"""Record a blueprint's review hints in its stack's JSON under `//` (Terraform ignores it), and a resource's own
checkov skips under its `//`."""

import re

from sdk.constructs.engine import Construct, TerraformResource
from sdk.constructs.stack import ids_below_stack, stack_of
from sdk.hints import CHECKOV_SKIP_PATH, HINTS_KEY, BlueprintHints

CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")


def record_hints(blueprint: Construct, hints: BlueprintHints) -> None:
    # Override paths split on dots, so the construct path (minus the stack) is joined with "_".
    key = "_".join(ids_below_stack(blueprint))
    stack_of(blueprint).add_override(f"//.{HINTS_KEY}.{key}", hints.model_dump(mode="json"))


def skip_check(resource: TerraformResource, check_id: str, reason: str) -> None:
    """Skip one checkov check on this resource only, with the reason the review prints. The review reports a
    skip whose check no longer fails here as stale."""
    if not CHECK_ID.match(check_id) or not reason.strip():
        raise ValueError(f"skip_check({check_id!r}, {reason!r}): a checkov id such as CKV_AWS_145 and a reason")
    resource.add_override(".".join((*CHECKOV_SKIP_PATH, check_id)), reason)
