"""Spec: the base of every spec (frozen, extra fields rejected, one ValidationError listing every problem), and
problems_to_error, the one way a cross-field check reports. No other sdk import, so any spec module can build on it
(sdk.specs re-exports both)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import InitErrorDetails


class Spec(BaseModel):
    """The base of every spec: frozen, unknown fields rejected, and all problems reported as one ValidationError
    whose lines name the field and the fix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A field error stops pydantic before the model's own cross-field checks: run those that can still run on
        the other fields, so one error lists every problem."""
        try:
            return handler(data)
        except ValidationError as error:
            more = cross_field_problems(cls, data, error) if isinstance(data, dict) else []
            if not more:
                raise
            details = [_details(d) for d in error.errors(include_url=False)]
            more_details: list[InitErrorDetails] = [
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": ValueError(p)}} for p in more
            ]
            raise ValidationError.from_exception_data(error.title, details + more_details) from None


def _details(error: Any) -> InitErrorDetails:
    details: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


def _valid(field: Any, value: Any) -> Any:
    return TypeAdapter(field.annotation).validate_python(value)


class _Failed:
    """Stands in for a field that failed validation: a check that reads it fails, and is left out."""

    def __getattr__(self, name: str) -> Any:
        raise _FailedFieldRead(name)

    def __bool__(self) -> bool:
        raise _FailedFieldRead("bool")

    def __eq__(self, other: object) -> bool:
        raise _FailedFieldRead("==")

    def __iter__(self) -> Any:
        raise _FailedFieldRead("iter")

    def __str__(self) -> str:
        raise _FailedFieldRead("str")

    __hash__ = None  # type: ignore[assignment]


class _FailedFieldRead(Exception):
    pass


def _stand_in(field: Any) -> Any:
    """None for a failed field whose default is None (unset: the checks that need it skip), else a _Failed."""
    return None if not field.is_required() and field.get_default(call_default_factory=True) is None else _Failed()


def cross_field_problems(cls: type[BaseModel], data: dict[str, Any], error: ValidationError) -> list[str]:
    """The problems `cls`'s after-validators find in the fields that passed; a check that reads a failed field is
    left out (it would report a consequence, not a cause), as are problems naming a failed field."""
    failed = {str(d["loc"][0]) for d in error.errors() if d["loc"]}
    values = {}
    for name, field in cls.model_fields.items():
        if name not in data and name not in failed:
            continue
        try:
            values[name] = _stand_in(field) if name in failed else _valid(field, data[name])
        except ValidationError:
            return []
    model = cls.model_construct(**values)
    problems = []
    for decorator in cls.__pydantic_decorators__.model_validators.values():
        if decorator.info.mode != "after":
            continue
        try:
            getattr(model, decorator.cls_var_name)()
        except ValueError as found:
            lines = str(found).split("\n  - ")  # problems_to_error's; any other error tripped over a failed field
            problems += [p for p in lines[1:] if lines[0] == "invalid spec:" and not _names_any(p, failed)]
        except Exception:  # it read a failed field (_FailedFieldRead, or TypeError on arithmetic): it cannot run
            continue
    return problems


def _names_any(problem: str, fields: set[str]) -> bool:
    """Whether a problem's field path (`network.vpc_id: ...`) runs through one of `fields`."""
    return bool(set(problem.split(":", 1)[0].split(".")) & fields)


def problems_to_error(problems: list[str]) -> None:
    """Raise one error listing every problem (each names its field and the fix)."""
    if problems:
        raise ValueError("\n  - ".join(["invalid spec:", *problems]))
