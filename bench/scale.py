"""Synth time and peak memory against the number of stacks: 1, 5, 20, 50 copies of one stack, distinct names.

The stack is the README's 20-line service (an `AlbInferenceService` with Spot and three GPU types). Each point is a
fresh process (`--child N`: import, build N stacks, synth into a scratch folder), so the intercept holds the cold
start and the slope the cost of one more stack. Printed per point: wall (parent's clock, medians over --runs,
points alternated) and peak RSS of the synthesizing Python process (its own `getrusage`; the jsii Node kernel is a
separate process, its peak is reported beside it). Then least squares: wall = intercept + slope x stacks, with R².

    .venv/bin/python bench/scale.py [--runs 3] [--stacks 1 5 20 50]

`--first-synth`: instead, 5 stacks with jsii's package cache empty (a fresh JSII_RUNTIME_PACKAGE_CACHE_ROOT per run:
what the first synth on a machine pays) against the same cache filled, alternated.

    .venv/bin/python bench/scale.py --first-synth [--runs 3]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's sdk and blueprints, not the ones the venv was installed from
GOAL_SLOPE_S = 0.2
JSII_CACHE_ROOT = (
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT"  # @jsii/kernel src/tar-cache (default ~/.cache/aws/jsii/package-cache)
)


def build_copies(app, count: int) -> None:
    """`count` copies of the README's service, each in its own stack `sdxl-<i>`."""
    from blueprints.alb_inference import AlbInferenceService, AlbInferenceSpec, InferenceScalingSpec
    from sdk.constructs.stack import GpuStack
    from sdk.specs import CapacitySpec, ContainerSpec, SpotSpec
    from sdk.specs.load_balancer import AlbSpec

    spec = AlbInferenceSpec(
        name="sdxl",
        capacity=CapacitySpec(instance_types=("g5.2xlarge", "g6.2xlarge", "g4dn.2xlarge"), spot=SpotSpec()),
        container=ContainerSpec(
            image="123456789012.dkr.ecr.us-east-1.amazonaws.com/sdxl:1",
            port=8080,
            gpu=1,
            gpu_memory_mib=12288,
            cpu=4096,
            memory_mib=24576,
        ),
        scaling=InferenceScalingSpec(min_tasks=1, max_tasks=6, rps_per_task=0.5),
        alb=AlbSpec(
            certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/2b7c4e1a-9f3d-4c8e-a6b5-0d1e2f3a4b5c",
            allowed_cidrs=("0.0.0.0/0",),
        ),
    )
    for index in range(count):
        AlbInferenceService(GpuStack(app, f"sdxl-{index}", region="us-east-1"), "sdxl", spec=spec)


def child(count: int, out_dir: str) -> None:
    """One synth of `count` stacks; prints a JSON line with this process's peak RSS and the stack count seen."""
    import sdk
    import sdk.constructs.engine
    from sdk.synth import synth_with, write_stacks

    stacks = synth_with(lambda app: build_copies(app, count))
    write_stacks(stacks, Path(out_dir))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    repo = str(Path(sdk.__file__).resolve().parents[1])
    print(json.dumps({"stacks": len(stacks), "python_peak_mib": peak_kib / 1024, "repo": repo}))


def measure(count: int, out_dir: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall seconds, the Python process's peak RSS and the largest peak among its children (the Node kernel)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(count), "--out", str(out_dir)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=env)
    stdout = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"--child {count} exited {process.returncode}")
    report = json.loads(stdout.strip().splitlines()[-1])
    if report["repo"] != str(REPO):
        raise SystemExit(f"--child imported sdk from {report['repo']}, not {REPO}")
    if report["stacks"] != count:
        raise SystemExit(f"--child {count} synthesized {report['stacks']} stacks")
    # wait4's ru_maxrss is the largest of the child and the descendants it waited for (Linux: RUSAGE_BOTH).
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,  # the process and the Node kernel it waited for
        "python_mib": report["python_peak_mib"],
        "max_process_mib": usage.ru_maxrss / 1024,
    }


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """(slope, intercept, R²) of y = intercept + slope x."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    total = sum((y - mean_y) ** 2 for y in ys)
    return slope, intercept, 1 - residual / total if total else 1.0


def first_synth(runs: int, tmp: Path) -> None:
    """5 stacks with an empty jsii package cache vs a filled one (JSII_RUNTIME_PACKAGE_CACHE_ROOT), alternated."""
    results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    warm_env = {**os.environ, JSII_CACHE_ROOT: str(tmp / "jsii-warm")}
    measure(5, tmp / "fill", warm_env)  # not counted: fills the warm cache
    for run in range(runs):
        cold_env = {**os.environ, JSII_CACHE_ROOT: str(tmp / f"jsii-cold-{run}")}
        results["cold"].append(measure(5, tmp / f"cold-{run}", cold_env))
        results["warm"].append(measure(5, tmp / f"warm-{run}", warm_env))
    print(f"{'jsii cache':<10} {'wall s':>7} {'CPU s':>7} {'Python MiB':>11} {'max MiB':>8}  walls (medians; peaks)")
    for mode, measured in results.items():
        wall, cpu = (statistics.median(r[key] for r in measured) for key in ("wall", "cpu"))
        python_mib, max_mib = (max(r[key] for r in measured) for key in ("python_mib", "max_process_mib"))
        walls = " ".join(f"{r['wall']:.2f}" for r in measured)
        print(f"{mode:<10} {wall:>7.2f} {cpu:>7.2f} {python_mib:>11.0f} {max_mib:>8.0f}  {walls}")
    cold, warm = (statistics.median(r["wall"] for r in results[mode]) for mode in ("cold", "warm"))
    print(f"cold / warm wall = {cold / warm:.2f}")


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="counted runs per point (default: %(default)s)")
    parser.add_argument("--stacks", type=int, nargs="+", default=[1, 5, 20, 50], help="points (default: 1 5 20 50)")
    parser.add_argument("--first-synth", action="store_true", help="empty vs filled jsii package cache, 5 stacks")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.out)
        return 0

    print(f"{os.cpu_count()} CPUs, load average before: {load_average()} (1/5/15 min)")
    if args.first_synth:
        with tempfile.TemporaryDirectory(prefix="bench-first-synth-") as tmp:
            first_synth(args.runs, Path(tmp))
        print(f"load average after: {load_average()}")
        return 0
    results: dict[int, list[dict[str, float]]] = {count: [] for count in args.stacks}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        measure(1, Path(tmp, "warm-up"))  # not counted: bytecode and jsii's package cache
        for run in range(args.runs):
            for count in args.stacks:
                results[count].append(measure(count, Path(tmp, f"{count}-{run}")))
    print(f"load average after: {load_average()}")
    print(f"{'stacks':>6} {'wall s':>7} {'CPU s':>7} {'Python MiB':>11} {'Node MiB':>9}  walls (medians; peaks)")
    fits = {}
    for key in ("wall", "cpu"):
        medians = {count: statistics.median(r[key] for r in runs) for count, runs in results.items()}
        fits[key] = least_squares([float(count) for count in medians], list(medians.values()))
    for count, runs in results.items():
        wall, cpu = (statistics.median(r[key] for r in runs) for key in ("wall", "cpu"))
        python_mib, node_mib = (max(r[key] for r in runs) for key in ("python_mib", "max_process_mib"))
        walls = " ".join(f"{r['wall']:.2f}" for r in runs)
        print(f"{count:>6} {wall:>7.2f} {cpu:>7.2f} {python_mib:>11.0f} {node_mib:>9.0f}  {walls}")
    for key, (slope, intercept, r_squared) in fits.items():
        print(f"{key} = {intercept:.2f} s + {slope:.3f} s x stacks (R² = {r_squared:.4f})")
    slope = fits["wall"][0]
    print(f"goal <= {GOAL_SLOPE_S} s per extra stack (wall): {'met' if slope <= GOAL_SLOPE_S else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
