"""Spec (sdk/specs/base.py): the base every spec builds on, with a docstring on every model users meet."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from sdk import specs
from sdk.specs import base

ROOT = Path(__file__).parents[3]
MODEL_BASES = {"BaseModel", "Spec", "GpuServiceSpec"}


def _public_models_without_docstring(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and {ast.unparse(b) for b in node.bases} & MODEL_BASES
        and not ast.get_docstring(node)
    ]


@pytest.mark.parametrize(
    "path",
    sorted(
        p for folder in ("sdk", "blueprints") for p in (ROOT / folder).rglob("*.py") if "lambda_wheels" not in p.parts
    ),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_public_model_says_what_it_is_in_a_docstring(path):
    # GIVEN a module of the sdk or the blueprints WHEN its pydantic models are read
    # THEN each public one has a docstring (the schema, the reference and editors show it)
    assert _public_models_without_docstring(path) == []


def test_the_spec_base_and_its_error_helper_are_one_thing_from_either_import_path():
    # GIVEN sdk.specs and its base module WHEN the base names are read from both
    # THEN they are the same objects, so any spec module may import the base without sdk.specs' models
    assert specs.Spec is base.Spec and specs.problems_to_error is base.problems_to_error


def test_a_problem_list_becomes_one_error_naming_each_problem():
    # GIVEN two problems WHEN they are raised together
    with pytest.raises(ValueError) as caught:
        base.problems_to_error(["a: bad. Fix: x", "b: bad. Fix: y"])
    # THEN one error lists both under the marker the Spec base collects
    assert str(caught.value) == "invalid spec:\n  - a: bad. Fix: x\n  - b: bad. Fix: y"


def test_every_spec_module_imports_in_a_fresh_interpreter_without_cdktf_or_node():
    # GIVEN every spec module there is (found by name, so a new one is covered too)
    paths = [*(ROOT / "sdk" / "specs").glob("*.py"), *(ROOT / "blueprints").glob("*_spec.py")]
    paths += [ROOT / "sdk" / "job_specs.py", ROOT / "sdk" / "gateway_spec.py"]
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in paths)
    # WHEN a fresh interpreter imports them all
    loaded = "sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'jsii'))"
    probe = f"import {', '.join(modules)}, sys; print({loaded})"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    # THEN they import, and neither cdktf nor jsii (which starts Node) was loaded
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", modules
