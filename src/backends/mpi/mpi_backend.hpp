// MPI: the `mpi` backend spreads one request over the ranks of an mpirun job.
// Each rank sums its share (whole chunks, see backends/parts.hpp) with the local
// dispatcher; the 128-bit partials are combined exactly on rank 0 by a custom
// reduction, and rank 0 verifies and reports. Built with GPUSUM_MPI=ON;
// otherwise the backend exists by name and says why it cannot run.
#pragma once

#include <memory>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

struct MpiPlace {
    int rank = 0;
    int size = 1;
};

// Where this process runs. Under mpirun, in a build with MPI, the first call
// initialises MPI; anywhere else it is rank 0 of 1 and touches nothing.
MpiPlace mpi_place();

// Ends every rank of the job with `code`, so none waits on a rank that
// failed. Does nothing when not running under MPI.
void mpi_abort(int code);

// What plan/ (which sits above backends) hands down: the backends of one
// machine, made when the mpi backend is, and which of them a rank may sum
// its share with, best first (the dispatcher's auto plan).
using LocalBackends = BackendList (*)();
using LocalChoice = std::vector<Backend*> (*)(const BackendList& local, const Request&);

std::unique_ptr<Backend> make_mpi_backend(LocalBackends make_local, LocalChoice choose);

}  // namespace gpusum
