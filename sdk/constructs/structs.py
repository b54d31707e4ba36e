"""Build jsii resources from plain dicts: jsii converts a dict for a single struct but not dicts inside
lists, so `new(Cls, scope, id, **config)` turns each such dict into its struct class using Cls's hints."""

import typing
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


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
    return cls(*args, **convert(cls, config))
