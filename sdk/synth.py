"""Synthesize every stack of an app module in one process into generated/<stack>/cdk.tf.json."""

import importlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

STACKS_DIR = "stacks"
STACK_FILE = "cdk.tf.json"


def build(app_module: str, outdir: str | None = None) -> Any:
    """An App with the module's stacks added by its `build_app(app)`."""
    from cdktf import App

    import sdk.constructs  # noqa: F401  (points jsii at a supported Node before cdktf starts it)

    app = App(outdir=outdir, skip_validation=False) if outdir else App()
    importlib.import_module(app_module).build_app(app)
    return app


def synth_app(app_module: str) -> dict[str, dict[str, Any]]:
    """Stack name -> Terraform JSON, synthesized in a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="gpu-blueprints-") as tmp:
        build(app_module, tmp).synth()
        return {
            path.parent.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(Path(tmp, STACKS_DIR).glob(f"*/{STACK_FILE}"))
        }


def write_stacks(stacks: dict[str, dict[str, Any]], out_dir: Path) -> None:
    """Write each stack's JSON (stable formatting); drop the folders of stacks that no longer exist (only folders
    holding a stack file: `--out .` must never take the checkout with it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p.parent for p in out_dir.glob(f"*/{STACK_FILE}") if p.parent.name not in stacks):
        shutil.rmtree(stale)
    for name, tf in stacks.items():
        (out_dir / name).mkdir(exist_ok=True)
        (out_dir / name / STACK_FILE).write_text(json.dumps(tf, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def summary_lines(name: str, tf: dict[str, Any]) -> list[str]:
    """One line per stack (resources, typical $/month), then each blueprint's summary and its review notes."""
    from sdk.cost import estimate_stack
    from sdk.hints import read_hints

    resources = sum(len(v) for v in tf.get("resource", {}).values())
    cost = estimate_stack(tf)
    priced = f" ({cost.pricing_note})" if cost.pricing_note else ""
    lines = [f"{name}: {resources} resources, ~${cost.typical_monthly_usd:,.0f}/month{priced}"]
    for path, hints in read_hints(tf).items():
        if hints.summary:
            lines.append(f"  {path.rsplit('/', 1)[-1]}: {'; '.join(hints.summary)}")
        lines.extend(f"    note: {note}" for note in hints.review_notes)
    return lines


def run_synth(*, app_module: str, out_dir: str, cdktf_mode: bool = False) -> int:
    if cdktf_mode:  # the cdktf CLI sets CDKTF_OUTDIR and reads cdktf.out/ itself
        build(app_module).synth()
        return 0
    stacks = synth_app(app_module)
    write_stacks(stacks, Path(out_dir))
    for name, tf in stacks.items():
        print("\n".join(summary_lines(name, tf)))
    return 0
