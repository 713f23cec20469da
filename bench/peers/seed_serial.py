#!/usr/bin/env python3
"""The seed's first program: Python's built-in sum over range(0, N), timed."""

import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000_000
start = time.perf_counter()
total = sum(range(n))
elapsed = time.perf_counter() - start
print(f"sum={total} n={n} seconds={elapsed:.3f}")
