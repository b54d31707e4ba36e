"""The example app, synthesized once per test session (the provider import is paid once)."""

from typing import Any

import pytest

from sdk.synth import synth_app


@pytest.fixture(scope="session")
def example_stacks() -> dict[str, dict[str, Any]]:
    return synth_app("blueprints.examples")


def resources(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return stack.get("resource", {}).get(kind, {})


def only(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    found = list(resources(stack, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
