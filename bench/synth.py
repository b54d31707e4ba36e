"""Cold `python -m sdk synth` wall time with the stock and the lazy provider import, side by side.

Each run is a fresh process (so each pays the provider import), the modes alternate so that load
from other work on the machine hits both alike, and one warm-up run per mode (not counted) fills
the bytecode and jsii package caches. Goal: lazy <= 1/3 of stock.

    .venv/bin/python bench/synth.py [--runs 3] [--app examples]

`--stock-one-resource`: the stock side synthesizes one S3 bucket in one stack instead of the app (issue 16's goal:
the five examples, lazy, <= 0.15 x the stock cdktf path for one resource).
"""

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sdk.fast_import import ENV_VAR  # noqa: E402  (after the repo root is on sys.path)
from sdk.node import node_executable  # noqa: E402

MODES = ("stock", "lazy")
GOAL_RATIO = 1 / 3
GOAL_RATIO_ONE_RESOURCE = 0.15
ONE_RESOURCE = """import sys
from sdk.constructs.engine import App, AwsProvider, S3Bucket, TerraformStack
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "one")
AwsProvider(stack, "aws", region="us-east-1")
S3Bucket(stack, "bucket", bucket_prefix="one-")
app.synth()
"""


def synth_once(mode: str, app: str, out_dir: Path, one_resource: bool = False) -> float:
    """Seconds for one `python -m sdk synth` (or the one-resource app) in a new process with the given import mode."""
    env = {**os.environ, ENV_VAR: mode}
    if (node := node_executable()) is not None:
        env.setdefault("JSII_NODE", str(node))
    command = [sys.executable, "-m", "sdk", "synth", "--app", app, "--out", str(out_dir)]
    if one_resource:
        command = [sys.executable, "-c", ONE_RESOURCE, str(out_dir)]
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def same_tree(left: Path, right: Path) -> bool:
    """True when both folders hold the same files with the same bytes."""
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(left / d, right / d) for d in compared.common_dirs)


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="counted runs per mode (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs per mode first (default: %(default)s)")
    parser.add_argument("--app", default="examples", help="app module (default: %(default)s)")
    parser.add_argument("--stock-one-resource", action="store_true", help="stock side: one resource, not the app")
    args = parser.parse_args()
    goal = GOAL_RATIO_ONE_RESOURCE if args.stock_one_resource else GOAL_RATIO

    print(f"python -m sdk synth --app {args.app}: {args.runs} cold runs per mode after {args.warmup} warm-up")
    print(f"{os.cpu_count()} CPUs, load average before: {load_average()} (1/5/15 min)")
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        outs = {mode: Path(tmp, mode) for mode in MODES}
        for run in range(args.warmup + args.runs):
            for mode in MODES:
                one = args.stock_one_resource and mode == "stock"
                seconds = synth_once(mode, args.app, outs[mode], one_resource=one)
                if run >= args.warmup:
                    times[mode].append(seconds)
        identical = args.stock_one_resource or same_tree(outs["stock"], outs["lazy"])

    print(f"load average after: {load_average()}")
    print(f"{'mode':<6} {'median s':>9} {'min s':>7} {'max s':>7}  runs")
    for mode in MODES:
        runs = times[mode]
        listed = " ".join(f"{t:.2f}" for t in runs)
        print(f"{mode:<6} {statistics.median(runs):>9.2f} {min(runs):>7.2f} {max(runs):>7.2f}  {listed}")
    ratio = statistics.median(times["lazy"]) / statistics.median(times["stock"])
    verdict = "met" if ratio <= goal else "NOT met"
    compared = "not compared (one resource)" if args.stock_one_resource else identical
    print(f"lazy / stock = {ratio:.3f} (goal <= {goal:.3f}: {verdict}); outputs byte-identical: {compared}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
