"""Cold `python -m sdk synth` wall time with the stock and the lazy provider import, side by side.

Each run is a fresh process (so each pays the provider import), the modes alternate so that load
from other work on the machine hits both alike, and one warm-up run per mode (not counted) fills
the bytecode and jsii package caches. Goal: lazy <= 1/3 of stock.

    .venv/bin/python bench/synth.py [--runs 3] [--app examples]
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


def synth_once(mode: str, app: str, out_dir: Path) -> float:
    """Seconds for one `python -m sdk synth` in a new process with the given provider import mode."""
    env = {**os.environ, ENV_VAR: mode}
    if (node := node_executable()) is not None:
        env.setdefault("JSII_NODE", str(node))
    command = [sys.executable, "-m", "sdk", "synth", "--app", app, "--out", str(out_dir)]
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
    args = parser.parse_args()

    print(f"python -m sdk synth --app {args.app}: {args.runs} cold runs per mode after {args.warmup} warm-up")
    print(f"{os.cpu_count()} CPUs, load average before: {load_average()} (1/5/15 min)")
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        outs = {mode: Path(tmp, mode) for mode in MODES}
        for run in range(args.warmup + args.runs):
            for mode in MODES:
                seconds = synth_once(mode, args.app, outs[mode])
                if run >= args.warmup:
                    times[mode].append(seconds)
        identical = same_tree(outs["stock"], outs["lazy"])

    print(f"load average after: {load_average()}")
    print(f"{'mode':<6} {'median s':>9} {'min s':>7} {'max s':>7}  runs")
    for mode in MODES:
        runs = times[mode]
        listed = " ".join(f"{t:.2f}" for t in runs)
        print(f"{mode:<6} {statistics.median(runs):>9.2f} {min(runs):>7.2f} {max(runs):>7.2f}  {listed}")
    ratio = statistics.median(times["lazy"]) / statistics.median(times["stock"])
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"lazy / stock = {ratio:.3f} (goal <= {GOAL_RATIO:.3f}: {verdict}); outputs byte-identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
