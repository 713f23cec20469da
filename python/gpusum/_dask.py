"""Dask arrays, summed where their blocks lie: each block to an exact
Accumulator on the worker that holds it, the accumulators merged in a tree
on the active scheduler (a distributed.Client's cluster when one is
active), the total back as one small byte string. Exact, so any chunking
on any number of workers gives the same bits. Dask is imported only when a
Dask array arrives."""

from __future__ import annotations

_FAN_IN = 8  # accumulators merged per task


def is_dask_array(obj) -> bool:
    """Whether `obj` is a Dask array, without importing Dask."""
    module = type(obj).__module__
    return module.startswith("dask.") and hasattr(obj, "to_delayed")


def _block_total(block, options):
    from . import Accumulator

    return Accumulator().add(block, **options)


def _merged(*parts):
    from . import Accumulator

    total = Accumulator()
    for part in parts:
        total.merge(part)
    return total


def total_of(array, options):
    """The exact Accumulator of a Dask array's elements. A block is summed on
    its worker's own thread unless `workers` says otherwise: Dask already
    runs a task per thread, and more would only take turns on the cores."""
    import dask

    from . import Accumulator

    if options.get("workers") is None:
        options = {**options, "workers": 1}

    parts = [
        dask.delayed(_block_total, pure=False)(block, options)
        for block in array.to_delayed().ravel()
    ]
    if not parts:
        return Accumulator()
    while len(parts) > 1:
        parts = [
            dask.delayed(_merged, pure=False)(*parts[i : i + _FAN_IN])
            for i in range(0, len(parts), _FAN_IN)
        ]
    return parts[0].compute()
