"""The one funnel from our configs to jsii resources. `new(Cls, scope, id, **config)`:

- escapes every Terraform template sequence in every string (`${` -> `$${`, `%{` -> `%%{`) except cdktf's own
  token markers, so a user's `${file("/etc/hostname")}` reaches AWS literally instead of being evaluated by
  `terraform plan` (JSON strings such as container definitions and IAM policies included);
- turns each dict inside a list into its struct class using Cls's hints (jsii converts a dict for a single struct but
  not dicts inside lists)."""

import typing
from functools import cache
from typing import Any, TypeVar

from sdk.specs import TOKEN_PATTERN

T = TypeVar("T")


def terraform_literal(value: Any) -> Any:
    """`value` with every string (in lists, tuples and dict keys and values too) escaped for Terraform; cdktf
    tokens (`${TfToken[...]}`) stay as they are, so references still resolve."""
    if isinstance(value, str):
        literals = TOKEN_PATTERN.split(value)
        tokens = TOKEN_PATTERN.findall(value)
        escaped = [part.replace("${", "$${").replace("%{", "%%{") for part in literals]
        return "".join(part + token for part, token in zip(escaped, [*tokens, ""], strict=True))
    if isinstance(value, dict):
        return {terraform_literal(key): terraform_literal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(terraform_literal(item) for item in value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(vars(cls)["__init__"])


def _structs_in(hint: Any) -> tuple[type | None, type | None]:
    """(struct for a single value, struct for list elements) found in a parameter's type hint."""
    single = element = None
    for arg in typing.get_args(hint):
        origin = typing.get_origin(arg)
        if origin is not None and origin.__name__ in ("Sequence", "list"):
            element = element or _structs_in(arg)[0]
        elif isinstance(arg, type) and hasattr(arg, "__jsii_struct_bases__"):
            single = single or arg
        elif origin is typing.Union:
            inner_single, inner_element = _structs_in(arg)
            single, element = single or inner_single, element or inner_element
    return single, element


def convert(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    hints = _hints(cls)
    return {key: _value(hints.get(key), value) for key, value in config.items()}


def _value(hint: Any, value: Any) -> Any:
    if hint is None:
        return value
    single, element = _structs_in(hint)
    if isinstance(value, list) and element is not None:
        return [element(**convert(element, item)) if isinstance(item, dict) else item for item in value]
    if isinstance(value, dict) and single is not None:
        return single(**convert(single, value))
    return value


def new(cls: type[T], *args: Any, **config: Any) -> T:
    return cls(*args, **convert(cls, terraform_literal(config)))
