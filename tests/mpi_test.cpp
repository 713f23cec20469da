// The mpi backend under mpirun, as a user launches it: 4 ranks on this
// machine (--oversubscribe), exact sums for edge and random ranges and for a
// file split across ranks, and a failing or crashing rank ending the job
// with an error that names it, never a sum.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "helpers/npy_writer.hpp"
#include "helpers/process_table.hpp"
#include "helpers/reference.hpp"
#include "helpers/spawn.hpp"

namespace {

// `gpusum ARGS` on `ranks` ranks; `fault` sets GPUSUM_MPI_FAULT.
spawn::Finished mpirun_gpusum(int ranks, const std::vector<std::string>& args,
                              const std::string& fault = "") {
    spawn::Launch launch;
    launch.program = GPUSUM_MPIEXEC;
    launch.in_child = [fault] {
        // OpenMPI refuses root unless told; CI machines run as root.
        ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
        ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
        if (fault.empty())
            ::unsetenv("GPUSUM_MPI_FAULT");
        else
            ::setenv("GPUSUM_MPI_FAULT", fault.c_str(), 1);
    };
    // Debian 12's mpirun (Open MPI 4.1, PMIx 4.2) now and then deadlocks in
    // its own PMIx_server_finalize after a job whose rank died, more often
    // under load: every rank has ended and the job's report is printed, yet
    // mpirun never exits. That hang is mpirun's, so the job is run again; a
    // hang with any rank still running stays a failure.
    launch.hang_is_launchers = [](long long pid) {
        const auto ranks = gpusum::testing::children_of(static_cast<pid_t>(pid));
        return std::none_of(ranks.begin(), ranks.end(),
                            [](pid_t rank) { return gpusum::testing::alive(rank); });
    };
    std::vector<std::string> argv = {"--oversubscribe", "-np", std::to_string(ranks),
                                     spawn::executable()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (int attempt = 1;; ++attempt) {
        spawn::Finished f = spawn::run(argv, launch);
        if (!f.launcher_hung) return f;
        REQUIRE_MESSAGE(attempt < 3, "mpirun hung in its teardown on every try");
        MESSAGE("mpirun hung in its teardown after every rank had ended; running the job again");
    }
}

// `gpusum --backend mpi ARGS` on `ranks` ranks.
spawn::Finished mpirun(int ranks, std::vector<std::string> args, const std::string& fault = "") {
    args.insert(args.begin(), {"--backend", "mpi"});
    return mpirun_gpusum(ranks, args, fault);
}

// Python's range summed element by element in 128 bits, however long it is.
gpusum::i128 element_by_element(gpusum::Range r) {
    gpusum::i128 total = 0;
    for (gpusum::i128 x = r.start; r.step > 0 ? x < r.stop : x > r.stop; x += r.step) total += x;
    return total;
}

std::vector<std::string> range_args(gpusum::Range r) {
    return {"--start", std::to_string(r.start), "--stop", std::to_string(r.stop),
            "--step",  std::to_string(r.step),  "--json"};
}

void check_exact(const spawn::Finished& f, const std::string& expected) {
    REQUIRE_MESSAGE(f.code == 0, f.err);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["backend"] == "mpi");
    CHECK(j["verified"] == true);
    CHECK(j["sum"] == expected);
}

}  // namespace

TEST_CASE("edge ranges are exact on 4 ranks") {
    const std::vector<gpusum::Range> ranges = {
        {0, 0, 1},                                       // empty: every share empty
        {0, 3, 1},                                       // fewer elements than ranks
        {INT64_MIN, INT64_MIN + 1000, 1},                // a total beyond 64 bits
        {INT64_MAX, INT64_MIN, -9'223'372'036'854'775},  // the whole int64 line, descending
        {-5, 1'000'000'000, 3},
    };
    for (const gpusum::Range r : ranges) {
        CAPTURE(r.start);
        CAPTURE(r.stop);
        CAPTURE(r.step);
        check_exact(mpirun(4, range_args(r)), ref::decimal(element_by_element(r)));
    }
}

TEST_CASE("seeded random ranges are exact on 2, 3 and 4 ranks") {
    std::mt19937_64 rng(2026);
    for (const int ranks : {2, 3, 4}) {
        const gpusum::Range r = ref::random_range(rng, 50'000'000);
        std::vector<std::string> args = range_args(r);
        args.insert(args.end(), {"--chunks", std::to_string(1 + rng() % 500)});
        CAPTURE(ranks);
        check_exact(mpirun(ranks, args), ref::decimal(element_by_element(r)));
    }
}

TEST_CASE("rank 0 reports every rank's backend and time, and the imbalance") {
    const spawn::Finished f = mpirun(4, {"--stop", "1e9", "--json"});
    REQUIRE(f.code == 0);
    const auto details = nlohmann::json::parse(f.out)["details"];
    for (int r = 0; r < 4; ++r) {
        const std::string rank = details["rank " + std::to_string(r)].get<std::string>();
        CHECK(rank.find("250,000,000 elements") != std::string::npos);
    }
    CHECK(details["ranks"] == "4");
    CHECK(std::stod(details["imbalance"].get<std::string>()) >= 1.0);
}

TEST_CASE("an input file is split across ranks and summed exactly") {
    const std::string dir = testfiles::temp_dir();
    std::mt19937_64 rng(77);
    std::vector<std::int64_t> values(100'003);
    gpusum::i128 expected = 0;
    for (auto& v : values) {
        v = static_cast<std::int64_t>(rng());  // full-range values: the total needs 128 bits
        expected += v;
    }
    const std::string path = dir + "/values.npy";
    testfiles::write_file(
        path, testfiles::npy_bytes("<i8", "(100003,)", values.data(), values.size() * 8));
    check_exact(mpirun(4, {"--input", path, "--chunks", "7", "--json"}), ref::decimal(expected));
}

TEST_CASE("a rank that fails ends the job with an error naming it, never a sum") {
    const spawn::Finished f = mpirun(4, {"--stop", "1e8"}, "2:error");
    CHECK(f.code == 3);
    CHECK(f.out.find("sum") == std::string::npos);
    CHECK(f.err.find("gpusum: backend 'mpi' failed: rank 2 failed: fault injected") !=
          std::string::npos);
}

TEST_CASE("a rank that crashes ends the job non-zero, named by mpirun, never a sum") {
    const spawn::Finished f = mpirun(4, {"--stop", "1e8"}, "1:abort");
    CHECK(f.code != 0);
    CHECK(f.out.find("verified") == std::string::npos);
    CHECK(f.err.find("rank 1") != std::string::npos);
}

TEST_CASE("under mpirun, other backends and --compare are refused once, not run on every rank") {
    for (const auto& args : {std::vector<std::string>{"--stop", "1e6"},
                             std::vector<std::string>{"--compare", "--stop", "1e6"}}) {
        const spawn::Finished f = mpirun_gpusum(2, args);
        CHECK(f.code == 2);
        CHECK(f.out.empty());
        CHECK(f.err.find("gpusum: under mpirun only --backend mpi spreads the work") !=
              std::string::npos);
    }
}
