"""Terraform JSON as synthesized: the stack file's name, reading stacks back, and resources by type or address.

One home for synth (writes the files), review, rehearse, cost and the tests (read them).
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STACK_FILE = "cdk.tf.json"
TfJson = dict[str, Any]


def stack_file(directory: Path, stack: str) -> Path:
    """Where a stack's Terraform JSON lives: <directory>/<stack>/cdk.tf.json."""
    return directory / stack / STACK_FILE


def load_stack(directory: Path, stack: str) -> TfJson:
    return json.loads(stack_file(directory, stack).read_text(encoding="utf-8"))


def load_stacks(directory: Path) -> dict[str, TfJson]:
    """Stack name -> Terraform JSON for every <directory>/<stack>/cdk.tf.json."""
    paths = sorted(directory.glob(f"*/{STACK_FILE}"))
    return {path.parent.name: json.loads(path.read_text(encoding="utf-8")) for path in paths}


def resources(tf_json: TfJson, resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one Terraform type by name (empty when the stack has none)."""
    return tf_json.get("resource", {}).get(resource_type, {})


def each_resource(tf_json: TfJson, block: str = "resource") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of every resource (or, with block="data", data source) of a stack."""
    for resource_type, named in tf_json.get(block, {}).items():
        for name, body in named.items():
            yield resource_type, name, body


def count_resources(tf_json: TfJson) -> int:
    return sum(len(named) for named in tf_json.get("resource", {}).values())


def addresses(tf_json: TfJson) -> dict[str, dict[str, Any]]:
    """Every resource and data source of a stack by Terraform address (aws_sqs_queue.jobs, data.aws_ami.gpu)."""
    out = {f"{kind}.{name}": body for kind, name, body in each_resource(tf_json)}
    out.update({f"data.{kind}.{name}": body for kind, name, body in each_resource(tf_json, "data")})
    return out


def referenced(body: Any, resource_type: str) -> set[str]:
    """Names of `resource_type` resources that `body` refers to through ${type.name.attr} tokens."""
    return set(re.findall(rf"\b{re.escape(resource_type)}\.([A-Za-z0-9_-]+)\.", json.dumps(body)))
