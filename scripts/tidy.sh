#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over the C++ sources in src/ and tests/ of the given
# build directories' compile databases, each file once, two at a time. Pass
# every configuration that compiles a file the others do not (e.g. a CPU-only
# build and an MPI build). Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/tidy.sh BUILD_DIR..." >&2; exit 2; }
python3 - "$@" <<'PY' | xargs -P2 -n2 sh -c 'clang-tidy -p "$0" --quiet "$1"'
import json, os, sys
seen = set()
for build in sys.argv[1:]:
    for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
        path = os.path.relpath(os.path.join(entry["directory"], entry["file"]))
        if path.endswith(".cpp") and path.split("/")[0] in ("src", "tests") and path not in seen:
            seen.add(path)
            print(build, path)
PY
