// The slot set of clear_and_sweep's plan (core/slot_intervals.hpp): merging
// on insert, intersection at the edges of half-open intervals, and dropping
// what lies above the plan's front.
#include <utility>
#include <vector>

#include <etape/core/slot_intervals.hpp>

#include "support/check.hpp"

namespace {

using spans_t = std::vector<std::pair<etape::slot_index, etape::slot_index>>;

/// The set's intervals, in order.
spans_t spans(const etape::detail::slot_intervals& s)
{
    spans_t out;
    s.for_each([&](etape::slot_index first, etape::slot_index end) { out.emplace_back(first, end); });
    return out;
}

} // namespace

TEST_CASE("slot_intervals: inserts merge what touches or overlaps, and stay sorted")
{
    etape::detail::slot_intervals s;
    s.insert(10, 20);
    s.insert(30, 40);
    s.insert(5, 5); // empty: nothing
    CHECK(spans(s) == spans_t{{10, 20}, {30, 40}});
    s.insert(20, 25); // touches [10, 20): one interval
    CHECK(spans(s) == spans_t{{10, 25}, {30, 40}});
    s.insert(1, 3); // before everything
    s.insert(50, 60); // after everything
    CHECK(spans(s) == spans_t{{1, 3}, {10, 25}, {30, 40}, {50, 60}});
    s.insert(24, 51); // spans three: they merge
    CHECK(spans(s) == spans_t{{1, 3}, {10, 60}});
    s.insert(12, 14); // inside: nothing changes
    CHECK(spans(s) == spans_t{{1, 3}, {10, 60}});
    s.clear();
    CHECK(spans(s).empty());
}

TEST_CASE("slot_intervals: intersects on half-open ranges")
{
    etape::detail::slot_intervals s;
    s.insert(10, 20);
    s.insert(30, 31);
    CHECK(!s.intersects(0, 10)); // ends where [10, 20) begins
    CHECK(s.intersects(0, 11));
    CHECK(s.intersects(19, 25));
    CHECK(!s.intersects(20, 30)); // the gap exactly
    CHECK(s.intersects(20, 31));
    CHECK(s.intersects(30, 31));
    CHECK(!s.intersects(31, 100));
    CHECK(s.intersects(0, 100));
    CHECK(!s.intersects(15, 15)); // empty
    CHECK(s.intersects(12, 13)); // inside
}

TEST_CASE("slot_intervals: keep_below drops and trims what lies at or above the bound")
{
    etape::detail::slot_intervals s;
    s.insert(1, 3);
    s.insert(10, 20);
    s.insert(30, 40);
    s.keep_below(35);
    CHECK(spans(s) == spans_t{{1, 3}, {10, 20}, {30, 35}});
    s.keep_below(20);
    CHECK(spans(s) == spans_t{{1, 3}, {10, 20}});
    s.keep_below(10);
    CHECK(spans(s) == spans_t{{1, 3}});
    s.keep_below(0);
    CHECK(spans(s).empty());
}
