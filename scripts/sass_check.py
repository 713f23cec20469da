#!/usr/bin/env python3
"""What the gpusum kernels compile to, per architecture, checked against budgets.

Reads the CUDA object of a build (no GPU needed) with cuobjdump and prints,
for every tree_reduce and exact_float_reduce instantiation and every
architecture in the fatbin: registers, stack and local memory (spills),
shared memory, and for the hot loop (for arrays the loop with the most
16-byte loads, or for the series the one that adds) its instructions,
elements per iteration, instructions per element on the common path
(without the float kernel's rare paths), the operations per element on
each pipe (alu, fma, fp64, xu, lsu) and the busiest of them, which bounds
the rate when memory does not, the load width, and the 16-byte loads
issued before the first instruction that uses one (the loads each thread
has in flight). Fails when a kernel spills or is worse than
scripts/sass_budget.json, which records today's code.

Usage: scripts/sass_check.py BUILD_DIR [--markdown] [--write-budget]
cuobjdump and nvdisasm must be on PATH (PyPI: nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm).
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys

BUDGET = pathlib.Path(__file__).with_name("sass_budget.json")
# kernels/tree_plan.hpp: thread_sum adds kSeriesLanes = 16 elements per
# iteration, unrolled 4 times.
SERIES_ELEMENTS_PER_ITERATION = 64
DTYPES = {
    "a": "int8",
    "h": "uint8",
    "s": "int16",
    "t": "uint16",
    "i": "int32",
    "j": "uint32",
    "l": "int64",
    "m": "uint64",
    "f": "float32",
    "d": "float64",
}
BYTES = {name: int(re.search(r"\d+", name).group()) // 8 for name in DTYPES.values()}
BYTES["bool"] = 1  # kernels::BoolByte: NumPy's bool, True when nonzero
LOAD_BITS = {"U8": 8, "S8": 8, "U16": 16, "S16": 16, "64": 64, "128": 128}


KERNELS = ("tree_reduce", "exact_float_reduce")


def kernel_name(mangled):
    if not any(k in mangled for k in KERNELS):
        return None
    if "SeriesSource" in mangled:
        return "series"
    if m := re.search(r"exact_float_reduceI(\w)Lb([01])E", mangled):
        return f"exact {DTYPES[m.group(1)]} {'sliced' if m.group(2) == '1' else 'placed'}"
    if "ArraySourceINS0_8BoolByteE" in mangled:
        return "bool"
    m = re.search(r"ArraySourceI(\w)E", mangled)
    return DTYPES[m.group(1)] if m else None


def cuobjdump(*args):
    try:
        return subprocess.run(
            ["cuobjdump", *args], check=True, capture_output=True, text=True
        ).stdout
    except FileNotFoundError:
        sys.exit("sass_check: cuobjdump not on PATH (PyPI: nvidia-cuda-cuobjdump)")
    except subprocess.CalledProcessError as e:
        sys.exit(
            f"sass_check: cuobjdump {' '.join(args)} failed: {e.stderr.strip()}"
            " (it needs nvdisasm too: PyPI nvidia-cuda-nvdisasm)"
        )


def resources(obj):
    """{(kernel, arch): {registers, stack, local, shared}} from -res-usage."""
    out, arch, name = {}, None, None
    for line in cuobjdump("-res-usage", obj).splitlines():
        if m := re.match(r"\s*arch = (sm_\d+)", line):
            arch = m.group(1)
        elif m := re.match(r"\s*Function (\S+):", line):
            name = kernel_name(m.group(1))
        elif name and (m := re.search(r"REG:(\d+) STACK:(\d+) SHARED:(\d+) LOCAL:(\d+)", line)):
            reg, stack, shared, local = map(int, m.groups())
            out[(name, arch)] = {"registers": reg, "stack": stack, "shared": shared, "local": local}
            name = None
    return out


def functions(sass):
    """{mangled name: [(address, instruction)]} from -sass output of one arch."""
    out, current = {}, None
    for line in sass.splitlines():
        if m := re.match(r"\s*Function : (\S+)", line):
            current = out.setdefault(m.group(1), [])
        elif current is not None and (m := re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)):
            current.append((int(m.group(1), 16), m.group(2)))
    return out


def hot_loop(code, series):
    """The innermost loop that does the element work, as [(address, instruction)]."""
    loops = []
    for address, text in code:
        m = re.search(r"\bBRA(?:\.U)? (?:!?U?P\d, )?0x([0-9a-f]+)", text)
        if m and "BRA.DIV" not in text and int(m.group(1), 16) < address:
            loops.append((int(m.group(1), 16), address))
    innermost = [
        s for s in loops if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in loops)
    ]
    bodies = [[(a, t) for a, t in code if lo <= a <= hi] for lo, hi in innermost]
    if series:
        # The adds run on the vector integer pipe; the chunk-bound divisions
        # around them on the uniform datapath.
        def adds(body):
            return sum(1 for a, t in body if re.match(r"(@!?P\d+ )?IADD3", t))

        body = max(bodies, key=lambda b: adds(b) / len(b))
    else:
        # The loop with the most 16-byte loads (the tiles, not the head, the
        # tail or the last vectors), the smallest such (exact_float_reduce's
        # holds the compare-and-swap loops of its rare flushes, so it is not
        # innermost). Without any, the smallest loop that loads at all.
        loading = [
            (lo, hi) for lo, hi in loops if any(load_bits(t) for a, t in code if lo <= a <= hi)
        ]
        # Innermost among the loading loops: an outer loop holds the inner's loads too.
        loading = [
            s for s in loading if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in loading)
        ]
        bodies = [[(a, t) for a, t in code if lo <= a <= hi] for lo, hi in loading]
        body = min(bodies, key=lambda b: (-sum(load_bits(t) == 128 for a, t in b), len(b)))
    return body


def common_path(body):
    """The instructions one iteration runs when no rare path is taken. The
    exact float kernel keeps its rare paths out of line, as calls (earlier
    code: shared-memory atomics), behind forward branches; walking the loop
    from its head, a forward branch is taken when the code it would skip
    holds such a call, and followed when it is unconditional. Loops without
    rare paths count whole."""

    def rare(t):
        return "CALL" in t or "ATOMS" in t

    if not any(rare(t) for _, t in body):
        return [t for _, t in body]
    index = {a: i for i, (a, _) in enumerate(body)}
    path, i = [], 0
    while i < len(body):
        address, text = body[i]
        path.append(text)
        m = re.search(r"\bBRA(?:\.U)? (?:!?U?P\d, )?0x([0-9a-f]+)", text)
        if not m or "BRA.DIV" in text:
            i += 1
            continue
        target = int(m.group(1), 16)
        if target <= address or target not in index:
            break  # the back edge, or out of the loop
        conditional = text.startswith("@")
        skipped = body[i + 1 : index[target]]
        i = index[target] if not conditional or any(rare(t) for _, t in skipped) else i + 1
    return path


def load_bits(instruction):
    """Width of an element load (LDG, not the atomics' LDG.E.STRONG), else 0."""
    m = re.search(r"LDG\.E(?:\.(U8|S8|U16|S16|64|128))?", instruction)
    if not m or "STRONG" in instruction:
        return 0
    return LOAD_BITS.get(m.group(1), 32)


# The pipe each opcode issues to (Volta to Hopper, as Nsight Compute names
# them): fma also takes integer multiplies and dot products, alu the
# integer adds, logic, shifts, compares and moves; uniform-datapath (U*)
# and branch instructions issue elsewhere and are left out. Hopper's VIADD
# is counted on alu: where its pipe is unsure, the busier count is kept.
PIPES = (
    ("fp64", r"D(ADD|MUL|FMA|SETP|MNMX)\b|F2F\.F64|F2F\.F32\.F64|DEPBAR"),
    ("fma", r"(FFMA|FADD|FMUL|FMNMX|HFMA2|HADD2|HMUL2|IMAD|IMUL|IDP|FSEL|FSETP)\b"),
    ("xu", r"(MUFU|I2F|F2I|F2F|FRND|I2I)\b"),
    ("lsu", r"(LDG|STG|LDS|STS|LDL|STL|LD|ST|ATOMS|ATOMG|ATOM|RED|SHFL|LDSM|MATCH)\b"),
    (
        "alu",
        r"(IADD3|IADD|VIADD|LOP3|LOP|SHF|SHL|SHR|LEA|ISETP|SEL|MOV|PRMT|IABS|IMNMX|VIMNMX|POPC|FLO|BREV|"
        r"PLOP3|P2R|R2P|CS2R|VOTE|BMSK|SGXT|ICMP)\b",
    ),
)


def pipe_of(instruction):
    """The pipe an instruction issues to, or None (uniform, branch, NOP)."""
    opcode = re.sub(r"^@!?U?P[T\d]+ ", "", instruction).split()[0]
    if opcode.startswith("U") or opcode.split(".")[0] in (
        "BRA",
        "BSSY",
        "BSYNC",
        "EXIT",
        "NOP",
        "WARPSYNC",
        "BAR",
        "RET",
        "CALL",
        "YIELD",
        "S2R",
        "S2UR",
        "MEMBAR",
        "ERRBAR",
        "CCTL",
        "NANOSLEEP",
    ):
        return None
    base = opcode.split(".")[0]
    for pipe, pattern in PIPES:
        if re.fullmatch(pattern, base) or re.match(pattern, opcode):
            return pipe
    return "other"


def registers_of(operand_text):
    return {int(r) for r in re.findall(r"\bR(\d+)\b", operand_text)}


def loads_before_first_use(body):
    """16-byte loads the loop issues before an instruction reads what one of
    them loaded: the loads each thread has in flight at once."""
    pending, issued = set(), 0
    for _, text in body:
        plain = re.sub(r"^@!?P[T\d]+ ", "", text)
        opcode, _, operands = plain.partition(" ")
        parts = [p.strip() for p in operands.split(",")]
        stores = opcode.startswith(("ST", "RED", "ATOM"))
        reads = registers_of(",".join(parts if stores else parts[1:]))
        if reads & pending:
            break
        if load_bits(text) == 128:
            first = min(registers_of(parts[0]))
            pending |= set(range(first, first + 4))
            issued += 1
    return issued


def loop_facts(body, name):
    if name == "series":
        elements, width = SERIES_ELEMENTS_PER_ITERATION, 0
    else:
        widths = [load_bits(t) for a, t in body if load_bits(t)]
        width = max(widths)
        dtype = next(word for word in name.split() if word in BYTES)
        elements = sum(widths) // (8 * BYTES[dtype])
    # Per element on the path every element takes (without the rare paths).
    common = common_path(body)
    pipes = {}
    for text in common:
        if pipe := pipe_of(text):
            pipes[pipe] = pipes.get(pipe, 0) + 1
    busiest = max(pipes, key=pipes.get) if pipes else "-"
    return {
        "loop_instructions": len(body),
        "elements_per_iteration": elements,
        "instructions_per_element": round(len(common) / elements, 2),
        "load_bits": width,
        "pipes": {p: round(n / elements, 2) for p, n in sorted(pipes.items())},
        "busiest_pipe": busiest,
        "busiest_pipe_ops": round(pipes.get(busiest, 0) / elements, 2),
        "loads_in_flight": loads_before_first_use(body) if name != "series" else 0,
    }


def measure(obj):
    facts = resources(obj)
    for arch in sorted({a for _, a in facts}):
        for mangled, code in functions(cuobjdump("-sass", "-arch", arch, obj)).items():
            name = kernel_name(mangled)
            if name and (name, arch) in facts:
                facts[(name, arch)].update(loop_facts(hot_loop(code, name == "series"), name))
    return facts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--write-budget", action="store_true", help="record today's figures")
    args = parser.parse_args()
    objs = list(pathlib.Path(args.build_dir).rglob("gpu_backends.cu.o"))
    if not objs:
        sys.exit(f"sass_check: no gpu_backends.cu.o under {args.build_dir} (a CUDA build?)")
    facts = measure(str(objs[0]))
    if not facts:
        sys.exit("sass_check: no gpusum kernel found in " + str(objs[0]))

    header = [
        "kernel",
        "arch",
        "registers",
        "stack+local",
        "shared",
        "hot loop",
        "elements/iter",
        "instr/element",
        "busiest pipe",
        "load bits",
        "in flight",
    ]
    rows = [
        [
            k,
            a,
            f["registers"],
            f["stack"] + f["local"],
            f["shared"],
            f["loop_instructions"],
            f["elements_per_iteration"],
            f["instructions_per_element"],
            f"{f['busiest_pipe']} {f['busiest_pipe_ops']}",
            f["load_bits"] or "-",
            f["loads_in_flight"] or "-",
        ]
        for (k, a), f in sorted(facts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + " --- |" * len(header))
        for r in rows:
            print("| " + " | ".join(map(str, r)) + " |")
    else:
        print("  ".join(f"{h:>13}" for h in header))
        for r in rows:
            print("  ".join(f"{str(c):>13}" for c in r))

    if args.write_budget:
        BUDGET.write_text(
            json.dumps(
                {
                    f"{k}/{a}": {
                        "registers": f["registers"],
                        "instructions_per_element": f["instructions_per_element"],
                        "busiest_pipe_ops": f["busiest_pipe_ops"],
                        "load_bits": f["load_bits"],
                        "loads_in_flight": f["loads_in_flight"],
                    }
                    for (k, a), f in sorted(facts.items())
                },
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {BUDGET}")
        return
    budget = json.loads(BUDGET.read_text())
    problems = []
    for (k, a), f in sorted(facts.items()):
        where = f"{k}/{a}"
        if f["stack"] or f["local"]:
            problems.append(f"{where}: spills ({f['stack']} bytes stack, {f['local']} local)")
        b = budget.get(where)
        if b is None:
            problems.append(f"{where}: no budget (run with --write-budget and review the diff)")
            continue
        if f["registers"] > b["registers"]:
            problems.append(f"{where}: {f['registers']} registers, budget {b['registers']}")
        if f["instructions_per_element"] > b["instructions_per_element"]:
            problems.append(
                f"{where}: {f['instructions_per_element']} instructions per element, "
                f"budget {b['instructions_per_element']}"
            )
        if f["load_bits"] < b["load_bits"]:
            problems.append(f"{where}: {f['load_bits']}-bit loads, budget {b['load_bits']}")
        if f["busiest_pipe_ops"] > b["busiest_pipe_ops"]:
            problems.append(
                f"{where}: {f['busiest_pipe_ops']} operations per element on the "
                f"{f['busiest_pipe']} pipe, budget {b['busiest_pipe_ops']}"
            )
        if f["loads_in_flight"] < b["loads_in_flight"]:
            problems.append(
                f"{where}: {f['loads_in_flight']} loads in flight, budget {b['loads_in_flight']}"
            )
    for p in problems:
        print("sass_check: " + p, file=sys.stderr)
    print(f"sass_check: {len(facts)} kernels, {len(problems)} over budget")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
