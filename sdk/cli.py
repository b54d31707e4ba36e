"""`python -m sdk {synth,review,rehearse,size,schema}` (or `gpu-blueprints ...`): one process, the provider import
paid once."""

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from sdk.settings import default_app

APP_HELP = (
    "module with build_app(app), or a path to its .py file (default: %(default)s, the `app` of [tool.gpu-blueprints] "
    "in pyproject.toml). That app writes to the table's `out` (default generated/); any other app to out/ unless "
    "--out is given"
)
# jsii errors a user's app can cause, by message: (pattern, one-line error with the fix).
JSII_ERRORS: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (
        r"There is already a Construct with name '(?P<id>[^']*)' in (?P<scope>.+)",
        lambda m: f"id {m['id']!r}: used twice in {m['scope']}. Fix: give each construct in one scope its own id",
    ),
    (
        r'Cannot create TerraformStack with id "(?P<id>[^"]*)"\. It contains a whitespace character',
        lambda m: f"stack id {m['id']!r}: contains whitespace. Fix: e.g. {'-'.join(m['id'].split())!r}",
    ),
)


def _synth(args: argparse.Namespace) -> int:
    from sdk.synth import run_synth

    return run_synth(app_module=args.app, out_dir=args.out, cdktf_mode=args.cdktf, prune=args.prune)


def _review(args: argparse.Namespace) -> int:
    from sdk.review import run_review

    return run_review(args)


def _rehearse(args: argparse.Namespace) -> int:
    from sdk.rehearse import run_rehearse

    return run_rehearse(args)


def _size(args: argparse.Namespace) -> int:
    from sdk.sizing import run_size

    return run_size(args)


def _schema(args: argparse.Namespace) -> int:
    from sdk.schema import run_schema

    return run_schema(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sdk", description=__doc__)
    app = default_app()
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="synthesize every stack of an app module into generated/ or out/")
    synth.add_argument("--app", default=app, required=app is None, help=APP_HELP)
    synth.add_argument(
        "--out", default=None, help="output directory (default: the project app's out, generated/; else out/)"
    )
    synth.add_argument("--cdktf", action="store_true", help="cdktf CLI mode: write cdktf.out/ (CDKTF_OUTDIR)")
    synth.add_argument(
        "--prune", action="store_true", help="delete stack folders in --out that the app does not build (default: keep)"
    )
    synth.set_defaults(func=_synth)

    review = sub.add_parser("review", help="write REVIEW.md per stack: diff, exposure, IAM, GPU capacity, cost")
    review.add_argument("--app", default=app, required=app is None, help=APP_HELP)
    review.add_argument(
        "--against",
        default=None,
        help="committed output to diff against (default: the project app's out, generated/; else out/)",
    )
    review.add_argument("--out", default=None, help="where REVIEW.md files are written (default: the --against folder)")
    review.add_argument("--format", choices=("md", "json"), default="md")
    review.add_argument("--cost-threshold-percent", type=float, default=10.0)
    review.set_defaults(func=_review)

    rehearse = sub.add_parser(
        "rehearse", help="apply every stack with terraform against a local AWS (moto), re-plan, destroy"
    )
    rehearse.add_argument("--app", default=app, required=app is None, help=APP_HELP)
    rehearse.add_argument("--stack", action="append", help="only this stack (repeatable); default: all")
    rehearse.add_argument("--keep", action="store_true", help="keep the applied stacks and scratch folder")
    rehearse.add_argument("--jobs", type=int, default=2, help="stacks rehearsed at once (default %(default)s)")
    rehearse.add_argument("--scratch", default=None, help="scratch folder (default: a temporary one)")
    rehearse.add_argument(
        "--one-account", action="store_true", help="apply all stacks into one emulated account (IAM is global)"
    )
    rehearse.set_defaults(func=_rehearse)

    size = sub.add_parser("size", help="service and ASG bounds from peak load (source sizing math)")
    size.add_argument("--rps", type=float, required=True, help="peak requests per second")
    size.add_argument("--rps-per-task", type=float, required=True)
    size.add_argument("--gpus-per-task", type=float, default=1.0)
    size.add_argument("--instance", required=True, help="e.g. g5.2xlarge")
    size.add_argument("--p95-budget-ms", type=float, default=None)
    size.add_argument("--headroom-percent", type=float, default=0.0)
    size.add_argument("--cpu", type=int, default=None, help="CPU units per task (1024 per vCPU); default: not limiting")
    size.add_argument("--memory-mib", type=int, default=None, help="memory per task, MiB; default: not limiting")
    size.add_argument("--target-utilization-percent", type=int, default=70, help="ALB target share (default 70)")
    size.set_defaults(func=_size)

    schema = sub.add_parser("schema", help="write each top-level spec's JSON Schema and the spec reference page")
    schema.add_argument("--out", default="docs/schema", help="folder of the <Spec>.json files (default %(default)s)")
    schema.add_argument("--reference", default="docs/reference.md", help="reference page (default %(default)s)")
    schema.add_argument(
        "--spec",
        action="append",
        help="module:Name of a spec (repeatable; default: `schemas` of [tool.gpu-blueprints])",
    )
    schema.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    schema.set_defaults(func=_schema)
    return parser


GENERIC_FIXES = {"Field required": "set it", "Extra inputs are not permitted": "remove it (no such field here)"}


def _problem_lines(loc: str, message: str) -> list[str]:
    """One 'field: problem. Fix: ...' line per problem (problems_to_error joins several into one message)."""
    message = message.removeprefix("Value error, ")
    lines = message.split("\n  - ")[1:] if message.startswith("invalid spec:") else [message]
    fallback = f"see the description of {loc or 'this value'} in the spec"
    out = []
    for line in lines:
        line = " ".join(line.split())
        if loc and not line.startswith(loc):
            line = f"{loc}: {line}"
        out.append(line if "Fix:" in line else f"{line.rstrip('.')}. Fix: {GENERIC_FIXES.get(message, fallback)}")
    return out


def report(problems: list[str], title: str) -> list[str]:
    """One problem: one line. Several: a header, then one line each."""
    if len(problems) == 1:
        return [f"error: {problems[0]}"]
    return [f"error: {len(problems)} problems in {title}; nothing was written", *(f"  {p}" for p in problems)]


def error_lines(error: Exception) -> list[str] | None:
    """The lines a user error is reported with, or None for an error that is a bug (its traceback is kept)."""
    from sdk.synth import AppError

    if isinstance(error, ValidationError):
        details = error.errors()
        problems = [p for d in details for p in _problem_lines(".".join(map(str, d["loc"])), d["msg"])]
        return report(problems, error.title)
    if isinstance(error, AppError) or (isinstance(error, ValueError) and "Fix:" in str(error)):
        return report(_problem_lines("", str(error)), "the app")
    if isinstance(error, RuntimeError):
        for pattern, line in JSII_ERRORS:
            if match := re.search(pattern, str(error)):
                return [f"error: {line(match)}"]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (done), 1 (review: a reviewer must look), 2 (a user error, reported on stderr without a traceback)."""
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as under `python -m sdk`: the gpu-blueprints script finds --app here
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as error:
        lines = error_lines(error)
        if lines is None:
            raise
    print("\n".join(lines), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
