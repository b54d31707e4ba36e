"""Record a blueprint's review hints in its stack's JSON under `//` (Terraform ignores it)."""

from cdktf import TerraformStack
from constructs import Construct

from sdk.hints import HINTS_KEY, BlueprintHints


def record_hints(blueprint: Construct, hints: BlueprintHints) -> None:
    stack = TerraformStack.of(blueprint)
    # Override paths split on dots, so the construct path (minus the stack) is joined with "_".
    key = "_".join(blueprint.node.scopes[i].node.id for i in range(len(stack.node.scopes), len(blueprint.node.scopes)))
    stack.add_override(f"//.{HINTS_KEY}.{key}", hints.model_dump(mode="json"))
