"""`python -m sdk schema`: the committed JSON Schemas and reference page are the models' own, any spec's schema can
be generated, and a default or type JSON cannot hold never crashes it."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, Field, field_validator

from sdk.cli import main
from sdk.schema import json_schema, outputs, reference_page, resolve
from sdk.settings import schema_specs
from sdk.specs import Spec

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_schemas_and_reference_page_are_current():
    # GIVEN the specs this project documents (pyproject: [tool.gpu-blueprints] schemas)
    # WHEN their files are generated afresh
    files = outputs(schema_specs(REPO), REPO / "docs/schema", REPO / "docs/reference.md")
    # THEN each committed file has exactly that text (run `python -m sdk schema` after changing a spec)
    stale = [str(path) for path, text in files.items() if not path.is_file() or path.read_text("utf-8") != text]
    assert stale == []
    assert {p.name for p in (REPO / "docs/schema").iterdir()} == {p.name for p in files if p.suffix == ".json"}


def test_the_reference_states_each_fields_real_default_beside_its_description():
    # GIVEN the S3 backend spec WHEN its reference page is generated
    page = reference_page([resolve("sdk.specs.backend:S3BackendSpec")])
    # THEN its rows carry the model's defaults and requirements, and its docstring introduces it
    assert "| `encrypt` | boolean | `true` | Server-side encryption of the state object. Default True. |" in page
    assert "| `bucket` | string | required |" in page
    assert "locked with S3's native lock file" in page


class _Opaque:
    """Not JSON: no schema, no encoder."""


def _fails() -> int:
    raise RuntimeError("a factory that only works inside a build")


class Awkward(Spec):
    """A spec with defaults and types JSON cannot hold."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hook: Callable[[int], int] = Field(default=abs, description="A callable. Default abs.")
    thing: _Opaque = Field(default_factory=_Opaque, description="An opaque object. Default a new one.")
    late: int = Field(default_factory=_fails, description="From a failing factory. Default computed.")
    tags: frozenset[str] = Field(default=frozenset({"b", "a"}), description="A set. Default {a, b}.")

    @field_validator("tags")
    @classmethod
    def _sorted(cls, value: Any) -> Any:
        return value


def test_defaults_and_types_json_cannot_hold_do_not_crash_schema_generation():
    # GIVEN a spec with a callable field, an opaque object, a failing factory and a validated set
    # WHEN its schema and reference page are generated
    schema = json_schema(Awkward)
    page = reference_page([Awkward])
    # THEN every field is present, the set's default is written sorted, and the page lists all four
    assert set(schema["properties"]) == {"hook", "thing", "late", "tags"}
    assert schema["properties"]["tags"]["default"] == ["a", "b"]
    assert json.loads(json.dumps(schema)) == schema
    assert all(f"| `{name}` |" in page for name in ("hook", "thing", "late", "tags"))


def test_the_cli_writes_then_reports_current_then_stale(tmp_path, capsys):
    # GIVEN an output folder and one spec named on the command line
    args = ["schema", "--out", str(tmp_path / "s"), "--reference", str(tmp_path / "ref.md")]
    args += ["--spec", "sdk.specs.backend:S3BackendSpec"]
    # WHEN it is written, checked, edited and checked again
    written = main(args)
    current = main([*args, "--check"])
    (tmp_path / "s" / "S3BackendSpec.json").write_text("{}", encoding="utf-8")
    stale = main([*args, "--check"])
    # THEN the first check passes, the second names the edited file
    assert (written, current, stale) == (0, 0, 1)
    assert (tmp_path / "ref.md").read_text("utf-8").startswith("# Spec reference\n")
    assert f"stale: {tmp_path / 's' / 'S3BackendSpec.json'}" in capsys.readouterr().out


@pytest.mark.parametrize("reference", ["sdk.specs.backend:Nothing", "sdk.specs.backend:re", "sdk.specs"])
def test_a_reference_that_is_not_a_model_is_a_user_error_with_the_fix(reference, capsys, tmp_path):
    # GIVEN a --spec that names no pydantic model WHEN schema runs
    code = main(["schema", "--out", str(tmp_path), "--reference", str(tmp_path / "r.md"), "--spec", reference])
    # THEN it exits 2 with one line naming the reference and the module:Name form
    err = capsys.readouterr().err
    assert code == 2 and reference in err and "Fix: module:Name" in err
