"""Deploy rehearsal: every stack applied by real Terraform against a local AWS (moto on 127.0.0.1), re-planned
with no changes allowed, read back, destroyed, and checked for leftovers. See docs/rehearsal.md."""

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.rehearse import checks, terraform
from sdk.rehearse.emulator import Emulator
from sdk.rehearse.terraform import ProviderFacts, Toolchain, ToolMissing, find_toolchain, provider_facts
from sdk.rehearse.world import build_world

__all__ = ["StackResult", "ToolMissing", "find_toolchain", "rehearse_stacks", "run_rehearse"]

APPLY_PARALLELISM = 16


@dataclass
class StackResult:
    stack: str
    resources: int = 0
    applied: int = 0
    not_rehearsed: list[str] = field(default_factory=list)
    world: list[str] = field(default_factory=list)
    replan_changes: list[str] = field(default_factory=list)
    checks_passed: int = 0
    check_failures: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    failed_step: str | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.failed_step is None
            and not self.replan_changes
            and not self.check_failures
            and not self.leftovers
            and self.applied == self.resources - self.skipped_resources
        )

    @property
    def skipped_resources(self) -> int:
        return sum(1 for item in self.not_rehearsed if item.endswith("(resource type)"))


class StepFailed(Exception):
    def __init__(self, step: str, output: str) -> None:
        super().__init__(step)
        self.step, self.output = step, output


def region_of(tf: dict[str, Any]) -> str:
    return str(tf["provider"]["aws"][0]["region"])


def count_resources(tf: dict[str, Any]) -> int:
    return sum(len(items) for items in tf.get("resource", {}).values())


def rehearse_stack(
    name: str, tf: dict[str, Any], *, tool: Toolchain, facts: ProviderFacts, scratch: Path, keep: bool = False
) -> StackResult:
    result = StackResult(stack=name, resources=count_resources(tf))
    started = time.monotonic()
    folder = scratch / name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Emulator() as emulator:
            _rehearse(result, tf, folder, emulator, tool, facts, keep)
    except StepFailed as failure:
        result.failed_step, result.error = failure.step, failure.output
    except Exception as error:  # noqa: BLE001 - a harness error is reported against the stack, not raised
        result.failed_step, result.error = "harness", f"{type(error).__name__}: {error}"
    result.seconds = time.monotonic() - started
    return result


def _rehearse(
    result: StackResult, tf: dict[str, Any], folder: Path, emulator: Emulator, tool: Toolchain,
    facts: ProviderFacts, keep: bool,
) -> None:
    region = region_of(tf)
    client = emulator.client_factory(region)
    unknown = terraform.unknown_arguments(tf, facts)
    result.not_rehearsed = [f"{path}: newer than the mirrored provider {tool.version}" for path in unknown]
    stack_json = terraform.without(tf, unknown) if unknown else tf
    terraform.write_json(folder / "cdk.tf.json", stack_json)
    world = build_world(stack_json, region, client)
    result.world = world.notes
    terraform.write_json(folder / "rehearsal_version_override.tf.json", terraform.version_override(tool))
    terraform.write_json(folder / "rehearsal_provider_override.tf.json", terraform.provider_override(facts.endpoints, emulator.url))
    if overrides := world.override(stack_json):
        terraform.write_json(folder / "rehearsal_world_override.tf.json", overrides)
    env = terraform.environment(folder.parent)
    before = checks.inventory(client)
    step = _stepper(tool, folder, env)
    step("init", "init", f"-plugin-dir={tool.mirror}", "-no-color")
    step("validate", "validate", "-no-color")
    step("plan", "plan", "-no-color", "-out=rehearsal.tfplan")
    applied = step("apply", "apply", "-no-color", f"-parallelism={APPLY_PARALLELISM}", "-auto-approve", "rehearsal.tfplan", allow_fail=True)
    show = json.loads(terraform.run(tool, folder, env, "show", "-json").stdout)
    state = checks.state_resources(show)
    result.applied = len(state)
    if applied.returncode != 0:
        result.failed_step, result.error = "apply", _errors(applied)
    else:
        replan = step("re-plan", "plan", "-no-color", "-detailed-exitcode", "-lock=false", allow_fail=True)
        if replan.returncode == 2:
            result.replan_changes = _planned_changes(replan.stdout)
        elif replan.returncode != 0:
            raise StepFailed("re-plan", _errors(replan))
        result.checks_passed, result.check_failures = checks.check_deployed(stack_json, state, client)
    if keep:
        return
    destroyed = step("destroy", "destroy", "-no-color", "-auto-approve", f"-parallelism={APPLY_PARALLELISM}", allow_fail=True)
    if destroyed.returncode != 0 and result.failed_step is None:
        result.failed_step, result.error = "destroy", _errors(destroyed)
    result.leftovers = sorted(checks.inventory(client) - before)


def _stepper(tool: Toolchain, folder: Path, env: dict[str, str]) -> Callable[..., Any]:
    def step(label: str, *args: str, allow_fail: bool = False) -> Any:
        ran = terraform.run(tool, folder, env, *args, log=folder / f"{label}.log")
        if ran.returncode != 0 and not allow_fail:
            raise StepFailed(label, _errors(ran))
        return ran

    return step


def _errors(ran: Any) -> str:
    text = (ran.stderr or "") + (ran.stdout or "")
    blocks = [b.strip() for b in text.split("\nError: ")[1:]]
    return "\n".join(f"Error: {b.splitlines()[0]}" for b in blocks) or text[-2000:]


def _planned_changes(plan_output: str) -> list[str]:
    return [line.strip()[2:] for line in plan_output.splitlines() if line.strip().startswith("# ") and " will be " in line or " must be " in line]


def rehearse_stacks(
    stacks: dict[str, dict[str, Any]], *, scratch: Path | None = None, jobs: int = 2, keep: bool = False,
    tool: Toolchain | None = None,
) -> list[StackResult]:
    tool = tool or find_toolchain()
    owned = scratch is None
    root = Path(tempfile.mkdtemp(prefix="gpu-blueprints-rehearsal-")) if scratch is None else scratch
    try:
        facts = provider_facts(tool, root)
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(rehearse_stack, name, tf, tool=tool, facts=facts, scratch=root, keep=keep)
                for name, tf in stacks.items()
            ]
            return [future.result() for future in futures]
    finally:
        if owned and not keep:
            shutil.rmtree(root, ignore_errors=True)


def table(results: list[StackResult]) -> str:
    header = "| stack | resources applied | not rehearsed | world | re-plan changes | read-back checks | leftovers | s |"
    rows = [header, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        status = "" if r.ok else " **FAILED**"
        rows.append(
            f"| {r.stack}{status} | {r.applied}/{r.resources} | {len(r.not_rehearsed)} | {len(r.world)} | "
            f"{len(r.replan_changes)} | {r.checks_passed} ok, {len(r.check_failures)} failed | {len(r.leftovers)} | "
            f"{r.seconds:.0f} |"
        )
    return "\n".join(rows)


def details(results: list[StackResult]) -> str:
    lines = []
    for r in results:
        items = [
            *(f"not rehearsed: {x}" for x in r.not_rehearsed),
            *(f"world: {x}" for x in r.world),
            *(f"re-plan: {x}" for x in r.replan_changes),
            *(f"check: {x}" for x in r.check_failures),
            *(f"left after destroy: {x}" for x in r.leftovers),
        ]
        if r.failed_step:
            items.append(f"failed at {r.failed_step}: {r.error}")
        if items:
            lines.append(f"{r.stack}:")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)


def run_rehearse(args: Any) -> int:
    from sdk.synth import synth_app

    try:
        tool = find_toolchain()
    except ToolMissing as missing:
        print(f"rehearsal skipped: {missing}")
        return 3
    stacks = synth_app(args.app)
    chosen = {n: tf for n, tf in stacks.items() if not args.stack or n in args.stack}
    unknown = sorted(set(args.stack or ()) - set(stacks))
    if unknown:
        print(f"no stack named {', '.join(unknown)} in {args.app} (it builds {', '.join(stacks)})")
        return 2
    scratch = Path(args.scratch) if args.scratch else None
    results = rehearse_stacks(chosen, scratch=scratch, jobs=args.jobs, keep=args.keep, tool=tool)
    print(table(results))
    if text := details(results):
        print(text)
    return 0 if all(r.ok for r in results) else 1
