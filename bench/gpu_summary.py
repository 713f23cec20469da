#!/usr/bin/env python3
"""The closing table of bench/gpu_check.sh, rewritten after every step:
each step's status (passed, FAILED, timed-out, skipped with the reason),
its seconds against the step's modelled seconds, and each result against
the device's bounds.

Bounds: range mode at 2 integer-pipe operations per element (SMs x clock x
64 int32 lanes / 2: a model from the loop's machine code); arrays in device
memory against the memory peak the device reports (clock x bus x 2).

Usage: bench/gpu_summary.py OUT_DIR   (exit 1 if any step failed or timed out)
"""

import json
import pathlib
import sys

HBM_GB_PER_S = {"H200": 4800, "H100 SXM": 3350, "H100 PCIe": 2000, "H100 NVL": 3900, "A100": 2039}


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def detail(run, key):
    return run.get("details", {}).get(key)


def main():
    out = pathlib.Path(sys.argv[1])
    failed = False
    skipped = 0
    spent = modelled = 0
    print("== summary")
    print(f"{'step':26s} {'status':>10s} {'seconds':>8s} {'model':>6s}")
    for line in (out / "suites.txt").read_text().splitlines():
        name, status, _rc, secs, model, *why = line.split()
        failed |= status in ("FAILED", "timed-out")
        skipped += status == "skipped"
        spent += int(secs)
        modelled += int(model)
        note = f"  {' '.join(why)}" if why else ""
        print(f"{name:26s} {status:>10s} {secs:>8s} {model:>6s}{note}")
    print(f"{'total':26s} {'':>10s} {spent:8d} {modelled:6d}")

    info = (out / "gpu-info.txt").read_text() if (out / "gpu-info.txt").exists() else ""
    print("\n" + info.strip())
    print(
        f"\n{'job':18s} {'backend':8s} {'elements/s':>11s} {'GB/s':>7s} {'total ms':>9s} "
        f"{'verified':>8s}  vs bound (model)"
    )
    for path in (
        sorted(out.glob("range-*.json"))
        + sorted(out.glob("device-array-*.json"))
        + sorted(out.glob("float-*.json"))
    ):
        report = load(path)
        if report is None:
            continue  # the step's own status says why
        for run in report.get("runs", [report]):
            sms = detail(run, "sms")
            clock = detail(run, "clock_mhz")
            compute = run["seconds"]["compute"] or float("nan")
            rate = report["elements"] / compute
            bound = ""
            if sms and clock and report.get("mode") == "range":
                alu = int(sms) * int(clock) * 1e6 * 64 / 2
                bound = f"{rate / alu:6.1%} of {alu:.2e} el/s (2 int ops/element)"
            elif detail(run, "of_memory_peak"):
                bound = f"{detail(run, 'of_memory_peak')} (device memory)"
            gbs = run.get("bytes_per_second")
            print(
                f"{path.stem:18s} {run['backend']:8s} {rate:11.3e} "
                f"{(gbs or 0) / 1e9:7.1f} {run['seconds']['total'] * 1e3:9.2f} "
                f"{str(run['verified']):>8s}  {bound}"
            )
            failed |= not run["verified"]
    if arrays := load(out / "device-bandwidth.json"):
        print(
            f"\narrays in device memory (peak {arrays['memory_peak_gb_per_s']} GB/s, "
            f"pinned H2D {arrays['pinned_h2d_gb_per_s']} GB/s)"
        )
        for r in arrays["rows"]:
            print(
                f"  {r['backend']:5s} {r['dtype']:8s} {r['gb_per_s']:8.1f} GB/s "
                f"{r['of_memory_peak']:6.1%}"
            )
    for name, peak in HBM_GB_PER_S.items():
        if name in info:
            print(f"\nHBM peak of the {name} (published): {peak} GB/s")
            break
    print(
        "\nGPU CHECK "
        + ("FAILED" if failed else "PASSED")
        + (f" ({skipped} skipped)" if skipped else "")
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
