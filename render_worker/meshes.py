"""Model loading: 3MF through lib3mf (build items, components, units, colours); STL/OBJ/PLY through Blender.

`read_3mf` is pure numpy + lib3mf; `add_parts` and `import_native` need bpy and run in the Blender child.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from render_worker.config import Limits
from render_worker.errors import InputError
from render_worker.inputs import check_triangles

UNIT_TO_MM = {"MicroMeter": 0.001, "MilliMeter": 1.0, "CentiMeter": 10.0, "Inch": 25.4, "Foot": 304.8, "Meter": 1000.0}
MAX_COMPONENT_DEPTH = 16
DEFAULT_RGBA = (0.62, 0.64, 0.68, 1.0)


@dataclass(frozen=True)
class MeshPart:
    """One placed mesh: world-space vertices (model units), triangles, optional per-corner linear RGBA."""

    name: str
    vertices: np.ndarray  # (V, 3) float32
    triangles: np.ndarray  # (T, 3) int32
    corner_colors: np.ndarray | None  # (T, 3, 4) float32, linear


@dataclass(frozen=True)
class Model3mf:
    parts: tuple[MeshPart, ...]
    unit_mm: float
    warnings: tuple[str, ...]

    @property
    def triangle_count(self) -> int:
        return sum(len(p.triangles) for p in self.parts)


def read_3mf(path: Path, limits: Limits) -> Model3mf:
    """Read every build item of a 3MF package into world-space parts, or raise InputError."""
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    reader = model.QueryReader("3mf")
    try:
        reader.ReadFromFile(str(path))
    except lib3mf.ELib3MFException as exc:
        raise InputError(f"{path.name} is not a readable 3MF model: {exc}") from None
    warnings = tuple(reader.GetWarning(i)[1] for i in range(reader.GetWarningCount()))
    placed = list(_placements(model))
    _check_budget(path, placed, limits)
    # An object without faces (a placeholder, an empty slicer group) is skipped, not framed as a point.
    empty = [mesh.GetResourceID() for mesh, _ in placed if mesh.GetTriangleCount() == 0]
    placed = [(mesh, matrix) for mesh, matrix in placed if mesh.GetTriangleCount() > 0]
    if empty:
        warnings += (f"skipped {len(empty)} object(s) without triangles: ids {sorted(set(empty))}",)
    colours = _Colours(model, lib3mf)
    parts = tuple(_part(mesh, matrix, colours) for mesh, matrix in placed)
    unit = UNIT_TO_MM.get(model.GetUnit().name, 1.0)
    return Model3mf(parts=parts, unit_mm=unit, warnings=warnings + colours.warnings)


def _placements(model: Any) -> Any:
    """Yield (mesh object, 4x4 row-vector transform) for every mesh reached from the build."""
    items = model.GetBuildItems()
    while items.MoveNext():
        item = items.GetCurrent()
        yield from _expand(model, item.GetObjectResource(), _matrix(item.GetObjectTransform()), 0)


def _expand(model: Any, obj: Any, matrix: np.ndarray, depth: int) -> Any:
    if depth > MAX_COMPONENT_DEPTH:
        raise InputError(f"3MF components nest deeper than {MAX_COMPONENT_DEPTH} levels")
    if obj.IsMeshObject():
        yield model.GetMeshObjectByID(obj.GetResourceID()), matrix
    elif obj.IsComponentsObject():
        comps = model.GetComponentsObjectByID(obj.GetResourceID())
        for i in range(comps.GetComponentCount()):
            comp = comps.GetComponent(i)
            yield from _expand(model, comp.GetObjectResource(), _matrix(comp.GetTransform()) @ matrix, depth + 1)


def _matrix(transform: Any) -> np.ndarray:
    m = np.eye(4, dtype=np.float64)
    m[:, :3] = np.array([list(row) for row in transform.Fields], dtype=np.float64)
    return m


def _check_budget(path: Path, placed: list[tuple[Any, np.ndarray]], limits: Limits) -> None:
    total = sum(mesh.GetTriangleCount() for mesh, _ in placed)
    check_triangles(path, total, limits, " (instances counted)")


def _part(mesh: Any, matrix: np.ndarray, colours: _Colours) -> MeshPart:
    verts = _bulk(mesh, "getvertices", "Position", mesh.GetVertexCount(), np.float32, 3)
    tris = _bulk(mesh, "gettriangleindices", "Triangle", mesh.GetTriangleCount(), np.uint32, 3).astype(np.int32)
    if len(tris) and (tris.max() >= len(verts)):
        raise InputError(f"3MF object {mesh.GetResourceID()} has a triangle index past its {len(verts)} vertices")
    world = verts.astype(np.float64) @ matrix[:3, :3] + matrix[3, :3]
    return MeshPart(
        name=mesh.GetName() or f"object {mesh.GetResourceID()}",
        vertices=world.astype(np.float32),
        triangles=tris,
        corner_colors=colours.for_mesh(mesh, len(tris)),
    )


def _bulk(mesh: Any, call: str, struct: str, count: int, dtype: Any, width: int) -> np.ndarray:
    """Copy a lib3mf array straight into numpy through the binding's own C entry point.

    The binding's GetVertices/GetTriangleIndices build one Python object per element, which takes seconds and
    gigabytes at the configured triangle budget; the C call fills a caller-owned buffer of packed structs.
    """
    import lib3mf

    out = np.empty((count, width), dtype=dtype)
    needed = ctypes.c_uint64(0)
    pointer = out.ctypes.data_as(ctypes.POINTER(getattr(lib3mf, struct)))
    wrapper = mesh._wrapper
    wrapper.checkError(mesh, getattr(wrapper.lib, f"lib3mf_meshobject_{call}")(mesh._handle, count, needed, pointer))
    return out


class _Colours:
    """Resolves 3MF base materials and colour groups to linear RGBA; other property types keep the default."""

    def __init__(self, model: Any, lib3mf: Any) -> None:
        self._model = model
        self._types = lib3mf.PropertyType
        self._cache: dict[tuple[int, int], tuple[float, ...]] = {}
        self._kinds: dict[int, Any] = {}
        self._warned: set[str] = set()

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(sorted(self._warned))

    def for_mesh(self, mesh: Any, count: int) -> np.ndarray | None:
        has_default, default_rid, default_pid = mesh.GetObjectLevelProperty()
        props = _bulk(mesh, "getalltriangleproperties", "TriangleProperties", count, np.uint32, 4)
        if not has_default and not props[:, 0].any():
            return None
        fallback = self.rgba(default_rid, default_pid) if has_default else DEFAULT_RGBA
        out = np.empty((count, 3, 4), dtype=np.float32)
        out[:] = fallback
        for rid in np.unique(props[:, 0]):
            rows = props[:, 0] == rid
            if rid and self._is_colour(int(rid)):
                pids = props[rows, 1:4]
                pids = np.where(pids == 0, pids[:, :1], pids)  # p2/p3 default to p1
                unique, inverse = np.unique(pids, return_inverse=True)
                table = np.array([self.rgba(int(rid), int(pid)) for pid in unique], dtype=np.float32)
                out[rows] = table[inverse.reshape(-1)].reshape(-1, 3, 4)
        return out

    def _is_colour(self, rid: int) -> bool:
        if rid not in self._kinds:
            self._kinds[rid] = self._model.GetPropertyTypeByID(rid)
        kind = self._kinds[rid]
        if kind in (self._types.BaseMaterial, self._types.Colors):
            return True
        self._warned.add(f"3MF property type {kind.name} is rendered in the default colour")
        return False

    def rgba(self, rid: int, pid: int) -> tuple[float, ...]:
        key = (rid, pid)
        if key not in self._cache:
            self._cache[key] = self._lookup(rid, pid)
        return self._cache[key]

    def _lookup(self, rid: int, pid: int) -> tuple[float, ...]:
        if not self._is_colour(rid):
            return DEFAULT_RGBA
        if self._kinds[rid] == self._types.BaseMaterial:
            colour = self._model.GetBaseMaterialGroupByID(rid).GetDisplayColor(pid)
        else:
            colour = self._model.GetColorGroupByID(rid).GetColor(pid)
        return (*srgb_to_linear(np.array([colour.Red, colour.Green, colour.Blue]) / 255.0), colour.Alpha / 255.0)


def srgb_to_linear(c: np.ndarray) -> tuple[float, ...]:
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return tuple(float(x) for x in lin)


def add_parts(parts: tuple[MeshPart, ...], plain: Any, coloured: Any) -> list[Any]:
    """Create one Blender mesh object per part (bpy); colours become a face-corner colour attribute."""
    import bpy

    objects = []
    for part in parts:
        mesh = bpy.data.meshes.new(part.name)
        mesh.vertices.add(len(part.vertices))
        mesh.vertices.foreach_set("co", part.vertices.ravel())
        mesh.loops.add(part.triangles.size)
        mesh.loops.foreach_set("vertex_index", part.triangles.ravel())
        mesh.polygons.add(len(part.triangles))
        mesh.polygons.foreach_set("loop_start", np.arange(0, part.triangles.size, 3, dtype=np.int32))
        if part.corner_colors is not None:
            attr = mesh.color_attributes.new("Col", "FLOAT_COLOR", "CORNER")
            attr.data.foreach_set("color", part.corner_colors.ravel())
        mesh.validate(clean_customdata=False)
        mesh.update()
        mesh.materials.append(plain if part.corner_colors is None else coloured)
        obj = bpy.data.objects.new(part.name, mesh)
        bpy.context.scene.collection.objects.link(obj)
        objects.append(obj)
    return objects


IMPORTERS = {"stl": "stl_import", "obj": "obj_import", "ply": "ply_import"}


def import_native(path: Path, fmt: str, limits: Limits) -> list[Any]:
    """Import STL/OBJ/PLY with Blender's own importer and enforce the triangle budget afterwards."""
    import bpy

    before = set(bpy.data.objects)
    try:
        getattr(bpy.ops.wm, IMPORTERS[fmt])(filepath=str(path))
    except RuntimeError as exc:
        raise InputError(f"Blender could not import {path.name}: {str(exc).strip()}") from None
    objects = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
    check_triangles(path, triangle_count(objects), limits)
    return objects


def triangle_count(objects: list[Any]) -> int:
    total = 0
    for obj in objects:
        obj.data.calc_loop_triangles()
        total += len(obj.data.loop_triangles)
    return total
