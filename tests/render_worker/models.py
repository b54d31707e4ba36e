"""Small model files written by the tests themselves: 3MF through lib3mf's writer, STL/OBJ/PLY as bytes."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CUBE_VERTICES = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float
)
CUBE_TRIANGLES = np.array(
    [[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
     [1, 2, 6], [1, 6, 5], [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]],
    dtype=int,
)  # fmt: skip
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)


def translation(x: float, y: float, z: float) -> list[list[float]]:
    return [[1, 0, 0], [0, 1, 0], [0, 0, 1], [x, y, z]]


def write_3mf(
    path: Path,
    items: Sequence[list[list[float]]] = (translation(0, 0, 0),),
    colour: tuple[int, int, int] | None = None,
    unit: str = "MilliMeter",
    as_component: list[list[float]] | None = None,
    scale: float = 10.0,
    vertices: np.ndarray = CUBE_VERTICES,
) -> Path:
    """A cube mesh (or the cube's triangles over other `vertices`) placed once per build item transform;
    optionally coloured, or wrapped in a component."""
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    model.SetUnit(getattr(lib3mf.ModelUnit, unit))
    mesh = _cube_mesh(model, vertices * scale)
    if colour is not None:
        group = model.AddColorGroup()
        pid = group.AddColor(wrapper.RGBAToColor(*colour, 255))
        mesh.SetObjectLevelProperty(group.GetResourceID(), pid)
    target = mesh
    if as_component is not None:
        target = model.AddComponentsObject()
        target.AddComponent(mesh, _transform(wrapper, as_component))
    for fields in items:
        model.AddBuildItem(target, _transform(wrapper, fields))
    model.QueryWriter("3mf").WriteToFile(str(path))
    return path


def _cube_mesh(model, vertices: np.ndarray):
    import lib3mf

    mesh = model.AddMeshObject()
    mesh.SetName("cube")
    mesh.SetGeometry(
        [lib3mf.Position(tuple(float(c) for c in v)) for v in vertices],
        [lib3mf.Triangle(tuple(int(i) for i in t)) for t in CUBE_TRIANGLES],
    )
    return mesh


YELLOW, CYAN, RED, GREEN, BLUE = (255, 255, 0), (0, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255)


def write_materials_3mf(path: Path) -> Path:
    """Two cubes whose objects carry default materials (pid/pindex), with resource and property ids that differ.

    Cube 1: base material "blue" (third of three) by default, its first triangle cyan from a colour group.
    Cube 2 (30 mm along x): colour group entry 1 (yellow) by default.
    """
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    group = model.AddColorGroup()
    yellow, cyan = (group.AddColor(wrapper.RGBAToColor(*c, 255)) for c in (YELLOW, CYAN))
    bases = model.AddBaseMaterialGroup()
    blue = [bases.AddMaterial(n, wrapper.RGBAToColor(*c, 255)) for n, c in (("r", RED), ("g", GREEN), ("b", BLUE))][2]
    first = _cube_mesh(model, CUBE_VERTICES * 10)
    first.SetObjectLevelProperty(bases.GetResourceID(), blue)
    first.SetTriangleProperties(0, lib3mf.TriangleProperties(group.GetResourceID(), (cyan, cyan, cyan)))
    second = _cube_mesh(model, CUBE_VERTICES * 10)
    second.SetObjectLevelProperty(group.GetResourceID(), yellow)
    model.AddBuildItem(first, _transform(wrapper, translation(0, 0, 0)))
    model.AddBuildItem(second, _transform(wrapper, translation(30, 0, 0)))
    model.QueryWriter("3mf").WriteToFile(str(path))
    return path


def write_beam_3mf(path: Path, with_cube: bool = False) -> Path:
    """A beam lattice of two beams in a mesh without triangles (and optionally a cube beside it)."""
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    lattice = model.AddMeshObject()
    lattice.SetGeometry([lib3mf.Position(v) for v in ((0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0))], [])
    lattice.BeamLattice().SetBeams([lib3mf.Beam(ends, (1.0, 1.0), (0, 0)) for ends in ((0, 1), (1, 2))])
    model.AddBuildItem(lattice, wrapper.GetIdentityTransform())
    if with_cube:
        model.AddBuildItem(_cube_mesh(model, CUBE_VERTICES * 10), wrapper.GetIdentityTransform())
    model.QueryWriter("3mf").WriteToFile(str(path))
    return path


def _transform(wrapper, fields: list[list[float]]):
    transform = wrapper.GetIdentityTransform()
    for r, row in enumerate(fields):
        for c, value in enumerate(row):
            transform.Fields[r][c] = value
    return transform


def write_raw_3mf(path: Path, model_xml: str, extra: dict[str, bytes] | None = None) -> Path:
    """A 3MF package with the given 3D/3dmodel.model text (for XML-invalid or mesh-less models)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", RELS)
        package.writestr("3D/3dmodel.model", model_xml)
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return path


EMPTY_MODEL_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xml:lang="en-US" '
    'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources/><build/></model>'
)


def write_binary_stl(path: Path, triangles: np.ndarray | None = None, declared: int | None = None) -> Path:
    tris = CUBE_VERTICES[CUBE_TRIANGLES] if triangles is None else triangles
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *t.ravel(), 0) for t in tris.astype(np.float32))
    count = len(tris) if declared is None else declared
    path.write_bytes(b"binary stl".ljust(80, b" ") + struct.pack("<I", count) + body)
    return path


def write_obj(path: Path) -> Path:
    lines = [f"v {x} {y} {z}" for x, y, z in CUBE_VERTICES]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in CUBE_TRIANGLES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_ply(path: Path, declared_faces: int | None = None) -> Path:
    faces = len(CUBE_TRIANGLES) if declared_faces is None else declared_faces
    header = [
        "ply", "format ascii 1.0", f"element vertex {len(CUBE_VERTICES)}", "property float x",
        "property float y", "property float z", f"element face {faces}",
        "property list uchar int vertex_indices", "end_header",
    ]  # fmt: skip
    body = [f"{x} {y} {z}" for x, y, z in CUBE_VERTICES] + [f"3 {a} {b} {c}" for a, b, c in CUBE_TRIANGLES]
    path.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    return path


CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
TETRA = (
    '<mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="10" y="0" z="0"/><vertex x="0" y="10" z="0"/>'
    '<vertex x="0" y="0" z="10"/></vertices><triangles><triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" '
    'v3="3"/><triangle v1="1" v2="2" v3="3"/><triangle v1="0" v2="3" v3="2"/></triangles></mesh>'
)


def write_nested_3mf(path: Path, fanout: int = 8, levels: int = 5) -> Path:
    """A 4-triangle mesh under `levels` of components, each placing the level below `fanout` times.

    The package is about a kilobyte whatever the levels: it expands to fanout**levels instances.
    """
    objects = [f'<object id="1" type="model">{TETRA}</object>']
    for level in range(levels):
        comps = "".join(
            f'<component objectid="{level + 1}" transform="1 0 0 0 1 0 0 0 1 {i * 12} 0 0"/>' for i in range(fanout)
        )
        objects.append(f'<object id="{level + 2}" type="model"><components>{comps}</components></object>')
    return write_raw_3mf(path, model_xml("".join(objects), item=levels + 1))


def model_xml(resources: str, item: int = 2, head: str = "", extra: str = "") -> str:
    """A core-namespace model part: `resources`, one build item of object `item`, `head` before the root element."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}<model unit="millimeter" xmlns="{CORE_NS}">{extra}'
        f'<resources>{resources}</resources><build><item objectid="{item}"/></build></model>'
    )


def write_binary_ply(path: Path, declared_vertices: int | None = None, vertices: np.ndarray = CUBE_VERTICES) -> Path:
    """A binary little-endian PLY of the cube's triangles; `declared_vertices` overrides the header's count."""
    count = len(vertices) if declared_vertices is None else declared_vertices
    header = (
        f"ply\nformat binary_little_endian 1.0\ncomment written by the tests\nelement vertex {count}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {len(CUBE_TRIANGLES)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    body = np.asarray(vertices, dtype="<f4").tobytes()
    body += b"".join(struct.pack("<B3i", 3, *(int(i) for i in t)) for t in CUBE_TRIANGLES)
    path.write_bytes(header.encode("ascii") + body)
    return path
