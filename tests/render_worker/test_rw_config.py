"""Settings from RENDER_* variables and job options: defaults, overrides, and errors that name the field.

Named test_rw_config.py because tests/sdk/jobs/test_config.py exists (unique basenames for pytest).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from render_worker.config import DEFAULT_VIEWS, RenderOptions, SettingsError, WorkerSettings, options_with


def test_defaults_are_the_validation_render_settings() -> None:
    settings = WorkerSettings.from_env({})
    assert settings.defaults.views == DEFAULT_VIEWS and settings.defaults.size == 512
    assert settings.defaults.device == "auto" and settings.kernel_cache_dir == Path("/var/cache/render-kernels")


def test_environment_variables_set_defaults_and_limits() -> None:
    # GIVEN the variables a task definition would set
    env = {"RENDER_VIEWS": "front, iso", "RENDER_SAMPLES": "16", "RENDER_DEVICE": "cuda",
           "RENDER_MAX_TRIANGLES": "1000", "RENDER_KERNEL_CACHE_DIR": "/cache/k"}  # fmt: skip
    # WHEN settings are read THEN each lands in its field, typed
    settings = WorkerSettings.from_env(env)
    assert settings.defaults.views == ("front", "iso") and settings.defaults.samples == 16
    assert settings.defaults.device == "cuda" and settings.limits.max_triangles == 1000
    assert settings.kernel_cache_dir == Path("/cache/k")


def test_a_bad_variable_is_one_error_naming_the_field() -> None:
    with pytest.raises(SettingsError, match=r"defaults\.device: Input should be 'auto', 'optix', 'cuda' or 'cpu'"):
        WorkerSettings.from_env({"RENDER_DEVICE": "metal"})


def test_job_options_override_defaults_and_unknown_views_are_named() -> None:
    # GIVEN the defaults WHEN a job asks for two views at 256 px THEN only those change
    options = options_with(RenderOptions(), {"views": ["top", "bottom"], "size": 256})
    assert options.views == ("top", "bottom") and options.size == 256 and options.samples == RenderOptions().samples
    # AND an unknown view is rejected with the list of valid ones
    with pytest.raises(SettingsError, match=r"views: .*unknown view\(s\) \['side'\]; use any of front"):
        options_with(RenderOptions(), {"views": "front,side"})


def test_options_are_frozen_and_reject_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        RenderOptions.model_validate({"sample": 4})
    with pytest.raises(ValidationError, match="frozen"):
        RenderOptions().size = 1  # type: ignore[misc]


def test_the_instance_bound_defaults_to_ten_thousand_and_is_set_by_its_variable() -> None:
    # GIVEN no variable, then RENDER_MAX_INSTANCES=500, then a non-positive value
    # WHEN settings are read THEN the default, the override and a named error follow
    assert WorkerSettings.from_env({}).limits.max_instances == 10_000
    assert WorkerSettings.from_env({"RENDER_MAX_INSTANCES": "500"}).limits.max_instances == 500
    with pytest.raises(SettingsError, match=r"limits\.max_instances"):
        WorkerSettings.from_env({"RENDER_MAX_INSTANCES": "0"})
