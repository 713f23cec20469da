// gpusum's Python module (_gpusum): a thin front end over the library's
// facade. Arrays arrive through the buffer protocol or DLPack (nanobind's
// ndarray), are summed where they lie, and the GIL is released meanwhile.
// The Python package (gpusum/__init__.py) shapes the results.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <signal.h>

#include "gpusum/accumulator.hpp"
#include "gpusum/gpusum.hpp"

namespace nb = nanobind;

namespace {

using Array = nb::ndarray<nb::ro>;

constexpr int kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13;

// A TypeError for what cannot be summed, a ValueError for bad options.
struct TypeProblem : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr const char* kSupported =
    "gpusum sums bool, int8 to int64, uint8 to uint64, float16, float32 and float64";

gpusum::DType integer_type(bool is_signed, std::size_t bytes) {
    using gpusum::DType;
    switch (bytes) {
        case 1:
            return is_signed ? DType::int8 : DType::uint8;
        case 2:
            return is_signed ? DType::int16 : DType::uint16;
        case 4:
            return is_signed ? DType::int32 : DType::uint32;
        case 8:
            return is_signed ? DType::int64 : DType::uint64;
        default:
            throw TypeProblem("cannot sum " + std::to_string(8 * bytes) +
                              "-bit integers: " + kSupported);
    }
}

gpusum::DType float_type(std::size_t bytes) {
    switch (bytes) {
        case 2:
            return gpusum::DType::float16;
        case 4:
            return gpusum::DType::float32;
        case 8:
            return gpusum::DType::float64;
        default:
            throw TypeProblem("cannot sum " + std::to_string(8 * bytes) +
                              "-bit floats: " + kSupported);
    }
}

// A DLPack element type.
gpusum::DType dtype_of(const Array& a) {
    const auto t = a.dtype();
    using Code = nb::dlpack::dtype_code;
    const auto code = static_cast<Code>(t.code);
    if (t.lanes == 1 && t.bits % 8 == 0) {
        if (code == Code::Bool && t.bits == 8) return gpusum::DType::boolean;
        if (code == Code::Int || code == Code::UInt)
            return integer_type(code == Code::Int, t.bits / 8);
        if (code == Code::Float) return float_type(t.bits / 8);
    }
    throw TypeProblem("cannot sum elements of this type (DLPack code " + std::to_string(t.code) +
                      ", " + std::to_string(t.bits) + " bits): " + kSupported);
}

// A buffer's element type and byte order, from its struct format ("<q",
// "d", "?", ">e", ...; the size from itemsize).
struct BufferElements {
    gpusum::DType dtype;
    bool swapped;
};

BufferElements elements_of(const Py_buffer& b) {
    std::string_view format = b.format != nullptr ? b.format : "B";
    const std::string shown(format);
    bool big_endian = std::endian::native == std::endian::big;
    if (!format.empty() &&
        std::string_view("@=<>!").find(format.front()) != std::string_view::npos) {
        if (format.front() == '<') big_endian = false;
        if (format.front() == '>' || format.front() == '!') big_endian = true;
        format.remove_prefix(1);
    }
    const auto bytes = static_cast<std::size_t>(b.itemsize);
    const bool swapped = bytes > 1 && big_endian != (std::endian::native == std::endian::big);
    if (format.size() == 1) {
        const char c = format.front();
        if (c == '?' && bytes == 1) return {gpusum::DType::boolean, false};
        if (std::string_view("bhilqn").find(c) != std::string_view::npos)
            return {integer_type(true, bytes), swapped};
        if (std::string_view("BHILQN").find(c) != std::string_view::npos)
            return {integer_type(false, bytes), swapped};
        if (std::string_view("efd").find(c) != std::string_view::npos)
            return {float_type(bytes), swapped};
    }
    throw TypeProblem("cannot sum elements of buffer format '" + shown + "': " + kSupported);
}

// The answer alone, as Python's int (any size) or float.
nb::object value_of(const gpusum::Sum& s) {
    if (s.is_float) return nb::float_(s.value);
    if (s.sum >= INT64_MIN && s.sum <= INT64_MAX)
        return nb::steal(PyLong_FromLongLong(static_cast<long long>(s.sum)));
    return nb::steal(PyLong_FromString(gpusum::to_string(s.sum).c_str(), nullptr, 10));
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

// Python ints of any size arrive clamped to these types (the package clamps
// to 64 bits), so that the library's own limit check names the option.
gpusum::Options options_of(const std::string& backend, std::uint64_t workers, std::uint64_t chunks,
                           std::int64_t device) {
    return gpusum::Options{
        backend, static_cast<unsigned>(std::min<std::uint64_t>(workers, UINT32_MAX)), chunks,
        static_cast<int>(std::clamp<std::int64_t>(device, -1, INT32_MAX))};
}

nb::dict sum_range(std::int64_t start, std::int64_t stop, std::int64_t step,
                   const std::string& backend, std::uint64_t workers, std::uint64_t chunks,
                   std::int64_t device) {
    gpusum::Sum s;
    {
        nb::gil_scoped_release unlocked;
        s = gpusum::sum(gpusum::Range{start, stop, step},
                        options_of(backend, workers, chunks, device));
    }
    return describe(s);
}

std::string range_warning(std::int64_t start, std::int64_t stop, std::int64_t step,
                          const std::string& backend, std::uint64_t workers, std::uint64_t chunks,
                          std::int64_t device) {
    return gpusum::long_run_warning(gpusum::Range{start, stop, step},
                                    options_of(backend, workers, chunks, device));
}

// A Py_buffer released however the sum ends; the exporter keeps the memory
// (and its size) fixed while it is held.
struct HeldBuffer {
    explicit HeldBuffer(nb::handle obj)
        : held(PyObject_GetBuffer(obj.ptr(), &buffer, PyBUF_RECORDS_RO) == 0) {}
    ~HeldBuffer() {
        if (held) PyBuffer_Release(&buffer);
    }
    HeldBuffer(const HeldBuffer&) = delete;
    HeldBuffer& operator=(const HeldBuffer&) = delete;

    Py_buffer buffer{};
    bool held;
};

// "list", "numpy.ndarray of datetime64[ns]": for error messages.
std::string described(nb::handle obj) {
    const nb::handle type = obj.type();
    std::string name = nb::str(type.attr("__qualname__")).c_str();
    const std::string module = nb::str(type.attr("__module__")).c_str();
    if (module != "builtins") name = module + "." + name;
    if (nb::hasattr(obj, "dtype")) {
        const nb::object dtype = obj.attr("dtype");
        name += std::string(" of ") + nb::str(nb::handle(dtype)).c_str();  // str(dtype)
    }
    return name;
}

// What DLPack gives for `obj`. An array on a CUDA device is asked for with
// stream=1 (the legacy default stream): the producer then orders its
// pending writes before that stream, which the library waits for before
// reading; asked with no stream, CuPy and PyTorch promise nothing.
nb::object dlpack_of(nb::handle obj) {
    if (!nb::hasattr(obj, "__dlpack__") || !nb::hasattr(obj, "__dlpack_device__"))
        return nb::borrow(obj);
    const nb::tuple where = nb::cast<nb::tuple>(obj.attr("__dlpack_device__")());
    const int type = nb::cast<int>(where[0]);
    if (type != kDLCUDA && type != kDLCUDAManaged) return nb::borrow(obj);
    return obj.attr("__dlpack__")(nb::arg("stream") = 1);
}

// An array in host memory as its exporter describes it.
struct HostArray {
    const unsigned char* origin;
    gpusum::DType dtype;
    std::vector<std::int64_t> shape, strides;  // strides in bytes
    bool swapped;

    gpusum::ArrayView view(gpusum::Layout& layout) const {
        return gpusum::strided_view(origin, dtype, shape, strides, swapped, layout);
    }
};

// Calls on_host(array) for an array in host memory, or on_device(array,
// device) for one on a CUDA device, holding its memory meanwhile. Host memory
// through the buffer protocol, which says everything: element format and
// byte order, shape and strides in bytes. Anything else (a torch tensor, a
// CuPy array) through DLPack.
template <class OnHost, class OnDevice>
auto with_array(nb::handle obj, OnHost&& on_host, OnDevice&& on_device) {
    if (const HeldBuffer held(obj); held.held) {
        const Py_buffer& b = held.buffer;
        const auto [dtype, swapped] = elements_of(b);
        // Exporters may leave out the shape (one dimension) and the strides
        // (C order), as ctypes arrays do.
        std::vector<std::int64_t> shape =
            b.shape != nullptr
                ? std::vector<std::int64_t>(b.shape, b.shape + b.ndim)
                : std::vector<std::int64_t>{b.len / std::max<Py_ssize_t>(b.itemsize, 1)};
        std::vector<std::int64_t> strides(shape.size());
        if (b.strides != nullptr) {
            strides.assign(b.strides, b.strides + shape.size());
        } else {
            std::int64_t step = b.itemsize;
            for (std::size_t d = shape.size(); d-- > 0;) {
                strides[d] = step;
                step *= shape[d];
            }
        }
        return on_host(HostArray{static_cast<const unsigned char*>(b.buf), dtype, std::move(shape),
                                 std::move(strides), swapped});
    }
    PyErr_Clear();
    Array a;
    if (!nb::try_cast(dlpack_of(obj), a)) {
        PyErr_Clear();  // the exporter's own complaint, if any: ours says more
        throw TypeProblem("cannot sum a " + described(obj) +
                          ": pass a range, or an array exposing the buffer protocol or DLPack "
                          "(NumPy, CuPy, PyTorch, ...); " +
                          kSupported);
    }
    const gpusum::DType dtype = dtype_of(a);
    const auto itemsize = static_cast<std::int64_t>(gpusum::dtype_size(dtype));
    std::vector<std::int64_t> shape, strides;
    for (std::size_t d = 0; d < a.ndim(); ++d) {
        shape.push_back(static_cast<std::int64_t>(a.shape(d)));
        strides.push_back(a.stride(d) * itemsize);
    }
    const HostArray described{static_cast<const unsigned char*>(a.data_handle()), dtype, shape,
                              strides, false};
    gpusum::Layout layout;
    const gpusum::ArrayView view = described.view(layout);
    if (a.device_type() == kDLCUDA || a.device_type() == kDLCUDAManaged) {
        if (!view.dense())
            throw TypeProblem(
                "a GPU array is summed on its device when its elements fill one block of "
                "memory; this one has gaps or float16 elements: pass a.contiguous() (PyTorch) "
                "or cupy.ascontiguousarray(a), float16 widened to float32");
        return on_device(gpusum::DeviceArray{view.data, a.size(), dtype},
                         static_cast<std::int64_t>(a.device_id()));
    }
    if (a.device_type() != kDLCPU && a.device_type() != kDLCUDAHost)
        throw TypeProblem("arrays on DLPack device type " + std::to_string(a.device_type()) +
                          " are not summed: only host memory and CUDA devices");
    return on_host(described);
}

// The checked sum of an array; the GIL is released while it runs.
gpusum::Sum sum_of_array(nb::handle obj, const std::string& backend, std::uint64_t workers,
                         std::uint64_t chunks, std::int64_t device) {
    return with_array(
        obj,
        [&](const HostArray& array) {
            gpusum::Layout layout;
            const gpusum::ArrayView view = array.view(layout);
            nb::gil_scoped_release unlocked;
            return gpusum::sum(view, options_of(backend, workers, chunks, device));
        },
        [&](const gpusum::DeviceArray& array, std::int64_t on) {
            nb::gil_scoped_release unlocked;
            return gpusum::sum(array, options_of(backend, workers, chunks, on));
        });
}

nb::dict sum_array(nb::handle obj, const std::string& backend, std::uint64_t workers,
                   std::uint64_t chunks, std::int64_t device) {
    return describe(sum_of_array(obj, backend, workers, chunks, device));
}

nb::object sum_array_value(nb::handle obj, const std::string& backend, std::uint64_t workers,
                           std::uint64_t chunks, std::int64_t device) {
    return value_of(sum_of_array(obj, backend, workers, chunks, device));
}

// An accumulator's add of an array, checked like sum(); the GIL is released.
void accumulate_array(gpusum::Accumulator& total, nb::handle obj, const std::string& backend,
                      std::uint64_t workers, std::uint64_t chunks, std::int64_t device) {
    with_array(
        obj,
        [&](const HostArray& array) {
            gpusum::Layout layout;
            const gpusum::ArrayView view = array.view(layout);
            nb::gil_scoped_release unlocked;
            total.add(view, options_of(backend, workers, chunks, device));
        },
        [&](const gpusum::DeviceArray& array, std::int64_t on) {
            nb::gil_scoped_release unlocked;
            total.add(array, options_of(backend, workers, chunks, on));
        });
}

void accumulate_range(gpusum::Accumulator& total, std::int64_t start, std::int64_t stop,
                      std::int64_t step, const std::string& backend, std::uint64_t workers,
                      std::uint64_t chunks, std::int64_t device) {
    nb::gil_scoped_release unlocked;
    total.add(gpusum::Range{start, stop, step}, options_of(backend, workers, chunks, device));
}

// Sums over `axes` (distinct, in range: the package checks them) of a host
// array: one checked sum per element of the other axes, in C order. Returns
// (the sums as Python ints or floats, whether they are floats).
nb::tuple sum_axes(nb::handle obj, const std::vector<std::int64_t>& axes,
                   const std::string& backend, std::uint64_t workers, std::uint64_t chunks,
                   std::int64_t device) {
    return with_array(
        obj,
        [&](const HostArray& array) {
            const auto ndim = static_cast<std::int64_t>(array.shape.size());
            std::vector<bool> reduced(array.shape.size(), false);
            for (const std::int64_t axis : axes) {
                if (axis < 0 || axis >= ndim)
                    throw gpusum::InputError("axis " + std::to_string(axis) +
                                             " is out of bounds for an array of dimension " +
                                             std::to_string(ndim));
                reduced[static_cast<std::size_t>(axis)] = true;
            }
            std::vector<std::int64_t> kept_shape, kept_strides, inner_shape, inner_strides;
            std::uint64_t outputs = 1;
            for (std::size_t d = 0; d < array.shape.size(); ++d) {
                (reduced[d] ? inner_shape : kept_shape).push_back(array.shape[d]);
                (reduced[d] ? inner_strides : kept_strides).push_back(array.strides[d]);
                if (!reduced[d]) outputs *= static_cast<std::uint64_t>(array.shape[d]);
            }
            const gpusum::Options options = options_of(backend, workers, chunks, device);
            std::vector<gpusum::Sum> sums(outputs);
            {
                nb::gil_scoped_release unlocked;
                std::vector<std::int64_t> index(kept_shape.size(), 0);
                gpusum::Layout layout;
                for (std::uint64_t o = 0; o < outputs; ++o) {
                    std::int64_t offset = 0;
                    for (std::size_t d = 0; d < index.size(); ++d)
                        offset += index[d] * kept_strides[d];
                    sums[o] = gpusum::sum(
                        gpusum::strided_view(array.origin + offset, array.dtype, inner_shape,
                                             inner_strides, array.swapped, layout),
                        options);
                    for (std::size_t d = index.size(); d-- > 0;) {  // the next, in C order
                        if (++index[d] < kept_shape[d]) break;
                        index[d] = 0;
                    }
                }
            }
            nb::list values;
            for (const gpusum::Sum& s : sums) values.append(value_of(s));
            return nb::make_tuple(values, gpusum::is_float(array.dtype));
        },
        [&](const gpusum::DeviceArray&, std::int64_t) -> nb::tuple {
            throw TypeProblem(
                "axis sums are for arrays in host memory; sum a GPU array whole (axis=None)");
        });
}

// The total as Python's int (any size) or float.
nb::object result_of(const gpusum::Accumulator& total) {
    if (total.is_float()) return nb::float_(total.value());
    return nb::steal(PyLong_FromString(total.integer_text().c_str(), nullptr, 10));
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
        } catch (const gpusum::Interrupted& e) {
            // The caller's handlers are back: the signal goes to them, as if
            // gpusum had never held it. SIGTERM's default ends the process
            // here (as `timeout` and systemd expect); Python's SIGINT
            // handler raises KeyboardInterrupt; a handler that raises nothing
            // leaves InterruptedError, since the sum did not finish.
            ::raise(e.signal);
            if (PyErr_CheckSignals() != 0) return;
            PyErr_SetString(PyExc_InterruptedError, e.signal == SIGTERM
                                                        ? "gpusum stopped by SIGTERM"
                                                        : "gpusum stopped by SIGINT");
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
    m.def("sum_array", &sum_array, nb::arg("array").none(), nb::arg("backend"), nb::arg("workers"),
          nb::arg("chunks"), nb::arg("device"));
    m.def("sum_array_value", &sum_array_value, nb::arg("array").none(), nb::arg("backend"),
          nb::arg("workers"), nb::arg("chunks"), nb::arg("device"));
    m.def("sum_axes", &sum_axes, nb::arg("array").none(), nb::arg("axes"), nb::arg("backend"),
          nb::arg("workers"), nb::arg("chunks"), nb::arg("device"));
    nb::class_<gpusum::Accumulator>(m, "Accumulator")
        .def(nb::init<>())
        .def("add_range", &accumulate_range, nb::arg("start"), nb::arg("stop"), nb::arg("step"),
             nb::arg("backend"), nb::arg("workers"), nb::arg("chunks"), nb::arg("device"))
        .def("add_array", &accumulate_array, nb::arg("array").none(), nb::arg("backend"),
             nb::arg("workers"), nb::arg("chunks"), nb::arg("device"))
        .def("merge", &gpusum::Accumulator::merge, nb::arg("other"))
        .def("result", &result_of)
        .def_prop_ro("is_float", &gpusum::Accumulator::is_float)
        .def_prop_ro("elements", &gpusum::Accumulator::elements)
        .def("to_bytes",
             [](const gpusum::Accumulator& a) {
                 const std::string b = a.to_bytes();
                 return nb::bytes(b.data(), b.size());
             })
        .def_static(
            "from_bytes",
            [](nb::bytes b) {
                return gpusum::Accumulator::from_bytes(
                    std::string_view(static_cast<const char*>(b.data()), b.size()));
            },
            nb::arg("data"));
    m.def("range_warning", &range_warning, nb::arg("start"), nb::arg("stop"), nb::arg("step"),
          nb::arg("backend"), nb::arg("workers"), nb::arg("chunks"), nb::arg("device"));
    m.attr("version") = GPUSUM_VERSION;
#if defined(GPUSUM_HAVE_CUDA)
    m.attr("has_cuda") = true;
#else
    m.attr("has_cuda") = false;
#endif
}
