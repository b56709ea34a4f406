// What a tape may hold and what it reports holding: its limits and memory
// budget (tape_limits), the error past the budget, and its counts and bytes
// (tape_stats). Layer: core (used by tape_storage).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <etape/core/config.hpp>

namespace etape {

/// Upper bounds of one tape; exceeding one throws std::length_error
/// (memory_budget_error for max_bytes) before anything is written. The
/// defaults are the index types' limits, and a tape rejects larger ones
/// (std::invalid_argument); max_bytes is off by default.
struct tape_limits {
    std::size_t max_slots = std::numeric_limits<slot_index>::max() - 1;
    std::size_t max_operands = std::numeric_limits<std::uint32_t>::max();
    /// The memory budget: the bytes the tape may hold (tape_stats::capacity_bytes:
    /// its arrays, node arena and adjoints), checked before each growth.
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
};

/// A tape asked for memory beyond its budget (tape_limits::max_bytes).
/// Nothing was recorded by the call that threw; the tape stays usable, and
/// a rewind frees room in the recording for what comes next.
class memory_budget_error : public std::length_error {
public:
    memory_budget_error(std::size_t held, std::size_t asked, std::size_t budget, const char* what)
        : std::length_error(message(held, asked, budget, what)), held_(held), asked_(asked), budget_(budget)
    {
    }
    [[nodiscard]] std::size_t held() const noexcept { return held_; }
    [[nodiscard]] std::size_t asked() const noexcept { return asked_; }
    [[nodiscard]] std::size_t budget() const noexcept { return budget_; }

private:
    /// Appended piece by piece: a chain of std::string's operator+ is
    /// several times the code, in every program that records.
    [[nodiscard, gnu::cold, gnu::noinline]] static std::string message(std::size_t held, std::size_t asked,
                                                                       std::size_t budget, const char* what)
    {
        std::string text = "etape: the tape's memory budget is ";
        text += std::to_string(budget);
        text += " bytes; it holds ";
        text += std::to_string(held);
        text += " and asked for ";
        text += std::to_string(asked);
        text += " more (";
        text += what;
        text += "); rewind to record less, or raise tape_limits::max_bytes";
        return text;
    }

    std::size_t held_, asked_, budget_;
};

/// Counts and memory of a recording (memory in use, not capacity).
struct tape_stats {
    std::size_t slots = 0;       ///< active values, inputs included (slot 0 excluded)
    std::size_t statements = 0;  ///< recorded scalar assignments
    std::size_t operands = 0;    ///< (slot, partial) pairs over all statements
    std::size_t nodes = 0;       ///< non-scalar records (fused kernels, external functions)
    std::size_t bytes = 0;       ///< bytes of the recording (node arena in use included), adjoints excluded
    std::size_t peak_bytes = 0;  ///< the largest `bytes` since the tape was made (or reset_peak())
    std::size_t capacity_bytes = 0; ///< bytes the tape holds, adjoints included: what max_bytes bounds
};

namespace detail {

/// `limits`, or std::invalid_argument when one is past what its index type addresses.
[[nodiscard]] inline tape_limits addressable(const tape_limits& limits)
{
    const auto reject = [](const char* what, std::size_t value, const char* index, std::size_t most) {
        throw std::invalid_argument(std::string("etape: tape_limits::") + what + " of " + std::to_string(value) +
                                    " is more than " + index + " can address (" + std::to_string(most) + ")");
    };
    if (limits.max_slots > tape_limits{}.max_slots)
        reject("max_slots", limits.max_slots, "a slot index", tape_limits{}.max_slots);
    if (limits.max_operands > tape_limits{}.max_operands)
        reject("max_operands", limits.max_operands, "an operand index", tape_limits{}.max_operands);
    return limits;
}

} // namespace detail
} // namespace etape
