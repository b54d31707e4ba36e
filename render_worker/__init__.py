"""GPU render worker: probes the GPU, renders validation views with Blender Cycles, consumes render jobs.

Importing this package is cheap: bpy, lib3mf, torch and NVML are imported by the functions that need them.
"""

__version__ = "0.1.0"
