"""Checks a model file before any parser sees it: size, format, and (for 3MF) a bounded, CRC-checked unzip.

Runs in the long-lived parent process, so it uses only the standard library.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from render_worker.config import Limits
from render_worker.errors import InputError

FORMATS = {".3mf": "3mf", ".stl": "stl", ".obj": "obj", ".ply": "ply"}
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ModelFile:
    """A model file that passed the pre-checks."""

    path: Path
    format: str
    size_bytes: int


def inspect_model(path: Path, limits: Limits) -> ModelFile:
    """Return the checked file, or raise InputError saying what is wrong with it."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"unsupported model format {path.suffix or '(no extension)'!r} for {path.name}; "
            f"use one of {', '.join(sorted(FORMATS))}"
        )
    if not path.is_file():
        raise InputError(f"model file {path} does not exist")
    size = path.stat().st_size
    _check_amount(path, f"is {size} bytes", size, limits.max_input_bytes, "raise RENDER_MAX_INPUT_BYTES to accept it")
    CHECKS[fmt](path, limits)
    return ModelFile(path=path, format=fmt, size_bytes=size)


def _check_3mf(path: Path, limits: Limits) -> None:
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path.name} is not a 3MF package: not a zip file (or truncated)")
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
            if not any(n.lower().endswith(".model") for n in names):
                raise InputError(f"{path.name} has no 3D model part (no *.model file in the package)")
            total = 0
            for info in package.infolist():
                total += _bounded_unzip(package, info, limits, total)
    except RuntimeError as exc:  # zipfile's word for an encrypted member
        raise InputError(f"{path.name} is an encrypted 3MF package: {exc}; export it without a password") from None
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as exc:
        raise InputError(f"{path.name} is a damaged 3MF package: {exc}") from None


def _bounded_unzip(package: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, so_far: int) -> int:
    """Decompress one member, counting real bytes (declared sizes can lie); return its size."""
    budget = limits.max_uncompressed_bytes - so_far
    ratio_cap = max(info.compress_size, 1) * limits.max_compression_ratio + CHUNK
    read = 0
    with package.open(info) as member:
        while chunk := member.read(CHUNK):
            read += len(chunk)
            if read > budget:
                raise InputError(
                    f"3MF package unzips to more than {limits.max_uncompressed_bytes} bytes "
                    "(zip bomb guard; raise RENDER_MAX_UNCOMPRESSED_BYTES for genuinely huge models)"
                )
            if read > ratio_cap:
                raise InputError(
                    f"3MF part {info.filename!r} expands more than {limits.max_compression_ratio:g}x (zip bomb guard)"
                )
    return read


def _check_stl(path: Path, limits: Limits) -> None:
    with path.open("rb") as fh:
        head = fh.read(84)
    size = path.stat().st_size
    if head[:5].lower() == b"solid" and b"facet" in _peek(path):
        return  # ASCII STL; the triangle budget is enforced after import
    if len(head) < 84:
        raise InputError(f"{path.name} is not a valid STL file: shorter than the 84-byte binary header")
    (count,) = struct.unpack("<I", head[80:84])
    if 84 + 50 * count != size:
        raise InputError(
            f"{path.name} is a truncated or damaged binary STL: header says {count} triangles "
            f"({84 + 50 * count} bytes) but the file has {size} bytes"
        )
    check_triangles(path, count, limits)


def _check_ply(path: Path, limits: Limits) -> None:
    header = _peek(path)
    if not header.startswith(b"ply"):
        raise InputError(f"{path.name} is not a PLY file (missing 'ply' magic)")
    for line in header.splitlines():
        words = line.split()
        if words[:2] == [b"element", b"face"] and len(words) == 3 and words[2].isdigit():
            check_triangles(path, int(words[2]), limits)


def _check_obj(path: Path, limits: Limits) -> None:
    faces = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.startswith(b"f "):
                faces += max(len(line.split()) - 3, 1)
    check_triangles(path, faces, limits)


def check_triangles(path: Path, count: int, limits: Limits, counted: str = "") -> None:
    """The one triangle-budget rule, used before import (headers) and after it (real meshes)."""
    fix = "raise RENDER_MAX_TRIANGLES or decimate the model"
    _check_amount(path, f"has {count} triangles{counted}", count, limits.max_triangles, fix)


def _check_amount(path: Path, amount: str, value: int, limit: int, fix: str) -> None:
    """Nothing (empty file, no triangles) and too much are both input errors that name the limit's setting."""
    if value == 0:
        raise InputError(f"{path.name} is empty: it {amount}, nothing to render")
    if value > limit:
        raise InputError(f"{path.name} {amount}, over the limit of {limit} ({fix})")


def _peek(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


CHECKS = {"3mf": _check_3mf, "stl": _check_stl, "ply": _check_ply, "obj": _check_obj}
