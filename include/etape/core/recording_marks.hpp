// A tape's recording marks: the mark each var carries of the recording it
// was made in, and the test of whether that recording still holds the var's
// slot. Layer: core (the lowest layer of the tape, see tape.hpp).
//
// A mark holds the tape's identity (8 bits, 1 to 255, see tape_identity) and
// the tape's rewind generation (23 bits); bit 0 is the var's own (whether it
// is its slot's only var). A rewind starts a new generation and drops the
// slots from its position on; a var is held when it was marked by this tape
// and no rewind since its generation dropped its slot. Every build but the
// checked one: there a var keeps its tape and its slot's epoch
// (tape_storage's epoch_of) instead.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/tape_identity.hpp>

namespace etape::detail {

class recording_marks {
public:
    /// The mark of a var made now.
    [[nodiscard]] std::uint32_t recording_mark() const noexcept { return mark_now_; }

    /// Slots below this were never dropped by a rewind.
    [[nodiscard]] slot_index never_dropped_below() const noexcept { return never_dropped_below_; }

    /// The bits of a mark that hold the tape's identity.
    static constexpr std::uint32_t identity_bits = std::uint32_t{0xff} << 24;

    /// True when `mark` is this tape's.
    [[nodiscard]] bool marked(std::uint32_t mark) const noexcept { return mark >> 24 == identity_.value(); }

    /// The fast test of every operand: true when a var of `slot` marked
    /// `mark` is surely held (made in this generation, or below every
    /// rewind so far); false when holds_marked must decide.
    [[nodiscard]] [[gnu::always_inline]] bool surely_holds(slot_index slot, std::uint32_t mark) const noexcept
    {
        return mark == mark_now_ || (slot < never_dropped_below_ && marked(mark));
    }

    /// surely_holds for many vars at once: true when vars whose
    /// var::mark_difference_on, or-ed, gives `differences`, and whose slots
    /// are at most `highest`, are surely held (all made in this generation,
    /// or all this tape's and below every rewind so far).
    [[nodiscard]] bool surely_hold_all(std::uint32_t differences, slot_index highest) const noexcept
    {
        const std::uint32_t d = differences & ~std::uint32_t{1}; // bit 0 is each var's own
        return d == 0 || (highest < never_dropped_below_ && (d & identity_bits) == 0);
    }

protected:
    /// True when a var of `slot` marked `mark` (by this tape) is held by a
    /// recording of `slots` slots: no rewind since its generation went down
    /// to its slot or below. A var older than 2^23 rewinds is taken for one
    /// of the newest 2^23 generations with the same low bits.
    [[nodiscard]] bool holds_marked(slot_index slot, std::uint32_t mark, std::size_t slots) const noexcept
    {
        if (slot >= slots)
            return false;
        if (surely_holds(slot, mark))
            return true;
        const std::uint64_t low = (mark >> 1) & generation_mask;
        const std::uint64_t made = generation_ - ((generation_ - low) & generation_mask);
        // rewinds_ keeps, of the rewinds so far, those with no later one to
        // a lower position: the first after `made` went lowest since
        const auto later = std::upper_bound(rewinds_.begin(), rewinds_.end(), made,
                                            [](std::uint64_t g, const rewind_record& r) { return g < r.generation; });
        return later == rewinds_.end() || slot < later->slots;
    }

    /// Throws tape_error unless a var of `slot` marked `mark` is held by a
    /// recording of `slots` slots (a passive var, slot 0, always is).
    void require_held(slot_index slot, std::uint32_t mark, std::size_t slots) const
    {
        if (slot == 0)
            return;
        if (!marked(mark))
            throw tape_error("etape: var (slot " + std::to_string(slot) +
                             ") belongs to another tape than the one it is used on (another thread's, or "
                             "an inactive scope's)");
        if (!holds_marked(slot, mark, slots))
            throw tape_error("etape: var (slot " + std::to_string(slot) +
                             ") is used after its recording was rewound or cleared");
    }

    /// Starts the generation of a rewind that keeps the slots below `kept`.
    /// Throws std::bad_alloc before changing anything.
    void start_generation(slot_index kept)
    {
        std::size_t below = rewinds_.size(); // of the rewinds, those to below `kept`
        while (below > 0 && rewinds_[below - 1].slots >= kept)
            --below;
        rewinds_.reserve(std::max<std::size_t>(below + 1, 8)); // may throw: before anything changes
        ++generation_;
        rewinds_.erase(rewinds_.begin() + static_cast<std::ptrdiff_t>(below), rewinds_.end());
        rewinds_.push_back({generation_, kept});
        never_dropped_below_ = std::min(never_dropped_below_, kept);
        mark_now_ = (identity_.value() << 24) | static_cast<std::uint32_t>((generation_ & generation_mask) << 1);
    }

    /// The number of rewinds so far.
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

private:
    static constexpr unsigned generation_bits = 23;
    static constexpr std::uint64_t generation_mask = (std::uint64_t{1} << generation_bits) - 1;
    struct rewind_record {
        std::uint64_t generation; // the generation the rewind started
        slot_index slots;         // the slots it kept
    };

    tape_identity identity_;
    std::uint64_t generation_ = 0;
    std::uint32_t mark_now_ = identity_.value() << 24;
    slot_index never_dropped_below_ = ~slot_index{0};
    std::vector<rewind_record> rewinds_; // increasing in generation and in slots
};

} // namespace etape::detail
