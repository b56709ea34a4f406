// Mini-batches of a data set: a new seeded order each epoch, rows gathered
// into buffers the loader owns, so that no batch allocates. Layer: nn.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/nn/dataset.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Rows of a data set taken together: features [rows in the batch, ...] (the
/// data set's row shape), and their labels.
template <std::floating_point T>
struct batch {
    etape::tensor<T> features;
    std::span<const std::size_t> labels;
};

/// What happens to the rows left over when the batch size does not divide
/// the row count: one smaller last batch, or none.
enum class last_batch { keep, drop };

/// Cuts a data set into batches, one epoch at a time:
///
///     for (auto& b : loader.epoch()) step(b.features, b.labels);
///
/// A shuffling loader draws each epoch's order from its generator (a
/// Fisher-Yates shuffle of the rows 0..n-1), so the same seed gives the
/// same batches; an ordered loader keeps the rows in order (for testing).
/// The loader allocates its buffers once, when it is made: a batch is the
/// loader's own buffer, refilled in place, valid until the next batch is
/// read (bind it by reference; a copy of its tensor allocates). The data
/// set must outlive the loader.
template <std::floating_point T>
class batch_loader {
public:
    /// Batches in a new random order each epoch, drawn from `generator`
    /// (typically `run_generator.split()`).
    batch_loader(const dataset<T>& data, std::size_t batch_size, random_generator generator,
                 last_batch last = last_batch::keep)
        : batch_loader(data, batch_size, std::optional<random_generator>(generator), last)
    {
    }

    /// Batches in row order, the same every epoch.
    batch_loader(const dataset<T>& data, std::size_t batch_size, last_batch last = last_batch::keep)
        : batch_loader(data, batch_size, std::optional<random_generator>(), last)
    {
    }

    // A temporary data set would be gone before the first batch.
    batch_loader(const dataset<T>&&, std::size_t, random_generator, last_batch = last_batch::keep) = delete;
    batch_loader(const dataset<T>&&, std::size_t, last_batch = last_batch::keep) = delete;

    [[nodiscard]] std::size_t batch_size() const noexcept { return batch_size_; }

    /// Batches in one epoch.
    [[nodiscard]] std::size_t batch_count() const noexcept { return batch_count_; }

    class iterator {
    public:
        using value_type = batch<T>;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        batch<T>& operator*() const { return loader_->gather(index_); }
        iterator& operator++() noexcept
        {
            ++index_;
            return *this;
        }
        void operator++(int) noexcept { ++index_; }
        bool operator==(std::default_sentinel_t) const noexcept { return index_ == loader_->batch_count_; }

    private:
        friend class batch_loader;
        iterator(batch_loader* loader, std::size_t index) noexcept : loader_(loader), index_(index) {}

        batch_loader* loader_ = nullptr;
        std::size_t index_ = 0;
    };

    /// The batches of one epoch, in a range-for.
    class epoch_range {
    public:
        [[nodiscard]] iterator begin() const noexcept { return iterator(loader_, 0); }
        [[nodiscard]] std::default_sentinel_t end() const noexcept { return {}; }

    private:
        friend class batch_loader;
        explicit epoch_range(batch_loader* loader) noexcept : loader_(loader) {}

        batch_loader* loader_;
    };

    /// Starts an epoch: draws a new order (a shuffling loader) and returns
    /// its batches.
    [[nodiscard]] epoch_range epoch() noexcept
    {
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        if (generator_)
            generator_->shuffle(std::span<std::size_t>(order_));
        return epoch_range(this);
    }

    /// Batch `k` of the current epoch, gathered into the loader's buffers.
    batch<T>& gather(std::size_t k)
    {
        if (k >= batch_count_)
            throw std::out_of_range("etape: batch " + std::to_string(k) + " of an epoch of " +
                                    std::to_string(batch_count_) + " batches");
        const std::size_t first = k * batch_size_;
        const std::size_t count = std::min(batch_size_, order_.size() - first);
        batch<T>& out = count == batch_size_ ? full_ : partial_;
        const T* from = data_->features.data();
        T* to = out.features.data();
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t row = order_[first + i];
            std::copy_n(from + row * row_size_, row_size_, to + i * row_size_);
            labels_[i] = data_->labels[row];
        }
        out.labels = std::span<const std::size_t>(labels_.data(), count);
        return out;
    }

private:
    batch_loader(const dataset<T>& data, std::size_t batch_size, std::optional<random_generator> generator,
                 last_batch last)
        : data_(&data), generator_(generator), batch_size_(batch_size), order_(data.rows()), labels_(batch_size)
    {
        const etape::shape& s = data.features.shape();
        if (batch_size == 0)
            throw std::invalid_argument("etape: a batch_loader needs a batch size of at least 1");
        if (s.rank() == 0 || s[0] != data.rows())
            throw std::invalid_argument("etape: a batch_loader needs one label per feature row, got features of "
                                        "shape " + s.to_string() + " and " + std::to_string(data.rows()) +
                                        " labels");
        std::iota(order_.begin(), order_.end(), std::size_t{0});
        const std::size_t rows = data.rows();
        row_size_ = rows == 0 ? 0 : data.features.size() / rows;
        const std::size_t remainder = rows % batch_size;
        batch_count_ = rows / batch_size + (last == last_batch::keep && remainder != 0 ? 1 : 0);
        full_.features = etape::tensor<T>(detail::with_rows(s, batch_size));
        if (last == last_batch::keep && remainder != 0)
            partial_.features = etape::tensor<T>(detail::with_rows(s, remainder));
    }

    const dataset<T>* data_;
    std::optional<random_generator> generator_;
    std::size_t batch_size_;
    std::size_t row_size_ = 0;
    std::size_t batch_count_ = 0;
    std::vector<std::size_t> order_;
    std::vector<std::size_t> labels_;
    batch<T> full_;
    batch<T> partial_;
};

} // namespace etape::nn
