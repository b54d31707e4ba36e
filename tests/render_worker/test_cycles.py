"""Cycles device selection: the pure choice, and the real Cycles device list (CPU only on this machine)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from render_worker.cycles import apply_device, choose_backend, cycles_devices, use_kernel_cache
from render_worker.errors import DeviceUnavailable

BOTH = {"optix": ["NVIDIA L4"], "cuda": ["NVIDIA L4"], "cpu": ["CPU"]}
CUDA_ONLY = {"optix": [], "cuda": ["Tesla T4"], "cpu": ["CPU"]}
CPU_ONLY = {"optix": [], "cuda": [], "cpu": ["CPU"]}


def test_auto_prefers_optix_when_cycles_lists_it() -> None:
    # GIVEN OptiX and CUDA devices WHEN auto chooses THEN OptiX wins without fallbacks
    choice = choose_backend("auto", BOTH)
    assert (choice.backend, choice.devices, choice.fallbacks) == ("optix", ("NVIDIA L4",), ())


def test_auto_falls_back_to_cuda_then_cpu_and_logs_each_step(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN CUDA without OptiX, then no GPU at all
    with caplog.at_level(logging.WARNING, logger="render_worker.cycles"):
        cuda = choose_backend("auto", CUDA_ONLY)
        cpu = choose_backend("auto", CPU_ONLY)
    # THEN each fallback is recorded in the choice and logged
    assert cuda.backend == "cuda" and cuda.fallbacks == ("optix: Cycles lists no OPTIX device",)
    assert cpu.backend == "cpu" and len(cpu.fallbacks) == 2
    assert sum("falling back" in r.message for r in caplog.records) == 3


def test_an_explicit_gpu_request_fails_instead_of_falling_back() -> None:
    # GIVEN no OptiX device WHEN optix is requested THEN the error says how to diagnose or relax it
    with pytest.raises(DeviceUnavailable, match=r"probe.*--device auto"):
        choose_backend("optix", CUDA_ONLY)


def test_cpu_is_always_available_when_asked_for() -> None:
    assert choose_backend("cpu", BOTH).backend == "cpu"


def test_the_real_cycles_device_list_has_a_cpu_here() -> None:
    # GIVEN this machine (no GPU) WHEN Cycles lists its devices THEN there is a CPU and no GPU backend device
    found = cycles_devices()
    assert found["cpu"] and found["optix"] == [] and found["cuda"] == []


def test_apply_device_on_auto_configures_the_scene_for_cpu_here() -> None:
    # GIVEN Blender's scene WHEN auto is applied on this GPU-less machine
    import bpy

    choice = apply_device(bpy.context.scene, "auto")
    # THEN the scene renders on the CPU and both GPU fallbacks are recorded
    assert choice.backend == "cpu" and bpy.context.scene.cycles.device == "CPU"
    assert [f.split(":")[0] for f in choice.fallbacks] == ["optix", "cuda"]


def test_apply_device_rejects_cuda_when_cycles_has_none() -> None:
    import bpy

    with pytest.raises(DeviceUnavailable, match="CUDA"):
        apply_device(bpy.context.scene, "cuda")


def test_the_kernel_cache_points_cuda_and_optix_at_the_configured_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a cache folder WHEN it is used
    for name in ("CUDA_CACHE_PATH", "CUDA_CACHE_MAXSIZE", "OPTIX_CACHE_PATH", "OPTIX_CACHE_MAXSIZE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    env = use_kernel_cache(tmp_path / "kernels")
    # THEN CUDA's JIT cache and OptiX's module cache live inside it, exist, and are exported to this process
    assert os.environ["CUDA_CACHE_PATH"] == env["CUDA_CACHE_PATH"] == str(tmp_path / "kernels" / "cuda")
    assert os.environ["OPTIX_CACHE_PATH"] == env["OPTIX_CACHE_PATH"] == str(tmp_path / "kernels" / "optix")
    assert (tmp_path / "kernels" / "cuda").is_dir() and (tmp_path / "kernels" / "optix").is_dir()
    assert int(os.environ["CUDA_CACHE_MAXSIZE"]) >= 1 << 30
