// A tape's memory budget (tape_limits::max_bytes): growth past it throws
// memory_budget_error before the memory is obtained, naming the bytes held,
// asked for and allowed; the tape stays usable, and a rewind makes room.
// And stats().peak_bytes, the largest recording since the tape was made.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <etape/tensor.hpp>
#include <limits>
#include <utility>

#include "support/check.hpp"

namespace {

/// x, then x = x * 1.001 until the budget stops it; returns the last
/// var recorded and how many statements were.
template <class T>
std::pair<etape::var<T>, std::size_t> record_until_refused(etape::var<T> x, std::size_t most)
{
    std::size_t recorded = 0;
    try {
        for (; recorded < most; ++recorded)
            x = x * T(1.001);
    } catch (const etape::memory_budget_error&) {
    }
    return {x, recorded};
}

} // namespace

TEST_CASE_TEMPLATE("a tape's memory budget stops statements before the memory is taken", T, ETAPE_TEST_TYPES)
{
    constexpr std::size_t budget = 256 * 1024;
    etape::tape_scope<T> scope(etape::tape_limits{.max_bytes = budget});
    etape::tape<T>& t = scope.get();
    const etape::var<T> x = T(1);
    const auto start = t.position();

    const auto [last, recorded] = record_until_refused(x, 1'000'000);
    CHECK(recorded > 1000);    // the budget holds thousands of statements
    CHECK(recorded < 100'000); // and stopped the recording
    CHECK(t.stats().capacity_bytes <= budget);
    CHECK(t.stats().statements == recorded);

    // the message names what was held, asked for and allowed
    etape::var<T> z = last;
    try {
        for (;;)
            z = z * T(2);
    } catch (const etape::memory_budget_error& e) {
        const std::string message = e.what();
        CHECK(message.find("budget is " + std::to_string(budget) + " bytes") != std::string::npos);
        CHECK(message.find("holds " + std::to_string(e.held())) != std::string::npos);
        CHECK(message.find("asked for " + std::to_string(e.asked())) != std::string::npos);
        CHECK(e.budget() == budget);
        CHECK(e.held() + e.asked() > budget);
    }

    // usable after a rewind: the same recording again, shorter, with its gradient
    t.rewind(start);
    etape::var<T> y = x;
    for (int k = 0; k < 500; ++k)
        y = y * T(1.001);
    CHECK(etape::gradient(y, x)[0] == doctest::Approx(std::pow(1.001, 500)).epsilon(1e-4));
    CHECK(t.stats().capacity_bytes <= budget);
}

TEST_CASE_TEMPLATE("the budget counts the adjoints a gradient needs", T, ETAPE_TEST_TYPES)
{
    // n values take n T in the node arena and n rows of 4 bytes (and, in
    // the checked build, n epochs of 4 bytes, whose array doubles for the
    // sum's slot), 80 % of the budget (the first node takes room for 1,024
    // nodes); their gradient's adjoints (n T more) are past it
    constexpr std::size_t budget = 1 << 20;
    constexpr std::size_t per_slot = etape::checked_build ? 12 : 4;
    constexpr std::size_t n = budget * 4 / (5 * (sizeof(T) + per_slot));
    etape::tape_scope<T> scope(etape::tape_limits{.max_bytes = budget});
    etape::tape<T>& t = scope.get();
    const auto start = t.position();
    const etape::active_tensor<T> x(etape::tensor<T>(etape::shape{n}, T(0.5)));
    const etape::var<T> total = etape::sum(x);
    if constexpr (!etape::checked_build) {
        CHECK_THROWS_WITH_AS((void)etape::gradient_view(total, x), doctest::Contains("(adjoints)"),
                             etape::memory_budget_error);
    } else { // the epochs' room that the budget gives back may hold the adjoints: either way, within it
        try {
            (void)etape::gradient_view(total, x);
        } catch (const etape::memory_budget_error& e) {
            CHECK(std::string(e.what()).find("(adjoints)") != std::string::npos);
        }
    }
    CHECK(t.stats().capacity_bytes <= budget);

    // after a rewind a smaller one fits, its adjoints included
    t.rewind(start);
    const etape::active_tensor<T> y(etape::tensor<T>(etape::shape{n / 4}, T(0.5)));
    const etape::var<T> y_total = etape::sum(y * y);
    CHECK(etape::gradient_view(y_total, y)[0] == T(1));
    CHECK(t.stats().capacity_bytes <= budget);
}

TEST_CASE_TEMPLATE("the budget counts tensor nodes and their values", T, ETAPE_TEST_TYPES)
{
    constexpr std::size_t budget = 1 << 20;
    etape::tape_scope<T> scope(etape::tape_limits{.max_bytes = budget});
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> small(etape::tensor<T>(etape::shape{1000}, T(0.5)));
    const auto start = t.position();
    // a tensor whose values alone are over the budget
    CHECK_THROWS_AS(etape::active_tensor<T>(etape::tensor<T>(etape::shape{budget}, T(1))),
                    etape::memory_budget_error);
    // nodes until the budget stops them
    std::size_t nodes = 0;
    try {
        for (;; ++nodes)
            (void)etape::active_tensor<T>(etape::exp(small) * small);
    } catch (const etape::memory_budget_error& e) {
        CHECK(std::string(e.what()).find("budget") != std::string::npos);
    }
    CHECK(nodes > 10);
    CHECK(t.stats().capacity_bytes <= budget);
    t.rewind(start);
    const etape::var<T> total = etape::sum(etape::exp(small) * small);
    CHECK(static_cast<double>(etape::gradient_view(total, small)[0]) ==
          doctest::Approx(std::exp(0.5) * 1.5).epsilon(1e-5));
}

TEST_CASE("a tape without a budget is unlimited, and one too small to start is refused")
{
    etape::tape_scope<double> unlimited;
    CHECK(unlimited.get().limits().max_bytes == std::numeric_limits<std::size_t>::max());
    CHECK_THROWS_AS(etape::tape<double>(etape::tape_limits{.max_bytes = 64}), etape::memory_budget_error);
}

TEST_CASE_TEMPLATE("peak_bytes is the largest recording since the tape was made or reset_peak", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::var<T> x = T(1);
    const auto start = t.position();
    etape::var<T> y = x;
    for (int k = 0; k < 3000; ++k)
        y = y * T(1.001);
    const std::size_t large = t.stats().bytes;
    CHECK(t.stats().peak_bytes == large);
    t.rewind(start);
    for (int k = 0; k < 100; ++k)
        y = x * T(2);
    CHECK(t.stats().bytes < large);
    CHECK(t.stats().peak_bytes == large);
    t.reset_peak();
    CHECK(t.stats().peak_bytes == t.stats().bytes);
}
