// How the kernels compile on each side.
// - GPUSUM_DEVICE_LINES: the lines that call CUDA intrinsics (__ldg, __dp4a,
//   __dp2a_lo, __popc) are compiled for the GPU and for the CPU harness
//   (tests/helpers/cuda_host.hpp defines GPUSUM_KERNEL_HARNESS and CPU
//   versions of those intrinsics), so the harness executes the same source
//   lines the GPU does; a plain host build takes portable equivalents.
// - GPUSUM_KERNELS: the kernels' namespace; in the harness an inline
//   namespace of its own, so its definitions, which differ from a plain host
//   build's, never meet those in one program.
#pragma once

#if defined(__CUDA_ARCH__) || defined(GPUSUM_KERNEL_HARNESS)
#define GPUSUM_DEVICE_LINES 1
#endif

#if defined(GPUSUM_KERNEL_HARNESS)
#define GPUSUM_KERNELS gpusum::kernels::inline harness
#else
#define GPUSUM_KERNELS gpusum::kernels
#endif
