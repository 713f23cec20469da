"""The Python module as a user calls it: exactness against Python's own
integer sum and math.fsum, layouts, limits, errors, the GIL, Ctrl-C and
memory. Run with pytest after `pip install .`."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import gpusum
import numpy as np
import pytest

INTEGER_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
CPU_BACKENDS = ["auto", "serial", "threads", "process"]


def exact(a):
    return builtins_sum(int(x) for x in np.asarray(a).ravel())


builtins_sum = __builtins__["sum"] if isinstance(__builtins__, dict) else __builtins__.sum


@pytest.mark.parametrize(
    "r",
    [
        range(10**6),
        range(-5, 10**6, 7),
        range(10, -10, -3),
        range(5, 5),
        range(2**63 - 1000, 2**63 - 1),
        range(-(2**63), -(2**63) + 1000),
    ],
)
def test_ranges_are_exact(r):
    assert gpusum.sum(r) == builtins_sum(r)


def test_range_beyond_int64_is_overflow_error():
    with pytest.raises(OverflowError, match="stop"):
        gpusum.sum(range(0, 2**63))


@pytest.mark.parametrize("dtype", INTEGER_TYPES)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_random_integers_every_dtype_and_backend(dtype, backend):
    rng = np.random.default_rng(abs(hash((dtype, backend))) % 2**32)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=100_003, dtype=dtype, endpoint=True)
    assert gpusum.sum(a, backend=backend, workers=2) == exact(a)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_values_at_the_limits_where_numpy_wraps(dtype):
    info = np.iinfo(dtype)
    for value in (info.max, info.min):
        a = np.full(1001, value, dtype=dtype)
        assert gpusum.sum(a) == 1001 * int(value)
    assert int(np.full(3, 2**63 - 1).sum()) != gpusum.sum(np.full(3, 2**63 - 1))  # NumPy wraps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floats_match_fsum(dtype):
    rng = np.random.default_rng(3)
    for scale in (1.0, 1e-30, 1e30):
        a = (rng.standard_normal(50_001) * scale).astype(dtype)
        result = gpusum.run(a)
        assert result.sum == math.fsum(a.astype(np.float64))
        assert (
            result.error_bound == (math.nextafter(abs(result.sum), math.inf) - abs(result.sum)) / 2
        )
    assert gpusum.sum(np.array([1e16, 1.0, -1e16])) == 1.0


def test_layouts_summed_in_place():
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    for view in (a, a.T, a[::-1], a[:, ::-1, :], np.asfortranarray(a), a.reshape(-1)[::-1]):
        assert gpusum.sum(view) == 276
    assert gpusum.sum(np.array(7)) == 7  # 0-d
    assert gpusum.sum(np.zeros((0, 5), dtype=np.float64)) == 0.0
    assert gpusum.sum(np.array([True, False, True])) == 2
    ro = np.arange(10)
    ro.setflags(write=False)
    assert gpusum.sum(ro) == 45
    assert gpusum.sum(memoryview(bytes(range(10)))) == 45  # any buffer


LAYOUT_TYPES = INTEGER_TYPES + [np.bool_, np.float16, np.float32, np.float64]


def views_of(a):
    """Views of a 3-d array with gaps, negative strides, columns and transposes."""
    return {
        "a": a,
        "a[::2, :, ::3]": a[::2, :, ::3],
        "a[::-1, ::-2, 1::7]": a[::-1, ::-2, 1::7],
        "a[:, 2, ::-1]": a[:, 2, ::-1],
        "a[1:, :, 5]": a[1:, :, 5],
        "a.T[::3]": a.T[::3],
        "a[2, 3, 4]": a[2, 3, 4:5].reshape(()),
        "a[:, :0]": a[:, :0],
        "a.ravel()[::5]": a.ravel()[::5],
    }


@pytest.mark.parametrize("dtype", LAYOUT_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("order", ["<", ">"])
def test_any_strides_and_byte_order_summed_in_place(dtype, order):
    rng = np.random.default_rng(abs(hash((dtype, order))) % 2**32)
    dtype = np.dtype(dtype).newbyteorder(order)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        a = rng.integers(
            info.min, info.max, size=(6, 5, 40), dtype=dtype.newbyteorder("="), endpoint=True
        ).astype(dtype)
    elif dtype.kind == "b":
        a = rng.integers(0, 2, size=(6, 5, 40)).astype(dtype)
    else:
        a = (rng.standard_normal((6, 5, 40)) * 1000).astype(dtype)
    for name, view in views_of(a).items():
        for backend in ("serial", "threads", "process"):
            got = gpusum.sum(view, backend=backend, workers=2, chunks=3)
            if dtype.kind == "f":
                assert got == math.fsum(view.astype(np.float64).ravel()), (name, backend)
            else:
                assert got == exact(view), (name, backend)


class DLPackOnly:
    """An array seen through DLPack alone, as a PyTorch tensor on the CPU is."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_dlpack_arrays_on_the_host():
    a = np.arange(-500, 700, dtype=np.int32).reshape(30, 40)
    for view in (a, a[::3, ::-2], a.T, a[5]):
        assert gpusum.sum(DLPackOnly(view)) == exact(view)
    h = np.linspace(-1, 2, 999, dtype=np.float16)
    assert gpusum.sum(DLPackOnly(h[::-2])) == math.fsum(h[::-2].astype(np.float64))


def test_float16_every_value():
    every = np.arange(2**16, dtype=np.uint16).view(np.float16)
    finite = every[np.isfinite(every)]
    assert gpusum.sum(finite) == 0.0  # +x and -x cancel
    positive = finite[finite > 0]
    assert gpusum.sum(positive) == math.fsum(positive.astype(np.float64))
    assert gpusum.sum(positive.astype(">f2")) == math.fsum(positive.astype(np.float64))
    assert math.isnan(gpusum.sum(every))


def test_result_fields():
    r = gpusum.run(range(10**6))
    assert r.sum == r.expected == 499999500000
    assert r.verified and r.error_bound == 0
    assert r.backend in ("serial", "threads", "process", "cuda", "cub", "thrust")
    assert r.reason and r.elements == 10**6
    assert set(r.seconds) == {"setup", "compute", "combine", "total", "check"}
    assert r.elements_per_second > 0
    assert isinstance(r.notes, list)


def test_small_arrays_run_inline_and_are_checked():
    a = np.full(1000, 2**63 - 1, dtype=np.int64)
    r = gpusum.run(a)
    assert r.reason.startswith("inline:") and r.verified and r.backend == "serial"
    assert r.sum == r.expected == 1000 * (2**63 - 1)
    assert gpusum.sum(a) == 1000 * (2**63 - 1)  # beyond int64: still a Python int
    assert gpusum.sum(a[:3].astype(np.float64)) == math.fsum(a[:3].astype(np.float64))
    assert gpusum.run(a, backend="threads").backend == "threads"


def test_errors_name_what_is_wrong():
    with pytest.raises(TypeError, match="cannot sum a list"):
        gpusum.sum([1, 2, 3])
    with pytest.raises(TypeError, match="cannot sum elements of buffer format 'Zd'"):
        gpusum.sum(np.zeros(3, dtype=np.complex128))
    with pytest.raises(TypeError, match=r"cannot sum a numpy.ndarray of datetime64\[ns\]"):
        gpusum.sum(np.zeros(3, dtype="datetime64[ns]"))  # no buffer, no DLPack
    with pytest.raises(TypeError, match="cannot sum elements of buffer format 'O'"):
        gpusum.sum(np.array([1, "a"], dtype=object))
    with pytest.raises(TypeError, match="cannot sum elements of buffer format 'g'"):
        gpusum.sum(np.zeros(3, dtype=np.longdouble))
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        gpusum.sum(range(10), backend="gpu")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        gpusum.sum(range(10), workers=0)
    with pytest.raises(ValueError, match="step must not be zero"):  # no range has one
        gpusum._gpusum.sum_range(0, 10, 0, "auto", 0, 0, 0)
    try:  # without a GPU (or CUDA in the build): the one documented exception
        assert gpusum.sum(range(10), backend="cuda") == 45
    except gpusum.BackendUnavailable as e:
        assert "backend 'cuda'" in str(e)


def test_the_gil_is_released_while_summing():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    start = time.perf_counter()
    gpusum.sum(range(3 * 10**10), backend="serial")  # about a second on one core
    end = time.perf_counter()
    stop.set()
    ticker.join()
    during = [t for t in ticks if start < t < end]
    assert end - start > 0.2
    assert len(during) > 0.3 * (end - start) / 0.001 * 0.1  # the other thread ran throughout


def default_sigint():
    # A shell starts background jobs with SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: the child starts as from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_python(code, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
        **kwargs,
    )


@pytest.mark.parametrize("backend", ["serial", "threads", "process"])
def test_ctrl_c_raises_keyboard_interrupt_and_leaves_no_worker(backend):
    p = run_python(f"""
        import gpusum, os, sys
        print(os.getpid(), flush=True)
        try:
            gpusum.sum(range(10**15), backend="{backend}", workers=2)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        """)
    pid = int(p.stdout.readline())
    time.sleep(1.0)
    sent = time.perf_counter()
    os.kill(pid, signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert time.perf_counter() - sent < 1.5
    assert "interrupted" in out, err
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    )
    assert children.stdout.strip() == ""


def test_memory_stays_flat_on_a_large_array():
    # 800 MB summed in place, with the process pool, as a view with gaps and
    # in the other byte order: the peak resident size grows by the array
    # (made here) and not by a copy of it.
    p = run_python("""
        import resource, numpy as np, gpusum
        a = np.ones(10**8, dtype=np.int64)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert gpusum.sum(a) == 10**8
        assert gpusum.sum(a, backend="process", workers=2) == 10**8
        assert gpusum.sum(a[::3]) == 33333334                 # gaps: gathered by blocks
        assert gpusum.sum(a.view(">i8")[:10**7]) == 2**56 * 10**7  # the other byte order
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024)
        """)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert int(out) < 50 * 2**20


def test_the_gpusum_command_is_installed():
    scripts = os.path.dirname(sys.executable)
    done = subprocess.run(
        [os.path.join(scripts, "gpusum"), "--stop", "1e6", "--sum-only"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "499999500000"


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_bool_is_any_nonzero_byte(backend):
    raw = np.frombuffer(bytes([2, 0, 255, 1, 128] * 20_001), dtype=np.uint8)
    flags = raw.view(np.bool_)
    expected = int(np.count_nonzero(raw))
    assert gpusum.sum(flags, backend=backend, workers=2) == expected
    assert gpusum.sum(flags[::-3], backend=backend, workers=2) == int(np.count_nonzero(raw[::-3]))
    assert gpusum.sum(np.frombuffer(bytes([2] * 10), bool)) == 10
    assert gpusum.sum(np.from_dlpack(flags), backend=backend) == expected


def test_ctypes_arrays_without_strides():
    import ctypes

    assert gpusum.sum((ctypes.c_int64 * 3)(1, 2, 3)) == 6
    assert gpusum.sum((ctypes.c_double * 3)(1, 2, 3.5)) == 6.5
    assert gpusum.sum(((ctypes.c_int16 * 3) * 2)((1, 2, 3), (4, 5, 6))) == 21
    assert gpusum.sum((ctypes.c_uint8 * 0)()) == 0


def test_bad_arguments_are_clean_type_and_value_errors():
    with pytest.raises(TypeError, match="cannot sum a NoneType"):
        gpusum.sum(None)
    with pytest.raises(ValueError, match="workers must be at most"):
        gpusum.sum(range(10), workers=2**40)
    with pytest.raises(ValueError, match="chunks must be at most"):
        gpusum.sum(range(10), chunks=2**64)
    with pytest.raises(ValueError, match="chunks must be at most"):
        gpusum.sum(np.arange(10), chunks=2**100)
    # A NUL byte does not cut the message short.
    with pytest.raises(ValueError, match=r"unknown backend 'a\\x00b'; choose"):
        gpusum.sum(range(10), backend="a\0b")


def test_a_range_that_would_take_days_warns():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning, raised, ends the call before the run
        with pytest.raises(RuntimeWarning, match="this run adds 1 E elements"):
            gpusum.sum(range(10**18), backend="serial")
        gpusum.sum(range(10**6))  # no warning for an ordinary range


def test_arrays_on_a_cuda_device_are_asked_for_with_a_stream():
    # DLPack's stream protocol: the producer orders its pending writes before
    # the stream named (1, the legacy default stream), which gpusum waits for.
    asked = {}

    class Producer:
        def __dlpack_device__(self):
            return (2, 0)  # kDLCUDA, device 0

        def __dlpack__(self, stream=None, **kwargs):
            asked["stream"] = stream
            raise RuntimeError("no device memory in this test")

    with pytest.raises(RuntimeError, match="no device memory"):
        gpusum.sum(Producer())
    assert asked == {"stream": 1}


def test_threads_at_once_leave_python_signal_handling_intact():
    # Each call once saved and restored the handlers it found; overlapping
    # calls left gpusum's installed, and Ctrl-C then no longer interrupted
    # plain Python code.
    p = run_python("""
        import gpusum, os, signal, threading, time, numpy as np
        a = np.arange(10**6)
        def work():
            for _ in range(50):
                gpusum.sum(a, backend="threads", workers=2)
                gpusum.sum(range(10**6), backend="serial")
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted")
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(sum(pool.map(abs, range(-10, 10))))
        """)
    out, err = p.communicate(timeout=60)
    assert out.split() == ["interrupted", "100"], err


def test_sigterm_stays_sigterm():
    # The process ends by SIGTERM, as `timeout`, systemd and Kubernetes
    # expect; an `except KeyboardInterrupt` does not swallow it.
    p = run_python("""
        import gpusum, os, sys
        print(os.getpid(), flush=True)
        try:
            gpusum.sum(range(10**15), backend="threads", workers=2)
        except KeyboardInterrupt:
            print("swallowed", flush=True)
        """)
    pid = int(p.stdout.readline())
    time.sleep(1.0)
    os.kill(pid, signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    assert p.returncode == -signal.SIGTERM, (out, err)
    assert "swallowed" not in out
