#!/usr/bin/env python3
"""The closing table of bench/gpu_check.sh: which suites passed, and each
backend's range and array rates against the device's bounds.

Bounds: range mode at 2 integer-pipe operations per element (SMs x clock x
64 int32 lanes / 2: a model from the loop's machine code); arrays in device
memory against the memory peak the device reports (clock x bus x 2); host
arrays end to end against the copies' own DMA rate, and against measured
pinned H2D in gpu-bench.json.

Usage: bench/gpu_summary.py OUT_DIR   (exit 1 if any suite failed)
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
    print("\n== summary")
    print(f"{'suite':24s} {'result':>8s} {'seconds':>8s}")
    for line in (out / "suites.txt").read_text().splitlines():
        name, rc, secs = line.split()
        ok = rc == "0"
        failed |= not ok
        print(f"{name:24s} {'passed' if ok else 'FAILED (' + rc + ')':>8s} {secs:>8s}")

    info = (out / "gpu-info.txt").read_text() if (out / "gpu-info.txt").exists() else ""
    print("\n" + info.strip())
    print(
        f"\n{'job':14s} {'backend':8s} {'elements/s':>11s} {'GB/s':>7s} {'total ms':>9s} "
        f"{'verified':>8s}  vs bound (model)"
    )
    for path in (
        sorted(out.glob("range-*.json"))
        + sorted(out.glob("array-*.json"))
        + sorted(out.glob("device-array-*.json"))
    ):
        report = load(path)
        if report is None:
            print(f"{path.stem:14s} (no result)")
            failed = True
            continue
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
            elif run.get("bytes_per_second") and detail(run, "h2d_gb_per_s"):
                bound = f"end to end vs DMA {detail(run, 'h2d_gb_per_s')} GB/s"
            gbs = run.get("bytes_per_second")
            print(
                f"{path.stem:14s} {run['backend']:8s} {rate:11.3e} "
                f"{(gbs or 0) / 1e9:7.1f} {run['seconds']['total'] * 1e3:9.2f} "
                f"{str(run['verified']):>8s}  {bound}"
            )
            failed |= not run["verified"]
    bench = load(out / "gpu-bench.json") or {}
    if arrays := bench.get("device_arrays"):
        print(
            f"\narrays in device memory (peak {arrays['memory_peak_gb_per_s']} GB/s, "
            f"pinned H2D {arrays['pinned_h2d_gb_per_s']} GB/s)"
        )
        for r in arrays["rows"]:
            print(
                f"  {r['backend']:5s} {r['dtype']:8s} {r['gb_per_s']:8.1f} GB/s "
                f"{r['of_memory_peak']:6.1%}"
            )
    for r in bench.get("streamed_host_arrays") or []:
        if r.get("of_pinned_h2d"):
            print(f"streamed host array, {r['backend']}: {r['of_pinned_h2d']:.1%} of pinned H2D")
    for name, peak in HBM_GB_PER_S.items():
        if name in info:
            print(f"\nHBM peak of the {name} (published): {peak} GB/s")
            break
    print("\nGPU CHECK " + ("FAILED" if failed else "PASSED"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
