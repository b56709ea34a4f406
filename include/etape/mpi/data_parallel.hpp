// Data-parallel training over MPI: every rank holds a replica of the model
// and trains on its shard of each mini-batch; data_parallel makes the
// replicas equal at the start (rank 0's values, after checking that every
// rank has the same parameters) and, attached to an optimizer, replaces its
// sweep with one that sums every rank's gradients in buckets, each sent
// (MPI_Iallreduce) as soon as the sweep has gone below the last statement
// or node that reads its parameters, then averages them. Every rank then
// takes the same optimizer step. Layer: mpi (optional; docs/distributed.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <climits>
#include <concepts>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <mpi.h>

#include <etape/core/gradient.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/tape.hpp>
#include <etape/core/var.hpp>
#include <etape/mpi/calls.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/tensor/active_tensor.hpp>

namespace etape::mpi {

/// Ranks whose models differ (count, names or shapes of the parameters).
class model_mismatch : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct data_parallel_options {
    /// Gradients are summed in buckets of about this many bytes (a bucket
    /// holds whole parameters; one larger than this is a bucket of its own).
    /// Smaller buckets start sending sooner; each costs one MPI call.
    std::size_t bucket_bytes = std::size_t{1} << 20;
};

/// What the last sweep exchanged.
struct exchange_statistics {
    std::size_t buckets = 0;     ///< MPI_Iallreduce calls
    std::size_t bytes = 0;       ///< gradient bytes each rank contributed
    double wait_seconds = 0;     ///< spent after the sweep waiting for the sums: what overlap did not hide
};

template <std::floating_point T>
class data_parallel final : public nn::gradient_exchange<T> {
public:
    /// Collective: every rank of `comm` calls it with its own replica.
    /// Checks that the replicas have the same parameters (model_mismatch
    /// on every rank otherwise, naming the first that differs) and copies
    /// rank 0's parameters and buffers into the others.
    template <class Model>
        requires(!std::same_as<std::remove_cvref_t<Model>, std::vector<nn::named_parameter<T>>>)
    data_parallel(MPI_Comm comm, Model& model, data_parallel_options options = {})
        : data_parallel(comm, nn::parameters(model), nn::buffers(model), options)
    {
    }

    /// The same for a model given as its lists of parameters and buffers
    /// (nn::parameters, nn::buffers), in the same order on every rank.
    data_parallel(MPI_Comm comm, std::vector<nn::named_parameter<T>> parameters,
                  const std::vector<nn::named_buffer<T>>& buffers, data_parallel_options options = {})
        : comm_(comm), parameters_(std::move(parameters)), options_(options)
    {
        if (options.bucket_bytes == 0)
            throw std::invalid_argument("etape::mpi::data_parallel: a bucket size of 0 bytes; give at least "
                                        "one parameter's bytes (the default is 1 MiB)");
        detail::check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        detail::check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
        check_same_parameters();
        for (const nn::named_parameter<T>& p : parameters_)
            detail::broadcast(comm_, p.tensor->values().data(), p.tensor->size(), 0);
        for (const nn::named_buffer<T>& b : buffers)
            detail::broadcast(comm_, b.tensor->data(), b.tensor->size(), 0);
    }

    data_parallel(const data_parallel&) = delete; // an optimizer holds its address
    data_parallel& operator=(const data_parallel&) = delete;

    [[nodiscard]] int rank() const noexcept { return rank_; }
    [[nodiscard]] int size() const noexcept { return size_; }

    /// From now on `optimizer.step(loss)` sweeps through this object:
    /// the gradients it applies (and clips) are the average over the ranks.
    template <class Optimizer>
    void attach(Optimizer& optimizer)
    {
        optimizer.set_gradient_exchange(this);
    }

    /// Sweeps from `loss` down to `bottom`, sending each bucket as soon as
    /// its gradients are final, and leaves the ranks' average in the
    /// adjoints. Collective; what an attached optimizer's step calls.
    void sweep(tape<T>& t, const var<T>& loss, slot_index bottom) override
    {
        if (size_ == 1) {
            etape::detail::sweep_from(t, loss, bottom);
            return;
        }
        if (!loss.is_active()) {
            t.clear_adjoints();
            average_gradients(t);
            return;
        }
        const slot_index top = loss.slot() + 1;
        find_readers(t, top);
        if (buckets_.empty())
            lay_out_buckets();
        // bucket j is complete once the sweep has processed the lowest reader of each of its parameters
        stops_.assign(buckets_.size(), top);
        slot_index previous = top;
        for (std::size_t j = 0; j < buckets_.size(); ++j) {
            slot_index lowest = top;
            for (const std::size_t i : buckets_[j].members)
                lowest = std::min(lowest, readers_[i]);
            previous = stops_[j] = std::min(lowest, previous);
        }
        requests_.assign(buckets_.size(), MPI_REQUEST_NULL);
        // seeded with 1 / ranks, the sweep leaves each rank's share of the
        // average: the sums need no division (exact for a power of 2)
        const slot_range seed{loss.slot(), 1};
        const T share = T(1) / static_cast<T>(size_);
        t.clear_and_sweep(
            top, bottom, std::span(&seed, 1), [s = loss.slot(), share](T* adjoints) { adjoints[s] = share; }, stops_,
            [&](std::size_t j) {
                send(t, j);
                int done = 0;
                detail::check(MPI_Testall(static_cast<int>(j + 1), requests_.data(), &done, MPI_STATUSES_IGNORE),
                              "MPI_Testall");
            });
        finish(t, T(1));
    }

    /// Sums every parameter's gradient in the adjoints over the ranks and
    /// divides by their number, bucket after bucket with no sweep to
    /// overlap: for a loop that sweeps itself (etape::gradient_view, a
    /// sweep_to). Collective.
    void average_gradients(tape<T>& t)
    {
        if (size_ == 1)
            return;
        if (buckets_.empty())
            lay_out_buckets();
        requests_.assign(buckets_.size(), MPI_REQUEST_NULL);
        for (std::size_t j = 0; j < buckets_.size(); ++j)
            send(t, j);
        finish(t, T(1) / static_cast<T>(size_));
    }

    /// What the last sweep or average_gradients exchanged.
    [[nodiscard]] const exchange_statistics& last_exchange() const noexcept { return last_; }

private:
    struct bucket {
        std::vector<std::size_t> members; // parameter indices, in the order the sweep completes them
        std::size_t elements = 0;
        std::vector<T> packed; // the members' gradients side by side, when their slots are not
        bool in_place = true;  // summed in the adjoints, which hold the members side by side
        T* data = nullptr;     // what is being summed: the adjoints or packed
    };

    [[nodiscard]] std::vector<std::string> descriptions() const
    {
        std::vector<std::string> lines;
        for (const nn::named_parameter<T>& p : parameters_)
            lines.push_back("'" + p.name + "' of shape " + p.tensor->shape().to_string());
        return lines;
    }

    /// Rank 0's list of parameters against each rank's; throws the same
    /// model_mismatch on every rank when one differs.
    void check_same_parameters()
    {
        const std::vector<std::string> mine = descriptions();
        std::string text;
        for (const std::string& line : mine)
            text += line + '\n';
        detail::broadcast(comm_, text, 0);
        std::vector<std::string> first;
        for (std::size_t at = 0; at < text.size();) {
            const std::size_t end = text.find('\n', at);
            first.push_back(text.substr(at, end - at));
            at = end + 1;
        }
        std::size_t differ = 0;
        while (differ < mine.size() && differ < first.size() && mine[differ] == first[differ])
            ++differ;
        struct {
            int index;
            int rank;
        } local{differ == mine.size() && differ == first.size() ? INT_MAX : static_cast<int>(differ), rank_},
            lowest{};
        detail::check(MPI_Allreduce(&local, &lowest, 1, MPI_2INT, MPI_MINLOC, comm_), "MPI_Allreduce");
        if (lowest.index == INT_MAX)
            return;
        const auto at = static_cast<std::size_t>(lowest.index);
        std::string theirs = rank_ == lowest.rank ? (at < mine.size() ? mine[at] : "nothing") : std::string();
        detail::broadcast(comm_, theirs, lowest.rank);
        const std::string ours = at < first.size() ? first[at] : "nothing";
        throw model_mismatch(
            "etape::mpi::data_parallel: rank " + std::to_string(lowest.rank) + "'s model differs from rank 0's at " +
            "parameter " + std::to_string(at) + ": " + theirs + " on rank " + std::to_string(lowest.rank) + ", " +
            ours + " on rank 0 (" + etape::detail::counted(first.size(), "parameter") + " on rank 0)");
    }

    void find_readers(const tape<T>& t, slot_index top)
    {
        ranges_.clear();
        for (const nn::named_parameter<T>& p : parameters_)
            ranges_.push_back({p.tensor->first_slot(), static_cast<slot_index>(p.tensor->size())});
        readers_.resize(ranges_.size());
        t.lowest_readers(ranges_, top, readers_);
    }

    /// Rank 0 orders the parameters as its sweep completes them (those read
    /// last in the forward pass first), or backwards when it has not swept
    /// yet, and every rank takes that order: the buckets must match.
    void lay_out_buckets()
    {
        std::vector<int> order(parameters_.size());
        std::iota(order.rbegin(), order.rend(), 0);
        if (readers_.size() == order.size())
            std::ranges::stable_sort(order, [&](int a, int b) { return readers_[static_cast<std::size_t>(a)] >
                                                                      readers_[static_cast<std::size_t>(b)]; });
        detail::check(MPI_Bcast(order.data(), static_cast<int>(order.size()), MPI_INT, 0, comm_), "MPI_Bcast");
        buckets_.clear();
        for (const int index : order) {
            const auto i = static_cast<std::size_t>(index);
            const std::size_t n = parameters_[i].tensor->size();
            if (n == 0)
                continue;
            if (n > INT_MAX)
                throw std::length_error("etape::mpi::data_parallel: parameter '" + parameters_[i].name + "' has " +
                                        std::to_string(n) + " elements, more than one MPI call sends (INT_MAX)");
            if (buckets_.empty() || (buckets_.back().elements + n) * sizeof(T) > options_.bucket_bytes ||
                buckets_.back().elements + n > INT_MAX)
                buckets_.emplace_back();
            buckets_.back().members.push_back(i);
            buckets_.back().elements += n;
        }
        if (buckets_.empty()) // nothing to sum, but the ranks still meet once a step
            buckets_.emplace_back();
    }

    /// Starts summing bucket j: in the adjoints when its parameters' slots
    /// follow one another, else packed side by side.
    void send(tape<T>& t, std::size_t j)
    {
        bucket& b = buckets_[j];
        slot_index first = ~slot_index{0}, end = 0;
        for (const std::size_t i : b.members) {
            const active_tensor<T>& p = *parameters_[i].tensor;
            first = std::min(first, p.first_slot());
            end = std::max(end, static_cast<slot_index>(p.first_slot() + p.size()));
        }
        b.in_place = b.members.empty() || end - first == b.elements;
        if (b.in_place) {
            b.data = b.members.empty() ? nullptr : t.adjoints() + first;
        } else {
            b.packed.resize(b.elements);
            T* out = b.packed.data();
            for (const std::size_t i : b.members)
                out = std::copy_n(gradient_of(t, i), parameters_[i].tensor->size(), out);
            b.data = b.packed.data();
        }
        detail::check(MPI_Iallreduce(MPI_IN_PLACE, b.data, static_cast<int>(b.elements), datatype<T>(), MPI_SUM, comm_,
                                     &requests_[j]),
                      "MPI_Iallreduce");
    }

    [[nodiscard]] T* gradient_of(tape<T>& t, std::size_t i) const
    {
        return t.adjoints() + parameters_[i].tensor->first_slot();
    }

    /// Waits for every bucket and writes the sums times `scale` into the adjoints.
    void finish(tape<T>& t, T scale)
    {
        const auto began = std::chrono::steady_clock::now();
        detail::check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
                      "MPI_Waitall");
        last_.wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        last_.buckets = buckets_.size();
        last_.bytes = 0;
        for (const bucket& b : buckets_) {
            last_.bytes += b.elements * sizeof(T);
            if (b.in_place) {
                if (scale != T(1))
                    std::transform(b.data, b.data + b.elements, b.data, [scale](T g) { return g * scale; });
                continue;
            }
            const T* in = b.packed.data();
            for (const std::size_t i : b.members) {
                const std::size_t n = parameters_[i].tensor->size();
                std::transform(in, in + n, gradient_of(t, i), [scale](T g) { return g * scale; });
                in += n;
            }
        }
    }

    MPI_Comm comm_;
    std::vector<nn::named_parameter<T>> parameters_;
    data_parallel_options options_;
    int rank_ = 0;
    int size_ = 1;
    std::vector<slot_range> ranges_;
    std::vector<slot_index> readers_;
    std::vector<bucket> buckets_;
    std::vector<slot_index> stops_;
    std::vector<MPI_Request> requests_;
    exchange_statistics last_;
};

template <class Model>
data_parallel(MPI_Comm, Model&, data_parallel_options = {}) -> data_parallel<nn::precision_t<Model>>;

} // namespace etape::mpi
