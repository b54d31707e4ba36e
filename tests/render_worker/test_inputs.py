"""Pre-checks of model files: every bad file ends in one InputError that says what is wrong."""

from __future__ import annotations

import zipfile
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
