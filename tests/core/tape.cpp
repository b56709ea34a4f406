// The tape: positions, sweeping back and rewinding, parameters that outlive
// a cleared recording, nodes, limits.
#include <stdexcept>

#include "support/check.hpp"

TEST_CASE_TEMPLATE("parameters keep their identity when the recording after them is rewound", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> w = T(2); // a model parameter
    const auto start = t.position();
    for (int step = 0; step < 3; ++step) {
        const etape::var<T> loss = (w - 5) * (w - 5);
        const auto [dw] = etape::gradient(loss, w);
        CHECK(dw == T(2) * (w.value() - T(5)));
        w.set_value(w.value() - T(0.25) * dw); // a gradient step keeps the slot
        t.rewind(start);
        CHECK(t.position() == start);
    }
    CHECK(w.value() == doctest::Approx(5 - 3 * std::pow(0.5, 3)));
    CHECK(t.stats().statements == 0);
}

TEST_CASE_TEMPLATE("sweep back to a saved position", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> x = T(3);
    const etape::var<T> u = x * x; // recorded before the position
    const auto mid = t.position();
    const etape::var<T> y = etape::sin(u) * 2;

    t.clear_adjoints();
    t.adjoint(y.slot()) = T(1);
    t.sweep_to(mid); // stops at the position: u's adjoint is set, x's is not yet
    CHECK(t.adjoint(u.slot()) == doctest::Approx(2 * std::cos(9.0)).epsilon(1e-5));
    CHECK(t.adjoint(x.slot()) == T(0));
    t.sweep(mid.slots, 1); // then the rest
    CHECK(t.adjoint(x.slot()) == doctest::Approx(2 * std::cos(9.0) * 6).epsilon(1e-5));

    t.rewind(mid);
    CHECK(t.size() == mid.slots);
    const etape::var<T> z = u + 1; // recording goes on after the rewind
    CHECK(etape::gradient(z, x)[0] == T(6));
}

TEST_CASE_TEMPLATE("clear() empties the recording, and memory is reused", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> x = T(1);
    for (int i = 0; i < 5000; ++i)
        x = x * T(1.0001) + 1;
    const auto capacity = t.stats().capacity_bytes;
    t.clear();
    CHECK(t.stats().slots == 0);
    CHECK(t.stats().bytes == 4); // only the passive slot
    etape::var<T> y = T(1);
    for (int i = 0; i < 5000; ++i)
        y = y * T(1.0001) + 1;
    CHECK(t.stats().capacity_bytes == capacity);
}

TEST_CASE_TEMPLATE("a node with a hand-written reverse sits in the statement stream", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> a = T(1.5), b = T(-2);
    const etape::var<T> u = a * b; // a statement before the node
    // An external function (p, q) = (u^2, 3u) with its reverse written by hand.
    const etape::slot_index in = u.slot();
    const T uv = u.value();
    const etape::slot_index first = t.record_node(2, [in, uv](T* adj, etape::slot_index out) {
        adj[in] += 2 * uv * adj[out] + 3 * adj[out + 1]; // du += dp/du dp + dq/du dq
    });
    const auto p = etape::var<T>::bound_to(t, first, uv * uv);
    const auto q = etape::var<T>::bound_to(t, first + 1, 3 * uv);
    const etape::var<T> y = p * b + etape::sin(q); // statements after the node
    CHECK(t.stats().nodes == 1);

    const auto f = [](auto x) {
        const auto v = x[0] * x[1];
        return v * v * x[1] + etape::sin(3 * v);
    };
    const auto [da, db] = etape::gradient(y, a, b);
    const auto expected = etape::gradient(f, std::vector<T>{T(1.5), T(-2)});
    CHECK(da == doctest::Approx(expected[0]).epsilon(1e-5));
    CHECK(db == doctest::Approx(expected[1]).epsilon(1e-5));

    t.rewind(etape::tape_position{}); // destroys the node's payload
    CHECK(t.stats().nodes == 0);
}

TEST_CASE_TEMPLATE("a node's payload with a destructor is destroyed on rewind", T, ETAPE_TEST_TYPES)
{
    auto counter = std::make_shared<int>(0);
    {
        etape::tape_scope<T> scope;
        etape::tape<T>& t = scope.get();
        const auto start = t.position();
        (void)t.record_node(1, [counter](T*, etape::slot_index) { ++*counter; });
        CHECK(counter.use_count() == 2);
        t.rewind(start);
        CHECK(counter.use_count() == 1);
        (void)t.record_node(1, [counter](T*, etape::slot_index) { ++*counter; });
    } // and when the tape goes
    CHECK(counter.use_count() == 1);
}

TEST_CASE_TEMPLATE("tape growth beyond its limits is a clear length_error", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope(etape::tape_limits{.max_slots = 100, .max_operands = 80});
    etape::var<T> x = T(1);
    for (int i = 0; i < 70; ++i)
        x = x * T(1.01); // 1 operand each
    const auto stats = scope.get().stats();
    CHECK_THROWS_WITH_AS(x = x * x * x * x * x * x * x * x * x * x * x, doctest::Contains("operands"),
                         std::length_error);
    CHECK(scope.get().stats().operands == stats.operands); // nothing half-written
    CHECK(scope.get().stats().slots == stats.slots);
    for (int i = 0; i < 10; ++i)
        x = x + T(1);
    (void)scope.get().new_inputs(100 - 81); // up to the slot limit
    CHECK_THROWS_WITH_AS(etape::var<T>(T(1)), doctest::Contains("slots"), std::length_error);
    CHECK_THROWS_AS((void)scope.get().new_inputs(1000), std::length_error);
    CHECK_THROWS_AS((void)scope.get().template allocate_scratch<T>(~std::size_t{0} / 4), std::length_error);
    // the recording is still sound
    CHECK(etape::gradient(x, x)[0] == T(1));
}

TEST_CASE("a rewind to a position past the recording is rejected")
{
    etape::tape_scope<double> scope;
    const etape::var<double> x = 1.0;
    const auto later = scope.get().position();
    CHECK(later.slots == x.slot() + 1);
    scope.get().clear();
    CHECK_THROWS_AS(scope.get().rewind(later), etape::tape_error);
}

TEST_CASE("long double is an active type too")
{
    etape::var<long double> x = 0.5L;
    const etape::var<long double> y = etape::exp(x) * etape::elu(x - 1);
    const auto [dx] = etape::gradient(y, x);
    const long double expected = std::exp(0.5L) * std::expm1(-0.5L) + std::exp(0.5L) * std::exp(-0.5L);
    CHECK(static_cast<double>(dx - expected) == doctest::Approx(0).epsilon(1e-17));
}
