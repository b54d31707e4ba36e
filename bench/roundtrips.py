"""jsii round trips (Python -> Node kernel requests) per stack, and which of our construct calls cause them.

Synthesizes `--stacks` copies of bench/scale.py's stack in this process with the kernel's `send` counted: each
request is one round trip over the kernel's pipe. Each is charged to the innermost frame in sdk/ or blueprints/
(file:line and function) and to its kind (create, get, set, invoke, static get/invoke, callback completion).
Time per round trip comes from bench/scale.py's slope; this script gives the count.

    .venv/bin/python bench/roundtrips.py [--stacks 5] [--top 25]
"""

import argparse
import collections
import sys
import tempfile
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scale import build_copies  # noqa: E402

import sdk.constructs.engine  # noqa: E402,F401  (first: the lazy provider import and jsii's Node)

OURS = (str(REPO / "sdk"), str(REPO / "blueprints"))
HELPERS = ("fast_import.py", "structs.py")  # pass-throughs: charge the construct code that called them


def our_frame() -> str:
    """`path:line function` of the innermost caller in sdk/ or blueprints/ (the construct code that asked)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(OURS) and not path.endswith(HELPERS):
            return f"{Path(path).relative_to(REPO)} {frame.f_code.co_name}"
        frame = frame.f_back
    return "(outside sdk/ and blueprints/: cdktf's synth)"


def kinds_key(kind: str, detail: str) -> str:
    return f"{kind} {detail}".strip() if kind in ("Get", "Invoke", "StaticGet") else kind


def counted_synth(stacks: int) -> tuple[collections.Counter[str], collections.Counter[str], int]:
    from jsii._kernel.providers.process import _NodeProcess

    from sdk.synth import synth_with

    sources: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    real_send = _NodeProcess.send

    def send(self, request, response_type):
        kind = type(request).__name__.removesuffix("Request").lstrip("_")
        detail = getattr(request, "property", None) or getattr(request, "method", None) or ""
        kinds[kinds_key(kind, detail)] += 1
        if kind != "Create":  # creating the resources is the work itself; reads and calls are what could go
            sources[f"{our_frame()}: {kinds_key(kind, detail)}"] += 1
        return real_send(self, request, response_type)

    _NodeProcess.send = send  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-roundtrips-"):
            built = synth_with(lambda app: build_copies(app, stacks))
    finally:
        _NodeProcess.send = real_send  # type: ignore[method-assign]
    return sources, kinds, len(built)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", type=int, default=5, help="copies of the stack (default: %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="sources listed (default: %(default)s)")
    args = parser.parse_args()
    sources, kinds, built = counted_synth(args.stacks)
    total = sum(sources.values())
    print(f"{built} stacks: {total} round trips, {total / built:.0f} per stack")
    print("by kind (per stack):")
    for kind, count in kinds.most_common(args.top):
        print(f"  {count / built:>7.1f}  {kind}")
    print("by source, all but Create (per stack):")
    for source, count in sources.most_common(args.top):
        print(f"  {count / built:>7.1f}  {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
