"""Render benchmark: 5 views of a 3MF sample, cold vs warm process, per-view time and SSIM vs a reference.

    .venv/bin/python bench/render.py [--model PATH] [--size 512] [--samples 4] [--device auto] [--runs 2]

The reference is rendered by the same code at 1024 samples (adaptive threshold 0.01, Blender's default; no
denoiser) and cached under ~/.cache/render-worker-bench keyed by model, size, views and the source of
render_worker/scene.py, so only the first run after a change to the scene pays for it (minutes on 2 cores).
Speed settings in render.py do not re-key it: they are measured against the same reference.

CPU is user+system seconds of the Blender child (all its threads) per warm job, which load inflates less than
wall time. The last line sums up the warm jobs: CPU and wall (median, min-max) and the lowest SSIM of any view.
Prints figures and asserts nothing: timing goals are read, not unit-tested.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from render_worker.config import Limits, RenderOptions, WorkerSettings  # noqa: E402
from render_worker.isolation import RenderProcess  # noqa: E402
from render_worker.metrics import ssim_files  # noqa: E402
from render_worker.report import REPORT_NAME  # noqa: E402

# ../shared beside the checkout; a git worktree sits one level deeper (wt/<name>), so look upwards for it.
SAMPLES = next((p / "shared/samples/3mf" for p in ROOT.parents if (p / "shared/samples/3mf").is_dir()), ROOT.parent)
DEFAULT_MODEL = SAMPLES / "cube_gears.3mf"
REFERENCE = {"samples": 1024, "denoise": False, "noise_threshold": 0.01}
CACHE = Path.home() / ".cache" / "render-worker-bench"


def main() -> int:
    args = _args()
    if not args.model.is_file():
        print(f"model {args.model} not found (the samples folder is absent); nothing to measure")
        return 0
    options = RenderOptions(size=args.size, samples=args.samples, device=args.device)
    print(f"model {args.model.name}, {options.size} px, {options.samples} samples, device {options.device}")
    print(f"machine: {os.cpu_count()} CPUs, load average at start {_load()}")
    if not args.no_cold:
        cold = _cold(args.model, options)
        print(f"cold process (python -m render_worker render, includes interpreter + bpy import): {cold:.2f} s wall")
    settings = WorkerSettings.from_env()
    renderer = RenderProcess(settings)
    start = time.perf_counter()
    renderer.start()
    print(f"warm-up of the Blender child (spawn + import bpy + device list): {time.perf_counter() - start:.2f} s")
    reference = _reference(renderer, args.model, options)
    try:
        runs = [_warm_run(renderer, args.model, options, reference, run) for run in range(1, args.runs + 1)]
    finally:
        renderer.close()
    print(f"load average at end {_load()}")
    print(_summary(runs))
    return 0


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--samples", type=int, default=RenderOptions().samples)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs", type=int, default=2, help="warm jobs to time (default 2)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-process run")
    return parser.parse_args()


def _cold(model: Path, options: RenderOptions) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "render_worker", "render", str(model), "--out", out]
        cmd += ["--size", str(options.size), "--samples", str(options.samples), "--device", options.device]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def _reference(renderer: RenderProcess, model: Path, options: RenderOptions) -> Path:
    folder = CACHE / _reference_key(model, options)
    if not (folder / REPORT_NAME).is_file():
        print(f"rendering the reference ({REFERENCE}) into {folder} ...", flush=True)
        start = time.perf_counter()
        ref_options = options.model_copy(update=REFERENCE)
        renderer.render(model, folder, ref_options, settings_limits(renderer))
        print(f"reference took {time.perf_counter() - start:.1f} s")
    return folder


def settings_limits(renderer: RenderProcess) -> Limits:
    return renderer.settings.limits.model_copy(update={"render_timeout_s": 3600.0})


def _reference_key(model: Path, options: RenderOptions) -> str:
    digest = hashlib.sha256(model.read_bytes())
    digest.update((ROOT / "render_worker" / "scene.py").read_bytes())  # what the image depends on besides the model
    digest.update(f"{options.size}|{options.views}|{REFERENCE}".encode())
    return digest.hexdigest()[:16]


def _warm_run(
    renderer: RenderProcess, model: Path, options: RenderOptions, reference: Path, run: int
) -> tuple[float, float, float]:
    """One warm job; returns (wall s, child CPU s, lowest SSIM of its views)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start, cpu = time.perf_counter(), _child_cpu(renderer)
        report = renderer.render(model, out, options)
        wall = time.perf_counter() - start
        used = _child_cpu(renderer) - cpu
        print(
            f"warm job {run}: {wall:.2f} s wall, {used:.2f} s CPU (user+sys of the Blender child) for "
            f"{len(report.views)} views (device {report.device.backend}; load {_load()})"
        )
        print(f"  phases: {report.timings_s}")
        scores = []
        for view in report.views:
            scores.append(ssim_files(out / view.file, reference / view.file))
            print(f"  {view.name:>6}: {view.seconds:.2f} s  SSIM {scores[-1]:.4f}")
        return wall, used, min(scores)


def _summary(runs: list[tuple[float, float, float]]) -> str:
    walls, cpus, scores = zip(*runs, strict=True)

    def spread(values: tuple[float, ...]) -> str:
        return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"

    return f"warm job: CPU {spread(cpus)}, wall {spread(walls)}, SSIM min {min(scores):.4f} over {len(runs)} jobs"


def _child_cpu(renderer: RenderProcess) -> float:
    """User+system CPU seconds of the Blender child, from /proc (Linux)."""
    if renderer.pid is None:
        return 0.0
    fields = Path(f"/proc/{renderer.pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
