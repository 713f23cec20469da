#!/usr/bin/env python3
"""The arm64 CPU loops, read from an aarch64 build's objects with objdump:
each hot loop (straight-line, innermost) of the range loop and the array
loops, with its instructions, the bytes it loads (in 128-bit q-register
loads), its NEON instructions and how many independent NEON accumulators
it keeps. Fails unless each integer loop keeps at least 4 and each of the
three functions has a NEON loop, or if the library calls any software
quad-precision routine (long double is 128-bit in software on arm64 Linux,
~30x slower than double: the float check must not use it).

Usage: scripts/neon_check.py BUILD_DIR [OBJDUMP]
"""

import re
import subprocess
import sys

MIN_ACCUMULATORS = 4
VECTOR = re.compile(r"\bv(\d+)\.(\d+[bhsd])")
# A register that is both written and read by an accumulating instruction:
# vN = vN + ... (add, usra, sadalp, uadalp, saddw, uaddw, fadd).
ACCUMULATING = ("add", "usra", "ssra", "sadalp", "uadalp", "saddw", "uaddw", "saddw2", "uaddw2")


def functions(objdump, path):
    text = subprocess.run(
        [objdump, "-d", "--no-show-raw-insn", "-C", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            name = m.group(1)
            found.setdefault(name, [])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m and name:
            found[name].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return found


BRANCH = re.compile(r"^(b(\..*)?|cbz|cbnz|tbz|tbnz)$")


def innermost_loops(code):
    """Bodies [target, branch] of backward branches with no other branch
    inside: the straight-line hot loops (heads, tails and block set-up have
    branches of their own)."""
    where = {a: i for i, (a, _, _) in enumerate(code)}
    loops = []
    for i, (a, op, args) in enumerate(code):
        m = re.search(r"([0-9a-f]+) <", args)
        if BRANCH.match(op) and m:
            target = int(m.group(1), 16)
            if target < a and target in where:
                loops.append((where[target], i))
    return [(s, e) for s, e in loops if not any(BRANCH.match(op) for _, op, _ in code[s:e])]


def describe(body):
    loaded = wide = 0
    width = {"q": 16, "x": 8, "d": 8, "w": 4, "s": 4, "h": 2, "b": 1}
    for _, op, args in body:
        if op in ("ldr", "ldur", "ldp", "ldnp") and args[:1] in width:
            loaded += width[args[0]] * (2 if op in ("ldp", "ldnp") else 1)
            wide += args.startswith("q")
        elif op in ("ldrb", "ldrsb"):
            loaded += 1
        elif op in ("ldrh", "ldrsh"):
            loaded += 2
    accumulators = set()
    for _, op, args in body:
        regs = VECTOR.findall(args)
        if op in ACCUMULATING and len(regs) >= 2 and regs[0][0] in (r for r, _ in regs[1:]):
            accumulators.add(regs[0][0])
    vector_ops = sum(1 for _, _, args in body if VECTOR.search(args))
    return loaded, wide, accumulators, vector_ops


def main():
    build = sys.argv[1]
    objdump = sys.argv[2] if len(sys.argv) > 2 else "aarch64-linux-gnu-objdump"
    failures = []
    checks = [
        ("src/backends/cpu/simd/range_loop.cpp.o", "wrapping_baseline", "range loop"),
        ("src/backends/cpu/simd/array_loops.cpp.o", "integers_baseline", "integer arrays"),
        ("src/backends/cpu/simd/array_loops.cpp.o", "floats_baseline", "float arrays"),
    ]
    print(f"{'loop':16} {'instr':>5} {'bytes':>5} {'q-loads':>7} {'vector':>6} {'accum':>5}")
    for obj, function, label in checks:
        code = next(
            c
            for n, c in functions(objdump, f"{build}/CMakeFiles/gpusum.dir/{obj}").items()
            if function in n
        )
        vector_loops = 0
        for s, e in innermost_loops(code):
            body = code[s : e + 1]
            loaded, wide, accumulators, vector_ops = describe(body)
            if vector_ops == 0:
                continue  # a scalar head or tail loop
            vector_loops += 1
            print(
                f"{label:16} {len(body):5} {loaded:5} {wide:7} {vector_ops:6} {len(accumulators):5}"
            )
            if label != "float arrays" and len(accumulators) < MIN_ACCUMULATORS:
                failures.append(f"{label}: a loop keeps {len(accumulators)} accumulators")
        if vector_loops == 0:
            failures.append(f"{label}: no NEON loop in {function}")
    nm = objdump.replace("objdump", "nm")
    objects = subprocess.run(
        ["find", f"{build}/CMakeFiles/gpusum.dir", "-name", "*.o"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    symbols = subprocess.run(
        [nm, "-u", *objects], check=True, capture_output=True, text=True
    ).stdout
    quad = sorted(set(re.findall(r"\b__\w+tf[23]\b", symbols)))
    print("software quad precision called:", ", ".join(quad) or "none")
    if quad:
        failures.append("the library calls " + ", ".join(quad))
    for f in failures:
        print("neon_check:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


main()
