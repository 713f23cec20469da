// gpusum's Python module (_gpusum): a thin front end over the library's
// facade. Arrays arrive through nanobind's ndarray (the buffer protocol or
// DLPack), are summed where they lie, and the GIL is released meanwhile.
// The Python package (gpusum/__init__.py) shapes the results.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "gpusum/cuda.hpp"
#include "gpusum/gpusum.hpp"
#include "gpusum/text.hpp"

namespace nb = nanobind;

namespace {

using Array = nb::ndarray<nb::ro>;

constexpr int kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13;

// A TypeError for what cannot be summed, a ValueError for bad options.
struct TypeProblem : std::runtime_error {
    using std::runtime_error::runtime_error;
};

gpusum::DType dtype_of(const Array& a) {
    const auto t = a.dtype();
    using Code = nb::dlpack::dtype_code;
    if (t.lanes == 1) {
        const auto code = static_cast<Code>(t.code);
        if (code == Code::Bool && t.bits == 8) return gpusum::DType::boolean;
        if (code == Code::Int || code == Code::UInt) {
            const bool is_signed = code == Code::Int;
            switch (t.bits) {
                case 8:
                    return is_signed ? gpusum::DType::int8 : gpusum::DType::uint8;
                case 16:
                    return is_signed ? gpusum::DType::int16 : gpusum::DType::uint16;
                case 32:
                    return is_signed ? gpusum::DType::int32 : gpusum::DType::uint32;
                case 64:
                    return is_signed ? gpusum::DType::int64 : gpusum::DType::uint64;
                default:
                    break;
            }
        }
        if (code == Code::Float && t.bits == 32) return gpusum::DType::float32;
        if (code == Code::Float && t.bits == 64) return gpusum::DType::float64;
        if (code == Code::Float && t.bits == 16)
            throw TypeProblem(
                "float16 arrays are not summed in place: widen them with "
                "a.astype(numpy.float32)");
    }
    throw TypeProblem("cannot sum elements of this type (DLPack code " + std::to_string(t.code) +
                      ", " + std::to_string(t.bits) +
                      " bits): gpusum sums bool, int8 to int64, "
                      "uint8 to uint64, float32 and float64");
}

// Where the elements start if they fill one block of memory, in some order
// and with any signs of strides (a sum does not care about order); null if
// the view leaves gaps.
const unsigned char* dense_start(const Array& a) {
    const auto itemsize = static_cast<std::int64_t>(a.itemsize());
    const auto* base = static_cast<const unsigned char*>(a.data_handle());
    if (a.size() == 0) return base;
    std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // |stride|, extent
    std::int64_t lowest = 0;                                  // in elements, from data
    for (std::size_t i = 0; i < a.ndim(); ++i) {
        const auto extent = static_cast<std::int64_t>(a.shape(i));
        if (extent == 1) continue;
        const std::int64_t stride = a.stride(i);
        if (stride < 0) lowest += stride * (extent - 1);
        dims.emplace_back(stride < 0 ? -stride : stride, extent);
    }
    std::sort(dims.begin(), dims.end());
    std::int64_t expected = 1;
    for (const auto& [stride, extent] : dims) {
        if (stride != expected) return nullptr;
        expected *= extent;
    }
    return base + lowest * itemsize;
}

nb::dict describe(const gpusum::Sum& s) {
    nb::dict d;
    d["is_float"] = s.is_float;
    d["sum"] = s.is_float ? nb::cast(s.value) : nb::cast(gpusum::to_string(s.sum));
    d["expected"] =
        s.is_float ? nb::cast(s.expected_value) : nb::cast(gpusum::to_string(s.expected));
    d["error_bound"] = s.error_bound;
    d["check"] = s.check;
    d["verified"] = s.verified;
    d["backend"] = s.backend;
    d["reason"] = s.reason;
    d["notes"] = s.notes;
    d["elements"] = s.elements;
    nb::dict seconds;
    seconds["setup"] = s.seconds.setup;
    seconds["compute"] = s.seconds.compute;
    seconds["combine"] = s.seconds.combine;
    seconds["total"] = s.seconds.total();
    seconds["check"] = s.check_seconds;
    d["seconds"] = seconds;
    d["elements_per_second"] = s.elements_per_second;
    return d;
}

gpusum::Options options_of(const std::string& backend, unsigned workers, std::uint64_t chunks,
                           int device) {
    return gpusum::Options{backend, workers, chunks, device};
}

nb::dict sum_range(std::int64_t start, std::int64_t stop, std::int64_t step,
                   const std::string& backend, unsigned workers, std::uint64_t chunks, int device) {
    gpusum::Sum s;
    {
        nb::gil_scoped_release unlocked;
        s = gpusum::sum(gpusum::Range{start, stop, step},
                        options_of(backend, workers, chunks, device));
    }
    return describe(s);
}

// An array on a CUDA device, summed there. Integers are checked by the other
// GPU implementation (our tree reduction against CUB, or CUB against it):
// a second, independent pass over the same device memory. No second exact
// float kernel exists, so a float answer is the kernels' alone.
nb::dict sum_on_device(const Array& a, gpusum::DType dtype, const unsigned char* start,
                       const std::string& backend) {
    const std::string gpu = backend == "auto" ? "cuda" : backend;
    const bool is_float = gpusum::is_float(dtype);
    const std::string other = gpu == "cuda" ? "cub" : "cuda";
    gpusum::Result r, check;
    {
        nb::gil_scoped_release unlocked;
        r = gpusum::sum_device_array(start, dtype, a.size(), a.device_id(), gpu);
        if (!is_float)
            check = gpusum::sum_device_array(start, dtype, a.size(), a.device_id(), other);
    }
    if (!is_float && check.sum != r.sum)
        throw gpusum::Mismatch(gpu + " returned " + gpusum::to_string(r.sum) + ", " + other +
                               " returned " + gpusum::to_string(check.sum));
    gpusum::Sum s;
    s.is_float = is_float;
    s.sum = r.sum;
    s.value = is_float ? gpusum::rounded(r.real) : static_cast<double>(r.sum);
    s.error_bound = is_float ? gpusum::rounding_bound(s.value) : 0;
    s.expected = check.sum;
    s.expected_value = s.value;
    s.check = is_float ? "none: no second exact float kernel, and only the device holds the data"
                       : "the " + other + " kernel over the same device memory";
    s.verified = !is_float;
    s.backend = gpu;
    s.reason = "the array is in the memory of CUDA device " + std::to_string(a.device_id());
    s.elements = a.size();
    s.seconds = r.seconds;
    s.check_seconds = check.seconds.total();
    const double total = r.seconds.total();
    s.elements_per_second = total > 0 ? static_cast<double>(a.size()) / total : 0;
    return describe(s);
}

nb::dict sum_array(const Array& a, const std::string& backend, unsigned workers,
                   std::uint64_t chunks, int device) {
    const gpusum::DType dtype = dtype_of(a);
    const unsigned char* start = dense_start(a);
    if (start == nullptr)
        throw TypeProblem(
            "a view with gaps between its elements (e.g. a[::2]) is not summed "
            "yet: pass numpy.ascontiguousarray(a)");
    if (a.device_type() == kDLCUDA || a.device_type() == kDLCUDAManaged)
        return sum_on_device(a, dtype, start, backend);
    if (a.device_type() != kDLCPU && a.device_type() != kDLCUDAHost)
        throw TypeProblem("arrays on DLPack device type " + std::to_string(a.device_type()) +
                          " are not summed: only host memory and CUDA devices");
    gpusum::Sum s;
    {
        nb::gil_scoped_release unlocked;
        s = gpusum::sum(gpusum::ArrayView{start, a.size(), dtype},
                        options_of(backend, workers, chunks, device));
    }
    return describe(s);
}

}  // namespace

NB_MODULE(_gpusum, m) {
    m.doc() = "gpusum's compiled core; use the gpusum package.";
    static nb::object unavailable =
        nb::exception<gpusum::Unavailable>(m, "BackendUnavailable", PyExc_RuntimeError);
    static nb::object mismatch =
        nb::exception<gpusum::Mismatch>(m, "MismatchError", PyExc_ArithmeticError);
    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const gpusum::Interrupted&) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        } catch (const TypeProblem& e) {
            PyErr_SetString(PyExc_TypeError, e.what());
        } catch (const gpusum::InputError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const gpusum::BackendError& e) {
            PyErr_SetString(unavailable.ptr(), e.what());
        }
    });
    m.def("sum_range", &sum_range, nb::arg("start"), nb::arg("stop"), nb::arg("step"),
          nb::arg("backend"), nb::arg("workers"), nb::arg("chunks"), nb::arg("device"));
    m.def("sum_array", &sum_array, nb::arg("array"), nb::arg("backend"), nb::arg("workers"),
          nb::arg("chunks"), nb::arg("device"));
    m.attr("version") = GPUSUM_VERSION;
#if defined(GPUSUM_HAVE_CUDA)
    m.attr("has_cuda") = true;
#else
    m.attr("has_cuda") = false;
#endif
}
