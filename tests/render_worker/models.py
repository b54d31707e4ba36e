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
) -> Path:
    """A cube mesh placed once per build item transform; optionally coloured, or wrapped in a component."""
    import lib3mf

    wrapper = lib3mf.get_wrapper()
    model = wrapper.CreateModel()
    model.SetUnit(getattr(lib3mf.ModelUnit, unit))
    mesh = model.AddMeshObject()
    mesh.SetName("cube")
    mesh.SetGeometry(
        [lib3mf.Position(tuple(float(c) * scale for c in v)) for v in CUBE_VERTICES],
        [lib3mf.Triangle(tuple(int(i) for i in t)) for t in CUBE_TRIANGLES],
    )
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
