"""`python -m sdk review`: a per-stack review a platform team can decide from, without AWS or terraform.

For each stack: the change summary against a committed `generated/`, exposure, IAM, GPU capacity, cost
and checkov results, written as REVIEW.md (or review.json) beside the stack's cdk.tf.json. The exit code
is 1 when a reviewer must look: a new wildcard, new public exposure, a failed policy check or a stale
per-resource skip, or cost up more than the threshold.
"""

import argparse
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field

from sdk.catalog import CATALOG
from sdk.cost import CostEstimate, estimate_stack
from sdk.deployments import deployment_peaks
from sdk.gpu_metrics import GPU_METRICS_KEY
from sdk.hints import read_hints
from sdk.review.diff import ResourceChange, diff_stacks
from sdk.review.exposure import Exposure, exposures
from sdk.review.iam import RoleAccess, role_access
from sdk.review.policy import PolicyResult, default_cache_dir, run_checkov
from sdk.tfjson import load_stacks, resources, stack_file

REPO_ROOT = Path(__file__).resolve().parents[2]


class CapacityRow(BaseModel):
    """One GPU Auto Scaling group in REVIEW.md's capacity table (from its hint and the ASG resource)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asg: str = Field(description="ASG address (no default)")
    instance_types: tuple[str, ...] = Field(description="Ordered instance types (no default)")
    gpus_per_host: float = Field(description="GPU capacity of the first type (no default)")
    gpus_per_task: float = Field(description="GPU per task (no default)")
    tasks_per_host: int = Field(description="Tasks per host on the smallest type (no default)")
    min_hosts: int = Field(description="ASG min (no default)")
    typical_hosts: float = Field(description="Average hosts while up (no default)")
    max_hosts: int = Field(description="ASG max (no default)")
    asg_min_size: Any = Field(default=None, description="min_size in the ASG resource (default None: unset)")
    asg_max_size: Any = Field(default=None, description="max_size in the ASG resource (default None: unset)")
    on_demand_base: int = Field(description="On-demand base hosts (no default)")
    spot_percent: int = Field(description="Spot share above the base, percent (no default)")
    duty_cycle: float = Field(description="Fraction of the month typical hosts run (no default)")
    warm_pool_hosts: int = Field(description="Stopped warm-pool hosts (no default)")
    gpu_metrics: str = Field(
        default="off",
        description="GPU metrics the hosts publish, e.g. '5 per GPU + group -> GpuBlueprints' (default 'off')",
    )


class StackReview(BaseModel):
    """Everything the reviewer sees for one stack, and why it needs a look."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stack: str = Field(description="Stack folder name (no default)")
    new_stack: bool = Field(description="True when the against dir has no such stack (no default)")
    removed_stack: bool = Field(
        default=False, description="True when the app no longer has this stack: all of it is destroyed (default False)"
    )
    changes: tuple[ResourceChange, ...] = Field(description="Diff by address (no default)")
    exposure: tuple[Exposure, ...] = Field(description="Listeners, ingress, public IPs (no default)")
    new_exposure: tuple[str, ...] = Field(description="Public exposure absent before (no default)")
    iam: tuple[RoleAccess, ...] = Field(description="Per-role access (no default)")
    new_wildcards: tuple[str, ...] = Field(description="'role: wildcard' pairs absent before (no default)")
    capacity: tuple[CapacityRow, ...] = Field(description="GPU capacity per ASG (no default)")
    cost: CostEstimate = Field(description="Monthly estimate now (no default)")
    cost_before_usd: float | None = Field(
        default=None, description="Typical monthly USD before (default None: new stack)"
    )
    cost_change_percent: float | None = Field(
        default=None, description="Typical cost change, percent (default None: no baseline)"
    )
    policy: PolicyResult | None = Field(default=None, description="checkov results (default None: not run)")
    review_notes: tuple[str, ...] = Field(default=(), description="Blueprint notes (default none)")
    deployment_problems: tuple[str, ...] = Field(
        default=(), description="Services whose deployment peak needs more hosts than the ASG max (default none)"
    )
    flags: tuple[str, ...] = Field(default=(), description="Why a reviewer must look (default none)")


def capacity_rows(tf_json: dict[str, Any]) -> tuple[CapacityRow, ...]:
    """GPU capacity per hinted ASG, with the ASG's own min/max sizes beside the hint's."""
    asgs = resources(tf_json, "aws_autoscaling_group")
    rows = []
    for hints in read_hints(tf_json).values():
        for hint in hints.gpu_capacity:
            asg = asgs.get(hint.asg_address.split(".", 1)[1], {})
            rows.append(
                CapacityRow(
                    asg=hint.asg_address,
                    gpus_per_host=CATALOG.get(hint.instance_types[0]).gpus,
                    asg_min_size=asg.get("min_size"),
                    asg_max_size=asg.get("max_size"),
                    gpu_metrics=_gpu_metrics(asg),
                    **hint.model_dump(
                        include={
                            "instance_types",
                            "gpus_per_task",
                            "tasks_per_host",
                            "min_hosts",
                            "typical_hosts",
                            "max_hosts",
                            "on_demand_base",
                            "spot_percent",
                            "duty_cycle",
                            "warm_pool_hosts",
                        }
                    ),
                )
            )
    return tuple(rows)


def _gpu_metrics(asg: dict[str, Any]) -> str:
    """What the ASG's "//" note (sdk.constructs.gpu_capacity) says its hosts publish; priced in the cost table."""
    metrics = asg.get("//", {}).get(GPU_METRICS_KEY)
    return f"{metrics['measurements']} per GPU + group -> {metrics['namespace']}" if metrics else "off"


def _new_public_exposure(new: dict[str, Any], before: dict[str, Any] | None) -> tuple[str, ...]:
    """Public items of `new` that `before` did not have, as 'address: detail from sources'."""
    old = {item.key for item in exposures(before or {})}
    return tuple(
        f"{item.address}: {item.detail}" + (f" from {', '.join(item.sources)}" * bool(item.sources))
        for item in exposures(new)
        if item.public and item.key not in old
    )


def _new_wildcards(new: dict[str, Any], before: dict[str, Any] | None) -> tuple[str, ...]:
    old = {key for role in role_access(before or {}) for key in role.wildcard_keys()}
    return tuple(
        sorted(key.replace("|", ": ") for role in role_access(new) for key in role.wildcard_keys() if key not in old)
    )


def _flags(review: StackReview, threshold_percent: float) -> tuple[str, ...]:
    flags = [f"stack removed: {len(review.changes)} resources would be destroyed"] if review.removed_stack else []
    flags += [f"new public exposure: {item}" for item in review.new_exposure]
    flags += [f"new IAM wildcard: {item}" for item in review.new_wildcards]
    change = review.cost_change_percent
    if change is not None and change > threshold_percent:
        flags.append(f"typical cost up {change:.1f}% (threshold {threshold_percent:g}%)")
    flags += [f"deployment does not fit the ASG maximum: {item}" for item in review.deployment_problems]
    if review.policy is not None:
        flags += [f"checkov {f.check_id} failed on {f.resource}: {f.check_name}" for f in review.policy.failed]
        flags += [f"stale checkov skip: {skip}" for skip in review.policy.stale_skips]
        flags += [f"policy not checked: {review.policy.error}"] if review.policy.error else []
    return tuple(flags)


def review_stack(
    name: str,
    new: dict[str, Any],
    before: dict[str, Any] | None,
    *,
    cost_threshold_percent: float = 10.0,
    policy: PolicyResult | None = None,
    removed: bool = False,
) -> StackReview:
    """Review one stack against its previous version (None: a new stack); `removed`: `new` is empty, the app
    dropped the stack."""
    cost = estimate_stack(new)
    before_usd = estimate_stack(before).typical_monthly_usd if before is not None else None
    change = None if not before_usd else round((cost.typical_monthly_usd - before_usd) / before_usd * 100, 2)
    review = StackReview(
        stack=name,
        new_stack=before is None,
        removed_stack=removed,
        changes=diff_stacks(before, new),
        exposure=exposures(new),
        new_exposure=_new_public_exposure(new, before),
        iam=role_access(new),
        new_wildcards=_new_wildcards(new, before),
        capacity=capacity_rows(new),
        cost=cost,
        cost_before_usd=before_usd,
        cost_change_percent=change,
        policy=policy,
        review_notes=tuple(note for hints in read_hints(new).values() for note in hints.review_notes),
        deployment_problems=tuple(peak.problem for peak in deployment_peaks(new) if not peak.fits),
    )
    return review.model_copy(update={"flags": _flags(review, cost_threshold_percent)})


def _policy_results(stacks: Mapping[str, dict[str, Any]]) -> dict[str, PolicyResult]:
    with tempfile.TemporaryDirectory(prefix="review-checkov-") as tmp:
        for name, tf_json in stacks.items():
            (Path(tmp) / name).mkdir()
            stack_file(Path(tmp), name).write_text(json.dumps(tf_json, indent=2), encoding="utf-8")
        return run_checkov(Path(tmp), REPO_ROOT, cache_dir=default_cache_dir())


def review_stacks(
    new: Mapping[str, dict[str, Any]],
    against: Mapping[str, dict[str, Any]],
    *,
    cost_threshold_percent: float = 10.0,
    run_policy: bool = True,
    policies: Mapping[str, PolicyResult] | None = None,
) -> list[StackReview]:
    """Reviews of every new stack; checkov runs once over all of them when installed and asked for (or `policies`
    are given)."""
    if policies is None:
        policies = _policy_results(new) if run_policy else {}
    reviews = [
        review_stack(
            name, tf_json, against.get(name), cost_threshold_percent=cost_threshold_percent, policy=policies.get(name)
        )
        for name, tf_json in sorted(new.items())
    ]
    # A stack the app no longer builds is a destroy of everything in it: the reviewer must see that too.
    return reviews + [review_stack(name, {}, against[name], removed=True) for name in sorted(set(against) - set(new))]


def review_dir(
    new_dir: Path, against_dir: Path | None, *, cost_threshold_percent: float = 10.0, run_policy: bool = True
) -> list[StackReview]:
    """Review already-synthesized stacks in `new_dir` against those in `against_dir` (None: all new)."""
    against = load_stacks(against_dir) if against_dir is not None and against_dir.is_dir() else {}
    return review_stacks(
        load_stacks(new_dir), against, cost_threshold_percent=cost_threshold_percent, run_policy=run_policy
    )


def _cell(value: Any) -> str:
    """A value inside a Markdown table cell or inline code: JSON for non-strings, pipes escaped."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("|", "\\|")


def render_markdown(review: StackReview) -> str:
    env = Environment(
        loader=PackageLoader("sdk.review", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["usd"] = lambda value: f"${value:,.2f}"
    env.filters["cell"] = _cell
    return env.get_template("review.md.j2").render(r=review)


def write_reviews(reviews: list[StackReview], out_dir: Path, fmt: str = "md") -> list[Path]:
    """Write REVIEW.md (or review.json) per stack into out_dir/<stack>/; returns the paths."""
    paths = []
    for review in reviews:
        folder = out_dir / review.stack
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / ("REVIEW.md" if fmt == "md" else "review.json")
        text = render_markdown(review) if fmt == "md" else review.model_dump_json(indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def exit_code(reviews: list[StackReview]) -> int:
    """0 when nothing needs a reviewer, 1 otherwise."""
    return 1 if any(review.flags for review in reviews) else 0


def _synthesized(app_module: str) -> dict[str, dict[str, Any]]:
    from sdk.synth import synth_app  # the lead's module; imports cdktf, so only here

    return synth_app(app_module)


def run_review(args: argparse.Namespace) -> int:
    """`python -m sdk review`: synthesize the app, review against --against, write REVIEW.md into --out for the
    stacks the app builds (never into another stack's folder, never deleting one).

    In place (--out is --against, the default), REVIEW.md describes the stack as committed and holds no diff: a diff
    against the folder it is written into changes once the new JSON lands there, so REVIEW.md would differ on every
    rerun. The diff and its flags are printed and set the exit code; --out elsewhere writes them into REVIEW.md."""
    from sdk.settings import default_out
    from sdk.synth import write_stacks  # imports cdktf only through synth_app

    against_dir = Path(args.against or default_out(args.app))
    out_dir = Path(args.out) if args.out else against_dir
    new = _synthesized(args.app)
    against = load_stacks(against_dir) if against_dir.is_dir() else {}
    policies = _policy_results(new)
    threshold = args.cost_threshold_percent
    reviews = review_stacks(new, against, cost_threshold_percent=threshold, policies=policies)
    in_place = out_dir.resolve() == against_dir.resolve()
    if not in_place:
        write_stacks(new, out_dir)  # REVIEW.md sits beside the JSON it reviews
    written = review_stacks(new, new, policies=policies) if in_place else reviews[: len(new)]
    paths = {r.stack: path for r, path in zip(written, write_reviews(written, out_dir, args.format), strict=True)}
    for review in reviews:
        status = "; ".join(review.flags) if review.flags else "nothing to flag"
        where = paths.get(review.stack, against_dir / review.stack)
        print(f"{where}: {len(review.changes)} change(s), ${review.cost.typical_monthly_usd:,.2f}/month; {status}")
    return exit_code(reviews)
