// No heap allocation per statement: once a recording's memory has grown,
// recording again after a rewind allocates nothing.
#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <vector>

#include "support/check.hpp"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size)
{
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {
template <class T>
T record_and_differentiate(etape::var<T>& a, etape::var<T>& b)
{
    etape::var<T> s = T(0);
    for (int i = 0; i < 10000; ++i)
        s += etape::elu(a * T(i % 7) - b) * etape::exp(b * T(1e-4));
    return etape::gradient(s, a, b)[0];
}
} // namespace

TEST_CASE_TEMPLATE("recording after a rewind allocates nothing", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> a = T(0.5), b = T(1);
    const auto start = scope.get().position();

    const long before_first = allocations.load();
    const T first = record_and_differentiate(a, b); // grows the tape
    scope.get().rewind(start);
    const long during_first = allocations.load() - before_first;

    const long before_second = allocations.load();
    const T second = record_and_differentiate(a, b);
    scope.get().rewind(start);
    const long during_second = allocations.load() - before_second;

    CHECK(during_first > 0); // the counter sees the tape grow
    CHECK(during_first < 40); // geometric growth: a handful of allocations for 10,000 statements
    CHECK(during_second == 0);
    CHECK(second == first);
}

TEST_CASE_TEMPLATE("a recording that the tape reserved room for allocates nothing", T, ETAPE_TEST_TYPES)
{
    constexpr int steps = 20000;
    const auto record = [] {
        etape::var<T> a = T(0.5), b = T(-0.25), y = T(0.75);
        for (int i = 0; i < steps; ++i)
            y = etape::elu(a * y + b); // one statement of three operands
        return y.value();
    };
    etape::tape_scope<T> grown, reserved;
    long before = allocations.load();
    T unreserved_value;
    {
        etape::tape_scope<T> use(grown.get());
        unreserved_value = record();
    }
    CHECK(allocations.load() - before > 0); // without room, the arrays grow as it records

    reserved.get().reserve(steps + 3, 3 * steps);
    before = allocations.load();
    T reserved_value;
    {
        etape::tape_scope<T> use(reserved.get());
        reserved_value = record();
    }
    CHECK(allocations.load() - before == 0);
    CHECK(reserved_value == unreserved_value);
    CHECK_THROWS_AS(reserved.get().reserve(std::size_t{1} << 33, 0), std::length_error);
}

TEST_CASE_TEMPLATE("a step that registers, records and writes its gradient into a buffer allocates nothing",
                   T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    std::vector<etape::var<T>> x(64);
    std::vector<T> values(x.size()), grad(x.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = T(0.125) * static_cast<T>(i) - T(3);
    const auto start = scope.get().position();
    const auto step = [&] {
        etape::register_inputs(std::span<etape::var<T>>(x), std::span<const T>(values));
        etape::var<T> s = x[0] * x[0];
        for (std::size_t i = 1; i < x.size(); ++i)
            s += etape::elu(x[i] * x[i - 1]);
        etape::gradient_into(s, x, grad);
        scope.get().rewind(start);
    };
    step(); // grows the tape and its adjoints
    const std::vector<T> first = grad;
    const long before = allocations.load();
    step();
    CHECK(allocations.load() - before == 0);
    CHECK(grad == first);
    CHECK(grad[0] != T(0));
}
