#!/usr/bin/env python3
"""The seed's second program: ProcessPoolExecutor, 20 workers, 100 chunks.

The range is split into 100 equal steps; each worker sums range(a, b) with
Python's built-in sum and the parent adds the partial results.
"""

import sys
import time
from concurrent.futures import ProcessPoolExecutor


def compute_sum(bounds):
    a, b = bounds
    return sum(range(a, b))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000_000
    chunks = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    size = n // chunks
    bounds = [(i * size, n if i == chunks - 1 else (i + 1) * size) for i in range(chunks)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(compute_sum, bounds))
    elapsed = time.perf_counter() - start
    print(f"sum={total} n={n} chunks={chunks} workers={workers} seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
