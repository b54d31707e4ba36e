"""GPU render worker: probes the GPU, renders validation views with Blender Cycles, consumes render jobs.

Importing this package is cheap: bpy, lib3mf, torch and NVML are imported by the functions that need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gpu-blueprints")  # pyproject.toml's: the one version source
except PackageNotFoundError:  # a checkout used without installing it
    __version__ = "0+unknown"
