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


def _block_axis_values(block, axes, options):
    """One block's sums over `axes`, which it holds whole (keepdims)."""
    from . import sum as gpusum_sum

    return gpusum_sum(block, axis=axes, keepdims=True, **options)


def _block_axis_totals(block, axes, options):
    """One block's exact Accumulator per output cell (keepdims), for axes
    that are cut into several chunks: merged with the other chunks' later."""
    import numpy as np

    from . import Accumulator

    kept = [d for d in range(block.ndim) if d not in axes]
    moved = np.moveaxis(block, axes, range(len(kept), block.ndim))
    cells = np.empty(moved.shape[: len(kept)], dtype=object)
    for index in np.ndindex(cells.shape):
        cells[index] = Accumulator().add(moved[index], **options)
    return cells.reshape(tuple(1 if d in axes else n for d, n in enumerate(block.shape)))


def _merged_cells(*parts):
    """Cell by cell, the merge of accumulator arrays of one shape."""
    import numpy as np

    from . import Accumulator

    out = np.empty(parts[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        total = Accumulator()
        for part in parts:
            total.merge(part[index])
        out[index] = total
    return out


def _cell_values(cells):
    import numpy as np

    values = np.empty(cells.shape, dtype=object)
    for index in np.ndindex(cells.shape):
        values[index] = cells[index].result()
    return values


def axis_sum(array, axes, options):
    """The sums of a Dask array over `axes` (normalised, sorted), keepdims:
    a NumPy array of exact values (object dtype; the caller settles it).
    Blocks that hold the summed axes whole are summed by axis where they
    lie; where those axes are cut into chunks, each block gives an exact
    Accumulator per output cell and the cells merge in a tree."""
    import dask
    import numpy as np

    if options.get("workers") is None:
        options = {**options, "workers": 1}
    blocks = array.to_delayed()
    whole = all(len(array.chunks[d]) == 1 for d in axes)
    grid = tuple(1 if d in axes else n for d, n in enumerate(blocks.shape))
    results = np.empty(grid, dtype=object)
    for index in np.ndindex(grid):
        group = blocks[tuple(slice(None) if d in axes else i for d, i in enumerate(index))]
        if whole:
            results[index] = dask.delayed(_block_axis_values, pure=False)(
                group.ravel()[0], axes, options
            )
            continue
        parts = [
            dask.delayed(_block_axis_totals, pure=False)(b, axes, options) for b in group.ravel()
        ]
        while len(parts) > 1:
            parts = [
                dask.delayed(_merged_cells, pure=False)(*parts[i : i + _FAN_IN])
                for i in range(0, len(parts), _FAN_IN)
            ]
        results[index] = dask.delayed(_cell_values, pure=False)(parts[0])
    computed = dask.compute(*results.ravel())
    pieces = np.empty(grid, dtype=object)
    for index, value in zip(np.ndindex(grid), computed):
        pieces[index] = np.asarray(value, dtype=object)
    return np.block(pieces.tolist())
