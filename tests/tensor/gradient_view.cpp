// etape::gradient_view: the gradient of an active tensor as a view of the
// tape's adjoints, or of the partials a fused sum holds, equal to
// etape::gradient's copy bit for bit; its documented lifetime and errors.
#include <limits>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_same_bits;
using etape_test::spread;

TEST_CASE_TEMPLATE("gradient_view holds what gradient copies", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({3, 4}));
    etape::var<T> a = T(0.5), b = T(-0.25);
    const etape::active_tensor<T> z = etape::elu(a * x + b) * x;           // a node
    const etape::var<T> loss = etape::sum(z * z) + z(1, 2) * T(3) + x(0, 1); // a node and statements
    const auto [copied] = etape::gradient(loss, x);
    const std::span<const T> view = etape::gradient_view(loss, x);
    REQUIRE(view.size() == x.size());
    CHECK(view.data() == scope.get().adjoints() + x.first_slot()); // no copy
    for (std::size_t i = 0; i < x.size(); ++i) {
        CAPTURE(i);
        CHECK(view[i] == copied.values()[i]); // the same sweep: the same bits
    }
    CHECK(view[1] != T(0)); // x(0, 1) reached it through the statement too
}

TEST_CASE_TEMPLATE("gradient_view holds each gradient until the next one", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({5}));
    const etape::var<T> twice = etape::sum(x * T(2));
    const etape::var<T> thrice = etape::sum(x * T(3));
    const std::span<const T> view = etape::gradient_view(twice, x);
    CHECK(view[4] == T(2));
    const std::vector<T> kept(view.begin(), view.end());
    const std::span<const T> next = etape::gradient_view(thrice, x);
    CHECK(next[4] == T(3)); // after it, `view` shows either gradient: read or copy it before
    CHECK(kept[4] == T(2));
}

TEST_CASE_TEMPLATE("gradient_view: empty tensors, passive outputs, tensors off the recording", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> empty(etape::tensor<T>(etape::shape{0}));
    const etape::active_tensor<T> x(spread<T>({4}));
    const etape::var<T> loss = etape::sum(x * x);
    CHECK(etape::gradient_view(loss, empty).empty());
    for (const T g : etape::gradient_view(etape::var<T>(), x))
        CHECK(g == T(0)); // a passive output depends on nothing

    const auto start = scope.get().position();
    const etape::active_tensor<T> late(spread<T>({4}));
    const etape::var<T> late_loss = etape::sum(late);
    scope.get().rewind(start);
    CHECK_THROWS_AS((void)etape::gradient_view(loss, late), etape::tape_error);
    (void)late_loss;
}

namespace {

/// Partials with every edge a fused sum can store: -0 (from w = -0),
/// +0, NaN, inf, both sides of ELU's kink, and a tail past the SIMD batches.
template <class T>
etape::tensor<T> edge_weights()
{
    etape::tensor<T> w = spread<T>({37});
    w.data()[0] = T(-0.0);
    w.data()[1] = T(0);
    w.data()[2] = std::numeric_limits<T>::quiet_NaN();
    w.data()[3] = std::numeric_limits<T>::infinity();
    w.data()[36] = -std::numeric_limits<T>::infinity();
    return w;
}

/// Sets x's adjoints on the tape to a value no sweep writes, so a test can see
/// whether a sweep ran.
template <class T>
void poison_adjoints(etape::tape<T>& t, const etape::active_tensor<T>& x)
{
    for (std::size_t i = 0; i < x.size(); ++i)
        t.adjoint(static_cast<etape::slot_index>(x.first_slot() + i)) = T(42);
}

template <class T>
bool adjoints_untouched(etape::tape<T>& t, const etape::active_tensor<T>& x)
{
    for (std::size_t i = 0; i < x.size(); ++i)
        if (t.adjoints()[x.first_slot() + i] != T(42))
            return false;
    return true;
}

} // namespace

TEST_CASE_TEMPLATE("gradient_view of a fused sum over x reads the sum's partials: no sweep, the same bits", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::var<T> unrelated = etape::var<T>(T(2)) * T(3); // a statement below x, on other slots
    const etape::active_tensor<T> x(spread<T>({37}));
    const etape::var<T> s = unrelated * unrelated; // a statement above x, not reading it
    const etape::tensor<T> w = edge_weights<T>();
    const etape::var<T> b = T(-0.75);
    const etape::var<T> loss = etape::sum(etape::elu(x * w + b) * T(-1.5) + s);
    poison_adjoints(t, x);
    const std::span<const T> view = etape::gradient_view(loss, x);
    REQUIRE(view.size() == x.size());
    CHECK(view.data() != t.adjoints() + x.first_slot());
    CHECK(adjoints_untouched(t, x)); // no sweep ran
    const auto [swept] = etape::gradient(loss, x);
    check_same_bits(view, swept.values());
    // -1.5 * elu' * w is -0 for w = +0; the partial, a sum from +0, is +0, as the sweep stores it
    CHECK(etape_test::bits_of(view[1]) == etape_test::bits_of(T(0)));
    CHECK(std::isnan(view[2]));
}

TEST_CASE_TEMPLATE("gradient_view sweeps when another use of x may add to its gradient", T, ETAPE_TEST_TYPES)
{
    const auto check_swept = [](auto&& loss_of) {
        etape::tape_scope<T> scope;
        etape::tape<T>& t = scope.get();
        const etape::active_tensor<T> x(spread<T>({37}));
        const etape::var<T> loss = loss_of(t, x);
        const auto [copied] = etape::gradient(loss, x);
        poison_adjoints(t, x);
        const std::span<const T> view = etape::gradient_view(loss, x);
        CHECK(view.data() == t.adjoints() + x.first_slot());
        check_same_bits(view, copied.values());
    };
    SUBCASE("x twice in the sum")
    {
        check_swept([](etape::tape<T>&, const auto& x) { return etape::sum(x * x); });
    }
    SUBCASE("a statement reads an element of x")
    {
        check_swept([](etape::tape<T>&, const auto& x) {
            const etape::var<T> corner = x(3) * T(2);
            return etape::sum(etape::elu(x) * corner);
        });
    }
    SUBCASE("another node reads x")
    {
        check_swept([](etape::tape<T>&, const auto& x) {
            const etape::active_tensor<T> z = etape::elu(x) * T(0.5);
            return etape::sum(x * T(3) + z);
        });
    }
    SUBCASE("a node between declares no inputs")
    {
        check_swept([](etape::tape<T>& t, const auto& x) {
            (void)t.record_node(1, [](T*, etape::slot_index) {});
            return etape::sum(x * T(3));
        });
    }
    SUBCASE("the output is a statement on the sum, not the sum")
    {
        check_swept([](etape::tape<T>&, const auto& x) { return etape::sum(x * T(3)) * T(2); });
    }
    SUBCASE("x is the sum's only operand: no partials are stored")
    {
        check_swept([](etape::tape<T>&, const auto& x) { return etape::sum(x); });
    }
    SUBCASE("anomaly mode")
    {
        check_swept([](etape::tape<T>& t, const auto& x) {
            t.detect_anomalies();
            return etape::sum(etape::elu(x) * T(3));
        });
    }
}

TEST_CASE_TEMPLATE("gradient_view of a fused sum over a bias sweeps: a row leaf holds no per-element gradient", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> bias(spread<T>({4}));
    const etape::tensor<T> x = spread<T>({3, 4});
    const etape::var<T> loss = etape::sum(etape::elu(x + bias));
    const auto [copied] = etape::gradient(loss, bias);
    const std::span<const T> view = etape::gradient_view(loss, bias);
    CHECK(view.data() == scope.get().adjoints() + bias.first_slot());
    check_same_bits(view, copied.values());
}
