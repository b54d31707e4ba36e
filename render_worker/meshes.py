"""Model loading: 3MF through lib3mf (build items, components, units, colours); STL/OBJ/PLY through Blender.

`read_3mf` is pure numpy + lib3mf; `add_parts` and `import_native` need bpy and run in the Blender child.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from render_worker import contract as rc
from render_worker.config import Limits
from render_worker.errors import InputError
from render_worker.inputs import check_triangles, check_vertices

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

    model = lib3mf.get_wrapper().CreateModel()
    reader = model.QueryReader("3mf")
    try:
        reader.ReadFromFile(str(path))
        warnings = tuple(reader.GetWarning(i)[1] for i in range(reader.GetWarningCount()))
        return _read_model(path, model, limits, warnings, lib3mf)
    except lib3mf.ELib3MFException as exc:
        raise InputError(f"{path.name} is not a readable 3MF model: {exc}") from None


def _read_model(path: Path, model: Any, limits: Limits, warnings: tuple[str, ...], lib3mf: Any) -> Model3mf:
    total = _Counts(path, model).build()
    _check_bounds(path, total, limits)
    if total.beams:
        warnings += (f"{total.beams} beam(s) of beam lattices are not rendered (only triangle meshes are)",)
    placed = list(_placements(model))
    # An object without faces (a placeholder, an empty slicer group) is skipped, not framed as a point.
    empty = [mesh.GetResourceID() for mesh, _ in placed if mesh.GetTriangleCount() == 0]
    placed = [(mesh, matrix) for mesh, matrix in placed if mesh.GetTriangleCount() > 0]
    if empty:
        warnings += (f"skipped {len(empty)} object(s) without triangles: ids {sorted(set(empty))}",)
    colours = _Colours(model, lib3mf)
    local = _LocalMeshes(colours)
    parts = tuple(local.place(mesh, matrix) for mesh, matrix in placed)
    check_geometry(path, [(p.vertices, p.triangles) for p in parts])
    unit = UNIT_TO_MM.get(model.GetUnit().name, 1.0)
    return Model3mf(parts=parts, unit_mm=unit, warnings=warnings + colours.warnings)


@dataclass(frozen=True)
class Tally:
    """What an object expands to, instances counted: mesh placements, triangles, vertices, beams, nesting levels."""

    instances: int = 0
    triangles: int = 0
    vertices: int = 0
    beams: int = 0
    depth: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.instances + other.instances,
            self.triangles + other.triangles,
            self.vertices + other.vertices,
            self.beams + other.beams,
            max(self.depth, other.depth),
        )


class _Counts:
    """Counts the component graph once per object (memoised), so 8 components nested 7 deep cost 7 visits, not 8^7.

    Nothing is placed or copied here: the bounds are checked on these counts before any geometry is built.
    """

    def __init__(self, path: Path, model: Any) -> None:
        self._path = path
        self._model = model
        self._memo: dict[int, Tally] = {}

    def build(self) -> Tally:
        total = Tally()
        items = self._model.GetBuildItems()
        while items.MoveNext():
            total += self.of(items.GetCurrent().GetObjectResource(), 0)
        return total

    def of(self, obj: Any, level: int) -> Tally:
        if level > MAX_COMPONENT_DEPTH:  # also ends a component cycle, should a reader let one through
            raise _too_deep(self._path)
        rid = obj.GetResourceID()
        if rid not in self._memo:
            self._memo[rid] = self._count(obj, rid, level)
        return self._memo[rid]

    def _count(self, obj: Any, rid: int, level: int) -> Tally:
        if obj.IsMeshObject():
            mesh = self._model.GetMeshObjectByID(rid)
            beams = mesh.BeamLattice().GetBeamCount()
            return Tally(1, mesh.GetTriangleCount(), mesh.GetVertexCount(), beams)
        if not obj.IsComponentsObject():
            return Tally()
        comps = self._model.GetComponentsObjectByID(rid)
        total = Tally()
        for i in range(comps.GetComponentCount()):
            total += self.of(comps.GetComponent(i).GetObjectResource(), level + 1)
        return Tally(total.instances, total.triangles, total.vertices, total.beams, total.depth + 1)


def _check_bounds(path: Path, total: Tally, limits: Limits) -> None:
    if total.depth > MAX_COMPONENT_DEPTH:  # a shared object met shallow first, deep later
        raise _too_deep(path)
    if total.instances > limits.max_instances:
        raise InputError(
            f"{path.name} places {total.instances} mesh instances (build items x nested components), over the limit "
            f"of {limits.max_instances} (raise {rc.MAX_INSTANCES_ENV} or merge the copies into one mesh)"
        )
    if total.triangles == 0 and total.beams:
        raise InputError(
            f"{path.name} holds only beam lattices ({total.beams} beams, 0 triangles): beam lattices are not "
            "rendered; export the lattice as a triangle mesh"
        )
    check_triangles(path, total.triangles, limits, " (instances counted)")
    check_vertices(path, total.vertices, limits, " (instances counted)")


def _too_deep(path: Path) -> InputError:
    return InputError(f"{path.name} nests 3MF components deeper than the limit of {MAX_COMPONENT_DEPTH} levels")


def _placements(model: Any) -> Any:
    """Yield (mesh object, 4x4 row-vector transform) for every mesh reached from the build."""
    items = model.GetBuildItems()
    while items.MoveNext():
        item = items.GetCurrent()
        yield from _expand(model, item.GetObjectResource(), _matrix(item.GetObjectTransform()))


def _expand(model: Any, obj: Any, matrix: np.ndarray) -> Any:
    if obj.IsMeshObject():
        yield model.GetMeshObjectByID(obj.GetResourceID()), matrix
    elif obj.IsComponentsObject():
        comps = model.GetComponentsObjectByID(obj.GetResourceID())
        for i in range(comps.GetComponentCount()):
            comp = comps.GetComponent(i)
            yield from _expand(model, comp.GetObjectResource(), _matrix(comp.GetTransform()) @ matrix)


def _matrix(transform: Any) -> np.ndarray:
    m = np.eye(4, dtype=np.float64)
    m[:, :3] = np.array([list(row) for row in transform.Fields], dtype=np.float64)
    return m


AREA_FLOOR = 1e-12  # of the squared bounding-box diagonal: below it no pixel of any view is covered
AREA_CHUNK = 65536


def check_geometry(path: Path, meshes: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Refuse geometry with nothing to show: non-finite coordinates, all vertices on one point, or no triangle with
    an area (vertices on one line, every triangle degenerate). Such a model renders blank views.

    `meshes` holds (world-space vertices, triangle indices); the area sum stops as soon as it is clearly not zero,
    so a sound model costs one chunk and a degenerate one at most one pass over the triangle budget.
    """
    low = np.min([v.min(axis=0) for v, _ in meshes], axis=0)
    high = np.max([v.max(axis=0) for v, _ in meshes], axis=0)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise InputError(
            f"{path.name} has non-finite vertex coordinates (NaN, or infinity from a transform past the float range); "
            "nothing can be framed"
        )
    diagonal2 = float(np.sum((high.astype(np.float64) - low) ** 2))
    if diagonal2 == 0:
        raise _degenerate(path, "all its vertices coincide (a zero-size bounding box)")
    if _area_up_to(meshes, AREA_FLOOR * diagonal2) <= AREA_FLOOR * diagonal2:
        raise _degenerate(path, "none of its triangles has an area (its vertices lie on one line)")


def _area_up_to(meshes: list[tuple[np.ndarray, np.ndarray]], floor: float) -> float:
    area = 0.0
    for vertices, triangles in meshes:
        for start in range(0, len(triangles), AREA_CHUNK):
            corners = vertices[triangles[start : start + AREA_CHUNK]].astype(np.float64)
            cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
            area += float(np.linalg.norm(cross, axis=1).sum()) / 2
            if area > floor:
                return area
    return area


def _degenerate(path: Path, what: str) -> InputError:
    return InputError(f"{path.name} has degenerate geometry: {what}, so the views would be blank")


class _LocalMeshes:
    """Each mesh's vertices, triangles and colours are read once; an instance only transforms the vertices."""

    def __init__(self, colours: _Colours) -> None:
        self._colours = colours
        self._cache: dict[int, tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = {}

    def place(self, mesh: Any, matrix: np.ndarray) -> MeshPart:
        rid = mesh.GetResourceID()
        if rid not in self._cache:
            self._cache[rid] = _local(mesh, self._colours)
        name, verts, tris, colours = self._cache[rid]
        world = verts.astype(np.float64) @ matrix[:3, :3] + matrix[3, :3]
        with np.errstate(over="ignore"):  # past the float32 range becomes inf, which check_geometry refuses
            return MeshPart(name=name, vertices=world.astype(np.float32), triangles=tris, corner_colors=colours)


def _local(mesh: Any, colours: _Colours) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None]:
    verts = _bulk(mesh, "getvertices", "Position", mesh.GetVertexCount(), np.float32, 3)
    tris = _bulk(mesh, "gettriangleindices", "Triangle", mesh.GetTriangleCount(), np.uint32, 3).astype(np.int32)
    if len(tris) and (tris.max() >= len(verts)):
        raise InputError(f"3MF object {mesh.GetResourceID()} has a triangle index past its {len(verts)} vertices")
    name = mesh.GetName() or f"object {mesh.GetResourceID()}"
    return name, verts, tris, colours.for_mesh(mesh, len(tris))


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
        # The binding returns (UniqueResourceID, PropertyID, HasObjectLevelProperty): lib3mf/Lib3MF.py 2.5.0.
        default_rid, default_pid, has_default = mesh.GetObjectLevelProperty()
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
    triangles = triangle_count(objects)
    if triangles == 0 and any(len(o.data.vertices) for o in objects):  # the STL importer drops zero-area faces
        raise _degenerate(path, "every triangle has zero area (the importer removed them all)")
    check_triangles(path, triangles, limits)
    check_geometry(path, [_world_mesh(obj) for obj in objects])
    return objects


def _world_mesh(obj: Any) -> tuple[np.ndarray, np.ndarray]:
    """World-space vertices and loop-triangle vertex indices of a Blender mesh object, as numpy arrays."""
    mesh = obj.data
    co = np.empty(len(mesh.vertices) * 3, dtype=np.float32)
    mesh.vertices.foreach_get("co", co)
    matrix = np.array(obj.matrix_world)
    mesh.calc_loop_triangles()
    tris = np.empty(len(mesh.loop_triangles) * 3, dtype=np.int32)
    mesh.loop_triangles.foreach_get("vertices", tris)
    return co.reshape(-1, 3) @ matrix[:3, :3].T + matrix[:3, 3], tris.reshape(-1, 3)


def triangle_count(objects: list[Any]) -> int:
    total = 0
    for obj in objects:
        obj.data.calc_loop_triangles()
        total += len(obj.data.loop_triangles)
    return total
