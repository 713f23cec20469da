#!/usr/bin/env python3
"""The library's floors, checked: every #include "..." in include/, kernels/ and
src/ points to the same floor or a lower one, the installed headers include
only each other, and no header includes itself round a cycle.

    scripts/check_layers.py        (from anywhere; exit 1 on a violation)

Floors, lowest first (docs/architecture.md draws them):
    public face   include/gpusum/          (value types, errors, Backend, facade)
    platform      src/platform/            (every OS difference)
    support       src/support/, kernels/   (text, signals, threads; pure
                                            host/device arithmetic)
    input         src/input/
    verify        src/verify/
    backends      src/backends/
    plan          src/plan/
    run           src/run/
    report        src/report/
    cli           src/cli/
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLOORS = ["platform", "support", "input", "verify", "backends", "plan", "run", "report", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def floor_of(path):
    """The floor of a file, relative to the root: -1 for the public face."""
    parts = path.parts
    if parts[0] == "include":
        return -1
    if parts[0] == "kernels":
        return FLOORS.index("support")
    return FLOORS.index(parts[1])


def resolve(including, name):
    """The file an include names: beside the includer, then the include dirs."""
    for base in (
        including.parent,
        pathlib.Path("include"),
        pathlib.Path("src"),
        pathlib.Path("kernels"),
    ):
        candidate = base / name
        if (ROOT / candidate).is_file():
            return pathlib.Path(*candidate.parts)
    return None


def main():
    files = [
        p.relative_to(ROOT)
        for d in ("include", "kernels", "src")
        for p in (ROOT / d).rglob("*")
        if p.suffix in (".hpp", ".cpp", ".cu", ".cuh")
    ]
    problems, graph = [], {}
    for f in sorted(files):
        graph[f] = []
        for name in INCLUDE.findall((ROOT / f).read_text()):
            target = resolve(f, name)
            if target is None:
                problems.append(f'{f}: includes "{name}", which is not in the tree')
                continue
            graph[f].append(target)
            if floor_of(f) == -1 and floor_of(target) != -1:
                problems.append(f"{f}: the public face includes the private {target}")
            elif floor_of(target) > floor_of(f):
                problems.append(
                    f"{f} ({FLOORS[floor_of(f)]}) includes {target} "
                    f"({FLOORS[floor_of(target)]}), a higher floor"
                )
    # Cycles among headers, by depth-first search.
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt) :] + [nxt]
                problems.append("include cycle: " + " -> ".join(map(str, cycle)))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for f in sorted(graph):
        if f not in state:
            visit(f, [f])
    for p in problems:
        print("check_layers:", p, file=sys.stderr)
    print(
        f"check_layers: {len(files)} files, {sum(map(len, graph.values()))} includes, "
        f"{len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
