"""Validated settings: input limits, per-job render options and worker-wide settings (from env)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from render_worker import contract as rc
from render_worker.contract import DEFAULT_VIEWS, VIEW_NAMES, DeviceName

MiB = 1024 * 1024


class Limits(BaseModel):
    """Bounds applied to every model before and while it is loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_input_bytes: int = Field(256 * MiB, gt=0, description="Largest model file accepted, in bytes. Default 256 MiB.")
    max_uncompressed_bytes: int = Field(
        1024 * MiB, gt=0, description="Largest total unzipped size of a 3MF package, in bytes. Default 1 GiB."
    )
    max_compression_ratio: float = Field(
        200.0, gt=1, description="Largest unzipped/zipped ratio of one 3MF part (zip-bomb guard). Default 200."
    )
    max_triangles: int = Field(
        5_000_000, gt=0, description="Most triangles in a model, instances counted. Default 5,000,000."
    )
    max_instances: int = Field(
        10_000,
        gt=0,
        description="Most mesh instances in a 3MF (build items x nested components), counted before any is placed. "
        "Default 10,000.",
    )
    render_timeout_s: float = Field(
        600.0, gt=0, description="Wall-clock limit for one job in the Blender child, in seconds. Default 600."
    )


class RenderOptions(BaseModel):
    """What one render job produces. Defaults are tuned for fast validation renders."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    views: tuple[str, ...] = Field(
        DEFAULT_VIEWS, min_length=1, description=f"Camera views to render, from {VIEW_NAMES}. Default: {DEFAULT_VIEWS}."
    )
    size: int = Field(512, ge=16, le=8192, description="Square image size in pixels. Default 512.")
    samples: int = Field(
        2,
        ge=1,
        le=65536,
        description="Cycles samples per pixel (blue noise, denoised). Default 2: SSIM >= 0.98 against 1024 samples "
        "(docs/benchmarks.md).",
    )
    device: DeviceName = Field(
        "auto", description="Cycles device: auto prefers OptiX, then CUDA, then CPU. Default auto."
    )
    denoise: bool = Field(True, description="Run OpenImageDenoise on each view. Default true.")
    noise_threshold: float = Field(
        0.05, gt=0, le=1, description="Adaptive sampling noise threshold; lower is cleaner and slower. Default 0.05."
    )

    @field_validator("views", mode="before")
    @classmethod
    def _split_views(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("views")
    @classmethod
    def _known_views(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in VIEW_NAMES]
        if unknown:
            raise ValueError(f"unknown view(s) {unknown}; use any of {', '.join(VIEW_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("views must not repeat")
        return value


class WorkerSettings(BaseModel):
    """Process-wide settings of the worker. `from_env` reads the RENDER_* variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: RenderOptions = Field(
        default_factory=RenderOptions, description="Options used where a job leaves them out. Default RenderOptions()."
    )
    limits: Limits = Field(default_factory=Limits, description="Input and time bounds. Default Limits().")
    kernel_cache_dir: Path = Field(
        Path(rc.KERNEL_CACHE_PATH),
        description="Where CUDA/OptiX kernel caches persist (CUDA_CACHE_PATH points inside it). "
        f"Default {rc.KERNEL_CACHE_PATH}.",
    )
    heartbeat_file: Path = Field(
        Path(rc.HEARTBEAT_FILE),
        description="File touched while the worker and its Blender child are healthy (the health check reads it). "
        f"Default {rc.HEARTBEAT_FILE}.",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> WorkerSettings:
        """Build settings from RENDER_* variables; a bad value raises SettingsError naming the variable."""
        env = os.environ if env is None else env
        try:
            return cls.model_validate({**_settings_from_env(env), **overrides})
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None


class SettingsError(ValueError):
    """A setting or job option is invalid; the message names the field and the accepted values."""


ENV_FIELDS: dict[str, tuple[str, str]] = {
    rc.VIEWS_ENV: ("defaults", "views"),
    rc.SIZE_ENV: ("defaults", "size"),
    rc.SAMPLES_ENV: ("defaults", "samples"),
    rc.DEVICE_ENV: ("defaults", "device"),
    rc.DENOISE_ENV: ("defaults", "denoise"),
    rc.MAX_INPUT_BYTES_ENV: ("limits", "max_input_bytes"),
    rc.MAX_UNCOMPRESSED_BYTES_ENV: ("limits", "max_uncompressed_bytes"),
    rc.MAX_TRIANGLES_ENV: ("limits", "max_triangles"),
    rc.MAX_INSTANCES_ENV: ("limits", "max_instances"),
    rc.TIMEOUT_ENV: ("limits", "render_timeout_s"),
}
PATH_ENV_FIELDS = {rc.KERNEL_CACHE_DIR_ENV: "kernel_cache_dir", rc.HEARTBEAT_FILE_ENV: "heartbeat_file"}


def _settings_from_env(env: Mapping[str, str]) -> dict[str, object]:
    data: dict[str, dict[str, str]] = {"defaults": {}, "limits": {}}
    for var, (group, field) in ENV_FIELDS.items():
        if var in env:
            data[group][field] = env[var]
    paths = {field: env[var] for var, field in PATH_ENV_FIELDS.items() if var in env}
    return {**data, **paths}


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        parts.append(f"{field}: {err['msg']}")
    return "invalid render worker setting: " + "; ".join(parts)


def options_with(defaults: RenderOptions, overrides: Mapping[str, object]) -> RenderOptions:
    """Apply job-level overrides (e.g. a job payload) on top of the defaults, with a named error."""
    try:
        return RenderOptions.model_validate({**defaults.model_dump(), **overrides})
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
