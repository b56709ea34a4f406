// The MPI calls etape makes, typed and checked: the datatype of a precision,
// MPI's errors as exceptions, broadcasts of any length. Layer: mpi (optional:
// needs an MPI implementation, found by CMake).
#pragma once

#include <algorithm>
#include <climits>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <mpi.h>

namespace etape::mpi {

/// An MPI call that returned an error code; the message names the call.
class mpi_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The MPI datatype of float, double or long double.
template <std::floating_point T>
[[nodiscard]] MPI_Datatype datatype() noexcept
{
    if constexpr (std::is_same_v<T, float>)
        return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>)
        return MPI_DOUBLE;
    else
        return MPI_LONG_DOUBLE;
}

namespace detail {

/// Throws mpi_error naming `call` unless `code` is MPI_SUCCESS (under the
/// default MPI_ERRORS_ARE_FATAL handler, MPI has ended the job before).
inline void check(int code, const char* call)
{
    if (code == MPI_SUCCESS) [[likely]]
        return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw mpi_error(std::string("etape::mpi: ") + call + " failed: " +
                    std::string(text, static_cast<std::size_t>(length)));
}

/// MPI_Bcast of `count` values from `root`, in calls of at most INT_MAX.
template <class T>
void broadcast(MPI_Comm comm, T* data, std::size_t count, int root)
{
    const MPI_Datatype type = [] {
        if constexpr (std::is_floating_point_v<T>)
            return datatype<T>();
        else
            return MPI_CHAR;
    }();
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min<std::size_t>(count - done, INT_MAX);
        check(MPI_Bcast(data + done, static_cast<int>(n), type, root, comm), "MPI_Bcast");
        done += n;
    }
}

/// `text` on `root`, of any length, into `text` on every rank.
inline void broadcast(MPI_Comm comm, std::string& text, int root)
{
    unsigned long long length = text.size();
    check(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, root, comm), "MPI_Bcast");
    text.resize(static_cast<std::size_t>(length));
    broadcast(comm, text.data(), text.size(), root);
}

} // namespace detail

} // namespace etape::mpi
