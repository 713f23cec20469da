"""Streams and compressed archives through the installed gpusum command:
a pipe of 8 GB summed in bounded memory, and np.savez_compressed members
of every dtype summed exactly, against Python's int and fractions."""

import io
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

GPUSUM = os.path.join(os.path.dirname(sys.executable), "gpusum")

DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
]


def exact_total(a):
    """The exact sum as Python computes it: an int, or a float rounded once."""
    if a.dtype.kind == "f":
        total = sum((Fraction(float(x)) for x in a.ravel()), Fraction(0))
        return float(total)
    return sum(int(x) for x in a.ravel())


def edge_values(dtype, n=5000):
    """Values up to the type's limits, signs mixed, in a shape of two axes."""
    rng = np.random.default_rng(11)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        a[:4] = [info.max, info.max, info.min, info.min]
    else:
        info = np.finfo(dt)
        spread = min(20, info.maxexp - 4)
        a = (rng.standard_normal(n) * 2.0 ** rng.integers(-spread, spread, n)).astype(dt)
        a[:4] = [info.max, info.max, -info.max, info.tiny]
    return a.reshape(50, n // 50)


def run_gpusum(*args, **kw):
    return subprocess.run([GPUSUM, *args], capture_output=True, **kw)


def answer(done):
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verified"] is True
    return report


def as_number(value):
    return float(value) if isinstance(value, float) else int(value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_compressed_members_are_exact(tmp_path, dtype):
    a = edge_values(dtype)
    path = tmp_path / "c.npz"
    np.savez_compressed(
        path, plain=a, fortran=np.asfortranarray(a), swapped=a.astype(a.dtype.newbyteorder(">"))
    )
    want = exact_total(a)
    for member in ("plain", "fortran", "swapped"):
        report = answer(run_gpusum("--input", f"{path}:{member}", "--json"))
        assert as_number(report["sum"]) == want, member
        assert "inflated as it is read" in report["source"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_input_streams_are_exact(dtype):
    a = edge_values(dtype)
    buffer = io.BytesIO()
    np.save(buffer, a)
    report = answer(run_gpusum("--input", "-", "--json", input=buffer.getvalue()))
    assert as_number(report["sum"]) == exact_total(a)
    assert "read as a stream" in report["source"]


def test_a_pipe_of_8_gb_is_summed_in_under_300_mb():
    # A 1 MiB block of doubles k * 2^-30 (|k| < 2^52, so exact), written
    # 8,192 times after a .npy header announcing all of them.
    rng = np.random.default_rng(3)
    k = rng.integers(-(2**52), 2**52, 131_072)
    block = (k * 2.0**-30).astype("<f8")
    repeats = 8192
    header = _npy_header(block.size * repeats)
    want = float(Fraction(int(k.sum(dtype=object)) * repeats, 2**30))

    p = subprocess.Popen(
        [GPUSUM, "--input", "-", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdin.write(header)
    data = block.tobytes()
    for _ in range(repeats):
        p.stdin.write(data)
    p.stdin.close()
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, err
    report = json.loads(out)
    assert report["verified"] is True
    assert report["elements"] == block.size * repeats
    assert report["sum"] == want
    # ru_maxrss: KiB on Linux.
    resident = usage.ru_maxrss * 1024
    assert resident < 300 * 2**20, f"{resident / 2**20:.0f} MiB resident"


def _npy_header(count):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (count,)}
    )
    return buffer.getvalue()
