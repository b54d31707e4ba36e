"""Resource names and tags shared by the constructs."""

import json
from typing import Any


def policy_json(statements: list[dict[str, Any]]) -> str:
    """A policy document as stable JSON (tokens inside strings resolve at synth)."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def assume_role_policy(service: str, conditions: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if conditions:
        statement["Condition"] = conditions
    return policy_json([statement])


def tag_map(name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Name": name, **(extra or {})}
