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


# IAM names are account-wide, not regional: the same blueprint in two regions of one account would collide, so every
# IAM role, instance profile and managed policy name carries the region. AWS limits: role 64, instance profile and
# managed policy 128 characters (IAM quotas, reference_iam-quotas.html). The longest blueprint name (27) plus the
# longest region name (14, e.g. ap-southeast-1) plus "-execution" is 52.
IAM_ROLE_NAME_MAX = 64
IAM_POLICY_NAME_MAX = 128


def iam_name(name: str, region: str, suffix: str, max_length: int = IAM_ROLE_NAME_MAX) -> str:
    """`<name>-<region>-<suffix>`: an account-global IAM name unique per region."""
    full = f"{name}-{region}-{suffix}"
    if len(full) > max_length:
        raise ValueError(f"IAM name {full!r} is over {max_length} characters. Fix: a shorter blueprint name.")
    return full
