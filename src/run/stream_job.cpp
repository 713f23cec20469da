#include "run/stream_job.hpp"

#include "input/array_stream.hpp"
#include "plan/dispatch.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

namespace {

i128 plus(i128 total, i128 part) {
    i128 out = 0;
    if (__builtin_add_overflow(total, part, &out))
        throw InputError("the stream's total leaves the 128-bit range");
    return out;
}

// The backends to try on the pieces, best first: the one asked for, or
// those auto picks for an array of one full piece.
std::vector<Choice> candidates(const BackendList& backends, const Job& job, const Request& piece,
                               std::vector<std::string>& notes) {
    if (job.backend == "auto") {
        AutoPlan plan = plan_auto(backends, piece);
        notes = std::move(plan.skipped);
        return std::move(plan.candidates);
    }
    Backend* b = find_backend(backends, job.backend);
    if (b->collective())
        throw InputError("--backend " + job.backend +
                         ": a stream is read by one process and cannot be shared among ranks; "
                         "give a file");
    if (const std::string why = b->cannot_sum(*piece.array); !why.empty())
        throw Unavailable("backend '" + job.backend + "' " + why);
    return {{b, "requested with --backend"}};
}

}  // namespace

Outcome sum_stream(const BackendList& backends, const Job& job, ArrayStream& stream,
                   std::string source) {
    if (job.repeat > 1)
        throw InputError("--repeat: a stream is read once; save it to a file to sum it again");
    Request request;
    request.workers = job.workers;
    request.chunks = job.chunks;
    request.device = job.device;
    request.devices = job.devices;
    request.chunk_timeout = job.chunk_timeout;
    request.check_in_cache = true;
    const std::size_t item = dtype_size(stream.dtype());
    request.array = ArrayView{nullptr, ArrayStream::kPieceBytes / item, stream.dtype()};

    Outcome out;
    std::vector<Choice> choices = candidates(backends, job, request, out.notes);
    out.source = std::move(source);
    out.real = is_float(stream.dtype());
    out.check = std::string(out.real ? kFloatCheckMethod : kIntegerCheckMethod) +
                "; piece by piece, as each arrived";

    const StopSignals stop_signals;  // Ctrl-C ends the read and the run cleanly
    const std::optional<std::uint64_t> announced = stream.announced_elements();
    Progress progress(announced ? *announced * item : 0, job.progress, "read",
                      Progress::Unit::bytes);
    FloatCheck float_check;
    i128 integer_check = 0;
    bool tiled = true;
    std::size_t chosen = 0;
    std::uint64_t pieces = 0;
    Stopwatch clock;
    while (const std::optional<ArrayView> piece = stream.next()) {
        request.array = *piece;
        Result r;
        for (;;) {
            try {
                r = choices[chosen].backend->sum(request);
                break;
            } catch (const BackendError& e) {
                const std::string name(choices[chosen].backend->name());
                if (job.backend != "auto")
                    throw Unavailable("backend '" + name + "' failed: " + e.what());
                out.notes.push_back(name + " failed: " + e.what());
                if (++chosen == choices.size())
                    throw Unavailable("no backend could run: " + out.notes.back());
            }
        }
        if (out.real)
            merge(out.result.real, r.real);
        else
            out.result.sum = plus(out.result.sum, r.sum);
        Stopwatch check_clock;
        if (const auto& c = r.in_cache_check) {
            tiled = tiled && tiles(c->walked, piece->count);
            if (out.real && c->real)
                float_check.merge(*c->real);
            else if (out.real)
                tiled = false;  // a float check without its total: not a check
            else
                integer_check = plus(integer_check, c->total);
        } else if (out.real) {
            float_check.add(*piece, job.workers);
        } else {
            integer_check = plus(integer_check, check_sum_integers(*piece, job.workers));
        }
        out.check_seconds += check_clock.lap();
        out.elements += piece->count;
        out.bytes += piece->bytes();
        out.result.workers = r.workers;
        out.result.chunks = r.chunks;
        out.result.details = r.details;
        progress.advance(piece->bytes());
        ++pieces;
    }
    out.backend = std::string(choices[chosen].backend->name());
    out.reason = choices[chosen].reason + "; for each piece of the stream";
    out.result.seconds.compute = clock.lap() - out.check_seconds;
    out.totals = {out.result.seconds.total()};
    out.result.details.emplace_back(
        "stream", std::to_string(pieces) + (pieces == 1 ? " piece" : " pieces") + " of up to " +
                      bytes_text(static_cast<double>(ArrayStream::kPieceBytes)) + ", at most " +
                      std::to_string(ArrayStream::kPieces) +
                      " in memory, read ahead by one thread");
    if (out.real) {
        out.expected_real = float_check.value();
        out.verified = tiled && same_float(rounded(out.result.real), out.expected_real);
    } else {
        out.expected = integer_check;
        out.verified = tiled && out.result.sum == out.expected;
    }
    if (!tiled) out.check += " (the blocks checked do not tile the pieces)";
    return out;
}

}  // namespace gpusum
