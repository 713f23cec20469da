"""gpusum.sum of a Dask array against Dask's own sum, on the same
distributed.LocalCluster, the array persisted in the workers' memory first:
per chunking, the median time of each and their ratio. Dask's float sum
depends on the chunking; gpusum's is exact, the same bits for every one.

    python bench/dask_bench.py [--elements N] [--workers W] [--repeat R] [--json FILE]
"""

import argparse
import json
import math

import dask.array as da
import distributed
import gpusum
from python_bench import median_seconds  # beside this script


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--elements", type=int, default=5 * 10**7)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json")
    args = p.parse_args()
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    rows = []
    with distributed.Client(cluster):
        for chunks in (args.elements // 4, args.elements // 32):
            x = da.random.default_rng(1).standard_normal(args.elements, chunks=chunks).persist()
            distributed.wait(x)  # persist() returns before the workers have the blocks
            exact = gpusum.sum(x)
            dask_answer = float(x.sum().compute())
            g = median_seconds(lambda x=x: gpusum.sum(x), args.repeat)
            d = median_seconds(lambda x=x: x.sum().compute(), args.repeat)
            rows.append(
                {
                    "elements": args.elements,
                    "chunk": chunks,
                    "gpusum_seconds": g,
                    "dask_seconds": d,
                    "gpusum_over_dask_time": g / d,
                    "gpusum_sum": exact,
                    "dask_sum": dask_answer,
                    "dask_error_ulps": abs(dask_answer - exact) / math.ulp(exact),
                }
            )
            print(
                f"{args.elements:,} float64 in chunks of {chunks:,}: gpusum {g * 1e3:.1f} ms, "
                f"dask {d * 1e3:.1f} ms (gpusum/dask {g / d:.2f}x time); "
                f"dask off by {rows[-1]['dask_error_ulps']:.0f} ulps"
            )
    cluster.close()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "dask sum", "workers": args.workers, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
