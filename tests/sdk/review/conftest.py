"""Example stacks for the review tests: the committed generated/ output, copied so tests can edit it."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sdk.tfjson import stack_file

GENERATED = Path(__file__).resolve().parents[3] / "generated"
PUBLIC, INTERNAL = "sdxl-public", "llm-internal"


def _load(stack: str) -> dict[str, Any]:
    path = stack_file(GENERATED, stack)
    if not path.exists():
        pytest.skip(f"{path} not synthesized yet (run `make synth`)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def public_stack() -> dict[str, Any]:
    """The internet-facing SDXL example (Spot + type fallbacks), a fresh copy per test."""
    return copy.deepcopy(_load(PUBLIC))


@pytest.fixture
def internal_stack() -> dict[str, Any]:
    """The internal LLM example (private subnets, VPC endpoints), a fresh copy per test."""
    return copy.deepcopy(_load(INTERNAL))


def only(tf_json: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The single resource of a type: (name, body)."""
    items = tf_json["resource"][resource_type]
    assert len(items) == 1, f"expected one {resource_type}, got {sorted(items)}"
    return next(iter(items.items()))
