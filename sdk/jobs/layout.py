"""S3 layout of a job: `{prefix}{job_id}/inputs/{name}` and `{prefix}{job_id}/outputs/{relative path}`.

Every key is a function of the job alone (no attempt, worker or time in it), so a rerun overwrites its
earlier attempt's files instead of adding to them. `outputs/_result.json` is reserved for a handler result too
large for the job row."""

import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal

INPUT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
DEFAULT_PREFIX = "jobs/"
RESULT_FILE = "_result.json"
Sse = Literal["aws:kms", "AES256"]


def check_prefix(prefix: str) -> str:
    if prefix and (not prefix.endswith("/") or prefix.startswith("/") or "//" in prefix):
        raise ValueError(
            f"prefix {prefix!r} must be '' or like 'jobs/' (no leading '/', one trailing '/'). Fix: e.g. 'jobs/'"
        )
    return prefix


def check_input_name(name: str) -> str:
    if not re.match(INPUT_NAME_PATTERN, name):
        raise ValueError(
            f"inputs: name {name!r} must be a plain file name (letters, digits, '.', '_', '-'; no '/'), "
            "e.g. 'model.3mf'"
        )
    return name


def job_prefix(prefix: str, job_id: str) -> str:
    return f"{prefix}{job_id}/"


def input_key(prefix: str, job_id: str, name: str) -> str:
    return f"{job_prefix(prefix, job_id)}inputs/{check_input_name(name)}"


def outputs_prefix(prefix: str, job_id: str) -> str:
    return f"{job_prefix(prefix, job_id)}outputs/"


def output_key(prefix: str, job_id: str, relative: PurePosixPath | str) -> str:
    return f"{outputs_prefix(prefix, job_id)}{PurePosixPath(relative)}"


def result_key(prefix: str, job_id: str) -> str:
    """Where a result too large for the job row is stored (the row keeps this key)."""
    return output_key(prefix, job_id, RESULT_FILE)


def output_files(output_dir: Path) -> list[tuple[Path, PurePosixPath]]:
    """Every regular file under output_dir with its posix path relative to it, sorted."""
    files = (p for p in output_dir.rglob("*") if p.is_file() and not p.is_symlink())
    return [(p, PurePosixPath(p.relative_to(output_dir).as_posix())) for p in sorted(files)]


def upload(s3: Any, source: Path | bytes, bucket: str, key: str, sse: Sse | None) -> None:
    """Put one object; files go through upload_file (multipart for large meshes and renders)."""
    extra = {"ServerSideEncryption": sse} if sse else {}
    if isinstance(source, Path):
        s3.upload_file(str(source), bucket, key, ExtraArgs=extra or None)
    else:
        s3.put_object(Bucket=bucket, Key=key, Body=source, **extra)
