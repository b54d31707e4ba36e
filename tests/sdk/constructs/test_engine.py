"""sdk/constructs/engine.py: the one module of ours that imports cdktf, constructs and the AWS provider."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from sdk.constructs import engine

REPO = Path(__file__).resolve().parents[3]
ENGINE_MODULE = "sdk/constructs/engine.py"
SCANNED = ("sdk", "blueprints", "examples", "tests", "bench")

ENGINE_IMPORT = """
import json, os, sys
from sdk.constructs.stack import GpuStack
from sdk.node import node_executable
from sdk.constructs.engine import aws
provider = [m for m in sys.modules if m.startswith(aws.__name__ + ".") and "._" not in m]
print(json.dumps({
    "jsii_node": os.environ.get("JSII_NODE") == str(node_executable()),
    "finders": [type(f).__name__ for f in sys.meta_path if type(f).__module__ == "sdk.fast_import"],
    "provider_submodules": len(provider),
}))
"""


def engine_imports(path: Path) -> list[str]:
    """`module:line` of each import of an engine package in a Python file, in line order."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [(node.lineno, module) for module in modules if module.split(".")[0] in engine.ENGINE_PACKAGES]
    return [f"{module}:{line}" for line, module in sorted(found)]


def importers() -> dict[str, list[str]]:
    """Our files (engine module aside) that import an engine package, with what and where."""
    files = (path for folder in SCANNED for path in sorted((REPO / folder).rglob("*.py")))
    relative = {path.relative_to(REPO).as_posix(): path for path in files}
    found = {name: engine_imports(path) for name, path in relative.items() if name != ENGINE_MODULE}
    return {name: imports for name, imports in found.items() if imports}


def test_no_module_of_ours_but_the_engine_module_imports_cdktf_constructs_or_the_provider():
    # GIVEN every Python file of the library, the blueprints, the examples, the tests and the benchmarks
    found = importers()
    # THEN none imports an engine package itself
    assert found == {}


def test_the_scan_finds_each_form_of_engine_import(tmp_path: Path):
    # GIVEN a file importing each engine package as `import p`, `from p import X` and, nested in a function,
    # `from p.sub import X`, plus look-alikes (a longer name, a relative import)
    source = "".join(
        f"import {p}\nfrom {p} import X\ndef f():\n    from {p}.sub import X\nimport {p}_like\nfrom . import {p}\n"
        for p in sorted(engine.ENGINE_PACKAGES)
    )
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    # THEN the three imports of each package are found, the nested one too, and nothing else
    expected = [
        f"{name}:{6 * i + line}"
        for i, p in enumerate(sorted(engine.ENGINE_PACKAGES))
        for name, line in ((p, 1), (p, 2), (f"{p}.sub", 4))
    ]
    assert engine_imports(tmp_path / "m.py") == expected


def test_a_construct_module_gets_the_bundled_node_and_the_lazy_provider_through_the_engine():
    # GIVEN a fresh interpreter with no JSII_NODE set
    env = {key: value for key, value in os.environ.items() if key != "JSII_NODE"}
    env["PYTHONPATH"] = str(REPO)
    # WHEN it imports a construct module (which takes its engine names from the engine module)
    done = subprocess.run(
        [sys.executable, "-c", ENGINE_IMPORT], cwd=REPO, env=env, capture_output=True, encoding="utf-8", timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout)
    # THEN jsii runs on the bundled Node, the provider finder is installed once, and only the named provider
    # submodules were loaded (a few dozen of ~2,200)
    assert loaded["jsii_node"] is True
    assert loaded["finders"] == ["_ProviderFinder"]
    assert 0 < loaded["provider_submodules"] < 100


def test_the_provider_package_is_reachable_for_names_the_engine_module_does_not_list():
    # GIVEN the provider package the engine module re-exports as `aws`
    # THEN a class it does not name is one attribute path away, with its jsii type
    assert engine.aws.ssm_parameter.SsmParameter.__jsii_type__.endswith("/provider-aws.ssmParameter.SsmParameter")
