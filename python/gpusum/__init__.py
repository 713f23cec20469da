"""Exact sums of integer series and arrays, on every CPU core or an NVIDIA GPU.

    >>> import gpusum
    >>> gpusum.sum(range(10**9))
    499999999500000000
    >>> gpusum.sum(numpy.full(3, 2**63 - 1))        # NumPy's own sum wraps here
    27670116110564327421

Integer data gives an exact Python int (beyond 64 bits when needed); float
data gives the exact sum correctly rounded to a float (as math.fsum does).
Every answer is checked before it is returned: a range against its closed
form, an array in host memory against a second, independent pass.
"""

from __future__ import annotations

import dataclasses
import operator

from . import _gpusum
from ._gpusum import BackendUnavailable, MismatchError

__all__ = ["sum", "run", "Result", "BackendUnavailable", "MismatchError", "__version__"]
__version__ = _gpusum.version

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Result:
    """One checked sum, with what ran and how long it took.

    sum: the answer (int for integer data, float for float data).
    expected: what it was checked against (equal to sum when verified).
    error_bound: |sum - exact sum| is at most this (0 for integers; half an
        ulp of the float for float data).
    check: how `expected` was obtained.
    verified: True (a disagreement raises MismatchError instead); False only
        for arrays in GPU memory, which nothing else can check.
    backend, reason: the backend that ran and why it was chosen.
    notes: backends skipped or failed on the way.
    elements: how many elements were summed.
    seconds: setup, compute, combine, total (of the run) and check.
    elements_per_second: elements over the run's total seconds.
    """

    sum: int | float
    expected: int | float
    error_bound: float
    check: str
    verified: bool
    backend: str
    reason: str
    notes: list[str]
    elements: int
    seconds: dict[str, float]
    elements_per_second: float


def _options(backend, workers, chunks, device):
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    values = []
    for name, value, default in (("workers", workers, 0), ("chunks", chunks, 0), ("device", device, 0)):
        if value is None:
            values.append(default)
            continue
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
        if value < (0 if name == "device" else 1):
            raise ValueError(f"{name} must be {'non-negative' if name == 'device' else 'at least 1'}, not {value}")
        values.append(value)
    return (backend, *values)  # upper limits are the library's to check


def _result(d: dict) -> Result:
    convert = float if d["is_float"] else int
    return Result(
        sum=convert(d["sum"]),
        expected=convert(d["expected"]),
        error_bound=d["error_bound"],
        check=d["check"],
        verified=d["verified"],
        backend=d["backend"],
        reason=d["reason"],
        notes=list(d["notes"]),
        elements=d["elements"],
        seconds=dict(d["seconds"]),
        elements_per_second=d["elements_per_second"],
    )


def run(obj, *, backend: str = "auto", workers: int | None = None, chunks: int | None = None,
        device: int | None = None) -> Result:
    """Sums `obj` and returns the checked Result (see sum for what obj may be)."""
    options = _options(backend, workers, chunks, device)
    if isinstance(obj, range):
        for name in ("start", "stop", "step"):
            value = getattr(obj, name)
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise OverflowError(f"range {name} {value} does not fit in int64")
        return _result(_gpusum.sum_range(obj.start, obj.stop, obj.step, *options))
    return _result(_gpusum.sum_array(obj, *options))


def sum(obj, *, backend: str = "auto", workers: int | None = None, chunks: int | None = None,
        device: int | None = None) -> int | float:
    """The exact sum of `obj`: a range (of ints that fit int64), or an array
    exposing the buffer protocol or DLPack (bool, int8 to int64, uint8 to
    uint64, float16, float32, float64; any shape, strides and byte order;
    read-only is fine), summed where it lies, never copied. An int for
    integer data, a float (the exact sum, correctly rounded) for float data.

    backend: "auto" (the dispatcher's choice), "serial", "threads",
        "process", "cuda", "cub" or "thrust".
    workers: CPU workers (default: every usable core); chunks: how many
        pieces the work is cut into (default 100); device: the CUDA device.

    Raises TypeError for objects or element types it cannot sum, ValueError
    for bad options, BackendUnavailable when the backend asked for cannot
    run here, MismatchError if an answer disagrees with its check, and
    KeyboardInterrupt on Ctrl-C (every worker stopped).
    """
    return run(obj, backend=backend, workers=workers, chunks=chunks, device=device).sum
