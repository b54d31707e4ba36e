"""The hostile-input table for spec strings (shell and Terraform): every free-form string field of every spec of
every example blueprint gets Terraform template syntax appended; the spec either refuses it with an error that names
the field, or the synthesized Terraform holds it escaped (Terraform reads it back as written, never evaluates it)."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from blueprints.alb_inference import AlbInferenceService
from blueprints.fractional_renderer import FractionalGpuRenderer
from blueprints.idle_stop_queue import IdleStopGpuQueue
from examples import build_app
from sdk.constructs.engine import Testing
from sdk.constructs.stack import GpuStack
from sdk.specs import Spec

BLUEPRINTS = (AlbInferenceService, IdleStopGpuQueue, FractionalGpuRenderer)
# Optional strings the examples leave unset, so the walk reaches them too.
EXTRA = {
    "container": {
        "user": "1000:1000",
        "volumes": [{"name": "weights", "container_path": "/weights", "host_path": "/opt/weights"}],
    },
    "placement_constraint": "attribute:ecs.instance-type =~ g6.*",
    "worker": {"environment": {"EXTRA_SETTING": "1"}},
}


def hostile(index: int) -> str:
    """Terraform would read the file at plan time and run the directive; the index tells the fields apart."""
    return f'${{file("/etc/hostname-{index}")}}%{{ if true }}{index}%{{ endif }}'


def escaped(index: int) -> re.Pattern[str]:
    """hostile(index) as Terraform must read it literally, inside JSON strings nested any depth (\\" or \\\\\\")."""
    return re.compile(rf'\$\$\{{file\(\\*"/etc/hostname-{index}\\*"\)\}}%%\{{ if true \}}{index}%%\{{ endif \}}')


def example_blueprints() -> list[tuple[str, type, Spec]]:
    app = Testing.app()
    build_app(app)
    return [
        (f"{stack.node.id}/{child.node.id}", type(child), child.spec)
        for stack in app.node.children
        for child in stack.node.children
        if isinstance(child, BLUEPRINTS)
    ]


EXAMPLES = example_blueprints()


def richer(kind: type, spec: Spec) -> dict[str, Any]:
    data = spec.model_dump(mode="json")
    for key, extra in EXTRA.items():
        if key in data:
            data[key] = {**data[key], **extra} if isinstance(extra, dict) else extra
    kind_spec = type(spec)
    return kind_spec.model_validate(data).model_dump(mode="json")


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths (into the model's dump) to every string a spec holds; ("key", k) marks a key of a dict field."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from string_paths(getattr(value, name), (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_paths(item, (*path, key))
            yield (*path, ("key", key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from string_paths(item, (*path, index))


def with_suffix(data: Any, path: tuple[Any, ...], suffix: str) -> Any:
    head, *rest = path
    if isinstance(head, tuple):
        return {(k + suffix if k == head[1] else k): v for k, v in data.items()}
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = data[head] + suffix if not rest else with_suffix(data[head], tuple(rest), suffix)
    return copy


def field_name(path: tuple[Any, ...]) -> str:
    return [p[1] if isinstance(p, tuple) else p for p in path if not isinstance(p, int)][-1]


@pytest.mark.parametrize(("stack_id", "kind", "spec"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_spec_string_is_refused_by_name_or_reaches_terraform_escaped(stack_id, kind, spec):
    # GIVEN an example blueprint's spec (with its optional strings set) and every string field in it
    base = richer(kind, spec)
    paths = list(string_paths(type(spec).model_validate(base)))
    accepted: dict[int, tuple[Any, ...]] = {}
    unclear: list[str] = []
    combined = base
    # WHEN each field in turn gets Terraform template syntax appended
    for index, path in enumerate(paths):
        try:
            type(spec).model_validate(with_suffix(base, path, hostile(index)))
        except ValidationError as error:
            # THEN a refusal names the field (pydantic's location or the message) and, when ours, says the fix
            text = str(error)
            ours = error.errors()[0]["type"] == "value_error"
            if error.error_count() != 1 or str(field_name(path)) not in text or (ours and "Fix" not in text):
                unclear.append(f"{path}: {text}")
            continue
        accepted[index] = path
        combined = with_suffix(combined, path, hostile(index))
    assert unclear == []
    # and the spec with every accepted value at once synthesizes with each of them escaped, none evaluable
    stack = GpuStack(Testing.app(), "hostile", region=base.get("region", "us-east-1"))
    kind(stack, "bp", spec=type(spec).model_validate(combined))
    synthesized = Testing.synth(stack)
    assert not re.search(r'(?<!\$)\$\{file\(\\*"/etc/hostname', synthesized)
    assert not re.search(r"(?<!%)%\{ (if|endif)", synthesized)
    missing = [path for index, path in accepted.items() if not escaped(index).search(synthesized)]
    assert accepted and missing == []


def test_terraform_reads_an_escaped_spec_string_back_as_written_without_evaluating_it(terraform_reads):
    # GIVEN a stack tag with hostile template syntax, as our funnel writes it
    stack = GpuStack(Testing.app(), "s", region="us-east-1", tags={"team": hostile(1)})
    value = json.loads(Testing.synth(stack))["provider"]["aws"][0]["default_tags"][0]["tags"]["team"]
    # WHEN Terraform evaluates it
    # THEN it is the user's text, not the host's name and not a template result
    assert terraform_reads(value) == hostile(1)
