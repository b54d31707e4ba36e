"""Checks a model file before any parser sees it: size, format, and (for 3MF) a bounded, CRC-checked unzip.

Runs in the long-lived parent process, so it uses only the standard library.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from render_worker import contract as rc
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
    size = _regular_file_size(path)
    _check_amount(
        path, f"is {size} bytes", size, limits.max_input_bytes, f"raise {rc.MAX_INPUT_BYTES_ENV} to accept it"
    )
    CHECKS[fmt](path, limits)
    return ModelFile(path=path, format=fmt, size_bytes=size)


NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _regular_file_size(path: Path) -> int:
    """Stat (through symlinks) before any open: a FIFO or device must never be read, it can block or never end."""
    try:
        mode = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"model file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"model file {path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(mode.st_mode):
        via = f" (through the symlink {path.name})" if path.is_symlink() else ""
        raise InputError(f"model file {path} is {_kind(mode.st_mode)}{via}; a regular file is needed")
    return mode.st_size


def _kind(mode: int) -> str:
    return next((name for test, name in NOT_REGULAR if test(mode)), "not a regular file")


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
                    f"(zip bomb guard; raise {rc.MAX_UNCOMPRESSED_BYTES_ENV} for genuinely huge models)"
                )
            if read > ratio_cap:
                raise InputError(
                    f"3MF part {info.filename!r} expands more than {limits.max_compression_ratio:g}x (zip bomb guard)"
                )
    return read


def _check_stl(path: Path, limits: Limits) -> None:
    with path.open("rb") as fh:
        head = fh.read(84)
    size = _size(path)
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


PLY_TYPES = {
    b"char": 1, b"uchar": 1, b"int8": 1, b"uint8": 1, b"short": 2, b"ushort": 2, b"int16": 2, b"uint16": 2,
    b"int": 4, b"uint": 4, b"int32": 4, b"uint32": 4, b"float": 4, b"float32": 4, b"double": 8, b"float64": 8,
}  # fmt: skip
PLY_FORMATS = (b"ascii", b"binary_little_endian", b"binary_big_endian")
PLY_HEADER_MAX = 64 * 1024


@dataclass
class PlyElement:
    """One `element` of a PLY header: its count and the fewest bytes one binary record can take."""

    name: str
    count: int
    min_bytes: int = 0


def _check_ply(path: Path, limits: Limits) -> None:
    """Counts in the header must fit the file and the bounds: Blender's importer trusts them (2e9 vertices: SIGSEGV)."""
    header = _peek(path, PLY_HEADER_MAX)
    end = header.find(b"end_header")
    if not header.startswith(b"ply") or header[3:4] not in (b"\n", b"\r"):
        raise InputError(f"{path.name} is not a PLY file (missing 'ply' magic)")
    if end < 0:
        raise InputError(f"{path.name} is not a valid PLY file: no end_header in its first {PLY_HEADER_MAX} bytes")
    body_start = header.index(b"\n", end) + 1 if b"\n" in header[end:] else len(header)
    fmt, elements = _ply_header(path, header[:end].splitlines()[1:])
    if fmt == b"ascii":  # one line per element
        unit, needed, available = "lines", sum(e.count for e in elements), _count_lines(path, body_start)
    else:
        unit, needed, available = "bytes", sum(e.count * e.min_bytes for e in elements), _size(path) - body_start
    if needed > available:
        declared = ", ".join(f"{e.count} {e.name}" for e in elements)
        raise InputError(
            f"{path.name} is a truncated or damaged PLY file: its header declares {declared} elements, "
            f"which needs at least {needed} {unit} but the file has {available}"
        )
    counts = {e.name: e.count for e in elements}
    check_vertices(path, counts.get("vertex", 0), limits)
    check_triangles(path, counts.get("face", 0), limits)


def _ply_header(path: Path, lines: list[bytes]) -> tuple[bytes, list[PlyElement]]:
    fmt = b""
    elements: list[PlyElement] = []
    for number, line in enumerate(lines, start=2):
        words = line.split()
        if words[:1] == [b"format"] and len(words) == 3 and words[1] in PLY_FORMATS:
            fmt = words[1]
        elif words[:1] == [b"element"] and len(words) == 3 and words[2].isdigit():
            elements.append(PlyElement(words[1].decode("ascii", "replace"), int(words[2])))
        elif words[:1] == [b"property"] and elements and (size := _property_bytes(words)) is not None:
            elements[-1].min_bytes += size
        elif words[:1] not in ([b"comment"], [b"obj_info"], []):
            raise InputError(f"{path.name} has a malformed PLY header at line {number}: {line[:80]!r}")
    if not fmt:
        raise InputError(f"{path.name} has no valid PLY format line (ascii or binary_*_endian 1.0)")
    return fmt, elements


def _property_bytes(words: list[bytes]) -> int | None:
    """Bytes of a scalar property; a list takes at least its count field (its items may be none)."""
    if len(words) == 3:
        return PLY_TYPES.get(words[1])
    if len(words) == 5 and words[1] == b"list" and words[3] in PLY_TYPES:
        return PLY_TYPES.get(words[2])
    return None


def _count_lines(path: Path, start: int) -> int:
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        fh.seek(start)
        while chunk := fh.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _check_obj(path: Path, limits: Limits) -> None:
    faces = vertices = 0
    with path.open("rb") as fh:
        for line in fh:
            words = line.split(None, 1)
            if words[:1] == [b"v"]:
                vertices += 1
            elif words[:1] == [b"f"]:
                faces += max(len(line.split()) - 3, 1)
            elif words[:1] == [b"mtllib"] and len(words) == 2:
                _check_mtllib(path, words[1].strip())
    check_vertices(path, vertices, limits)
    check_triangles(path, faces, limits)


def _check_mtllib(path: Path, libraries: bytes) -> None:
    """Blender's OBJ importer opens every `mtllib` it names, wherever it points, and blocks forever on a FIFO.

    Only a library beside the model is allowed (or a missing one: the importer skips it); the worker renders without
    materials anyway. The line may hold one name with spaces or several names, so both readings are checked.
    """
    folder = path.parent.resolve()
    for name in {libraries, *libraries.split()}:
        target = path.parent / os.fsdecode(name)
        try:
            mode = os.stat(target).st_mode
        except OSError:
            mode = None
        if target.resolve().parent != folder:
            problem = "outside the model's folder"
        elif mode is not None and not stat.S_ISREG(mode):
            problem = _kind(mode)
        else:
            continue
        raise InputError(
            f"{path.name} names the material library {os.fsdecode(name)!r}, which is {problem}; the worker reads only "
            "regular files beside the model (materials are not rendered): remove the mtllib line"
        )


def check_triangles(path: Path, count: int, limits: Limits, counted: str = "") -> None:
    """The one triangle-budget rule, used before import (headers) and after it (real meshes)."""
    fix = f"raise {rc.MAX_TRIANGLES_ENV} or decimate the model"
    _check_amount(path, f"has {count} triangles{counted}", count, limits.max_triangles, fix)


def check_vertices(path: Path, count: int, limits: Limits, counted: str = "") -> None:
    """A triangle has three corners: more vertices than 3 x the triangle budget are weight nothing draws."""
    fix = f"3 x {rc.MAX_TRIANGLES_ENV}; raise {rc.MAX_TRIANGLES_ENV} or decimate the model"
    _check_amount(path, f"has {count} vertices{counted}", count, 3 * limits.max_triangles, fix)


def _check_amount(path: Path, amount: str, value: int, limit: int, fix: str) -> None:
    """Nothing (empty file, no triangles) and too much are both input errors that name the limit's setting."""
    if value == 0:
        raise InputError(f"{path.name} is empty: it {amount}, nothing to render")
    if value > limit:
        raise InputError(f"{path.name} {amount}, over the limit of {limit} ({fix})")


def _size(path: Path) -> int:
    return path.stat().st_size


def _peek(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


CHECKS = {"3mf": _check_3mf, "stl": _check_stl, "ply": _check_ply, "obj": _check_obj}
