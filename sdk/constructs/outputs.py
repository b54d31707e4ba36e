"""Terraform outputs with stable names a CI job can read: `<blueprint path>_<name>`, no hash suffix.

The name always carries the blueprint's construct id (`sdxl_alb_dns_name`; a nested blueprint adds its parent's:
`renderer_primary_queue_url`), so adding a second blueprint to a stack renames no output."""

import re
from typing import Any

from sdk.constructs.engine import Construct, IConstruct, TerraformOutput
from sdk.constructs.stack import ids_below_stack, stack_of

_TAKEN = "_gpu_blueprints_outputs"


def output_name(scope: IConstruct, name: str) -> str:
    """`<ids from the stack down to scope>_<name>`, with every character Terraform does not allow as `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join([*ids_below_stack(scope), name]))


def stable_output(
    scope: Construct, name: str, *, value: Any, description: str | None = None, named_after: IConstruct | None = None
) -> TerraformOutput:
    """A TerraformOutput named output_name(named_after or scope, name); two that map to one name are refused.
    `named_after`: the blueprint a helper construct (such as its job resources) reports for."""
    logical = output_name(named_after or scope, name)
    stack = stack_of(scope)
    taken: set[str] = getattr(stack, _TAKEN, set())
    if logical in taken:
        raise ValueError(
            f"{scope.node.path}: output {logical!r} already exists in stack {stack.node.id!r} (construct ids that "
            "differ only in '-' or '_'?). Fix: give the blueprints ids that differ in letters or digits."
        )
    setattr(stack, _TAKEN, taken | {logical})
    output = TerraformOutput(scope, name, value=value, description=description)
    output.override_logical_id(logical)
    return output
