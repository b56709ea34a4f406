// A rank that fails ends the whole job: without it, the other ranks wait
// in their next collective for ever. Layer: mpi.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include <mpi.h>

namespace etape::mpi {

namespace detail {

/// Says which rank failed and why, then ends the job.
[[noreturn]] inline void abort_job(MPI_Comm comm, const char* what) noexcept
{
    int rank = -1, ranks = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &ranks);
    std::fprintf(stderr, "etape::mpi: rank %d of %d: %s\n", rank, ranks, what);
    std::fflush(stderr);
    MPI_Abort(comm, 1);
    std::abort(); // MPI_Abort does not return; should an implementation's, the rank still ends
}

} // namespace detail

/// Runs `body()` and returns what it returns. When it throws, prints
/// "etape::mpi: rank R of N: <what()>" on standard error and calls
/// MPI_Abort(comm, 1), which makes mpirun end every rank; it does not
/// return then. Wrap each rank's whole training in it.
template <class Body>
decltype(auto) abort_on_error(MPI_Comm comm, Body&& body) noexcept
{
    try {
        return std::forward<Body>(body)();
    } catch (const std::exception& e) {
        detail::abort_job(comm, e.what());
    } catch (...) {
        detail::abort_job(comm, "an exception that is not a std::exception");
    }
}

} // namespace etape::mpi
