#!/usr/bin/env python3
"""Plots a bench.py results file: elements/s against N, log-log, one line per
backend or peer, the machine's bounds dashed. Usage: plot.py RESULTS.json OUT.png"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    results_path, out_path = sys.argv[1], sys.argv[2]
    with open(results_path) as f:
        result = json.load(f)
    rows, bounds, m = result["rows"], result["bounds"], result["machine"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for ax, mode, bound, label in (
        (axes[0], "range", bounds["range_bound_elements_per_second"], "integer-add ALU bound"),
        (axes[1], "array", bounds["array_bound_elements_per_second"], "memory read bound"),
    ):
        names = sorted({r["name"] for r in rows if r["mode"] == mode})
        for name in names:
            pts = sorted(
                (r["n"], r["elements_per_second"], r.get("scaled", False))
                for r in rows
                if r["mode"] == mode and r["name"] == name
            )
            style = "-o" if name.startswith("gpusum") else "--s" if "python" in name else "-^"
            scaled = any(p[2] for p in pts)
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                style,
                markersize=4,
                label=name + (" (scaled)" if scaled else ""),
            )
        ax.axhline(bound, color="black", linestyle=":", linewidth=1.5, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("elements N")
        ax.set_title(f"{mode} mode")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("elements per second (median)")
    fig.suptitle(
        f"gpusum vs peers on {m.get('cpu', '?')}, {m['cores']} cores"
        + (f", {m['gpu']}" if m.get("gpu") else ", no GPU"),
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)


if __name__ == "__main__":
    main()
