"""Synthesize every stack of an app module in one process into generated/<stack>/cdk.tf.json."""

import importlib
import importlib.util
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sdk.lambda_zip import write_assets
from sdk.settings import default_out
from sdk.tfjson import STACK_FILE, count_resources, load_stacks, stack_file

STACKS_DIR = "stacks"


class AppError(Exception):
    """The app cannot be loaded or built; the message names the cause and the fix (the CLI exits 2)."""


def load_app(app: str) -> ModuleType:
    """A module name (`my_app`, `pkg.app`) or a file path (`path/to/app.py`), with a `build_app(app)`."""
    if app.endswith(".py") or "/" in app:
        path = Path(app)
        spec = importlib.util.spec_from_file_location(path.stem, path) if path.is_file() else None
        if spec is None or spec.loader is None:
            raise AppError(f"--app {app}: no such file. Fix: a path to a .py file, or a module name such as my_app")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        sys.path.insert(0, str(path.parent.resolve()))  # its sibling modules import as when run from its folder
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(app)
        except ModuleNotFoundError as error:
            if error.name is None or not app.startswith(error.name):
                raise
            raise AppError(
                f"--app {app}: no module {error.name!r} on the path. Fix: run from the folder holding {app}.py, "
                f"or pass its path (--app path/to/{app.rpartition('.')[2]}.py)"
            ) from None
    if not callable(getattr(module, "build_app", None)):
        raise AppError(f"--app {app}: the module has no build_app(app). Fix: define def build_app(app): ...")
    return module


def build(app_module: str, outdir: str | None = None) -> Any:
    """An App with the module's stacks added by its `build_app(app)`."""
    from sdk.constructs.engine import App  # the engine loads here, not on `import sdk.synth`

    app = App(outdir=outdir, skip_validation=False) if outdir else App()
    load_app(app_module).build_app(app)
    return app


def synth_app(app_module: str) -> dict[str, dict[str, Any]]:
    """Stack name -> Terraform JSON, synthesized in a scratch directory."""
    import sdk.constructs.engine  # noqa: F401  (jsii on the bundled Node, lazy provider, before the app loads)

    return synth_with(load_app(app_module).build_app)


def synth_with(build_app: Callable[[Any], None]) -> dict[str, dict[str, Any]]:
    """Stack name -> Terraform JSON of the stacks `build_app(app)` adds, synthesized in a scratch directory."""
    from sdk.constructs.engine import App

    with tempfile.TemporaryDirectory(prefix="gpu-blueprints-") as tmp:
        app = App(outdir=tmp, skip_validation=False)
        build_app(app)
        app.synth()
        return load_stacks(Path(tmp, STACKS_DIR))


def other_stacks(stacks: dict[str, Any], out_dir: Path) -> list[Path]:
    """Stack folders in out_dir (those holding a stack file) that the app did not build."""
    return sorted(p.parent for p in out_dir.glob(f"*/{STACK_FILE}") if p.parent.name not in stacks)


def write_stacks(stacks: dict[str, dict[str, Any]], out_dir: Path, *, prune: bool = False) -> list[Path]:
    """Write each stack's JSON (stable formatting). Stack folders the app did not build are returned and kept, or
    deleted with `prune` (only folders holding a stack file: `--out .` must never take the checkout with it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    others = other_stacks(stacks, out_dir)
    for stale in others if prune else []:
        shutil.rmtree(stale)
    for name, tf in stacks.items():
        (out_dir / name).mkdir(exist_ok=True)
        stack_file(out_dir, name).write_text(json.dumps(tf, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        write_assets(tf, out_dir / name)  # the gateway Lambda's zip, next to the JSON that names it
    return others


def summary_lines(name: str, tf: dict[str, Any]) -> list[str]:
    """One line per stack (resources, typical $/month), then each blueprint's summary and its review notes."""
    from sdk.cost import estimate_stack
    from sdk.hints import read_hints

    cost = estimate_stack(tf)
    priced = f" ({cost.pricing_note})" if cost.pricing_note else ""
    lines = [f"{name}: {count_resources(tf)} resources, ~${cost.typical_monthly_usd:,.0f}/month{priced}"]
    for path, hints in read_hints(tf).items():
        if hints.summary:
            lines.append(f"  {path.rsplit('/', 1)[-1]}: {'; '.join(hints.summary)}")
        lines.extend(f"    note: {note}" for note in hints.review_notes)
    return lines


def run_synth(*, app_module: str, out_dir: str | None = None, cdktf_mode: bool = False, prune: bool = False) -> int:
    if cdktf_mode:  # the cdktf CLI sets CDKTF_OUTDIR and reads cdktf.out/ itself
        build(app_module).synth()
        return 0
    stacks = synth_app(app_module)
    others = write_stacks(stacks, Path(out_dir or default_out(app_module)), prune=prune)
    for name, tf in stacks.items():
        print("\n".join(summary_lines(name, tf)))
    verb = "deleted (--prune)" if prune else "kept; --prune deletes it"
    for path in others:
        print(f"{path}: not built by {app_module}, {verb}")
    return 0
