// A rank that fails ends the whole job: without it, the other ranks wait
// in their next collective for ever. Layer: mpi.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <type_traits>
#include <utility>

#include <mpi.h>

namespace etape::mpi {

/// Runs `body()` and returns what it returns. When it throws, prints
/// "etape::mpi: rank R of N: <what()>" on standard error and calls
/// MPI_Abort(comm, 1), which makes mpirun end every rank; it does not
/// return then. Wrap each rank's whole training in it.
template <class Body>
decltype(auto) abort_on_error(MPI_Comm comm, Body&& body) noexcept
{
    const auto fail = [comm](const char* what) {
        int rank = -1, ranks = 0;
        MPI_Comm_rank(comm, &rank);
        MPI_Comm_size(comm, &ranks);
        std::fprintf(stderr, "etape::mpi: rank %d of %d: %s\n", rank, ranks, what);
        std::fflush(stderr);
        MPI_Abort(comm, 1);
        std::abort(); // MPI_Abort does not return; should an implementation's, the rank still ends
    };
    try {
        return std::forward<Body>(body)();
    } catch (const std::exception& e) {
        fail(e.what());
    } catch (...) {
        fail("an exception that is not a std::exception");
    }
}

} // namespace etape::mpi
