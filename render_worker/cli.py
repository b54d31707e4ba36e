"""`python -m render_worker probe|render|serve|health`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from render_worker.config import VIEW_NAMES, SettingsError, WorkerSettings, options_with
from render_worker.errors import DeviceUnavailable, InputError, RenderCrashed, RenderError
from sdk.jobs.telemetry import configure_json_logging

EXIT_INPUT, EXIT_DEVICE, EXIT_CRASH, EXIT_NO_GPU, EXIT_UNHEALTHY = 2, 3, 4, 5, 6
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (InputError, EXIT_INPUT),
    (SettingsError, EXIT_INPUT),
    (DeviceUnavailable, EXIT_DEVICE),
    (RenderCrashed, EXIT_CRASH),
    (RenderError, EXIT_CRASH),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m render_worker", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe", help="report GPU layers and the backend Cycles will use")
    probe.add_argument("--json", action="store_true", help="print the report as JSON")
    probe.add_argument("--require-gpu", action="store_true", help=f"exit {EXIT_NO_GPU} without a usable GPU")
    probe.add_argument("--dev-root", type=Path, default=Path("/dev"), help="device tree to inspect (default /dev)")
    probe.add_argument("--no-torch", action="store_true", help="skip the torch CUDA kernel check")
    render = sub.add_parser("render", help="render views of one model into a folder")
    render.add_argument("model", type=Path, help="3MF, STL, OBJ or PLY file")
    render.add_argument("--out", type=Path, required=True, help="output folder (created)")
    render.add_argument("--views", help=f"comma-separated, from {','.join(VIEW_NAMES)}")
    render.add_argument("--size", type=int, help="square image size in pixels (default 512)")
    render.add_argument("--samples", type=int, help="Cycles samples per pixel (default 2, blue noise + denoised)")
    render.add_argument("--device", choices=("auto", "optix", "cuda", "cpu"), help="default auto")
    render.add_argument("--no-denoise", action="store_true", help="skip OpenImageDenoise")
    sub.add_parser("serve", help="consume render jobs from the queue (GPU_JOBS_* environment)")
    selftest = sub.add_parser("selftest", help="render one small view of a built-in cube (image smoke test)")
    selftest.add_argument("--device", choices=("auto", "optix", "cuda", "cpu"), default="auto")
    health = sub.add_parser("health", help="exit 0 while the job loop's newest stamp is within its step's bound")
    health.add_argument(
        "--max-age", type=float, default=60.0, help="seconds a stamp stays fresh at least (default 60); a render's "
        "stamp allows Blender's start-up plus the render timeout"
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":  # the worker's lines go to CloudWatch as JSON (ts, level, logger, msg, extras)
        configure_json_logging()
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return COMMANDS[args.command](args)
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return code


def exit_code(exc: BaseException) -> int | None:
    """The exit status a reported error ends the command with; None for one that is not ours to report."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), None)


def _probe(args: argparse.Namespace) -> int:
    from render_worker.probe import format_report, probe

    report = probe(dev_root=args.dev_root, with_torch=not args.no_torch)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return EXIT_NO_GPU if args.require_gpu and not report.verdict.gpu_usable else 0


def _render(args: argparse.Namespace) -> int:
    from render_worker.isolation import RenderProcess

    settings = WorkerSettings.from_env()
    flags = {"views": args.views, "size": args.size, "samples": args.samples, "device": args.device}
    overrides = {k: v for k, v in flags.items() if v is not None}
    if args.no_denoise:
        overrides["denoise"] = False
    options = options_with(settings.defaults, overrides)
    renderer = RenderProcess(settings)
    try:
        report = renderer.render(args.model, args.out, options)
    finally:
        renderer.close()
    views = ", ".join(f"{v.name} {v.seconds:.2f}s" for v in report.views)
    print(f"rendered {args.model.name} on {report.device.backend}: {views}; outputs in {args.out}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from render_worker.worker import serve

    serve(WorkerSettings.from_env())
    return 0


def _selftest(args: argparse.Namespace) -> int:
    import tempfile

    from render_worker.isolation import RenderProcess

    settings = WorkerSettings.from_env()
    options = options_with(settings.defaults, {"views": ("iso",), "size": 32, "samples": 1, "device": args.device})
    with tempfile.TemporaryDirectory(prefix="render-selftest-") as tmp:
        model = Path(tmp) / "cube.stl"
        model.write_text(CUBE_STL, encoding="utf-8")
        renderer = RenderProcess(settings)
        try:
            report = renderer.render(model, Path(tmp) / "out", options)
        finally:
            renderer.close()
        if not (Path(tmp) / "out" / "iso.png").stat().st_size:
            raise RenderError("self-test rendered an empty image")
    print(f"selftest ok: {report.triangles} triangles on {report.device.backend} in {report.total_seconds:.2f} s")
    return 0


CUBE_STL = "solid cube\n" + "".join(
    f"facet normal 0 0 0\nouter loop\n{''.join(f'vertex {x} {y} {z}' + chr(10) for x, y, z in tri)}endloop\nendfacet\n"
    for tri in (
        ((0, 0, 0), (1, 1, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0), (1, 1, 0)),
        ((0, 0, 1), (1, 0, 1), (1, 1, 1)), ((0, 0, 1), (1, 1, 1), (0, 1, 1)),
        ((0, 0, 0), (1, 0, 0), (1, 0, 1)), ((0, 0, 0), (1, 0, 1), (0, 0, 1)),
        ((1, 0, 0), (1, 1, 0), (1, 1, 1)), ((1, 0, 0), (1, 1, 1), (1, 0, 1)),
        ((1, 1, 0), (0, 1, 0), (0, 1, 1)), ((1, 1, 0), (0, 1, 1), (1, 1, 1)),
        ((0, 1, 0), (0, 0, 0), (0, 0, 1)), ((0, 1, 0), (0, 0, 1), (0, 1, 1)),
    )
) + "endsolid cube\n"  # fmt: skip


def _health(args: argparse.Namespace) -> int:
    from render_worker.health import check

    healthy, line = check(WorkerSettings.from_env().heartbeat_file, args.max_age)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else EXIT_UNHEALTHY


COMMANDS = {"probe": _probe, "render": _render, "serve": _serve, "selftest": _selftest, "health": _health}
