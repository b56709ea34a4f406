// tape::lowest_readers and clear_and_sweep's stops: where each range's
// adjoints become final in a sweep, and a sweep that pauses there leaves
// the same adjoints bit for bit, each range already final at its stop.
#include <algorithm>
#include <array>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::spread;

TEST_CASE_TEMPLATE("lowest_readers finds the first statement or node that reads each range", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::var<T> x = T(0.5), w = T(-1.5), unread = T(2);
    const etape::var<T> y = x * w;                      // reads x and w
    const etape::var<T> z = etape::sin(y) + w;          // reads w again, higher
    const etape::active_tensor<T> a(spread<T>({2, 3})); // read by two nodes
    const etape::active_tensor<T> h = etape::elu(a * z);
    const etape::var<T> loss = etape::sum(h * a);
    const std::array<etape::slot_range, 4> ranges{{{x.slot(), 1},
                                                    {w.slot(), 1},
                                                    {unread.slot(), 1},
                                                    {a.first_slot(), static_cast<etape::slot_index>(a.size())}}};
    std::array<etape::slot_index, 4> readers{};
    t.lowest_readers(ranges, loss.slot() + 1, readers);
    CHECK(readers[0] == y.slot());
    CHECK(readers[1] == y.slot());
    CHECK(readers[2] == loss.slot() + 1); // nothing reads it
    CHECK(readers[3] == h.first_slot());
    t.lowest_readers(ranges, y.slot(), readers); // a sweep from below y: nothing reads them yet
    CHECK(readers[0] == y.slot());
    std::array<etape::slot_index, 3> too_few{};
    CHECK_THROWS_AS(t.lowest_readers(ranges, loss.slot() + 1, too_few), std::invalid_argument);
}

TEST_CASE_TEMPLATE("a sweep with stops gives the same adjoints, each range final at its stop", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> w1(spread<T>({4, 3})), w2(spread<T>({3, 2}, 2)), w3(spread<T>({2, 2}, 3));
    const etape::active_tensor<T> x(spread<T>({5, 4}, 4));
    const etape::active_tensor<T> h1 = etape::elu(etape::matmul(x, w1));
    const etape::active_tensor<T> h2 = etape::tanh(etape::matmul(h1, w2));
    const etape::var<T> loss = etape::sum(etape::matmul(h2, w3) * h2(0, 1)); // a statement reads h2 too
    const std::array<etape::slot_range, 3> ranges{{{w1.first_slot(), 12}, {w2.first_slot(), 6}, {w3.first_slot(), 4}}};
    std::array<etape::slot_index, 3> readers{};
    const etape::slot_index top = loss.slot() + 1;
    t.lowest_readers(ranges, top, readers);
    CHECK(readers[0] < readers[1]);
    CHECK(readers[1] < readers[2]);
    CHECK(readers[2] < top);

    const etape::slot_range seed{loss.slot(), 1};
    const auto seed_one = [s = loss.slot()](T* adjoints) { adjoints[s] = T(1); };
    t.clear_and_sweep(top, 1, std::span(&seed, 1), seed_one);
    const std::vector<T> expected(t.adjoints(), t.adjoints() + t.size());

    const std::array<etape::slot_index, 3> stops{readers[2], readers[1], readers[0]};
    std::vector<std::vector<T>> at_stop;
    std::vector<std::size_t> reached;
    t.clear_and_sweep(top, 1, std::span(&seed, 1), seed_one, stops, [&](std::size_t j) {
        reached.push_back(j);
        const etape::slot_range r = ranges[2 - j];
        at_stop.emplace_back(t.adjoints() + r.first, t.adjoints() + r.first + r.count);
    });
    CHECK(reached == std::vector<std::size_t>{0, 1, 2});
    CHECK(std::equal(expected.begin(), expected.end(), t.adjoints())); // the same bits
    for (std::size_t j = 0; j < 3; ++j) {
        CAPTURE(j);
        const etape::slot_range r = ranges[2 - j];
        CHECK(std::equal(at_stop[j].begin(), at_stop[j].end(), expected.begin() + r.first));
        CHECK(std::any_of(at_stop[j].begin(), at_stop[j].end(), [](T g) { return g != T(0); }));
    }
}
