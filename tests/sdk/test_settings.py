"""Project settings: the default app, its output folder and the documented specs come from pyproject.toml's
[tool.gpu-blueprints]; the sdk core names no app of its own."""

import argparse
from pathlib import Path

import pytest

from sdk import settings
from sdk.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def _project(folder: Path, table: str) -> Path:
    (folder / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n{table}', encoding="utf-8")
    (folder / "sub").mkdir()
    return folder / "sub"


def test_the_default_app_and_its_output_folder_come_from_the_nearest_pyproject(tmp_path, monkeypatch):
    # GIVEN a project whose pyproject names its app and output folder, and a shell in a subfolder of it
    monkeypatch.chdir(_project(tmp_path, '[tool.gpu-blueprints]\napp = "apps.main"\nout = "tf"\n'))
    # WHEN the CLI's defaults are read
    synth = build_parser().parse_args(["synth"])
    # THEN --app is the project's app, which writes to its folder; any other app writes to out/
    assert synth.app == "apps.main"
    assert (settings.default_out("apps.main"), settings.default_out("other")) == ("tf", "out")


def test_without_a_setting_the_cli_asks_for_app_and_names_no_app_itself(tmp_path, monkeypatch, capsys):
    # GIVEN a folder whose pyproject has no [tool.gpu-blueprints] table
    monkeypatch.chdir(_project(tmp_path, ""))
    # WHEN synth runs without --app
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["synth"])
    # THEN argparse refuses it and says --app is required
    assert exited.value.code == 2
    assert "--app" in capsys.readouterr().err


def test_this_repository_sets_the_examples_app_and_the_core_never_names_it():
    # GIVEN this checkout's pyproject WHEN its settings are read from the repository root
    mine = settings.settings(REPO)
    # THEN the app is the top-level examples package, and no sdk module spells its name
    assert mine["app"] == "examples" and mine["out"] == "generated"
    named = [p for p in (REPO / "sdk").rglob("*.py") if "blueprints.examples" in p.read_text(encoding="utf-8")]
    assert named == []
    assert isinstance(build_parser().parse_args(["synth", "--app", "x"]), argparse.Namespace)
