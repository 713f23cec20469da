"""Dask arrays on a distributed.LocalCluster of worker processes: every
block summed on a worker, the exact totals merged in a tree, the same bits
for any chunking, equal to math.fsum of the whole; integer totals beyond
int64 exact."""

import math
from fractions import Fraction

import gpusum
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_floats_same_bits_for_any_chunking(client):
    gen = np.random.default_rng(81)
    x = gen.standard_normal(200_000) * 2.0 ** gen.integers(-40, 40, 200_000)
    x[0] = -x[1:1000].sum()  # a near-cancellation
    exact = float(sum(map(Fraction, x.tolist())))
    assert exact == math.fsum(x)
    for chunks in (200_000, 65_536, 9_999, 1_000):
        assert gpusum.sum(da.from_array(x, chunks=chunks)) == exact, chunks
    f32 = x.astype(np.float32)
    assert gpusum.sum(da.from_array(f32, chunks=7_000)) == math.fsum(f32.astype(np.float64))
    assert len(client.scheduler_info()["workers"]) == 3


def test_integers_beyond_int64_and_accumulators(client):
    x = da.full((40, 50), 2**63 - 1, dtype=np.int64, chunks=(7, 11))
    assert gpusum.sum(x) == 2000 * (2**63 - 1)
    total = gpusum.Accumulator(np.arange(10))
    total.add(x)
    assert total.result() == 45 + 2000 * (2**63 - 1)
    assert total.elements == 2010
    with pytest.raises(TypeError, match="Dask"):
        gpusum.sum(x, axis=0)
