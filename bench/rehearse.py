"""Deploy rehearsal of every example stack: wall time and per-stack seconds.

    .venv/bin/python bench/rehearse.py [--jobs 3]

Prints the rehearsal table, the wall time of the whole run and the machine's load, for docs/benchmarks.md.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdk.rehearse import details, find_toolchain, rehearse_stacks, table
from sdk.synth import synth_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    tool = find_toolchain()
    started = time.monotonic()
    stacks = synth_app("examples")
    results = rehearse_stacks(stacks, jobs=args.jobs, tool=tool)
    wall = time.monotonic() - started
    print(table(results))
    if text := details(results):
        print(text)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"{len(results)} stacks, {sum(r.resources for r in results)} resources, --jobs {args.jobs}: "
        f"{wall:.0f} s wall (synth included); terraform {tool.version} provider; load average {load}"
    )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
