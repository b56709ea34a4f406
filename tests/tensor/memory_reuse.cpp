// How a tape holds memory: recordings of different sizes that alternate on
// one tape, each rewinding to its own position, settle on the memory they
// need and then obtain none from the system and fault no fresh page;
// tape::release_unused gives what the current recording does not use back.
#include <cstddef>
#include <vector>

#if __has_include(<sys/resource.h>)
#include <sys/resource.h>
#endif

#include "support/check.hpp"

namespace {

/// Minor page faults of this process so far (pages the kernel mapped on a
/// first touch); -1 where getrusage is missing.
long minor_faults()
{
#if __has_include(<sys/resource.h>)
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
#else
    return -1;
#endif
}

template <class T>
etape::tensor<T> filled(std::size_t n, T first)
{
    std::vector<T> values(n);
    for (std::size_t i = 0; i < n; ++i)
        values[i] = first + T(i % 97) / T(50);
    return etape::tensor<T>(etape::shape{n}, values);
}

constexpr std::size_t big = std::size_t{1} << 18;   // 1 MiB of float per tensor
constexpr std::size_t small = 16;
constexpr std::size_t medium = std::size_t{1} << 15; // more than the arena's standard block of 64 KiB

/// A training step's shape: a small node, then big ones; the gradient.
template <class T>
T step(const etape::active_tensor<T>& x, const etape::active_tensor<T>& s)
{
    const etape::active_tensor<T> head = etape::elu(s * T(2));
    const etape::active_tensor<T> body = etape::elu(x * T(0.5) - T(1));
    const etape::var<T> loss = etape::sum(body * body) + etape::sum(head);
    return etape::gradient_view(loss, x)[7];
}

/// An evaluation pass's shape, larger: an input of its own (its values
/// copied onto the tape), big nodes first, then a small one; the gradient.
template <class T>
T evaluate(const etape::active_tensor<T>& x, const etape::active_tensor<T>& s, const etape::tensor<T>& input)
{
    const etape::active_tensor<T> batch(input);
    const etape::active_tensor<T> body = etape::elu(batch * T(3)) + etape::sum(x);
    const etape::active_tensor<T> tail = etape::elu(s - T(1));
    const etape::var<T> loss = etape::sum(body) * etape::sum(tail);
    return etape::gradient_view(loss, batch)[3];
}

} // namespace

TEST_CASE_TEMPLATE("recordings of two sizes that alternate reuse the tape's memory: no growth, no fresh page",
                   T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& tape = scope.get();
    const etape::active_tensor<T> x(filled<T>(big, T(-2)));
    const etape::active_tensor<T> s(filled<T>(small, T(-1)));
    const etape::tensor<T> input = filled<T>(big + big / 2, T(-1));
    const etape::tape_position start = tape.position();

    const auto step_at = [&] {
        tape.rewind(start);
        return step(x, s);
    };
    const auto evaluate_at = [&] { // from a position of its own, after a value of its own
        tape.rewind(start);
        const etape::var<T> offset = etape::sum(s) * T(0.25);
        const etape::tape_position own = tape.position();
        tape.rewind(own);
        return evaluate(x, s, input) + offset.value();
    };

    const T first_step = step_at(), first_evaluation = evaluate_at();
    const std::size_t capacity = tape.stats().capacity_bytes;
    constexpr int rounds = 100;
    std::vector<T> steps(rounds), evaluations(rounds); // nothing is allocated while counting
    std::vector<std::size_t> capacities(rounds);
    const long faults = minor_faults();
    for (int round = 0; round < rounds; ++round) {
        steps[round] = step_at();
        evaluations[round] = evaluate_at();
        capacities[round] = tape.stats().capacity_bytes;
    }
    const long fresh_pages = faults >= 0 ? minor_faults() - faults : 0;
    for (int round = 0; round < rounds; ++round) {
        CAPTURE(round);
        CHECK(steps[round] == first_step);
        CHECK(evaluations[round] == first_evaluation);
        CHECK(capacities[round] == capacity);
    }
    // The rounds write more than 10 MiB of the tape's memory each (2,500
    // pages of 4 KiB, 250,000 in all): fresh memory would fault that many.
    // AddressSanitizer's own bookkeeping faults a few pages (48 measured,
    // more under load); otherwise none was.
#if defined(__SANITIZE_ADDRESS__)
    constexpr long allowed = 1024;
#else
    constexpr long allowed = 64;
#endif
    CAPTURE(fresh_pages);
    CHECK(fresh_pages < allowed);
}

TEST_CASE_TEMPLATE("two recordings that need the same memory in another order need it once", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& tape = scope.get();
    const etape::active_tensor<T> x(filled<T>(big, T(-2)));
    const etape::active_tensor<T> m(filled<T>(medium, T(-1)));
    const etape::tape_position start = tape.position();
    const auto large_first = [&] {
        tape.rewind(start);
        const etape::active_tensor<T> a = etape::elu(x * T(2));
        const etape::active_tensor<T> b = etape::elu(m * T(2));
        const etape::var<T> loss = etape::sum(a) + etape::sum(b);
        return etape::gradient_view(loss, x)[1];
    };
    const auto small_first = [&] {
        tape.rewind(start);
        const etape::active_tensor<T> b = etape::elu(m * T(3));
        const etape::active_tensor<T> a = etape::elu(x * T(3));
        const etape::var<T> loss = etape::sum(b) + etape::sum(a);
        return etape::gradient_view(loss, x)[1];
    };
    const T large = large_first();
    const std::size_t capacity = tape.stats().capacity_bytes;
    const T small_value = small_first();
    CHECK(tape.stats().capacity_bytes == capacity); // the medium node does not take the large block
    for (int round = 0; round < 10; ++round) {
        CHECK(large_first() == large);
        CHECK(small_first() == small_value);
    }
    CHECK(tape.stats().capacity_bytes == capacity);
}

TEST_CASE_TEMPLATE("release_unused gives back what a one-off recording needed and keeps the recording", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& tape = scope.get();
    const etape::active_tensor<T> x(filled<T>(big, T(-2)));
    const etape::active_tensor<T> s(filled<T>(small, T(-1)));
    const etape::tape_position start = tape.position();
    const T expected = step(x, s);
    tape.rewind(start);
    const std::size_t before = tape.stats().capacity_bytes;

    { // a one-off recording eight times as large
        const etape::active_tensor<T> large(filled<T>(8 * big, T(-3)));
        const etape::var<T> loss = etape::sum(etape::elu(large * large));
        CHECK(etape::gradient_view(loss, large)[0] != T(0));
    }
    const std::size_t grown = tape.stats().capacity_bytes;
    CHECK(grown > before + 8 * big * sizeof(T));
    tape.rewind(start);
    tape.release_unused();
    const std::size_t released = tape.stats().capacity_bytes;
    CHECK(released < before); // less than even the step needed: only what is recorded stays
    CHECK(released >= 2 * big * sizeof(T)); // x's values and adjoints

    // The recording kept its values and slots: the same gradient, bit for bit.
    CHECK(step(x, s) == expected);
    CHECK(x.values()[5] == filled<T>(big, T(-2)).values()[5]);
    tape.rewind(start);
    tape.release_unused();
    CHECK(tape.stats().capacity_bytes == released); // nothing more to give back
}
