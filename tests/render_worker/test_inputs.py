"""Pre-checks of model files: every bad file ends in one InputError that says what is wrong."""

from __future__ import annotations

import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from render_worker.config import Limits
from render_worker.errors import InputError
from render_worker.inputs import inspect_model

LIMITS = Limits()


def test_a_valid_3mf_passes_with_its_format_and_size(models, tmp_path: Path) -> None:
    # GIVEN a small 3MF written by lib3mf
    path = models.write_3mf(tmp_path / "cube.3mf")
    # WHEN it is inspected
    checked = inspect_model(path, LIMITS)
    # THEN it is accepted as 3MF with its size
    assert (checked.format, checked.size_bytes) == ("3mf", path.stat().st_size)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.3mf", b"", "is empty"),
        ("text.3mf", b"solid not a zip at all", "not a zip file"),
        ("model.step", b"ISO-10303-21;", "unsupported model format '.step'"),
        ("noext", b"data", r"unsupported model format '\(no extension\)'"),
    ],
)
def test_unusable_files_are_rejected_by_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    # GIVEN an empty, non-zip or unsupported file
    path = tmp_path / name
    path.write_bytes(content)
    # WHEN it is inspected THEN the error names the problem
    with pytest.raises(InputError, match=message):
        inspect_model(path, LIMITS)


def test_a_truncated_3mf_is_rejected(models, tmp_path: Path) -> None:
    # GIVEN a 3MF cut in half (as an interrupted upload leaves it)
    whole = models.write_3mf(tmp_path / "whole.3mf").read_bytes()
    path = tmp_path / "half.3mf"
    path.write_bytes(whole[: len(whole) // 2])
    # WHEN it is inspected THEN it is reported as not a (complete) zip
    with pytest.raises(InputError, match="not a zip file"):
        inspect_model(path, LIMITS)


def test_a_zip_bomb_is_stopped_before_it_is_fully_unpacked(models, tmp_path: Path) -> None:
    # GIVEN a 3MF whose extra part unzips to 40 MB of zeros from a few KB
    path = models.write_raw_3mf(tmp_path / "bomb.3mf", models.EMPTY_MODEL_XML, {"Metadata/pad.bin": bytes(40 << 20)})
    # WHEN it is inspected with a 16 MB unzip budget
    limits = Limits(max_uncompressed_bytes=16 << 20, max_compression_ratio=1e9)
    # THEN the unzip budget stops it
    with pytest.raises(InputError, match="zip bomb guard"):
        inspect_model(path, limits)


def test_a_part_that_expands_too_much_is_stopped_by_the_ratio_guard(models, tmp_path: Path) -> None:
    # GIVEN the same highly compressible part
    path = models.write_raw_3mf(tmp_path / "bomb.3mf", models.EMPTY_MODEL_XML, {"Metadata/pad.bin": bytes(8 << 20)})
    # WHEN it is inspected with the default ratio cap THEN the ratio guard names the part
    with pytest.raises(InputError, match=r"'Metadata/pad.bin' expands more than 200x"):
        inspect_model(path, LIMITS)


def test_an_encrypted_3mf_is_rejected_as_such(models, tmp_path: Path) -> None:
    # GIVEN a package whose model part carries the zip "encrypted" flag
    path = models.write_3mf(tmp_path / "locked.3mf")
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            data[at + flag_offset] |= 0x1
            start = at + 4
    path.write_bytes(bytes(data))
    # WHEN it is inspected THEN it is one InputError that says so, not zipfile's RuntimeError
    with pytest.raises(InputError, match=r"locked\.3mf is an encrypted 3MF package"):
        inspect_model(path, LIMITS)


def test_a_zip_without_a_model_part_is_rejected(tmp_path: Path) -> None:
    # GIVEN a zip that is not a 3MF package
    path = tmp_path / "photos.3mf"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("readme.txt", "hello")
    # WHEN it is inspected THEN it says the 3D model part is missing
    with pytest.raises(InputError, match=r"no 3D model part"):
        inspect_model(path, LIMITS)


def test_a_file_over_the_size_limit_is_rejected_with_the_setting_to_raise(models, tmp_path: Path) -> None:
    # GIVEN a model larger than the configured input limit
    path = models.write_3mf(tmp_path / "cube.3mf")
    # WHEN it is inspected THEN the error names the environment variable that raises the limit
    with pytest.raises(InputError, match="RENDER_MAX_INPUT_BYTES"):
        inspect_model(path, Limits(max_input_bytes=100))


def test_a_truncated_binary_stl_is_rejected(models, tmp_path: Path) -> None:
    # GIVEN a binary STL whose header declares more triangles than it holds
    path = models.write_binary_stl(tmp_path / "cut.stl", declared=1000)
    # WHEN it is inspected THEN the mismatch is reported
    with pytest.raises(InputError, match="header says 1000 triangles"):
        inspect_model(path, LIMITS)


@pytest.mark.parametrize("writer", ["write_binary_stl", "write_obj", "write_ply"])
def test_triangle_budgets_are_enforced_before_import(models, tmp_path: Path, writer: str) -> None:
    # GIVEN a 12-triangle cube in each text/binary mesh format
    path = getattr(models, writer)(tmp_path / f"cube.{writer.rsplit('_', 1)[1]}")
    # WHEN the triangle limit is 11
    # THEN it is rejected before any importer runs, naming the limit
    with pytest.raises(InputError, match="over the limit of 11"):
        inspect_model(path, Limits(max_triangles=11))
    # AND it passes with the default limit
    assert inspect_model(path, LIMITS).format in {"stl", "obj", "ply"}


def test_a_binary_ply_whose_counts_fit_its_size_passes(models, tmp_path: Path) -> None:
    # GIVEN a well-formed binary PLY cube WHEN it is inspected THEN it is accepted
    assert inspect_model(models.write_binary_ply(tmp_path / "cube.ply"), LIMITS).format == "ply"


def test_a_binary_ply_declaring_more_vertices_than_its_bytes_hold_never_reaches_blender(models, tmp_path: Path) -> None:
    # GIVEN a 300-byte binary PLY whose header declares 2e9 vertices (Blender's importer segfaults on it)
    path = models.write_binary_ply(tmp_path / "huge.ply", declared_vertices=2_000_000_000)
    # WHEN it is inspected THEN the declared counts are weighed against the file's bytes
    declared = r"declares 2000000000 vertex, 12 face elements, which needs at least 24000000012 bytes"
    with pytest.raises(InputError, match=rf"huge.ply is a truncated or damaged PLY file: its header {declared}"):
        inspect_model(path, LIMITS)


def test_an_ascii_ply_needs_a_line_per_element(models, tmp_path: Path) -> None:
    # GIVEN an ASCII PLY cube whose header declares 1,000 faces but holds 12 face lines
    path = models.write_ply(tmp_path / "short.ply", declared_faces=1000)
    # WHEN it is inspected THEN it is refused for holding fewer lines than elements
    with pytest.raises(
        InputError, match=r"declares 8 vertex, 1000 face elements, which needs at least 1008 lines but the file has 20"
    ):
        inspect_model(path, LIMITS)


def test_ply_vertices_are_bounded_by_three_times_the_triangle_budget(models, tmp_path: Path) -> None:
    # GIVEN a binary PLY cube (8 vertices, 12 faces) WHEN the triangle budget is 2 (6 vertices)
    # THEN the vertex count is refused first, naming the bound
    with pytest.raises(InputError, match=r"has 8 vertices, over the limit of 6 \(3 x RENDER_MAX_TRIANGLES"):
        inspect_model(models.write_binary_ply(tmp_path / "cube.ply"), Limits(max_triangles=2))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n", "no end_header in its first 65536 bytes"),
        (b"ply\nformat utf16 1.0\nend_header\n", r"malformed PLY header at line 2: b'format utf16 1.0'"),
        (b"ply\nelement vertex 1\nproperty float x\nend_header\n0\n", "no valid PLY format line"),
        (
            b"ply\nformat ascii 1.0\nelement vertex 1\nproperty quad x\nend_header\n0\n",
            "malformed PLY header at line 4",
        ),
        (b"ply\nformat ascii 1.0\nelement vertex -1\nend_header\n", "malformed PLY header at line 3"),
        (b"PLY\nformat ascii 1.0\nend_header\n", "missing 'ply' magic"),
    ],
)
def test_malformed_ply_headers_are_refused_by_line(tmp_path: Path, header: bytes, message: str) -> None:
    # GIVEN a PLY header without its end, format, a known type, a count or the magic
    path = tmp_path / "bad.ply"
    path.write_bytes(header)
    # WHEN it is inspected THEN the error says which
    with pytest.raises(InputError, match=message):
        inspect_model(path, LIMITS)


def test_obj_vertices_and_tab_separated_faces_count_towards_the_bounds(tmp_path: Path) -> None:
    # GIVEN an OBJ with 4 vertices and two tab-separated quads (4 triangles)
    path = tmp_path / "quads.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf\t1 2 3 4\nf\t1 3 4 2\n", encoding="utf-8")
    # WHEN the budget is 3 triangles THEN the faces count as 4 triangles
    with pytest.raises(InputError, match="has 4 triangles, over the limit of 3"):
        inspect_model(path, Limits(max_triangles=3))
    # AND with a budget of 1 triangle its 4 vertices are over 3 x 1
    with pytest.raises(InputError, match="has 4 vertices, over the limit of 3"):
        inspect_model(path, Limits(max_triangles=1))


def _not_regular(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "x.stl"
    if kind == "directory":
        path.mkdir()
    elif kind == "FIFO":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("directory", r"x.stl is a directory; a regular file is needed"),
        ("FIFO", r"x.stl is a FIFO \(named pipe\); a regular file is needed"),
        ("symlink", r"x.stl is a character device \(through the symlink x.stl\); a regular file is needed"),
    ],
)
def test_a_model_path_that_is_not_a_regular_file_says_what_it_is_without_reading_it(
    tmp_path: Path, kind: str, message: str
) -> None:
    # GIVEN x.stl as a directory, a FIFO nobody writes to, or a symlink to /dev/zero
    path = _not_regular(tmp_path, kind)
    # WHEN it is inspected (in a thread: opening the FIFO or reading /dev/zero would never return)
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(_refusal, path)
        # THEN it is refused at once with what it is, not "does not exist"
        assert re.search(message, outcome.result(timeout=5))


def _refusal(path: Path) -> str:
    try:
        inspect_model(path, LIMITS)
    except InputError as exc:
        return str(exc)
    return "accepted"


def test_a_missing_model_file_is_reported_as_missing(tmp_path: Path) -> None:
    # GIVEN no file WHEN it is inspected THEN it says it does not exist
    with pytest.raises(InputError, match="does not exist"):
        inspect_model(tmp_path / "gone.stl", LIMITS)
