"""Project settings from `[tool.gpu-blueprints]` in the nearest pyproject.toml (the current folder or a parent).

The core names no app: the default `--app`, where its stacks go and which specs `python -m sdk schema` documents are
the project's choice, written once in its pyproject.toml:

    [tool.gpu-blueprints]
    app = "examples"                  # default --app of synth, review and rehearse
    out = "generated"                 # where that app's stacks go (any other app: out/)
    schemas = ["blueprints:AlbInferenceSpec"]   # module:Name of each top-level spec
"""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

SECTION = "gpu-blueprints"
APP_OUT = "out"


def find_pyproject(start: Path | None = None) -> Path | None:
    """The pyproject.toml in `start` (default: the current folder) or the nearest parent that has one."""
    here = (start or Path.cwd()).resolve()
    return next((d / "pyproject.toml" for d in (here, *here.parents) if (d / "pyproject.toml").is_file()), None)


@cache
def _read(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    with path.open("rb") as file:
        table = tomllib.load(file).get("tool", {}).get(SECTION, {})
    return table if isinstance(table, dict) else {}


def settings(start: Path | None = None) -> dict[str, Any]:
    """The `[tool.gpu-blueprints]` table, or {} without a pyproject.toml or without the table."""
    return _read(find_pyproject(start))


def default_app() -> str | None:
    """The project's app module (`app`), or None: then --app must be given."""
    app = settings().get("app")
    return app if isinstance(app, str) and app else None


def default_out(app_module: str) -> str:
    """The project's own app writes to its `out` folder (default generated); any other app to out/."""
    mine = settings()
    return str(mine.get("out", "generated")) if app_module == default_app() else APP_OUT


def schema_specs(start: Path | None = None) -> list[str]:
    """`module:Name` of each top-level spec whose JSON Schema `python -m sdk schema` writes."""
    return [str(ref) for ref in settings(start).get("schemas", [])]
