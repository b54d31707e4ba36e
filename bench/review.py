"""`python -m sdk review` against `python -m sdk synth`: wall time of fresh processes, alternated, medians.

Three modes per round: synth, review with an empty checkov cache (checkov runs over every stack) and review
with the cache a previous review filled (checkov runs over none: the stacks did not change). Output goes to
scratch folders; generated/ is only read (the review's default --against). Goal (issue 16): review <= 1.5 x synth.

    .venv/bin/python bench/review.py [--runs 3] [--app blueprints.examples]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sdk.review.policy import CACHE_ENV  # noqa: E402  (after the repo root is on sys.path)
from sdk.settings import default_app  # noqa: E402

GOAL_RATIO = 1.5
MODES = ("synth", "review, empty cache", "review, cached")


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds for one fresh `python -m sdk ...` process (review exits 1 when a reviewer must look: not an error)."""
    start = time.perf_counter()
    run = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {run.returncode}: {run.stderr[-2000:]}")
    return seconds


def one_round(app: str, scratch: Path, round_no: int) -> dict[str, float]:
    sdk = [sys.executable, "-m", "sdk"]
    warm_cache = {**os.environ, CACHE_ENV: str(scratch / "cache")}
    cold_cache = {**os.environ, CACHE_ENV: str(scratch / f"empty-{round_no}")}
    review = [*sdk, "review", "--app", app, "--out", str(scratch / "review")]
    return {
        "synth": timed([*sdk, "synth", "--app", app, "--out", str(scratch / "synth")], dict(os.environ)),
        "review, empty cache": timed(review, cold_cache),
        "review, cached": timed(review, warm_cache),
    }


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="counted rounds (default: %(default)s)")
    parser.add_argument("--app", default=default_app(), help="app module (default: %(default)s)")
    args = parser.parse_args()

    print(f"{os.cpu_count()} CPUs, load average before: {load_average()} (1/5/15 min)")
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        one_round(args.app, Path(tmp), -1)  # warm-up, not counted: bytecode, jsii's package cache, the checkov cache
        for round_no in range(args.runs):
            for mode, seconds in one_round(args.app, Path(tmp), round_no).items():
                times[mode].append(seconds)
    print(f"load average after: {load_average()}")
    synth = statistics.median(times["synth"])
    print(f"{'mode':<20} {'median s':>9} {'min s':>7} {'max s':>7} {'x synth':>8}  runs")
    for mode, runs in times.items():
        median = statistics.median(runs)
        listed = " ".join(f"{t:.2f}" for t in runs)
        print(f"{mode:<20} {median:>9.2f} {min(runs):>7.2f} {max(runs):>7.2f} {median / synth:>8.2f}  {listed}")
    ratio = statistics.median(times["review, cached"]) / synth
    print(
        f"review (cached) / synth = {ratio:.2f} (goal <= {GOAL_RATIO}: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
