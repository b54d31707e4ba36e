#!/bin/sh
# Install steps shared by render_worker/Dockerfile and the test environment (tests/render_worker/test_install.py).
#
#   install.sh system            apt packages bpy needs on a slim/CUDA Ubuntu or Debian base (root)
#   install.sh python PYTHON     this project with its render and probe extras (not `synth`: no cdktf, no Node)
#   install.sh verify PYTHON     those requirements satisfied, probe runs, and a one-view CPU/GPU self-test renders
set -eu

# The extras the image installs (pyproject.toml [project.optional-dependencies]); the core deps come with them.
EXTRAS=render,probe

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
STEP=${1:?usage: install.sh system|python|verify [PYTHON]}
PY=${2:-python3}

# Shared libraries the bpy 5.0.1 wheel links against (X11 client libs and GL dispatch; no display is used).
SYSTEM_PACKAGES="libx11-6 libxrender1 libxxf86vm1 libxfixes3 libxi6 libxkbcommon0 libxext6 libsm6 libice6 \
libgl1 libegl1 libglx0 libgomp1 ca-certificates"

case "$STEP" in
  system)
    apt-get update
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $SYSTEM_PACKAGES
    rm -rf /var/lib/apt/lists/*
    ;;
  python)
    "$PY" -m pip install --no-cache-dir "$SRC[$EXTRAS]"
    ;;
  verify)
    "$PY" - "$EXTRAS" <<'PYEOF'
import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

extras = ["", *sys.argv[1].split(",")]
problems = []
for line in requires("gpu-blueprints") or []:
    req = Requirement(line)
    if req.marker is not None and not any(req.marker.evaluate({"extra": extra}) for extra in extras):
        continue
    try:
        found = version(req.name)
    except PackageNotFoundError:
        problems.append(f"{req.name} is not installed")
        continue
    if not req.specifier.contains(found, prereleases=True):
        problems.append(f"{req.name} {found} does not satisfy {req.specifier}")
if problems:
    sys.exit("requirements not met: " + "; ".join(problems))
print("requirements ok")
PYEOF
    "$PY" -m render_worker probe --no-torch >/dev/null
    "$PY" -m render_worker selftest
    ;;
  *)
    echo "unknown step $STEP (use system, python or verify)" >&2
    exit 2
    ;;
esac
