"""The example app, synthesized once per test session (the provider import is paid once)."""

import re
from typing import Any

import pytest

from sdk.synth import synth_app
from sdk.tfjson import resources


@pytest.fixture(scope="session")
def example_stacks() -> dict[str, dict[str, Any]]:
    return synth_app("examples")


def only(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    found = list(resources(stack, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def user_data(stack: dict[str, Any], launch_template: dict[str, Any]) -> str:
    """The launch template's user data script, as the host gets it: the local that ${base64encode(local.<name>)}
    reads, with Terraform's template escapes ($${, %%{) undone."""
    match = re.fullmatch(r"\$\{base64encode\(local\.(\w+)\)\}", launch_template["user_data"])
    assert match, launch_template["user_data"][:80]
    return stack["locals"][match.group(1)].replace("$${", "${").replace("%%{", "%{")


def prepulls(script: str) -> list[str]:
    """The images a warm-pool host script pulls (its `images=( ... )` line, plain words only)."""
    match = re.search(r"^images=\((.*)\)$", script, re.M)
    return match.group(1).split() if match else []
