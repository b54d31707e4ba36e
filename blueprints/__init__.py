"""Blueprints: whole GPU systems composed from sdk constructs."""

import importlib
from typing import Any

# Public names, imported on first use (PEP 562) so `from blueprints import AlbInferenceSpec` is all a user writes.
_HOMES = {
    "AlbInferenceService": "blueprints.alb_inference",
    "AlbInferenceSpec": "blueprints.alb_inference_spec",
    "DeploymentSpec": "blueprints.deployment_spec",
    "IdleStopGpuQueue": "blueprints.idle_stop_queue",
    "IdleStopGpuQueueSpec": "blueprints.idle_stop_queue_spec",
    "FractionalGpuRenderer": "blueprints.fractional_renderer",
    "FractionalRendererSpec": "blueprints.fractional_renderer_spec",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'blueprints' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
