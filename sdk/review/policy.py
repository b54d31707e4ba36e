"""checkov (framework terraform_json) over the synthesized stacks, when checkov is installed."""

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdk.hints import CHECKOV_SKIP_PATH
from sdk.tfjson import each_resource

CONFIG_FILE = ".checkov.yaml"
CACHE_ENV = "GPU_BLUEPRINTS_CACHE_DIR"
CACHE_FORMAT = "checkov-items-1"


class Finding(BaseModel):
    """One failed or skipped checkov check on one resource."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check_id: str = Field(description="checkov check id, e.g. CKV_AWS_24 (no default)")
    check_name: str = Field(description="What the check requires (no default)")
    resource: str = Field(description="Terraform address of the resource, e.g. aws_s3_bucket.x (no default)")
    lines: str = Field(default="", description="Line range in cdk.tf.json (default empty)")
    reason: str = Field(default="", description="Suppression reason, for skipped checks (default empty)")
    scope: Literal["", "global", "resource"] = Field(
        default="",
        description="Where a skip comes from: .checkov.yaml ('global') or the resource's own `//` ('resource') "
        "(default empty: not skipped)",
    )


class PolicyResult(BaseModel):
    """checkov's verdict on a stack: passed count, failed and skipped checks, stale skips."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    available: bool = Field(description="False when checkov is not installed (no default)")
    passed: int = Field(default=0, description="Passed checks (default 0)")
    failed: tuple[Finding, ...] = Field(default=(), description="Failed checks (default none)")
    skipped: tuple[Finding, ...] = Field(default=(), description="Skipped checks with reasons (default none)")
    documented_skips: tuple[str, ...] = Field(default=(), description="Skips listed in .checkov.yaml (default none)")
    stale_skips: tuple[str, ...] = Field(
        default=(), description="Per-resource skips whose check does not fail on their resource (default none)"
    )
    unused_global_skips: tuple[str, ...] = Field(
        default=(), description=".checkov.yaml skips no resource of the checked stacks fails (default none)"
    )
    error: str = Field(default="", description="Why an installed checkov gave no result (default empty: it ran)")


def _checkov() -> str | None:
    beside_python = Path(sys.executable).with_name("checkov")
    return str(beside_python) if beside_python.exists() else shutil.which("checkov")


def documented_skips(repo_root: Path) -> tuple[str, ...]:
    """'CHECK_ID: reason' for each `skip-check` entry of .checkov.yaml (reasons are the comments above it)."""
    path = repo_root / CONFIG_FILE
    if not path.exists():
        return ()
    skips: list[str] = []
    reason: list[str] = []
    in_list = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not line.startswith((" ", "-", "#")):
            in_list, reason = stripped.startswith("skip-check:"), []
        elif in_list and stripped.startswith("#"):
            reason.append(stripped.lstrip("# "))
        elif in_list and stripped.startswith("- "):
            skips.append(f"{stripped[2:].strip()}: {' '.join(reason)}".rstrip(": "))
            reason = []
    return tuple(skips)


def global_skips(repo_root: Path) -> dict[str, str]:
    """Check id -> reason for each `skip-check` entry of .checkov.yaml."""
    pairs = (skip.partition(": ") for skip in documented_skips(repo_root))
    return {check: reason for check, _, reason in pairs}


def resource_skips(tf_json: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Terraform address -> {check id: reason} of the skips resources carry (review_hints.skip_check writes them)."""
    skips = {}
    for kind, name, body in each_resource(tf_json):
        found: Any = body
        for key in CHECKOV_SKIP_PATH:
            found = found.get(key, {}) if isinstance(found, dict) else {}
        if found:
            skips[f"{kind}.{name}"] = dict(found)
    return skips


class _Stack:
    """One stack's resources by name (checkov's terraform_json runner names resource checks `resource.<name>`,
    graph checks `<type>.<name>`; cdktf names are unique in a stack) and the skips they carry."""

    def __init__(self, tf_json: dict[str, Any]) -> None:
        self.kinds = {name: kind for kind, name, _ in each_resource(tf_json)}
        self.skips = resource_skips(tf_json)

    def address(self, resource: str) -> str:
        name = resource.rpartition(".")[2]
        return f"{self.kinds[name]}.{name}" if name in self.kinds else resource


def _finding(item: dict[str, Any], stack: _Stack, **extra: Any) -> Finding:
    low, high = (item.get("file_line_range") or [0, 0])[:2]
    return Finding(
        check_id=item.get("check_id", ""),
        check_name=item.get("check_name", ""),
        resource=stack.address(item.get("resource", "")),
        lines=f"{low}-{high}" if low else "",
        reason=item.get("suppress_comment") or "",
        **extra,
    )


def _stack_of(item: dict[str, Any]) -> str:
    return Path(item.get("file_path", "")).parent.name


def _load_stacks(stacks_dir: Path) -> dict[str, _Stack]:
    tf_jsons: dict[str, dict[str, Any]] = {}
    for path in sorted(stacks_dir.glob("*/*.tf.json")):
        merged = tf_jsons.setdefault(path.parent.name, {"resource": {}})["resource"]
        for kind, name, body in each_resource(json.loads(path.read_text(encoding="utf-8"))):
            merged.setdefault(kind, {})[name] = body
    return {name: _Stack(tf_json) for name, tf_json in tf_jsons.items()}


def default_cache_dir() -> Path:
    """Where `python -m sdk review` keeps checkov results: $GPU_BLUEPRINTS_CACHE_DIR, else
    $XDG_CACHE_HOME/gpu-blueprints, else ~/.cache/gpu-blueprints (never generated/)."""
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gpu-blueprints"


def run_checkov(stacks_dir: Path, repo_root: Path, *, cache_dir: Path | None = None) -> dict[str, PolicyResult]:
    """Results per stack folder name; one checkov run over `stacks_dir`. Empty-handed when not installed.

    checkov runs every check; the skips (.checkov.yaml and each resource's own) are applied here, so a skip whose
    check no longer fails is seen as stale instead of hiding a future regression. With `cache_dir`, a stack whose
    checked JSON, checkov version and skip list match a stored run reuses its raw checkov results; checkov runs
    only over the other stacks (not at all when every stack is stored)."""
    binary = _checkov()
    if binary is None:
        return {}
    skips = documented_skips(repo_root)
    with tempfile.TemporaryDirectory(prefix="checkov-") as scratch:
        checked = _checkov_input(stacks_dir, Path(scratch))
        cache = _ResultCache(cache_dir / "checkov", _checkov_version(binary), skips) if cache_dir else None
        try:
            items = _checked_items(binary, checked, cache)
        except ValueError as error:  # installed but broken: the gate must not pass as if nothing was checked
            folders = sorted(p.name for p in stacks_dir.iterdir() if p.is_dir())
            return {name: PolicyResult(available=True, error=str(error), documented_skips=skips) for name in folders}
    return _by_stack(items, _load_stacks(stacks_dir), global_skips(repo_root), skips)


Items = dict[str, list[dict[str, Any]]]  # checkov's result bucket (passed_checks, ...) -> its items for one stack


def _checked_items(binary: str, checked: Path, cache: "_ResultCache | None") -> dict[str, Items]:
    """Raw checkov items per stack: stored ones from the cache, the rest from one checkov run (then stored)."""
    keys = {folder.name: cache.key(folder) for folder in checked.iterdir()} if cache else {}
    items = {name: found for name, key in keys.items() if cache and (found := cache.load(key)) is not None}
    for name in items:
        shutil.rmtree(checked / name)
    if not any(checked.iterdir()):
        return items
    fresh = _items_by_stack(_checkov_reports(binary, checked), [p.name for p in checked.iterdir()])
    for name, found in fresh.items():
        if cache and name in keys:
            cache.store(keys[name], found)
    return items | fresh


def _checkov_version(binary: str) -> str:
    """The version of the checkov that `binary` runs (the package metadata when it is this venv's)."""
    if Path(binary).parent == Path(sys.executable).parent:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version("checkov")
    run = subprocess.run([binary, "--version"], capture_output=True, encoding="utf-8", check=False)
    return run.stdout.strip() or f"unknown {binary}"


class _ResultCache:
    """Raw checkov items of one stack, one JSON file per key (checkov version, skip list, checked files' bytes)."""

    def __init__(self, directory: Path, version: str, skips: tuple[str, ...]) -> None:
        self.directory = directory
        self.salt = json.dumps([CACHE_FORMAT, version, skips]).encode()

    def key(self, folder: Path) -> str:
        digest = hashlib.sha256(self.salt)
        for path in sorted(folder.glob("*.tf.json")):
            digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def load(self, key: str) -> Items | None:
        """The stored items, or None when absent or unreadable (a corrupt entry is ignored and rewritten)."""
        try:
            found = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        valid = isinstance(found, dict) and all(
            isinstance(bucket, list) and all(isinstance(i, dict) for i in bucket) for bucket in found.values()
        )
        return found if valid else None

    def store(self, key: str, items: Items) -> None:
        """Written whole or not at all (a concurrent review reads either the old file or the new one)."""
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.directory, suffix=".tmp", delete=False) as handle:
                json.dump(items, handle)
            os.replace(handle.name, self.directory / f"{key}.json")


def _checkov_input(stacks_dir: Path, scratch: Path) -> Path:
    """The stacks as checkov can read them: without `terraform.required_version`, whose plain string crashes its
    terraform_json parser (bridgecrewio/checkov#7454; it checks nothing in the terraform block). Same folder names;
    the block sorts last, so the line numbers of findings stay those of the stack files."""
    for path in sorted(stacks_dir.glob("*/*.tf.json")):
        (scratch / path.parent.name).mkdir(exist_ok=True)
        tf_json = json.loads(path.read_text(encoding="utf-8"))
        if tf_json.get("terraform", {}).pop("required_version", None) is None:
            shutil.copyfile(path, scratch / path.parent.name / path.name)
            continue
        text = json.dumps(tf_json, indent=2, sort_keys=True) + "\n"  # as sdk.synth.write_stacks writes stacks
        (scratch / path.parent.name / path.name).write_text(text, encoding="utf-8")
    return scratch


def _checkov_reports(binary: str, checked_dir: Path) -> list[Any]:
    """checkov's JSON reports over every stack folder in `checked_dir`; ValueError naming why when it gave none."""
    command = [
        binary,
        "-d",
        str(checked_dir.resolve()),
        "--framework",
        "terraform_json",
        "-o",
        "json",
        "--compact",
        "--skip-download",
    ]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    # cwd is the stacks folder: no .checkov.yaml is picked up (its `quiet` would drop the passed checks we count).
    run = subprocess.run(command, capture_output=True, encoding="utf-8", env=env, cwd=checked_dir)
    try:
        reports = json.loads(run.stdout)
    except ValueError:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [f"exit {run.returncode}"]
        raise ValueError(f"checkov exited {run.returncode} without a JSON report: {tail[0][:300]}") from None
    return reports if isinstance(reports, list) else [reports]  # one framework: one report, not a list


def _items_by_stack(reports: list[Any], names: list[str]) -> dict[str, Items]:
    items: dict[str, Items] = {name: {} for name in names}
    for report in reports:
        if isinstance(report, dict) and report.get("check_type") == "terraform_json":
            for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
                for item in report.get("results", {}).get(bucket, []):
                    items.setdefault(_stack_of(item), {}).setdefault(bucket, []).append(item)
    return items


def _by_stack(
    items: dict[str, Items], stacks: dict[str, _Stack], global_reasons: dict[str, str], skips: tuple[str, ...]
) -> dict[str, PolicyResult]:
    results = {
        name: _classify(items.get(name, {}), stacks.get(name) or _Stack({}), global_reasons, skips)
        for name in sorted(set(items) | set(stacks))
    }
    failing = {f.check_id for result in results.values() for f in result.skipped if f.scope == "global"}
    unused = tuple(check for check in global_reasons if check not in failing)
    return {name: result.model_copy(update={"unused_global_skips": unused}) for name, result in results.items()}


def _order(finding: Finding) -> tuple[str, str, str]:
    """checkov reports in the order its parallel runners finish: sort, so REVIEW.md is the same on every run."""
    return finding.check_id, finding.resource, finding.lines


def _classify(
    items: dict[str, list[dict[str, Any]]], stack: _Stack, global_reasons: dict[str, str], skips: tuple[str, ...]
) -> PolicyResult:
    failed, skipped = [], [_finding(i, stack) for i in items.get("skipped_checks", [])]
    for item in items.get("failed_checks", []):
        finding = _finding(item, stack)
        own = stack.skips.get(finding.resource, {})
        if finding.check_id in own:
            skipped.append(finding.model_copy(update={"reason": own[finding.check_id], "scope": "resource"}))
        elif finding.check_id in global_reasons:
            skipped.append(finding.model_copy(update={"reason": global_reasons[finding.check_id], "scope": "global"}))
        else:
            failed.append(finding)
    used = {(f.resource, f.check_id) for f in skipped if f.scope == "resource"}
    stale = tuple(
        f"{check} on {address}: the check does not fail there; drop its skip_check"
        for address, own in sorted(stack.skips.items())
        for check in sorted(own)
        if (address, check) not in used
    )
    return PolicyResult(
        available=True,
        passed=len(items.get("passed_checks", [])),
        failed=tuple(sorted(failed, key=_order)),
        skipped=tuple(sorted(skipped, key=_order)),
        documented_skips=skips,
        stale_skips=stale,
    )
