// A set of slots kept as sorted, disjoint half-open intervals: what a
// sweep's plan has seen written so far (core/tape_nodes.hpp, plan_first_writes).
// The plan walks down the tape and drops what lies above it (keep_below),
// so the set stays small and its inserts land near the end.
// Layer: core (storage under the tape).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include <etape/core/config.hpp>

namespace etape::detail {

class slot_intervals {
public:
    /// Adds the slots [first, end); nothing for an empty range.
    void insert(slot_index first, slot_index end)
    {
        if (end <= first)
            return;
        // the intervals that touch or overlap [first, end) merge into one
        auto lo = std::lower_bound(spans_.begin(), spans_.end(), first,
                                   [](const span& s, slot_index v) { return s.end < v; });
        auto hi = lo;
        while (hi != spans_.end() && hi->first <= end) {
            first = std::min(first, hi->first);
            end = std::max(end, hi->end);
            ++hi;
        }
        lo = spans_.erase(lo, hi);
        spans_.insert(lo, span{first, end});
    }

    /// True when a slot of [first, end) is in the set.
    [[nodiscard]] bool intersects(slot_index first, slot_index end) const noexcept
    {
        if (end <= first)
            return false;
        const auto it = std::lower_bound(spans_.begin(), spans_.end(), first,
                                         [](const span& s, slot_index v) { return s.end <= v; });
        return it != spans_.end() && it->first < end;
    }

    /// Drops every slot from `bound` on. Cheap when the intervals above
    /// `bound` are few: they are the last ones.
    void keep_below(slot_index bound) noexcept
    {
        while (!spans_.empty() && spans_.back().first >= bound)
            spans_.pop_back();
        if (!spans_.empty() && spans_.back().end > bound)
            spans_.back().end = bound;
    }

    void clear() noexcept { spans_.clear(); }

    /// Calls f(first, end) for each interval, in increasing order.
    template <class F>
    void for_each(F f) const
    {
        for (const span& s : spans_)
            f(s.first, s.end);
    }

private:
    struct span {
        slot_index first;
        slot_index end;
    };
    std::vector<span> spans_;
};

} // namespace etape::detail
