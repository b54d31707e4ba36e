"""Deploy rehearsal: every stack applied by real Terraform against a local AWS (moto on 127.0.0.1), re-planned
with no changes allowed, read back, destroyed, and checked for leftovers. See docs/rehearsal.md."""

import json
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.lambda_zip import write_assets
from sdk.rehearse import checks, terraform
from sdk.rehearse.emulator import Emulator
from sdk.rehearse.terraform import ProviderFacts, Toolchain, ToolMissing, find_toolchain, provider_facts
from sdk.rehearse.world import World, build_world
from sdk.tfjson import STACK_FILE, count_resources

__all__ = ["StackResult", "ToolMissing", "find_toolchain", "rehearse_stacks", "run_rehearse"]

APPLY_PARALLELISM = 16
# Concurrent `terraform init`s racing to fill one plugin cache fail with "mkdir ...: file exists".
INIT_LOCK = threading.Lock()


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
        return sum(1 for item in self.not_rehearsed if "(resource type)" in item)

    def fail(self, step: str, error: str) -> None:
        if self.failed_step is None:
            self.failed_step, self.error = step, error


class StepFailed(Exception):
    def __init__(self, step: str, output: str) -> None:
        super().__init__(step)
        self.step, self.output = step, output


def region_of(tf: dict[str, Any]) -> str:
    return str(tf["provider"]["aws"][0]["region"])


class StackRun:
    """One stack's folder, overrides and terraform steps against one emulator."""

    def __init__(
        self, name: str, tf: dict[str, Any], *, emulator: Emulator, tool: Toolchain, facts: ProviderFacts, scratch: Path
    ) -> None:
        self.result = StackResult(stack=name, resources=count_resources(tf))
        self.tool, self.emulator = tool, emulator
        self.folder = scratch / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = terraform.environment(scratch)
        self.client = emulator.client_factory(region_of(tf))
        unknown = terraform.unknown_arguments(tf, facts)
        self.result.not_rehearsed = [f"{path}: newer than the mirrored provider {tool.version}" for path in unknown]
        self.tf = terraform.without(tf, unknown) if unknown else tf
        self.facts = facts
        self.world = World()

    def step(self, label: str, *args: str, allow_fail: bool = False) -> Any:
        ran = terraform.run(self.tool, self.folder, self.env, *args, log=self.folder / f"{label}.log")
        if ran.returncode != 0 and not allow_fail:
            raise StepFailed(label, _errors(ran.stdout))
        return ran

    def timed(self, phase: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            phase()
        except StepFailed as failure:
            self.result.fail(failure.step, failure.output)
        except Exception as error:  # a harness error is reported against the stack, with where it happened
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.result.fail("harness", f"{type(error).__name__}: {error} ({where.filename}:{where.lineno})")
        self.result.seconds += time.monotonic() - started

    def stand_in(self) -> None:
        """Create what the stack names but does not create (before the account's inventory is taken)."""
        self.world = build_world(self.tf, region_of(self.tf), self.client)
        self.result.world = self.world.notes

    def prepare(self) -> None:
        """Override files, init, validate and plan."""
        write = terraform.write_json
        write(self.folder / STACK_FILE, self.tf)
        write_assets(self.tf, self.folder)
        write(self.folder / "rehearsal_version_override.tf.json", terraform.version_override(self.tool))
        write(
            self.folder / "rehearsal_provider_override.tf.json",
            terraform.provider_override(self.facts.endpoints, self.emulator.url),
        )
        if overrides := self.world.override(self.tf):
            write(self.folder / "rehearsal_world_override.tf.json", overrides)
        with INIT_LOCK:
            self.step("init", "init", f"-plugin-dir={self.tool.mirror}", "-no-color")
        self.step("validate", "validate", "-no-color")
        self.step("plan", "plan", "-no-color", "-out=rehearsal.tfplan")

    def apply(self) -> None:
        """Apply the plan, re-plan (no changes allowed) and read the deployed state back."""
        applied = self.step(
            "apply", "apply", "-no-color", f"-parallelism={APPLY_PARALLELISM}", "rehearsal.tfplan", allow_fail=True
        )
        state = checks.state_resources(
            json.loads(terraform.run(self.tool, self.folder, self.env, "show", "-json").stdout)
        )
        self.result.applied = len(state)
        if applied.returncode != 0:
            raise StepFailed("apply", _errors(applied.stdout))
        replan = self.step("re-plan", "plan", "-no-color", "-detailed-exitcode", allow_fail=True)
        if replan.returncode == 2:
            self.result.replan_changes = planned_changes(replan.stdout)
        elif replan.returncode != 0:
            raise StepFailed("re-plan", _errors(replan.stdout))
        self.result.checks_passed, self.result.check_failures = checks.check_deployed(self.tf, state, self.client)

    def destroy(self) -> None:
        """Lift the stack's destroy guards as its teardown doc says, then destroy it."""
        if lift := terraform.teardown_override(self.tf):
            terraform.write_json(self.folder / "rehearsal_teardown_override.tf.json", lift)
            self.step("teardown", "apply", "-no-color", "-auto-approve", f"-parallelism={APPLY_PARALLELISM}")
        self.step("destroy", "destroy", "-no-color", "-auto-approve", f"-parallelism={APPLY_PARALLELISM}")


def rehearse_account(
    stacks: dict[str, dict[str, Any]],
    *,
    tool: Toolchain,
    facts: ProviderFacts,
    scratch: Path,
    keep: bool = False,
    hold: ExitStack | None = None,
) -> list[StackResult]:
    """Stacks that share one account (one emulator): all applied, then all destroyed, so names that collide
    between them (IAM is global) fail the apply as they would in AWS."""
    with ExitStack() as own:
        emulator = (hold or own).enter_context(Emulator())
        regions = {region_of(tf) for tf in stacks.values()}
        runs = [StackRun(n, tf, emulator=emulator, tool=tool, facts=facts, scratch=scratch) for n, tf in stacks.items()]
        for run in runs:
            run.timed(run.stand_in)
        before = set().union(*(checks.inventory(emulator.client_factory(r)) for r in sorted(regions)))
        for run in runs:
            if run.result.failed_step is None:
                run.timed(run.prepare)
            if run.result.failed_step is None:
                run.timed(run.apply)
        if keep:
            return [run.result for run in runs]
        for run in reversed(runs):
            run.timed(run.destroy)
        after = set().union(*(checks.inventory(emulator.client_factory(r)) for r in sorted(regions)))
        left = sorted(after - before)
        for run in runs:
            run.result.leftovers = left
        return [run.result for run in runs]


def rehearse_stacks(
    stacks: dict[str, dict[str, Any]],
    *,
    scratch: Path | None = None,
    jobs: int = 2,
    keep: bool = False,
    one_account: bool = False,
    tool: Toolchain | None = None,
    hold: ExitStack | None = None,
) -> list[StackResult]:
    """Each stack in its own emulator, `jobs` at a time; with `one_account`, all stacks in one emulator."""
    tool = tool or find_toolchain()
    root = Path(tempfile.mkdtemp(prefix="gpu-blueprints-rehearsal-")) if scratch is None else scratch
    try:
        facts = provider_facts(tool, root)
        groups = [stacks] if one_account else [{name: tf} for name, tf in stacks.items()]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [
                pool.submit(
                    rehearse_account,
                    group,
                    tool=tool,
                    facts=facts,
                    scratch=root,
                    keep=keep,
                    hold=hold if keep else None,
                )
                for group in groups
            ]
            return [result for future in futures for result in future.result()]
    finally:
        if scratch is None and not keep:
            shutil.rmtree(root, ignore_errors=True)


def _errors(text: str) -> str:
    blocks = [b.strip() for b in text.split("Error: ")[1:]]
    return "\n".join(f"Error: {b.splitlines()[0]}" for b in blocks) or text[-2000:]


def planned_changes(plan_output: str) -> list[str]:
    """`terraform plan` lines naming a resource it would change (`# aws_x.y will be updated in-place`)."""
    lines = (line.strip() for line in plan_output.splitlines())
    return [line[2:] for line in lines if line.startswith("# ") and (" will be " in line or " must be " in line)]


def table(results: list[StackResult]) -> str:
    header = "| stack | applied | not rehearsed | world | re-plan changes | read-back checks | leftovers | s |"
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
    unknown = sorted(set(args.stack or ()) - set(stacks))
    if unknown:
        print(f"no stack named {', '.join(unknown)} in {args.app} (it builds {', '.join(stacks)})")
        return 2
    chosen = {n: tf for n, tf in stacks.items() if not args.stack or n in args.stack}
    scratch = Path(args.scratch) if args.scratch else None
    with ExitStack() as hold:
        results = rehearse_stacks(
            chosen, scratch=scratch, jobs=args.jobs, keep=args.keep, one_account=args.one_account, tool=tool, hold=hold
        )
        print(table(results))
        if text := details(results):
            print(text)
        if args.keep:
            _hold_open(scratch)
    return 0 if all(r.ok for r in results) else 1


def _hold_open(scratch: Path | None) -> None:
    print(f"kept: the applied stacks in {scratch or 'the scratch folder'} and their emulators; Ctrl-C ends them")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return
