// A test harness, not a CUDA implementation: just enough of the CUDA
// execution model for g++ to compile the unmodified kernels/*.cuh and run
// them on the CPU, so that their thread, warp, block and grid logic is
// executed and checked on machines without a GPU.
//
// The model, and why it is shaped this way:
// - Every CUDA thread of a block is a host thread; __syncthreads is a
//   barrier over the block, a warp shuffle an exchange through a per-warp
//   buffer with a barrier over the warp's 32 lanes. ThreadSanitizer sees
//   exactly the synchronisation CUDA promises, so a missing barrier is a race.
// - `__shared__` becomes `static`: one object per kernel function, as shared
//   memory is one object per block. So one process runs one block at a time,
//   and a launch with several resident blocks forks that many processes
//   (like SMs), all seeing "device memory" allocated as shared mappings.
// - Blocks are taken in a random order (seeded), and the harness's atomics,
//   fences and barriers insert random yields and delays, so orderings that a
//   GPU could produce are tried.
// - A barrier that some threads of the block (or warp) skip, or a state in
//   which every thread waits, is reported as a divergence or deadlock at
//   once; anything still running after the time limit is killed and
//   reported. A launch never hangs the test.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

// The kernels compile their device lines against the CPU versions of the
// intrinsics below (kernels/device_lines.hpp).
#define GPUSUM_KERNEL_HARNESS 1

// CUDA's own names, which are reserved identifiers in plain C++.
// NOLINTBEGIN(bugprone-reserved-identifier)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__  // inlined or not, the same result on the CPU
#define __shared__ static
#define __launch_bounds__(...)

struct HarnessIndex {
    unsigned x = 0, y = 0, z = 0;
};
struct longlong2 {
    alignas(16) long long x;
    long long y;
};
struct uint4 {
    alignas(16) unsigned x;
    unsigned y, z, w;
};

// NOLINTEND(bugprone-reserved-identifier)

// Inline, so every translation unit sees their constant initialisers: an
// extern thread_local goes through a wrapper that UBSan misreads as null.
inline thread_local HarnessIndex threadIdx;
inline thread_local HarnessIndex blockIdx;
inline HarnessIndex blockDim;
inline HarnessIndex gridDim;

namespace cuda_host {

// A launch that failed: divergence, deadlock, time limit, a crash or a
// sanitizer report in one of its processes.
class LaunchError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct LaunchShape {
    unsigned blocks = 1;
    unsigned threads = 32;  // a multiple of 32, at most 1024
    unsigned resident = 1;  // blocks running at once (processes)
    std::uint64_t seed = 1;
};

void sync_block();
std::uint64_t shuffle_down_word(unsigned mask, std::uint64_t value, unsigned delta);
void fence();
void jitter();  // maybe yield or sleep a little: lets other orders happen
// Maybe stall for up to 2 ms: long enough for a block in another process to
// get through its barriers, so work a kernel does after announcing itself to
// the other blocks (e.g. a store after its atomicAdd) is seen as late.
void stall();

void run_grid(const LaunchShape& shape, const std::function<void()>& kernel_body);

template <class... Params, class... Args>
void launch(const LaunchShape& shape, void (*kernel)(Params...), Args&&... args) {
    std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
    run_grid(shape, [&] { std::apply(kernel, params); });
}

// Device memory: zeroed, and shared with every process of a launch.
template <class T>
class DeviceArray {
  public:
    explicit DeviceArray(std::size_t count) : count_(count == 0 ? 1 : count) {
        void* p = ::mmap(nullptr, count_ * sizeof(T), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        data_ = static_cast<T*>(p);
    }
    ~DeviceArray() { ::munmap(data_, count_ * sizeof(T)); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    T* get() const { return data_; }
    T& operator[](std::size_t i) const { return data_[i]; }

  private:
    std::size_t count_;
    T* data_;
};

}  // namespace cuda_host

// NOLINTBEGIN(bugprone-reserved-identifier)
inline void __syncthreads() {
    cuda_host::sync_block();
}

inline void __threadfence() {
    cuda_host::fence();
}

template <class T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8);
    std::uint64_t word = 0;
    std::memcpy(&word, &value, sizeof(T));
    word = cuda_host::shuffle_down_word(mask, word, delta);
    std::memcpy(&value, &word, sizeof(T));
    return value;
}

// CUDA's atomics are relaxed; shared and global memory alike.
template <class Word>
Word harness_atomic_add(Word* address, Word value) {
    cuda_host::jitter();
    // The compiler's atomic builtins, as std::atomic_ref would use (libc++
    // before LLVM 19 has no atomic_ref).
    const Word old = __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
    cuda_host::stall();
    return old;
}

inline unsigned atomicAdd(unsigned* address, unsigned value) {
    return harness_atomic_add(address, value);
}

inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) {
    return harness_atomic_add(address, value);
}

inline unsigned atomicOr(unsigned* address, unsigned value) {
    cuda_host::jitter();
    return __atomic_fetch_or(address, value, __ATOMIC_RELAXED);
}

// A load that bypasses L1; on the host, an ordinary load.
inline longlong2 __ldcg(const longlong2* address) {
    longlong2 value;
    std::memcpy(&value, address, sizeof value);
    return value;
}

// A load through the read-only cache; on the host, an ordinary load.
inline uint4 __ldg(const uint4* address) {
    uint4 value;
    std::memcpy(&value, address, sizeof value);
    return value;
}

inline int __popc(unsigned x) {
    return __builtin_popcount(x);
}

// Double adds rounded to nearest, as the host's SSE2 or NEON adds are.
inline double __dadd_rn(double a, double b) {
    return a + b;
}
inline double __dsub_rn(double a, double b) {
    return a - b;
}
inline double __longlong_as_double(long long bits) {
    double x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
}
inline unsigned max(unsigned a, unsigned b) {
    return a > b ? a : b;
}
inline int max(int a, int b) {
    return a > b ? a : b;
}

// The dot-product instructions, by PTX's definitions: dp4a multiplies the
// four bytes of a and b pairwise; dp2a_lo the two 16-bit halves of a with
// the two low bytes of b. Signed or unsigned as the arguments are.
template <class Lane, class Word>
Lane harness_lane(Word word, unsigned index) {
    Lane lane;
    std::memcpy(&lane, reinterpret_cast<const unsigned char*>(&word) + index * sizeof(Lane),
                sizeof lane);
    return lane;
}
// c plus the products of a's lanes (Lane) and b's low bytes (Byte), pairwise.
template <class Lane, class Byte, class Word>
Word harness_dot(Word a, Word b, Word c) {
    for (unsigned i = 0; i < 4 / sizeof(Lane); ++i)
        c += static_cast<Word>(harness_lane<Lane>(a, i) * harness_lane<Byte>(b, i));
    return c;
}
inline int __dp4a(int a, int b, int c) {
    return harness_dot<std::int8_t, std::int8_t>(a, b, c);
}
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
    return harness_dot<std::uint8_t, std::uint8_t>(a, b, c);
}
inline int __dp2a_lo(int a, int b, int c) {
    return harness_dot<std::int16_t, std::int8_t>(a, b, c);
}
inline unsigned __dp2a_lo(unsigned a, unsigned b, unsigned c) {
    return harness_dot<std::uint16_t, std::uint8_t>(a, b, c);
}
// NOLINTEND(bugprone-reserved-identifier)
