"""Arrays in GPU memory through DLPack (CuPy, PyTorch), summed on their
device. Each test skips, saying why, without a CUDA build of gpusum, the
array library or a usable GPU."""

import math

import numpy as np
import pytest

import gpusum


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


def test_cupy_floats_come_back_exactly_rounded(cupy):
    host = np.random.default_rng(6).standard_normal(10**6)
    r = gpusum.run(cupy.asarray(host))
    assert r.sum == math.fsum(host)
    assert not r.verified  # no second exact float kernel


def test_torch_cuda_tensors_of_every_integer_type(torch):
    for dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        t = torch.arange(-100, 10_000, device="cuda").to(dtype)
        assert gpusum.sum(t) == int(t.cpu().to(torch.int64).sum())


def test_a_gpu_view_with_gaps_is_a_type_error(cupy):
    with pytest.raises(TypeError, match="one block of memory"):
        gpusum.sum(cupy.arange(10)[::2])
    with pytest.raises(TypeError, match="float16"):
        gpusum.sum(cupy.zeros(4, dtype=cupy.float16))
