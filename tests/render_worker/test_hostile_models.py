"""The hostile-input table for model files: every crafted file and the outcome the worker must give it.

Each case writes its own file. Parse cases run the parent's pre-checks and (for 3MF) the lib3mf reader, each within
a time bound (a model may cost at most its bounds); Blender cases go through the warm Blender child. A refusal is an
InputError, which the CLI ends with exit 2 and the queue fails at once (no retry). New hostile inputs get a row here.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from render_worker.cli import EXIT_INPUT, exit_code
from render_worker.config import Limits, RenderOptions
from render_worker.errors import InputError
from render_worker.inputs import inspect_model
from render_worker.isolation import RenderProcess
from render_worker.meshes import read_3mf

LIMITS = Limits()
Writer = Callable[[ModuleType, Path], Path]


@dataclass(frozen=True)
class Case:
    """A crafted file and its expected outcome: refused (InputError, exit 2) with `refused` in the message, or
    accepted when `refused` is None."""

    name: str
    write: Writer
    refused: str | None
    limits: Limits = LIMITS
    seconds: float = 30.0  # a hang guard (a case that never returns fails), not a speed goal


def _bytes(name: str, data: bytes) -> Writer:
    def write(models: ModuleType, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return write


def _cut_3mf(models: ModuleType, folder: Path) -> Path:
    whole = models.write_3mf(folder / "whole.3mf").read_bytes()
    return _bytes("half.3mf", whole[: len(whole) // 2])(models, folder)


def _encrypted_3mf(models: ModuleType, folder: Path) -> Path:
    data = bytearray(models.write_3mf(folder / "locked.3mf").read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_offset] |= 0x1  # the zip "encrypted" flag
            at = data.find(signature, at + 4)
    return _bytes("locked.3mf", bytes(data))(models, folder)


def _zip_without_model(models: ModuleType, folder: Path) -> Path:
    with zipfile.ZipFile(folder / "photos.3mf", "w") as package:
        package.writestr("readme.txt", "hello")
    return folder / "photos.3mf"


def _raw_3mf(name: str, resources: str, head: str = "", extra: str = "") -> Writer:
    return lambda models, folder: models.write_raw_3mf(folder / name, models.model_xml(resources, 2, head, extra))


def _stl(name: str, triangles: np.ndarray | None = None, declared: int | None = None) -> Writer:
    return lambda models, folder: models.write_binary_stl(folder / name, triangles, declared)


def _obj_with_mtllib(name: str, fifo: str | None = None) -> Writer:
    def write(models: ModuleType, folder: Path) -> Path:
        if fifo:
            os.mkfifo(folder / fifo)
        (folder / "beside.mtl").write_text("newmtl grey\nKd 0.5 0.5 0.5\n", encoding="utf-8")
        path = models.write_obj(folder / "lib.obj")
        path.write_text(f"mtllib {name}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        return path

    return write


def _not_regular(kind: str) -> Writer:
    def write(models: ModuleType, folder: Path) -> Path:
        path = folder / "x.stl"
        if kind == "directory":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
        return path

    return write


BAD_INDEX = (
    '<object id="2" type="model"><mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="10" y="0" z="0"/>'
    '<vertex x="0" y="10" z="0"/></vertices><triangles><triangle v1="0" v2="1" v3="99"/></triangles></mesh></object>'
)
LAUGHS = (
    '<!DOCTYPE model [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {b} "{f"&{a};" * 10}">' for a, b in zip("abcdefg", "bcdefgh", strict=True))
    + "]>"
)
CYCLE = (
    '<object id="2" type="model"><components><component objectid="3"/></components></object>'
    '<object id="3" type="model"><components><component objectid="2"/></components></object>'
)
ZEROS = np.zeros((8, 3))
HUGE = [[1e38, 0, 0], [0, 1e38, 0], [0, 0, 1e38], [0, 0, 0]]
LINE = np.repeat(np.arange(8.0)[:, None], 3, axis=1)  # on the diagonal x = y = z
PLY_2E9 = (
    b"ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\nproperty float x\nproperty float y\n"
    b"property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n" + bytes(64)
)

# fmt: off
PARSE_CASES = [
    # 3MF: zip level (parent pre-check, standard library only)
    Case(
        "3mf zip bomb part",
        lambda m, d: m.write_raw_3mf(d / "bomb.3mf", m.EMPTY_MODEL_XML, {"Metadata/pad.bin": bytes(8 << 20)}),
        "expands more than 200x (zip bomb guard)",
    ),
    Case(
        "3mf unzip budget",
        lambda m, d: m.write_raw_3mf(d / "big.3mf", m.EMPTY_MODEL_XML, {"Metadata/pad.bin": bytes(4 << 20)}),
        "unzips to more than 1048576 bytes",
        Limits(max_uncompressed_bytes=1 << 20, max_compression_ratio=1e9),
    ),
    Case("3mf truncated upload", _cut_3mf, "not a zip file (or truncated)"),
    Case("3mf wrong magic", _bytes("text.3mf", b"solid not a zip at all"), "not a 3MF package: not a zip file"),
    Case("3mf encrypted", _encrypted_3mf, "is an encrypted 3MF package"),
    Case("3mf zip without a model part", _zip_without_model, "no 3D model part"),
    Case("3mf empty file", _bytes("empty.3mf", b""), "empty.3mf is empty"),
    # 3MF: model level (lib3mf, counts checked before any geometry is built)
    Case(
        "3mf nested 8^6 instances",
        lambda m, d: m.write_nested_3mf(d / "n6.3mf", 8, 6),
        "places 262144 mesh instances",
    ),
    Case(
        "3mf nested 8^7 instances",
        lambda m, d: m.write_nested_3mf(d / "n7.3mf", 8, 7),
        "places 2097152 mesh instances",
    ),
    Case(
        "3mf nested 8^5 over the triangle budget",
        lambda m, d: m.write_nested_3mf(d / "n5.3mf", 8, 5),
        "has 131072 triangles (instances counted)",
        Limits(max_instances=10**6, max_triangles=100_000),
    ),
    Case(
        "3mf components 17 deep",
        lambda m, d: m.write_nested_3mf(d / "deep.3mf", 1, 17),
        "deeper than the limit of 16 levels",
    ),
    Case("3mf component cycle", _raw_3mf("cycle.3mf", CYCLE), "is not a readable 3MF model"),
    Case(
        "3mf XML entity expansion",
        _raw_3mf("laughs.3mf", "", LAUGHS, '<metadata name="Title">&h;</metadata>'),
        "is not a readable 3MF model",
    ),
    Case(
        "3mf triangle index past the vertices",
        _raw_3mf("index.3mf", BAD_INDEX),
        "is not a readable 3MF model",
    ),
    Case(
        "3mf broken XML",
        lambda m, d: m.write_raw_3mf(d / "broken.3mf", "<model><resources><object"),
        "is not a readable 3MF model",
    ),
    Case("3mf empty build", lambda m, d: m.write_raw_3mf(d / "none.3mf", m.EMPTY_MODEL_XML), "has 0 triangles"),
    Case(
        "3mf beam lattice only",
        lambda m, d: m.write_beam_3mf(d / "lattice.3mf"),
        "holds only beam lattices (2 beams, 0 triangles): beam lattices are not rendered",
    ),
    Case(
        "3mf all vertices coincide",
        lambda m, d: m.write_3mf(d / "point.3mf", vertices=ZEROS),
        "degenerate geometry: all its vertices coincide",
    ),
    Case(
        "3mf all vertices on a line",
        lambda m, d: m.write_3mf(d / "line.3mf", vertices=LINE),
        "degenerate geometry: none of its triangles has an area",
    ),
    Case("3mf transform past the float range", lambda m, d: m.write_3mf(d / "far.3mf", items=[HUGE]),
         "non-finite vertex coordinates"),
    Case("3mf default materials (pid/pindex)", lambda m, d: m.write_materials_3mf(d / "mat.3mf"), None),
    Case("3mf cube", lambda m, d: m.write_3mf(d / "cube.3mf"), None),
    # STL
    Case("stl truncated", _stl("cut.stl", declared=1000), "header says 1000 triangles"),
    Case("stl count 2^32-1", _stl("huge.stl", declared=2**32 - 1), "header says 4294967295 triangles"),
    Case("stl shorter than its header", _bytes("short.stl", b"binary stl"), "shorter than the 84-byte binary header"),
    Case(
        "stl over the triangle budget",
        _stl("cube.stl"),
        "has 12 triangles, over the limit of 11",
        Limits(max_triangles=11),
    ),
    Case("stl directory", _not_regular("directory"), "x.stl is a directory; a regular file is needed"),
    Case("stl FIFO", _not_regular("fifo"), "x.stl is a FIFO (named pipe); a regular file is needed"),
    Case("stl symlink to /dev/zero", _not_regular("dev-zero"), "is a character device (through the symlink x.stl)"),
    Case("stl cube", _stl("cube.stl"), None),
    # OBJ
    Case(
        "obj over the triangle budget",
        lambda m, d: m.write_obj(d / "cube.obj"),
        "has 12 triangles, over the limit",
        Limits(max_triangles=11),
    ),
    Case(
        "obj vertices past 3x the budget",
        _bytes("dots.obj", b"v 0 0 0\n" * 40 + b"f 1 2 3\n"),
        "has 40 vertices, over the limit of 30",
        Limits(max_triangles=10),
    ),
    Case("obj without faces", _bytes("cloud.obj", b"v 0 0 0\nv 1 0 0\n"), "is empty: it has 0 triangles"),
    Case("obj mtllib naming a FIFO beside it", _obj_with_mtllib("pipe.mtl", fifo="pipe.mtl"),
         "names the material library 'pipe.mtl', which is a FIFO (named pipe)"),
    Case("obj mtllib naming /dev/zero", _obj_with_mtllib("/dev/zero"), "/dev/zero', which is outside the model"),
    Case("obj mtllib climbing out", _obj_with_mtllib("../../etc/passwd"), "which is outside the model's folder"),
    Case("obj mtllib beside it and a missing one", _obj_with_mtllib("beside.mtl missing.mtl"), None),
    Case("obj cube", lambda m, d: m.write_obj(d / "cube.obj"), None),
    # PLY
    Case("ply binary 2e9 vertices", _bytes("huge.ply", PLY_2E9), "declares 2000000000 vertex, 1 face elements"),
    Case(
        "ply ascii fewer lines than elements",
        lambda m, d: m.write_ply(d / "short.ply", declared_faces=1000),
        "needs at least 1008 lines but the file has 20",
    ),
    Case("ply wrong magic", _bytes("x.ply", b"PLY\nformat ascii 1.0\nend_header\n"), "missing 'ply' magic"),
    Case(
        "ply endless header",
        _bytes("x.ply", b"ply\nformat ascii 1.0\n" + b"comment x\n" * 8000),
        "no end_header in its first 65536 bytes",
    ),
    Case(
        "ply unknown property type",
        _bytes("x.ply", b"ply\nformat ascii 1.0\nelement vertex 1\nproperty quad x\nend_header\n0\n"),
        "malformed PLY header at line 4",
    ),
    Case(
        "ply vertices past 3x the budget",
        lambda m, d: m.write_binary_ply(d / "cube.ply"),
        "has 8 vertices, over the limit of 6",
        Limits(max_triangles=2),
    ),
    Case("ply binary cube", lambda m, d: m.write_binary_ply(d / "cube.ply"), None),
    Case("ply ascii cube", lambda m, d: m.write_ply(d / "cube.ply"), None),
    # Any format
    Case("unsupported extension", _bytes("model.step", b"ISO-10303-21;"), "unsupported model format '.step'"),
]
# fmt: on


def _parse(path: Path, limits: Limits) -> str | None:
    """What the parent and the parser make of a file: None when accepted, else the refusal's message."""
    try:
        checked = inspect_model(path, limits)
        if checked.format == "3mf":
            read_3mf(checked.path, limits)
    except InputError as exc:
        assert exit_code(exc) == EXIT_INPUT
        return str(exc)
    return None


@pytest.mark.parametrize("case", PARSE_CASES, ids=lambda c: c.name)
def test_each_hostile_model_gets_its_outcome_within_its_bound(
    models, lib3mf_loaded: None, tmp_path: Path, case: Case
) -> None:
    # GIVEN the crafted file
    path = case.write(models, tmp_path)
    # WHEN the parent's checks and the parser see it (in a thread: a FIFO or device read would never return)
    with ThreadPoolExecutor(1) as pool:
        refusal = pool.submit(_parse, path, case.limits).result(timeout=case.seconds)
    # THEN it is refused with the expected message (an InputError: exit 2, no retry), or accepted
    if case.refused is None:
        assert refusal is None
    else:
        assert refusal is not None and case.refused in refusal, refusal


PLY_POINT = (
    b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    b"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n0 0 0\n0 0 0\n3 0 1 2\n"
)
# fmt: off
BLENDER_CASES = [
    Case("stl every triangle degenerate", _stl("point.stl", np.zeros((4, 3, 3))), "every triangle has zero area"),
    Case("obj all vertices on a line", _bytes("line.obj", b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n"),
         "degenerate geometry: none of its triangles has an area"),
    Case("ply all vertices coincide", _bytes("point.ply", PLY_POINT), "degenerate geometry: all its vertices coincide"),
    Case("stl cube renders", _stl("cube.stl"), None),
]
# fmt: on


@pytest.mark.parametrize("case", BLENDER_CASES, ids=lambda c: c.name)
def test_hostile_geometry_that_only_blender_parses_is_refused_by_name(
    renderer: RenderProcess, models, tmp_path: Path, case: Case
) -> None:
    # GIVEN a native-format file the pre-checks let through WHEN the Blender child imports it
    path = case.write(models, tmp_path)
    options = RenderOptions(views=("iso",), size=32, samples=1, denoise=False)
    if case.refused is None:
        # THEN a sound file renders
        assert renderer.render(path, tmp_path / "out", options).triangles == 12
        return
    # THEN degenerate or non-finite geometry is refused by name instead of five blank images
    with pytest.raises(InputError) as refused:
        renderer.render(path, tmp_path / "out", options)
    assert case.refused in str(refused.value)
    assert exit_code(refused.value) == EXIT_INPUT


def test_the_table_covers_every_format_and_kind_of_attack() -> None:
    # GIVEN the table WHEN its case names are read THEN each format and each attack class has a row
    names = " ".join(c.name for c in PARSE_CASES + BLENDER_CASES)
    for word in (
        "3mf",
        "stl",
        "obj",
        "ply",
        "bomb",
        "nested",
        "truncated",
        "magic",
        "encrypted",
        "FIFO",
        "/dev/zero",
        "beam",
        "coincide",
        "2e9",
        "float range",
    ):
        assert word in names, word
