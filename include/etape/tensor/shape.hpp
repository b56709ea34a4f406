// The shape of a dense row-major tensor: rank 0 to 4 and its extents.
// Layer: tensor (every tensor, value or active, carries one).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace etape {

/// Thrown when tensor shapes do not fit an operation; the message names the
/// operation and both shapes.
class shape_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

class shape {
public:
    static constexpr std::size_t max_rank = 4;
    /// The largest extent: a tape counts its slots in 32 bits (so extents
    /// are stored in 32 bits, and a shape copies in 20 bytes).
    static constexpr std::size_t max_extent = std::numeric_limits<std::uint32_t>::max();

    /// Rank 0: a scalar, one element.
    constexpr shape() noexcept = default;

    shape(std::initializer_list<std::size_t> extents)
        : shape(std::span<const std::size_t>(extents.begin(), extents.size()))
    {
    }

    explicit shape(std::span<const std::size_t> extents)
    {
        if (extents.size() > max_rank)
            throw shape_error("etape: a tensor has rank at most 4, got rank " + std::to_string(extents.size()));
        if (!fits_a_tape(extents)) {
            const bool empty = std::ranges::find(extents, std::size_t{0}) != extents.end();
            throw shape_error("etape: a tensor of shape " + text_of(extents) +
                              (empty ? " has an extent past what a tape can hold (" + std::to_string(max_extent) + ")"
                                     : " has more elements than a tape can hold"));
        }
        rank_ = static_cast<std::uint32_t>(extents.size());
        std::ranges::transform(extents, extents_.begin(), [](std::size_t e) { return static_cast<std::uint32_t>(e); });
    }

    /// False when `extents` have more elements than a tape has slots (an
    /// extent 0 makes any shape empty, and so fine, unless another extent
    /// alone is more than a tape could hold).
    [[nodiscard]] static constexpr bool fits_a_tape(std::span<const std::size_t> extents) noexcept
    {
        for (const std::size_t e : extents)
            if (e > max_extent)
                return false;
        std::size_t n = 1;
        bool overflow = false;
        for (const std::size_t e : extents) {
            if (e == 0)
                return true;
            // checked before multiplying, so that the product never wraps around
            if (overflow || n > std::numeric_limits<std::uint32_t>::max() / e)
                overflow = true;
            else
                n *= e;
        }
        return !overflow;
    }

    [[nodiscard]] constexpr std::size_t rank() const noexcept { return rank_; }

    /// Number of elements (1 for rank 0, 0 when an extent is 0).
    [[nodiscard]] constexpr std::size_t size() const noexcept
    {
        std::size_t n = 1;
        for (std::size_t a = 0; a < rank_; ++a)
            n *= extents_[a];
        return n;
    }

    [[nodiscard]] constexpr std::size_t operator[](std::size_t axis) const noexcept { return extents_[axis]; }

    /// Extent of `axis`, checked.
    [[nodiscard]] std::size_t extent(std::size_t axis) const
    {
        if (axis >= rank_)
            throw shape_error("etape: axis " + std::to_string(axis) + " of a rank-" + std::to_string(rank_) +
                              " tensor " + to_string());
        return extents_[axis];
    }

    /// The last extent (1 for rank 0): the length of a row.
    [[nodiscard]] constexpr std::size_t last() const noexcept { return rank_ == 0 ? 1 : extents_[rank_ - 1]; }

    [[nodiscard]] std::span<const std::uint32_t> extents() const noexcept { return {extents_.data(), rank_}; }

    /// "[2, 3]"
    [[nodiscard]] std::string to_string() const
    {
        std::array<std::size_t, max_rank> e{};
        std::ranges::copy(extents(), e.begin());
        return text_of(std::span<const std::size_t>(e.data(), rank_));
    }

    /// "[2, 3]" for any extents, a shape's or not.
    [[nodiscard]] static std::string text_of(std::span<const std::size_t> extents)
    {
        std::string s = "[";
        for (std::size_t a = 0; a < extents.size(); ++a) {
            if (a > 0)
                s += ", ";
            s += std::to_string(extents[a]);
        }
        return s + "]";
    }

    /// Extents past the rank are 0 in every shape, so all four are compared,
    /// without a loop (std::array's == called memcmp).
    friend constexpr bool operator==(const shape& a, const shape& b) noexcept
    {
        static_assert(max_rank == 4);
        return a.rank_ == b.rank_ && a.extents_[0] == b.extents_[0] && a.extents_[1] == b.extents_[1] &&
               a.extents_[2] == b.extents_[2] && a.extents_[3] == b.extents_[3];
    }

private:
    std::array<std::uint32_t, max_rank> extents_{};
    std::uint32_t rank_ = 0;
};

namespace detail {

/// Throws shape_error, naming `operation`, when a result of `extents` would
/// have more elements than a tape can hold; called before anything is
/// allocated for it.
inline void require_result_fits(std::string_view operation, std::initializer_list<std::size_t> extents)
{
    const std::span<const std::size_t> e(extents.begin(), extents.size());
    if (shape::fits_a_tape(e))
        return;
    throw shape_error("etape: " + std::string(operation) + ": a result of shape " + shape::text_of(e) +
                      " has more elements than a tape can hold");
}

[[noreturn]] inline void throw_shape_mismatch(std::string_view operation, const shape& a, const shape& b)
{
    throw shape_error("etape: shape mismatch in " + std::string(operation) + ": " + a.to_string() + " and " +
                      b.to_string());
}

/// Row-major flat index of `index` in `s`; checks every index against its
/// extent when `checked` (the message names the index and the extent).
template <bool checked, std::size_t N>
std::size_t flat_index(const shape& s, const std::array<std::size_t, N>& index)
{
    if constexpr (checked) {
        if (N != s.rank())
            throw std::out_of_range("etape: " + std::to_string(N) + " indices for a rank-" +
                                    std::to_string(s.rank()) + " tensor " + s.to_string());
    }
    std::size_t flat = 0;
    for (std::size_t a = 0; a < N; ++a) {
        if constexpr (checked) {
            if (index[a] >= s[a])
                throw std::out_of_range("etape: index " + std::to_string(index[a]) + " out of range for axis " +
                                        std::to_string(a) + " of extent " + std::to_string(s[a]) + " in " +
                                        s.to_string());
        }
        flat = flat * s[a] + index[a];
    }
    return flat;
}

} // namespace detail
} // namespace etape
