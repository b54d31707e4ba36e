"""Studio scene (bpy): empty scene, one material, model normalised to a unit bounding sphere, lights, camera views.

Normalising the model makes lighting, camera distance and clipping identical for every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Camera directions (from the model towards the camera), Blender axes: -Y is the front.
VIEW_DIRECTIONS: dict[str, tuple[float, float, float]] = {
    "front": (0.0, -1.0, 0.35),
    "back": (0.0, 1.0, 0.35),
    "left": (-1.0, 0.0, 0.35),
    "right": (1.0, 0.0, 0.35),
    "top": (0.0, -0.02, 1.0),
    "bottom": (0.0, 0.02, -1.0),
    "iso": (1.0, -1.0, 0.9),
}
LENS_MM = 85.0
SENSOR_MM = 36.0
FRAME_MARGIN = 1.04
BASE_COLOUR = (0.62, 0.64, 0.68, 1.0)


@dataclass(frozen=True)
class Bounds:
    """Axis-aligned bounds of the model in its own units, before normalisation."""

    low: tuple[float, float, float]
    high: tuple[float, float, float]

    @property
    def half_extent_normalised(self) -> tuple[float, float, float]:
        """Half size of the box after `normalise` (bounding sphere radius 1)."""
        dims = np.array(self.dimensions)
        radius = float(np.linalg.norm(dims) / 2) or 1.0
        x, y, z = (dims / 2 / radius).tolist()
        return (x, y, z)

    @property
    def dimensions(self) -> tuple[float, float, float]:
        return tuple(float(h - lo) for lo, h in zip(self.low, self.high, strict=True))  # type: ignore[return-value]


def reset() -> None:
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)


def studio_material(coloured: bool) -> Any:
    """Principled BSDF: neutral grey, or driven by the mesh's "Col" colour attribute when `coloured`."""
    import bpy

    mat = bpy.data.materials.new("studio-coloured" if coloured else "studio")
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = BASE_COLOUR
    bsdf.inputs["Roughness"].default_value = 0.5
    if coloured:
        attr = tree.nodes.new("ShaderNodeAttribute")
        attr.attribute_name = "Col"
        tree.links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def normalise(objects: list[Any]) -> Bounds:
    """Centre the objects on the origin and scale them to a bounding sphere of radius 1; return original bounds."""
    import bpy
    from mathutils import Matrix, Vector

    low, high = world_bounds(objects)
    centre = (low + high) / 2
    radius = float(np.linalg.norm(high - low) / 2) or 1.0
    to_unit = Matrix.Scale(1.0 / radius, 4) @ Matrix.Translation(-Vector(centre.tolist()))
    for obj in objects:
        obj.matrix_world = to_unit @ obj.matrix_world
    bpy.context.view_layer.update()
    return Bounds(low=tuple(low.tolist()), high=tuple(high.tolist()))


def world_bounds(objects: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    lows, highs = [], []
    for obj in objects:
        co = np.empty(len(obj.data.vertices) * 3, dtype=np.float32)
        obj.data.vertices.foreach_get("co", co)
        pts = co.reshape(-1, 3) @ np.array(obj.matrix_world)[:3, :3].T + np.array(obj.matrix_world)[:3, 3]
        lows.append(pts.min(axis=0))
        highs.append(pts.max(axis=0))
    return np.min(lows, axis=0), np.max(highs, axis=0)


def add_studio() -> Any:
    """Soft world light, key/fill/rim area lights and the camera; return the camera object."""
    import bpy

    scene = bpy.context.scene
    world = bpy.data.worlds.new("studio")
    scene.world = world
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (0.78, 0.8, 0.84, 1.0)
    background.inputs["Strength"].default_value = 0.35
    _area_light("key", (2.2, -2.8, 3.2), 110.0, 2.2)
    _area_light("fill", (-3.2, -1.6, 1.4), 35.0, 3.0)
    _area_light("rim", (0.5, 3.2, 2.6), 50.0, 2.0)
    data = bpy.data.cameras.new("camera")
    data.lens = LENS_MM
    data.sensor_width = SENSOR_MM
    data.clip_start = 0.01
    data.clip_end = 100.0
    camera = bpy.data.objects.new("camera", data)
    scene.collection.objects.link(camera)
    scene.camera = camera
    return camera


def _area_light(name: str, location: tuple[float, float, float], watts: float, size: float) -> None:
    import bpy
    from mathutils import Vector

    data = bpy.data.lights.new(name, "AREA")
    data.energy = watts
    data.size = size
    obj = bpy.data.objects.new(name, data)
    obj.location = location
    obj.rotation_euler = (-Vector(location)).to_track_quat("-Z", "Y").to_euler()
    bpy.context.scene.collection.objects.link(obj)


def aim(camera: Any, view: str, half_extent: tuple[float, float, float]) -> None:
    """Place the camera on `view`'s direction, as close as the normalised bounding box allows."""
    from mathutils import Vector

    direction = Vector(VIEW_DIRECTIONS[view]).normalized()
    rotation = (-direction).to_track_quat("-Z", "Y")
    camera.rotation_euler = rotation.to_euler()
    camera.location = direction * fit_distance(np.array(rotation.to_matrix()), np.array(half_extent))


def fit_distance(rotation: np.ndarray, half_extent: np.ndarray) -> float:
    """Distance along the view axis at which every box corner lies inside the (square) field of view."""
    tan_half = SENSOR_MM / 2 / LENS_MM / FRAME_MARGIN
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
    local = (signs * half_extent) @ rotation  # camera-space coordinates (columns: right, up, back)
    needed = np.abs(local[:, :2]) / tan_half + local[:, 2:3]
    return float(needed.max())
