"""Arrays in GPU memory through DLPack (CuPy, PyTorch), summed on their
device. Each test skips, saying why, without a CUDA build of gpusum, the
array library or a usable GPU."""

import math

import gpusum
import numpy as np
import pytest


def device_or_skip():
    if not gpusum._gpusum.has_cuda:
        pytest.skip("gpusum was built without CUDA")


@pytest.fixture
def cupy():
    device_or_skip()
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except cp.cuda.runtime.CUDARuntimeError as e:
        pytest.skip(f"no usable GPU: {e}")
    return cp


@pytest.fixture
def torch():
    device_or_skip()
    th = pytest.importorskip("torch")
    if not th.cuda.is_available():
        pytest.skip("no usable GPU for PyTorch")
    return th


def test_cupy_integers_are_summed_on_the_device_and_checked_by_the_other_kernel(cupy):
    host = np.random.default_rng(5).integers(-(2**62), 2**62, size=10**6 + 3, dtype=np.int64)
    for backend in ("auto", "cuda", "cub"):
        r = gpusum.run(cupy.asarray(host), backend=backend)
        assert r.sum == r.expected == sum(int(x) for x in host)
        assert r.verified and r.backend in ("cuda", "cub")
        assert "device" in r.reason


def test_cupy_floats_come_back_exactly_rounded_and_checked(cupy):
    host = np.random.default_rng(6).standard_normal(10**6)
    for dtype in (np.float64, np.float32):
        r = gpusum.run(cupy.asarray(host.astype(dtype)))
        assert r.sum == r.expected == math.fsum(host.astype(dtype).tolist())
        assert r.verified and "CPU" in r.check


def test_bool_on_the_device_counts_nonzero_bytes(cupy):
    raw = cupy.asarray(np.frombuffer(bytes([2, 0, 255, 1] * 100_001), dtype=np.uint8))
    for backend in ("cuda", "cub"):
        assert gpusum.sum(raw.view(cupy.bool_), backend=backend) == 300_003


def test_a_tensor_still_being_written_is_read_after_its_producer(torch):
    # The producer's kernels run on a stream of its own and are not waited
    # for: DLPack's stream=1 request orders them before gpusum reads.
    producer = torch.cuda.Stream()
    n = 1 << 24
    for i in range(100):
        with torch.cuda.stream(producer):
            big = torch.full((n,), 1, dtype=torch.int64, device="cuda")
            for _ in range(4):
                big.mul_(3)  # long enough that an early read sees 1s or 3s
            floats = big.to(torch.float64) * 0.5
        assert gpusum.sum(big) == 81 * n, i
        assert gpusum.sum(floats) == 40.5 * n, i


def test_the_callers_current_device_is_kept(torch):
    if torch.cuda.device_count() < 2:
        pytest.skip("one GPU: the current device cannot be seen to move")
    torch.cuda.set_device(0)
    gpusum.sum(torch.arange(10, device="cuda:1"))
    assert torch.cuda.current_device() == 0
    assert torch.zeros(1, device="cuda").device.index == 0


def test_a_shape_beyond_its_allocation_is_refused_before_any_launch(cupy):
    base = cupy.arange(1000, dtype=cupy.int64)
    too_long = cupy.ndarray((10**9,), dtype=cupy.int64, memptr=base.data)
    with pytest.raises(ValueError, match="the allocation holds"):
        gpusum.sum(too_long)
    assert gpusum.sum(base) == 499500  # the context is still usable


def test_torch_cuda_tensors_of_every_integer_type(torch):
    for dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        t = torch.arange(-100, 10_000, device="cuda").to(dtype)
        assert gpusum.sum(t) == int(t.cpu().to(torch.int64).sum())
    flags = torch.arange(-100, 10_000, device="cuda") % 3 == 0
    assert gpusum.sum(flags) == int(flags.sum())


def test_a_gpu_view_with_gaps_is_a_type_error(cupy):
    with pytest.raises(TypeError, match="one block of memory"):
        gpusum.sum(cupy.arange(10)[::2])
    with pytest.raises(TypeError, match="float16"):
        gpusum.sum(cupy.zeros(4, dtype=cupy.float16))
