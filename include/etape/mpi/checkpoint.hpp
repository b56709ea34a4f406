// Model and optimizer state files in a data-parallel run: rank 0 writes
// (nn::save, nn::save_state, atomically) and reads (nn::load,
// nn::load_state), and the ranks share what it read, so that no other rank
// needs the file system rank 0 sees. Layer: mpi.
#pragma once

#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <mpi.h>

#include <etape/mpi/calls.hpp>
#include <etape/nn/model_file.hpp>
#include <etape/nn/optimizer_file.hpp>
#include <etape/nn/parameters.hpp>

namespace etape::mpi {

namespace detail {

/// Rank 0's outcome, the same on every rank: throws on every rank the
/// message of what rank 0 threw (empty: it succeeded).
inline void share_outcome(MPI_Comm comm, std::string message, int rank)
{
    broadcast(comm, message, 0);
    if (!message.empty())
        throw nn::model_file_error(rank == 0 ? message : "on rank 0: " + message);
}

template <class Body>
void on_rank0(MPI_Comm comm, Body&& body)
{
    int rank = 0;
    check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    std::string message;
    if (rank == 0) {
        try {
            body();
        } catch (const std::exception& e) {
            message = e.what();
            if (message.empty())
                message = "etape::mpi: an error without a message";
        }
    }
    share_outcome(comm, std::move(message), rank);
}

} // namespace detail

/// Collective: rank 0 saves `model` to `path` (nn::save: the file appears
/// whole or not at all); returns on every rank once the file is complete.
/// When rank 0 fails, every rank throws nn::model_file_error with its message.
template <class Model>
void save(MPI_Comm comm, const Model& model, const std::filesystem::path& path)
{
    detail::on_rank0(comm, [&] { nn::save(model, path); });
}

/// Collective: rank 0 loads `path` into its `model` (nn::load, which checks
/// the whole file first), then every rank receives rank 0's parameters and
/// buffers. When rank 0 fails, every rank throws nn::model_file_error and
/// no model has changed.
template <class Model>
void load(MPI_Comm comm, Model& model, const std::filesystem::path& path)
{
    using T = nn::precision_t<Model>;
    detail::on_rank0(comm, [&] { nn::load(model, path); });
    for (const nn::named_parameter<T>& p : nn::parameters(model))
        detail::broadcast(comm, p.tensor->values().data(), p.tensor->size(), 0);
    for (const nn::named_buffer<T>& b : nn::buffers(model))
        detail::broadcast(comm, b.tensor->data(), b.tensor->size(), 0);
}

/// Collective: rank 0 saves `optimizer`'s step count, learning rate and
/// state (nn::save_state, atomically); returns on every rank once the file
/// is complete. When rank 0 fails, every rank throws nn::model_file_error.
template <class Optimizer>
void save_state(MPI_Comm comm, const Optimizer& optimizer, const std::filesystem::path& path)
{
    detail::on_rank0(comm, [&] { nn::save_state(optimizer, path); });
}

/// Collective: rank 0 loads `path` into its `optimizer` (nn::load_state,
/// which checks the whole file first), then every rank receives rank 0's
/// step count, learning rate and state arrays. When rank 0 fails, every
/// rank throws nn::model_file_error and no optimizer has changed.
template <class Optimizer>
void load_state(MPI_Comm comm, Optimizer& optimizer, const std::filesystem::path& path)
{
    detail::on_rank0(comm, [&] { nn::load_state(optimizer, path); });
    auto steps = static_cast<unsigned long long>(optimizer.steps());
    auto rate = optimizer.learning_rate();
    detail::check(MPI_Bcast(&steps, 1, MPI_UNSIGNED_LONG_LONG, 0, comm), "MPI_Bcast");
    detail::broadcast(comm, &rate, 1, 0);
    optimizer.for_each_state([&](std::string_view, std::size_t, auto values) {
        detail::broadcast(comm, values.data(), values.size(), 0);
    });
    optimizer.set_steps(static_cast<std::size_t>(steps));
    optimizer.set_learning_rate(rate);
}

} // namespace etape::mpi
