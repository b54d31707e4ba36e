"""Cycles device selection: auto prefers OptiX, then CUDA, then CPU, and says why it fell back.

`choose_backend` is pure; `apply_device` reads Cycles' own device list (bpy) and configures the scene.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from render_worker.errors import DeviceUnavailable

GPU_BACKENDS = ("optix", "cuda")
log = logging.getLogger("render_worker.cycles")


@dataclass(frozen=True)
class DeviceChoice:
    """The backend Cycles renders with, its devices, and one line per backend that was passed over."""

    backend: str
    devices: tuple[str, ...]
    fallbacks: tuple[str, ...] = field(default=())


def choose_backend(preference: str, available: Mapping[str, Sequence[str]]) -> DeviceChoice:
    """Pick a backend from `available` (backend -> device names). An explicit GPU request never falls back."""
    if preference in GPU_BACKENDS:
        if not available.get(preference):
            raise DeviceUnavailable(
                f"device {preference!r} was requested but Cycles lists no {preference.upper()} device; "
                "run `python -m render_worker probe` for the diagnosis, or use --device auto to allow CPU"
            )
        return DeviceChoice(preference, tuple(available[preference]))
    fallbacks: list[str] = []
    if preference == "auto":
        for backend in GPU_BACKENDS:
            if available.get(backend):
                return DeviceChoice(backend, tuple(available[backend]), tuple(fallbacks))
            fallbacks.append(f"{backend}: Cycles lists no {backend.upper()} device")
            log.warning("device auto: no %s device, falling back", backend.upper())
    return DeviceChoice("cpu", tuple(available.get("cpu", ("CPU",))), tuple(fallbacks))


def cycles_devices(backends: Sequence[str] = (*GPU_BACKENDS, "cpu")) -> dict[str, list[str]]:
    """Cycles' own device list per backend (bpy), after a refresh."""
    prefs = _cycles_prefs()
    prefs.refresh_devices()
    found: dict[str, list[str]] = {}
    for backend in backends:
        kind = backend.upper()
        found[backend] = [d.name for d in prefs.get_devices_for_type(kind) if d.type == kind]
    return found


def apply_device(scene: Any, preference: str) -> DeviceChoice:
    """Enable only the chosen backend's devices and point the scene at them."""
    choice = choose_backend(preference, cycles_devices())
    prefs = _cycles_prefs()
    prefs.compute_device_type = "NONE" if choice.backend == "cpu" else choice.backend.upper()
    for device in prefs.devices:
        device.use = device.type == choice.backend.upper()
    scene.cycles.device = "CPU" if choice.backend == "cpu" else "GPU"
    log.info("cycles device: %s %s", choice.backend, ", ".join(choice.devices))
    return choice


def _cycles_prefs() -> Any:
    import bpy

    return bpy.context.preferences.addons["cycles"].preferences


def kernel_cache_env(cache_dir: Path) -> dict[str, str]:
    """Variables that persist CUDA's JIT cache (PTX on H100/A100), OptiX's module cache (its default sits under
    /var/tmp, read-only in the task) and Cycles' kernels under `cache_dir`."""
    return {
        "CUDA_CACHE_PATH": str(cache_dir / "cuda"),
        "CUDA_CACHE_MAXSIZE": str(4 * 1024**3),
        "OPTIX_CACHE_PATH": str(cache_dir / "optix"),
        "OPTIX_CACHE_MAXSIZE": str(2 * 1024**3),
        "XDG_CACHE_HOME": str(cache_dir / "xdg"),
    }


def use_kernel_cache(cache_dir: Path) -> dict[str, str]:
    """Create the cache folders and export the variables; call before bpy initialises CUDA."""
    env = kernel_cache_env(cache_dir)
    for key in ("CUDA_CACHE_PATH", "OPTIX_CACHE_PATH", "XDG_CACHE_HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env
