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
    # Column totals beyond int64 come back as Python ints, as for host arrays.
    columns = gpusum.sum(x, axis=0)
    assert columns.dtype == object and columns.tolist() == [40 * (2**63 - 1)] * 50


def exact_axis_sums(a, axes):
    """Sums over `axes` (keepdims) by fractions, rounded once."""
    moved = np.moveaxis(a, axes, range(a.ndim - len(axes), a.ndim))
    kept = moved.shape[: a.ndim - len(axes)]
    out = np.empty(kept, dtype=np.float64)
    for index in np.ndindex(kept):
        out[index] = float(sum(map(Fraction, moved[index].ravel().tolist()), Fraction(0)))
    return out


@pytest.mark.parametrize("axis", [0, 1, 2, (0, 2), (1, 2), (0, 1, 2)])
def test_axis_sums_same_bits_for_any_chunking(client, axis):
    gen = np.random.default_rng(5)
    a = gen.standard_normal((30, 20, 40)) * 2.0 ** gen.integers(-60, 60, (30, 20, 40))
    a[:, :, 0] = -a[:, :, 1:].sum(axis=2)  # near-cancellations along axis 2
    axes = axis if isinstance(axis, tuple) else (axis,)
    want = exact_axis_sums(a, axes)
    host = gpusum.sum(a, axis=axis)
    assert np.array_equal(host, want.reshape(np.shape(host)))  # all axes: a float
    # Summed axes whole in each block, and cut into several chunks.
    for chunks in ((30, 20, 40), (7, 20, 40), (30, 20, 9), (4, 3, 11)):
        got = gpusum.sum(da.from_array(a, chunks=chunks), axis=axis)
        assert np.asarray(got).dtype == np.float64
        assert np.array_equal(got, host), chunks
        kept = gpusum.sum(da.from_array(a, chunks=chunks), axis=axis, keepdims=True)
        assert kept.shape == np.sum(a, axis=axis, keepdims=True).shape
    ints = gen.integers(-(2**40), 2**40, a.shape)
    got = gpusum.sum(da.from_array(ints, chunks=(4, 3, 11)), axis=axis)
    assert np.asarray(got).dtype == np.int64 and np.array_equal(got, ints.sum(axis=axis))
