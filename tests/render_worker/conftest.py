"""Fixtures for render_worker tests: one warm Blender child per test session, sample folder, small settings."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from render_worker.config import Limits, RenderOptions, WorkerSettings
from render_worker.cycles import DeviceChoice
from render_worker.isolation import RenderProcess
from render_worker.report import Dimensions, RenderReport, ViewReport

# ../shared beside the checkout; a git worktree sits one level deeper (wt/<name>), so look upwards for it.
SAMPLES = next(
    (p / "shared/samples/3mf" for p in Path(__file__).resolve().parents[3:] if (p / "shared/samples/3mf").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "samples" / "3mf",
)
FAST = RenderOptions(views=("front", "iso"), size=64, samples=2, denoise=False)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> WorkerSettings:
    base = tmp_path_factory.mktemp("render-worker")
    return WorkerSettings(
        defaults=FAST,
        limits=Limits(render_timeout_s=120),
        kernel_cache_dir=base / "kernels",
        heartbeat_file=base / "heartbeat",
    )


@pytest.fixture(scope="session")
def renderer(settings: WorkerSettings) -> Iterator[RenderProcess]:
    """A warm Blender child shared by the session (as in the worker); tests that kill it make their own."""
    process = RenderProcess(settings)
    yield process
    process.close()


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"3MF samples folder {SAMPLES} is absent")
    return SAMPLES


@pytest.fixture(scope="session")
def models() -> ModuleType:
    """tests/render_worker/models.py (writers of small model files), loaded by path under any import mode."""
    spec = importlib.util.spec_from_file_location("render_worker_test_models", Path(__file__).with_name("models.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def lib3mf_loaded() -> None:
    """Load lib3mf's shared library once, so a timed read measures the model, not the first dlopen."""
    import lib3mf

    lib3mf.get_wrapper().CreateModel()


def sample_report() -> RenderReport:
    """A two-view CPU render's report, as the Blender child returns it."""
    return RenderReport(
        model="cube.3mf",
        format="3mf",
        input_bytes=1234,
        triangles=12,
        parts=1,
        dimensions=Dimensions(model_units=(10.0, 10.0, 10.0), unit_mm=1.0, warnings=("texture ignored",)),
        device=DeviceChoice("cpu", ("CPU",), ("optix: no device",)),
        options=RenderOptions(views=("front", "iso")),
        views=(
            ViewReport(name="front", file="front.png", seconds=0.5),
            ViewReport(name="iso", file="iso.png", seconds=0.7),
        ),
        timings_s={"render": 1.2, "total": 2.0},
        blender="5.0.1",
    )
