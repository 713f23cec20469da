"""gpusum.Accumulator: any split of the data, added and merged in any order,
pickled or sent as bytes on the way, gives the bits of one sum of the whole,
checked against Python's exact int and fractions."""

import math
import pickle
import random
from fractions import Fraction

import gpusum
import numpy as np
import pytest


def pieces(a, rng):
    """`a` cut at random places, the pieces shuffled."""
    cuts = sorted({0, len(a), *(rng.randrange(len(a) + 1) for _ in range(rng.randrange(8)))})
    out = [a[b:e] for b, e in zip(cuts, cuts[1:])]
    rng.shuffle(out)
    return out


def split_and_merged(a, rng):
    """The pieces of `a` over a few accumulators, some through bytes or
    pickle on the way, merged in a random order."""
    parts = [gpusum.Accumulator() for _ in range(rng.randrange(1, 5))]
    for piece in pieces(a, rng):
        k = rng.randrange(len(parts))
        parts[k].add(piece)
        if rng.random() < 0.3:
            parts[k] = pickle.loads(pickle.dumps(parts[k]))
    rng.shuffle(parts)
    total = gpusum.Accumulator()
    for p in parts:
        total.merge(gpusum.Accumulator.from_bytes(p.to_bytes()))
    return total


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "int64", "uint64", "bool"])
def test_integers_any_split_is_the_exact_int(dtype):
    rng = random.Random(61)
    gen = np.random.default_rng(61)
    info = np.iinfo(dtype) if dtype != "bool" else None
    for _ in range(20):
        n = rng.randrange(20_000)
        if info is None:
            a = gen.integers(0, 2, n).astype(bool)
        else:
            a = gen.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        total = split_and_merged(a, rng)
        assert total.elements == n
        assert not total.is_float
        exact = sum(int(x) for x in a.tolist())
        assert total.result() == exact
        assert type(total.result()) is int


def test_integer_totals_beyond_64_and_128_bits():
    a = np.full(1000, 2**63 - 1, dtype=np.int64)
    total = gpusum.Accumulator(a)
    assert total.result() == 1000 * (2**63 - 1)  # beyond 64 bits
    for _ in range(70):  # doubled 70 times: beyond 128 bits
        total.merge(pickle.loads(pickle.dumps(total)))
    assert total.result() == 1000 * (2**63 - 1) * 2**70
    assert total.elements == 2**64 - 1  # the count stops at the largest uint64
    minus = gpusum.Accumulator(range(-(2**63), -(2**63) + 1000))
    assert minus.result() == sum(range(-(2**63), -(2**63) + 1000))


HARD = [
    ([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50], 1e-100),
    ([2.0**53, -0.5, -(2.0**-54)], 2.0**53 - 1.0),
    ([2.0**53, 1.0, 2.0**-100], 2.0**53 + 2.0),
    ([2.0**53 + 10.0, 1.0, 2.0**-100], 2.0**53 + 12.0),
    ([2.0**53 - 4.0, 0.5, 2.0**-54], 2.0**53 - 3.0),
    ([1.7e308, 1.7e308, -1.7e308], 1.7e308),
    ([5e-324, 5e-324, -5e-324], 5e-324),
]


@pytest.mark.parametrize("values, expected", HARD)
def test_hardest_float_cases_split_every_way(values, expected):
    for i in range(1, len(values)):  # every cut into two accumulators, both orders
        left = gpusum.Accumulator(np.array(values[:i]))
        right = gpusum.Accumulator(np.array(values[i:]))
        assert left.merge(right).result() == expected
        left = gpusum.Accumulator(np.array(values[:i]))
        assert right.merge(left).result() == expected
    one_by_one = gpusum.Accumulator()
    for v in reversed(values):
        one_by_one.add(np.array([v]))
    assert one_by_one.result() == expected


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_floats_any_split_is_the_rounded_fraction(dtype):
    rng = random.Random(62)
    gen = np.random.default_rng(62)
    for _ in range(15):
        n = rng.randrange(1, 5000)
        spread = rng.randrange(1, 60 if dtype != "float16" else 12)
        a = (gen.standard_normal(n) * 2.0 ** gen.integers(-spread, spread, n)).astype(dtype)
        if n > 2:
            a[0] = -a[1 : n // 2].astype(np.float64).sum()  # a near-cancellation
        exact = float(sum(Fraction(float(x)) for x in a.tolist()))
        total = split_and_merged(a, rng)
        assert total.is_float
        assert total.result() == exact == gpusum.sum(a)
        assert math.copysign(1, total.result()) == math.copysign(1, exact) or exact == 0


def test_integers_added_to_floats_stay_exact():
    total = gpusum.Accumulator(np.array([0.5]))
    total.add(np.array([2**53 + 1], dtype=np.int64))  # not a double
    total.add(range(-(2**53), -(2**53) + 1))
    assert total.result() == 1.5  # rounding the int on the way in would give 0.5
    assert total.elements == 3


def test_layouts_and_specials():
    a = np.arange(24, dtype=">i4").reshape(4, 6)[::-1, ::2]
    assert gpusum.Accumulator(a).result() == int(a.astype(np.int64).sum())
    f = gpusum.Accumulator(np.array([1.0, np.inf]))
    assert f.result() == math.inf
    f.add(np.array([-np.inf]))
    assert math.isnan(pickle.loads(pickle.dumps(f)).result())


def test_repr_errors_and_bytes():
    total = gpusum.Accumulator(range(10))
    assert repr(total) == "gpusum.Accumulator(int, elements=10, result=45)"
    data = total.to_bytes()
    assert data[:4] == b"GSUM" and len(data) < 40
    with pytest.raises(ValueError, match="accumulator"):
        gpusum.Accumulator.from_bytes(b"not one")
    with pytest.raises(ValueError, match="version"):
        gpusum.Accumulator.from_bytes(data[:4] + b"\x09" + data[5:])
    with pytest.raises(TypeError):
        total.merge(45)
    with pytest.raises(TypeError, match="cannot sum"):
        total.add([1, 2, 3])
    with pytest.raises(OverflowError):
        total.add(range(2**64))
    assert total.result() == 45  # nothing was added by the failures
