"""Exact sums of integer series and arrays, on every CPU core or an NVIDIA GPU.

    >>> import gpusum
    >>> gpusum.sum(range(10**9))
    499999999500000000
    >>> gpusum.sum(numpy.full(3, 2**63 - 1))        # NumPy's own sum wraps here
    27670116110564327421

Integer data gives an exact Python int (beyond 64 bits when needed); float
data gives the exact sum correctly rounded to a float (as math.fsum does).
Every answer is checked before it is returned: a range against its closed
form, an array against a second, independent pass (on a GPU: integers by the
other kernel, floats by the CPU's exact check over a copy).

Signals: while a sum runs, SIGINT and SIGTERM stop it (every worker ended
within a second); the signal is then handed to the handler that was there
before, so Ctrl-C raises KeyboardInterrupt and SIGTERM ends the process as
it would have without gpusum (or runs your own handler).
"""

from __future__ import annotations

import dataclasses
import operator
import warnings
from typing import Any, Literal, overload

from . import _dask, _gpusum
from ._gpusum import BackendUnavailable, MismatchError

__all__ = [
    "sum",
    "run",
    "Result",
    "Accumulator",
    "BackendUnavailable",
    "MismatchError",
    "__version__",
]
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
    verified: always True (a disagreement raises MismatchError instead).
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


_UINT64_MAX = 2**64 - 1


_DEFAULT_OPTIONS = ("auto", 0, 0, 0)


def _options(backend, workers, chunks, device):
    if backend.__class__ is str and backend == "auto" and workers is chunks is device is None:
        return _DEFAULT_OPTIONS  # the common call, without the checks below
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    values = []
    for name, value, default in (
        ("workers", workers, 0),
        ("chunks", chunks, 0),
        ("device", device, 0),
    ):
        if value is None:
            values.append(default)
            continue
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
        if value < (0 if name == "device" else 1):
            least = "non-negative" if name == "device" else "at least 1"
            raise ValueError(f"{name} must be {least}, not {value}")
        values.append(min(value, _UINT64_MAX if name != "device" else _INT64_MAX))
    return (backend, *values)  # upper limits are the library's to check (and name)


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


def _range_args(obj: range):
    for name in ("start", "stop", "step"):
        value = getattr(obj, name)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OverflowError(f"range {name} {value} does not fit in int64")
    return obj.start, obj.stop, obj.step


def run(
    obj,
    *,
    backend: str = "auto",
    workers: int | None = None,
    chunks: int | None = None,
    device: int | None = None,
) -> Result:
    """Sums `obj` and returns the checked Result (see sum for what obj may be)."""
    options = _options(backend, workers, chunks, device)
    if isinstance(obj, range):
        bounds = _range_args(obj)
        warning = _gpusum.range_warning(*bounds, *options)
        if warning:
            warnings.warn(warning, RuntimeWarning, stacklevel=3)
        return _result(_gpusum.sum_range(*bounds, *options))
    return _result(_gpusum.sum_array(obj, *options))


@overload
def sum(
    obj: range,
    *,
    backend: str = ...,
    workers: int | None = ...,
    chunks: int | None = ...,
    device: int | None = ...,
) -> int: ...
@overload
def sum(
    obj: object,
    *,
    axis: None = ...,
    keepdims: Literal[False] = ...,
    backend: str = ...,
    workers: int | None = ...,
    chunks: int | None = ...,
    device: int | None = ...,
) -> int | float: ...
@overload
def sum(
    obj: object,
    *,
    axis: int | tuple[int, ...] | None = ...,
    keepdims: bool = ...,
    backend: str = ...,
    workers: int | None = ...,
    chunks: int | None = ...,
    device: int | None = ...,
) -> Any: ...
def sum(
    obj,
    *,
    axis: int | tuple[int, ...] | None = None,
    keepdims: bool = False,
    backend: str = "auto",
    workers: int | None = None,
    chunks: int | None = None,
    device: int | None = None,
):
    """The exact sum of `obj`: a range (of ints that fit int64), or an array
    exposing the buffer protocol or DLPack (bool, int8 to int64, uint8 to
    uint64, float16, float32, float64; any shape, strides and byte order;
    read-only is fine), summed where it lies, never copied. A Dask array is
    summed block by block on its workers (the active scheduler; a
    distributed.Client's cluster when one is active), the blocks' exact
    totals merged in a tree: the same bits for any chunking. An int for
    integer data, a float (the exact sum, correctly rounded) for float data.

    backend: "auto" (the dispatcher's choice), "serial", "threads",
        "process", "cuda", "cub" or "thrust".
    workers: CPU workers (default: every usable core); chunks: how many
        pieces the work is cut into (default 100); device: the CUDA device.
    axis, keepdims: as NumPy's: the sums over those axes, a NumPy array
        with one exact, checked sum per element of the others; float64 for
        float data (each exactly rounded), int64 for integer data when
        every total fits, else an object array of Python ints. Summing over
        every axis without keepdims gives the plain int or float, as
        axis=None does. Dask arrays too, computed now: blocks that hold the
        summed axes whole are summed by axis where they lie; where those
        axes are cut into chunks, each block gives an exact accumulator per
        output element and they merge in a tree (the same bits either way).

    A range that would take more than a day here warns (RuntimeWarning)
    before it starts, as the gpusum command does.

    Raises TypeError for objects or element types it cannot sum, ValueError
    for bad options, BackendUnavailable when the backend asked for cannot
    run here, MismatchError if an answer disagrees with its check, and
    KeyboardInterrupt on Ctrl-C (every worker stopped); SIGTERM goes to the
    handler that was there before (by default, the process ends).
    """
    if isinstance(obj, range):
        return run(obj, backend=backend, workers=workers, chunks=chunks, device=device).sum
    if axis is not None or keepdims:
        if _dask.is_dask_array(obj):
            options = dict(backend=backend, workers=workers, chunks=chunks, device=device)
            return _dask_axis_sum(obj, axis, keepdims, options)
        return _axis_sum(obj, axis, keepdims, _options(backend, workers, chunks, device))
    try:
        return _gpusum.sum_array_value(obj, *_options(backend, workers, chunks, device))
    except TypeError:
        if not _dask.is_dask_array(obj):  # checked only here: no cost to the common call
            raise
    options = dict(backend=backend, workers=workers, chunks=chunks, device=device)
    return _dask.total_of(obj, options).result()


def _normalized_axes(axis, ndim):
    """NumPy's rules: an int or a tuple of distinct ints in [-ndim, ndim)."""
    import numpy as np

    error = getattr(getattr(np, "exceptions", np), "AxisError", ValueError)
    axes = tuple(range(ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(f"axis must be an int or a tuple of ints, not {axis!r}") from None
        if not -ndim <= a < ndim:
            raise error(a, ndim)
        out.append(a % ndim if ndim else a)
    if len(set(out)) != len(out):
        raise ValueError("duplicate value in 'axis'")
    return tuple(sorted(out))


def _axis_sum(obj, axis, keepdims, options):
    import numpy as np

    shape = tuple(obj.shape) if hasattr(obj, "shape") else np.shape(obj)
    axes = _normalized_axes(axis, len(shape))
    values, is_float = _gpusum.sum_axes(obj, list(axes), *options)
    return _axis_result(values, is_float, shape, axes, keepdims)


def _dask_axis_sum(array, axis, keepdims, options):
    axes = _normalized_axes(axis, array.ndim)
    cells = _dask.axis_sum(array, axes, options).ravel().tolist()
    return _axis_result(cells, array.dtype.kind == "f", array.shape, axes, keepdims)


def _axis_result(values, is_float, shape, axes, keepdims):
    """Exact sums, one per output cell in C order, as NumPy shapes them:
    float64, int64 where every total fits, else Python ints."""
    import numpy as np

    kept = tuple(n for d, n in enumerate(shape) if d not in axes)
    if not kept and not keepdims:
        return values[0]
    if is_float:
        out = np.array(values, dtype=np.float64)
    else:
        try:
            out = np.array(values, dtype=np.int64)
        except OverflowError:
            out = np.empty(len(values), dtype=object)
            out[:] = values
    if keepdims:
        return out.reshape(tuple(1 if d in axes else n for d, n in enumerate(shape)))
    return out.reshape(kept)


class Accumulator:
    """An exact running sum that merges.

    add(x) takes anything sum() takes (a range, an array of any dtype and
    layout, on the host or a CUDA device, a Dask array), sums it and checks
    it as sum() does, and keeps the exact total; merge(other) adds another accumulator's.
    However the data was split, added and merged, and on whichever machines,
    result() gives the same bits as one gpusum.sum of all of it: an int
    (exact, any size) while only integer data was added, else the exact total
    correctly rounded to a float (integers added alongside floats are exact
    too, rounded only with the rest).

        >>> total = gpusum.Accumulator()
        >>> for block in blocks:
        ...     total.add(block)
        >>> total.merge(gpusum.Accumulator.from_bytes(received))
        >>> total.result()

    to_bytes() is a small portable byte string (versioned, little-endian,
    the same on every machine); pickling uses it.
    """

    __slots__ = ("_total",)

    def __init__(self, data=None, **options):
        """An empty accumulator, or one holding `data` (added with `options`)."""
        self._total = _gpusum.Accumulator()
        if data is not None:
            self.add(data, **options)

    def add(
        self,
        obj,
        *,
        backend: str = "auto",
        workers: int | None = None,
        chunks: int | None = None,
        device: int | None = None,
    ) -> Accumulator:
        """Adds the elements of `obj` (see sum); returns self."""
        options = _options(backend, workers, chunks, device)
        if isinstance(obj, range):
            self._total.add_range(*_range_args(obj), *options)
        elif _dask.is_dask_array(obj):
            keywords = dict(backend=backend, workers=workers, chunks=chunks, device=device)
            self._total.merge(_dask.total_of(obj, keywords)._total)
        else:
            self._total.add_array(obj, *options)
        return self

    def merge(self, other: Accumulator) -> Accumulator:
        """Adds another accumulator's total; returns self."""
        if not isinstance(other, Accumulator):
            raise TypeError(f"can only merge an Accumulator, not {type(other).__name__}")
        self._total.merge(other._total)
        return self

    def result(self) -> int | float:
        """The exact total: an int for integer data, else the correctly rounded float."""
        return self._total.result()

    @property
    def is_float(self) -> bool:
        """Whether a float element was added (result() is then a float)."""
        return self._total.is_float

    @property
    def elements(self) -> int:
        """How many elements were added, merged ones included."""
        return self._total.elements

    def to_bytes(self) -> bytes:
        """The state as a small portable byte string."""
        return self._total.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Accumulator:
        """The accumulator to_bytes() described; ValueError for other bytes."""
        out = cls.__new__(cls)
        out._total = _gpusum.Accumulator.from_bytes(bytes(data))
        return out

    def __reduce__(self):
        return (Accumulator.from_bytes, (self.to_bytes(),))

    def __repr__(self) -> str:
        kind = "float" if self.is_float else "int"
        return f"gpusum.Accumulator({kind}, elements={self.elements}, result={self.result()!r})"
