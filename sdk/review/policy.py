"""checkov (framework terraform_json) over the synthesized stacks, when checkov is installed."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CONFIG_FILE = ".checkov.yaml"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    check_id: str = Field(description="checkov check id, e.g. CKV_AWS_24 (no default)")
    check_name: str = Field(description="What the check requires (no default)")
    resource: str = Field(description="Resource checkov names (no default)")
    lines: str = Field(default="", description="Line range in cdk.tf.json (default empty)")
    reason: str = Field(default="", description="Suppression reason, for skipped checks (default empty)")


class PolicyResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    available: bool = Field(description="False when checkov is not installed (no default)")
    passed: int = Field(default=0, description="Passed checks (default 0)")
    failed: tuple[Finding, ...] = Field(default=(), description="Failed checks (default none)")
    skipped: tuple[Finding, ...] = Field(default=(), description="Skipped checks with reasons (default none)")
    documented_skips: tuple[str, ...] = Field(default=(), description="Skips listed in .checkov.yaml (default none)")
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


def _finding(item: dict[str, Any]) -> Finding:
    low, high = (item.get("file_line_range") or [0, 0])[:2]
    return Finding(
        check_id=item.get("check_id", ""),
        check_name=item.get("check_name", ""),
        resource=item.get("resource", ""),
        lines=f"{low}-{high}" if low else "",
        reason=item.get("suppress_comment") or "",
    )


def _stack_of(item: dict[str, Any]) -> str:
    return Path(item.get("file_path", "")).parent.name


def run_checkov(stacks_dir: Path, repo_root: Path) -> dict[str, PolicyResult]:
    """Results per stack folder name; one checkov run over `stacks_dir`. Empty-handed when not installed."""
    binary = _checkov()
    if binary is None:
        return {}
    command = [
        binary,
        "-d",
        str(stacks_dir),
        "--framework",
        "terraform_json",
        "-o",
        "json",
        "--compact",
        "--skip-download",
    ]
    skips = documented_skips(repo_root)
    if skips:
        # The skip list, not the whole config: its `quiet` would drop the passed checks we count.
        command += ["--skip-check", ",".join(skip.split(":", 1)[0] for skip in skips)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    completed = subprocess.run(command, capture_output=True, encoding="utf-8", env=env, check=False, cwd=stacks_dir)
    try:
        return _by_stack(completed.stdout, skips)
    except ValueError:  # installed but broken: the gate must not pass as if nothing was checked
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or [f"exit {completed.returncode}"]
        error = f"checkov exited {completed.returncode} without a JSON report: {tail[0][:300]}"
        folders = sorted(p.name for p in stacks_dir.iterdir() if p.is_dir())
        return {name: PolicyResult(available=True, error=error, documented_skips=skips) for name in folders}


def _by_stack(stdout: str, skips: tuple[str, ...]) -> dict[str, PolicyResult]:
    reports = json.loads(stdout)  # checkov always prints a report; nothing is a failure too
    reports = reports if isinstance(reports, list) else [reports]
    results = [r.get("results", {}) for r in reports if r.get("check_type") == "terraform_json"]
    stacks: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for result in results:
        for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in result.get(bucket, []):
                stacks.setdefault(_stack_of(item), {}).setdefault(bucket, []).append(item)
    return {
        stack: PolicyResult(
            available=True,
            passed=len(items.get("passed_checks", [])),
            failed=tuple(_finding(i) for i in items.get("failed_checks", [])),
            skipped=tuple(_finding(i) for i in items.get("skipped_checks", [])),
            documented_skips=skips,
        )
        for stack, items in stacks.items()
    }
