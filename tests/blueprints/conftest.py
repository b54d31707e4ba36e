"""The example app, synthesized once per test session (the provider import is paid once)."""

import json
import re
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


def user_data(launch_template: dict[str, Any]) -> str:
    """The launch template's user data script: cdktf writes it as ${base64encode("<HCL string>")}."""
    match = re.fullmatch(r'\$\{base64encode\("(.*)"\)\}', launch_template["user_data"], re.S)
    assert match, launch_template["user_data"][:80]
    return json.loads(f'"{match.group(1)}"').replace("$${", "${").replace("%%{", "%{")
