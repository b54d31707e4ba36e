"""`python -m sdk {synth,review,size}`: one process, the provider import paid once."""

import argparse
import sys
from collections.abc import Sequence


def _synth(args: argparse.Namespace) -> int:
    from sdk.synth import run_synth

    return run_synth(app_module=args.app, out_dir=args.out, cdktf_mode=args.cdktf)


def _review(args: argparse.Namespace) -> int:
    from sdk.review import run_review

    return run_review(args)


def _rehearse(args: argparse.Namespace) -> int:
    from sdk.rehearse import run_rehearse

    return run_rehearse(args)


def _size(args: argparse.Namespace) -> int:
    from sdk.sizing import run_size

    return run_size(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sdk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="synthesize every stack of an app module into generated/")
    synth.add_argument("--app", default="blueprints.examples", help="module with build_app(app) (default: %(default)s)")
    synth.add_argument("--out", default="generated", help="output directory (default: %(default)s)")
    synth.add_argument("--cdktf", action="store_true", help="cdktf CLI mode: write cdktf.out/ (CDKTF_OUTDIR)")
    synth.set_defaults(func=_synth)

    review = sub.add_parser("review", help="write REVIEW.md per stack: diff, exposure, IAM, GPU capacity, cost")
    review.add_argument("--app", default="blueprints.examples")
    review.add_argument("--against", default="generated", help="committed output to diff against")
    review.add_argument("--out", default="generated", help="where REVIEW.md files are written")
    review.add_argument("--format", choices=("md", "json"), default="md")
    review.add_argument("--cost-threshold-percent", type=float, default=10.0)
    review.set_defaults(func=_review)

    rehearse = sub.add_parser(
        "rehearse", help="apply every stack with terraform against a local AWS (moto), re-plan, destroy"
    )
    rehearse.add_argument("--app", default="blueprints.examples", help="module with build_app(app)")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
