"""Terraform for the rehearsal: the mirrored provider, override files and the commands of one stack's run.

Overrides are Terraform's own mechanism (`*_override.tf.json` merge into the configuration, see
https://developer.hashicorp.com/terraform/language/files/override): the stack's `cdk.tf.json` stays as synthesized.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sdk.tfjson import resources

PROVIDER = "registry.terraform.io/hashicorp/aws"
META_ARGUMENTS = frozenset(
    {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "//"}
)
DUMMY_CREDENTIALS = {"access_key": "rehearsal", "secret_key": "rehearsal"}


class ToolMissing(RuntimeError):
    """terraform or the provider mirror is not on this machine."""


@dataclass(frozen=True)
class Toolchain:
    terraform: str
    mirror: Path  # the folder holding registry.terraform.io/hashicorp/aws/<version>/<os_arch>/
    version: str


def find_toolchain() -> Toolchain:
    terraform = shutil.which("terraform")
    if terraform is None:
        raise ToolMissing("terraform is not on the PATH")
    for root in _mirror_candidates():
        versions = sorted((root / "registry.terraform.io" / "hashicorp" / "aws").glob("*/*/terraform-provider-aws_*"))
        if versions:
            return Toolchain(terraform, root, versions[-1].parent.parent.name)
    raise ToolMissing("no filesystem mirror of hashicorp/aws (a folder holding registry.terraform.io/hashicorp/aws)")


def _mirror_candidates() -> list[Path]:
    configured = os.environ.get("GPU_BLUEPRINTS_PROVIDER_MIRROR")
    if configured:
        return [Path(configured)]
    found = []
    for top in (Path("/opt"), Path("/usr/local/share"), Path("/usr/share"), Path.home()):
        found += [p.parent for p in top.glob("*/registry.terraform.io") if p.is_dir()]
        found += [p.parent for p in top.glob("registry.terraform.io") if p.is_dir()]
    return found


def cli_config(scratch: Path) -> Path:
    """A CLI config with a plugin cache: `init -plugin-dir` then links the provider instead of copying 700 MB."""
    cache_dir = scratch / "plugin-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = scratch / "terraform.rc"
    path.write_text(f'plugin_cache_dir = "{cache_dir}"\n', encoding="utf-8")
    return path


def environment(scratch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config(scratch)),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def run(
    tool: Toolchain, folder: Path, env: dict[str, str], *args: str, log: Path | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run terraform in `folder`; with `log`, its output goes there as it comes (stdout then holds all of it)."""
    if log is None:
        return subprocess.run(
            [tool.terraform, *args], cwd=folder, env=env, capture_output=True, encoding="utf-8", timeout=timeout
        )
    with log.open("w", encoding="utf-8") as out:
        ran = subprocess.run(
            [tool.terraform, *args], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    return subprocess.CompletedProcess(ran.args, ran.returncode, log.read_text(encoding="utf-8"), "")


def init(tool: Toolchain, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(tool, folder, env, "init", f"-plugin-dir={tool.mirror}", "-no-color", "-backend=true")


def version_override(tool: Toolchain) -> dict[str, Any]:
    return {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": tool.version}}}}


def provider_override(endpoints: tuple[str, ...], url: str) -> dict[str, Any]:
    """Every service endpoint at the emulator, dummy credentials, no instance metadata look-up."""
    return {
        "provider": {
            "aws": [
                {
                    **DUMMY_CREDENTIALS,
                    "skip_credentials_validation": True,
                    "skip_metadata_api_check": True,
                    "s3_use_path_style": True,
                    "endpoints": [dict.fromkeys(endpoints, url)],
                }
            ]
        }
    }


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class ProviderFacts:
    """What the mirrored provider knows: its endpoint names (one per service) and its resource schemas."""

    endpoints: tuple[str, ...]
    schemas: dict[str, Any]  # "resource"/"data" -> type -> block schema


@cache
def provider_facts(tool: Toolchain, scratch: Path) -> ProviderFacts:
    folder = scratch / "_provider"
    folder.mkdir(parents=True, exist_ok=True)
    env = environment(scratch)
    write_json(folder / "main.tf.json", version_override(tool))
    _checked(init(tool, folder, env))
    schema = json.loads(_checked(run(tool, folder, env, "providers", "schema", "-json")).stdout)["provider_schemas"]
    aws = schema[PROVIDER]
    names = sorted(aws["provider"]["block"]["block_types"]["endpoints"]["block"]["attributes"])
    endpoints = tuple(sorted(set(names) - _endpoint_aliases(tool, folder, env, names)))
    schemas = {"resource": aws["resource_schemas"], "data": aws["data_source_schemas"]}
    return ProviderFacts(endpoints, schemas)


def _endpoint_aliases(tool: Toolchain, folder: Path, env: dict[str, str], names: list[str]) -> set[str]:
    """The provider names each service under several aliases and warns when more than one is set: keep the first."""
    probe = {**version_override(tool), **provider_override(tuple(names), "http://127.0.0.1:1")}
    write_json(folder / "main.tf.json", {**probe, "data": {"aws_partition": {"probe": {}}}})
    # validate does not configure the provider; a plan that reads a data source does, and warns per group.
    plan = run(tool, folder, env, "plan", "-refresh=false", "-json", "-no-color")
    aliases: set[str] = set()
    for line in plan.stdout.splitlines():
        detail = json.loads(line).get("diagnostic", {}).get("detail", "")
        aliases.update(re.findall(r"endpoints\[0\]\.(\w+)", detail)[1:])
    write_json(folder / "main.tf.json", version_override(tool))
    return aliases


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise RuntimeError(f"terraform {result.args[1:]} failed:\n{result.stderr or result.stdout}")
    return result


def unknown_arguments(tf: dict[str, Any], facts: ProviderFacts) -> list[str]:
    """Arguments (and resource types) the mirrored provider does not know: `type.name.path`."""
    unknown = []
    for kind, key in (("resource", "resource"), ("data", "data")):
        for type_, items in tf.get(key, {}).items():
            block = facts.schemas[kind].get(type_)
            for name, config in items.items():
                prefix = f"{'data.' if kind == 'data' else ''}{type_}.{name}"
                if block is None:
                    unknown.append(f"{prefix} (resource type)")
                    continue
                unknown += _unknown_in(config, block["block"], prefix, top=True)
    # A list of blocks (several load_balancer blocks) repeats a path once per item: report each path once.
    return list(dict.fromkeys(unknown))


def _unknown_in(config: Any, block: dict[str, Any], prefix: str, *, top: bool = False) -> list[str]:
    if isinstance(config, list):
        return [u for item in config for u in _unknown_in(item, block, prefix)]
    if not isinstance(config, dict):
        return []
    found = []
    attributes, nested = block.get("attributes", {}), block.get("block_types", {})
    for key, value in config.items():
        if top and key in META_ARGUMENTS:
            continue
        if key in nested:
            found += _unknown_in(value, nested[key]["block"], f"{prefix}.{key}")
        elif key not in attributes:
            found.append(f"{prefix}.{key}")
    return found


def without(tf: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of the stack without the given unknown arguments (each is reported as not rehearsed)."""
    copy = json.loads(json.dumps(tf))
    for path in paths:
        parts = path.split(" ")[0].split(".")
        kind = "data" if parts[0] == "data" else "resource"
        parts = parts[1:] if kind == "data" else parts
        items = copy.get(kind, {}).get(parts[0], {})
        if len(parts) == 2:  # an unknown resource type: nothing of it can be rehearsed
            items.pop(parts[1], None)
            continue
        _drop(items.get(parts[1]), parts[2:])
    return copy


def _drop(node: Any, parts: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _drop(item, parts)
    elif isinstance(node, dict):
        if len(parts) == 1:
            node.pop(parts[0], None)
        else:
            _drop(node.get(parts[0]), parts[1:])


# What a stack guards against `terraform destroy`, and the setting that lifts the guard: the documented teardown
# (docs/idle_stop_queue.md "Tearing a stack down") applies these first, then destroys.
TEARDOWN = {
    "aws_dynamodb_table": {"deletion_protection_enabled": False},
    "aws_lb": {"enable_deletion_protection": False},
    "aws_s3_bucket": {"force_destroy": True},
    "aws_autoscaling_group": {"force_delete": True},
}


def teardown_override(tf: dict[str, Any]) -> dict[str, Any]:
    """Override entries that lift every destroy guard the stack sets (empty when it sets none)."""
    out: dict[str, Any] = {}
    for type_, settings in TEARDOWN.items():
        for name, config in resources(tf, type_).items():
            lifted = {key: value for key, value in settings.items() if config.get(key) != value}
            if lifted:
                out.setdefault("resource", {}).setdefault(type_, {})[name] = lifted
    return out
