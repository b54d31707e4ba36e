"""The job gateway's Lambda package: sdk/jobs + pydantic, as a byte-stable zip (no cdktf, no Docker).

The Lambda Python runtimes ship boto3 but not pydantic (docs.aws.amazon.com/lambda/latest/dg/lambda-python.html),
and sdk.jobs validates with pydantic, so the zip bundles the installed pydantic and its pure-Python dependencies.
pydantic_core is compiled per Python version: its RUNTIME build comes from the PyPI wheel in sdk/lambda_wheels/
(the same version as the installed one; pydantic refuses any other). The same page lists python3.11 (Amazon Linux 2)
as deprecated on 2026-06-30 with function creation blocked from 2026-07-31, so the zip targets python3.12 (Amazon
Linux 2023, deprecated 2028-10-31), x86_64. Entries are sorted, dated 1980-01-01 and mode 0644, so the same sources
give the same bytes and the same file name.
"""

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

HANDLER = "sdk.jobs.gateway.handler"
RUNTIME = "python3.12"
ARCHITECTURE = "x86_64"
ASSET_PREFIX = "assets/job-gateway-"
BUNDLED = ("pydantic", "typing_extensions", "annotated_types", "typing_inspection")  # pure Python: any 3.x
WHEELS = Path(__file__).with_name("lambda_wheels")
_WHEEL_TAG = "cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64"
_SKIP_PARTS = {"__pycache__", "v1", "experimental"}
_SKIP_FILES = {"mypy.py"}
# The checkout's sdk/__init__.py sets up cdktf's Node: the Lambda gets a bare package instead.
_SDK_INIT = b'"""gpu-blueprints SDK: only sdk.jobs is in this package (the job gateway Lambda)."""\n'
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _files(module: str) -> Iterator[tuple[str, Path]]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{module} is not installed: the gateway's Lambda package needs it")
    origin = Path(spec.origin)
    if origin.name != "__init__.py":
        yield origin.name, origin
        return
    root = origin.parent
    for path in root.rglob("*"):
        relative = path.relative_to(root.parent)
        if path.suffix in (".py", ".so") and not _SKIP_PARTS & set(relative.parts) and path.name not in _SKIP_FILES:
            yield relative.as_posix(), path


def _compiled() -> dict[str, bytes]:
    """pydantic_core for RUNTIME, from its PyPI wheel (same version as installed)."""
    version = importlib.metadata.version("pydantic-core")
    wheel = WHEELS / f"pydantic_core-{version}-{_WHEEL_TAG}.whl"
    if not wheel.is_file():
        raise RuntimeError(
            f"{wheel} is missing: the {RUNTIME} Lambda needs pydantic_core {version} built for it. Fix: pip download "
            f"pydantic-core=={version} --python-version 3.12 --platform manylinux2014_x86_64 --only-binary=:all: "
            f"--no-deps -d {WHEELS}"
        )
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.startswith("pydantic_core/") and n.endswith((".py", ".so"))]
        return {name: archive.read(name) for name in names}


def _entries() -> dict[str, bytes]:
    jobs = Path(__file__).with_name("jobs")
    entries = {"sdk/__init__.py": _SDK_INIT}
    entries.update({f"sdk/jobs/{p.name}": p.read_bytes() for p in jobs.glob("*.py")})
    for module in BUNDLED:
        entries.update({name: path.read_bytes() for name, path in _files(module)})
    return {**entries, **_compiled()}


@cache
def gateway_zip() -> bytes:
    """The zip, deterministic for the same sdk/jobs sources and installed packages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(_entries().items()):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


@cache
def _digest() -> bytes:
    return hashlib.sha256(gateway_zip()).digest()


def gateway_zip_name() -> str:
    """Relative path of the zip next to the stack's cdk.tf.json: its content hash is in the name."""
    return f"{ASSET_PREFIX}{_digest().hex()[:16]}.zip"


def zip_hash() -> str:
    """base64 SHA-256, as aws_lambda_function.source_code_hash expects."""
    return base64.b64encode(_digest()).decode()


def asset_paths(tf: dict[str, Any]) -> list[str]:
    """The gateway zips a stack's Lambda functions name."""
    functions = tf.get("resource", {}).get("aws_lambda_function", {}).values()
    return sorted({f["filename"] for f in functions if str(f.get("filename", "")).startswith(ASSET_PREFIX)})


def write_assets(tf: dict[str, Any], folder: Path) -> list[Path]:
    """Write the zip each gateway Lambda of `tf` names into `folder` (the stack's), dropping stale ones."""
    wanted = asset_paths(tf)
    for stale in folder.glob(f"{ASSET_PREFIX}*.zip"):
        if stale.relative_to(folder).as_posix() not in wanted:
            stale.unlink()
    written = []
    for relative in wanted:
        if relative != gateway_zip_name():
            raise RuntimeError(f"{relative}: built by another sdk/jobs or pydantic; run `python -m sdk synth` again")
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != gateway_zip():  # a re-synth leaves an unchanged zip alone
            path.write_bytes(gateway_zip())
        written.append(path)
    return written
