"""gpusum.sum(x, axis=..., keepdims=...): NumPy's shapes, every output exact
(integers, against Python's int) or exactly rounded (floats, against
math.fsum), on views of any layout."""

import math

import gpusum
import numpy as np
import pytest

AXES = [0, 1, 2, -1, -3, (0, 2), (2, 0), (1, 2), (0, 1, 2), ()]


def views(a):
    """The array and views of it with gaps, negative strides, a transpose and
    the other byte order."""
    return [a, a[::-1, :, ::2], a.transpose(2, 0, 1), a.astype(a.dtype.newbyteorder())]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_integer_axes_match_exact_python_ints(axis, keepdims):
    gen = np.random.default_rng(71)
    base = gen.integers(-(2**62), 2**62, (4, 5, 6), dtype=np.int64)
    for a in views(base):
        got = gpusum.sum(a, axis=axis, keepdims=keepdims)
        expected = np.sum(a.astype(object), axis=axis, keepdims=keepdims)  # Python ints
        if isinstance(expected, np.ndarray):
            assert got.shape == expected.shape
            assert got.tolist() == expected.tolist()
        else:
            assert got == expected and type(got) is int


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("axis", [0, 2, (0, 1), ()])
def test_float_axes_are_exactly_rounded(dtype, axis):
    gen = np.random.default_rng(72)
    spread = 8 if dtype == "float16" else 30  # float16 stays finite
    scale = 2.0 ** gen.integers(-spread, spread, (3, 4, 50))
    base = (gen.standard_normal((3, 4, 50)) * scale).astype(dtype)
    for a in views(base):
        got = gpusum.sum(a, axis=axis)
        wide = np.moveaxis(
            a.astype(np.float64), _axes(axis, a.ndim), range(-len(_axes(axis, a.ndim)), 0)
        )
        rows = wide.reshape(got.shape + (-1,))
        expected = np.array([math.fsum(r) for r in rows.reshape(-1, rows.shape[-1])]).reshape(
            got.shape
        )
        assert got.dtype == np.float64
        assert got.tolist() == expected.tolist()


def _axes(axis, ndim):
    return tuple(x % ndim for x in (axis if isinstance(axis, tuple) else (axis,)))


def test_totals_beyond_int64_come_as_python_ints():
    a = np.full((3, 4), 2**63 - 1, dtype=np.int64)
    got = gpusum.sum(a, axis=0)
    assert got.dtype == object
    assert got.tolist() == [3 * (2**63 - 1)] * 4
    assert gpusum.sum(a, axis=1).tolist() == [4 * (2**63 - 1)] * 3
    small = gpusum.sum(np.ones((3, 4), dtype=np.uint64), axis=0)
    assert small.dtype == np.int64 and small.tolist() == [3] * 4


def test_edges_and_errors():
    empty = np.zeros((0, 3), dtype=np.int32)
    assert gpusum.sum(empty, axis=0).tolist() == [0, 0, 0]
    assert gpusum.sum(empty, axis=1).shape == (0,)
    assert gpusum.sum(np.array([True, False, True]), axis=0) == 2
    assert gpusum.sum(np.arange(6).reshape(2, 3), axis=(0, 1)) == 15
    assert gpusum.sum(np.arange(6).reshape(2, 3), keepdims=True).tolist() == [[15]]
    a = np.arange(24).reshape(2, 3, 4)
    with pytest.raises(ValueError, match="out of bounds"):
        gpusum.sum(a, axis=3)
    with pytest.raises(ValueError, match="duplicate"):
        gpusum.sum(a, axis=(1, -2))
    with pytest.raises(TypeError, match="axis"):
        gpusum.sum(a, axis=1.5)
    with pytest.raises(TypeError, match="cannot sum"):
        gpusum.sum([1, 2, 3], axis=0)
