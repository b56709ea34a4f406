// Vector-Jacobian products (etape::vjp, etape::vjp_view and
// tape::sweep_cotangent): the adjoints are those of the plain clear, seed
// and sweep bit for bit, whether the cotangent is read in place (y the
// output of an elementwise node) or copied (any other y), over adjoint
// memory filled with garbage first.
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "support/check.hpp"

namespace {

template <class T>
std::vector<T> wave(std::size_t n, double phase)
{
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<T>(1.5 * std::sin(0.9 * static_cast<double>(i) + phase));
    return v;
}

template <class T>
etape::active_tensor<T> input(const etape::shape& s, double phase)
{
    return etape::active_tensor<T>(etape::tensor<T>(s, wave<T>(s.size(), phase)));
}

template <class T>
void poison(etape::tape<T>& t, T garbage)
{
    (void)t.adjoint(t.size() - 1); // sizes the adjoints to the recording
    std::fill_n(t.adjoints(), t.size(), garbage);
}

/// x's adjoints after the plain clear_adjoints, copy of dy into y's
/// adjoints, and sweep from y's end.
template <class T>
std::vector<T> plain_vjp(etape::tape<T>& t, const etape::active_tensor<T>& y, const std::vector<T>& dy,
                         const etape::active_tensor<T>& x)
{
    poison(t, T(-3));
    t.clear_adjoints();
    std::copy(dy.begin(), dy.end(), t.adjoints() + y.first_slot());
    t.sweep(static_cast<etape::slot_index>(y.first_slot() + y.size()), x.first_slot());
    return std::vector<T>(t.adjoints() + x.first_slot(), t.adjoints() + x.first_slot() + x.size());
}

/// True when every adjoint of y's slots still holds `garbage`: the sweep
/// read the cotangent where it lies and wrote nothing there.
template <class T>
bool untouched(etape::tape<T>& t, const etape::active_tensor<T>& y, T garbage)
{
    for (std::size_t i = 0; i < y.size(); ++i)
        if (etape_test::bits_of(t.adjoints()[y.first_slot() + i]) != etape_test::bits_of(garbage))
            return false;
    return true;
}

template <class T>
void same_bits(std::span<const T> got, const std::vector<T>& want)
{
    etape_test::check_same_bits(got, std::span<const T>(want));
}

} // namespace

TEST_CASE_TEMPLATE("vjp: an elementwise output reads the cotangent in place", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    // large enough for the first-writer plan to store into x's adjoints
    const std::size_t n = etape::tape<T>::min_stored_slots + 13;
    const etape::active_tensor<T> x = input<T>({n}, 0.2);
    const std::vector<T> dy = wave<T>(n, 1.1);

    SUBCASE("a primitive: elu(x), its derivative from the output")
    {
        const etape::active_tensor<T> y = etape::elu(x);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        for (const T garbage : {std::numeric_limits<T>::quiet_NaN(), T(777)}) {
            poison(t, garbage);
            same_bits(etape::vjp_view(y, dy, x), want);
            CHECK(untouched(t, y, garbage));
        }
        for (std::size_t i = 0; i < n; ++i) { // and the derivative itself
            const T yi = y.values()[i];
            CHECK(want[i] == doctest::Approx(dy[i] * (yi > 0 ? T(1) : yi + T(1))));
        }
    }
    SUBCASE("a fused expression of two leaves, one of them a var")
    {
        const etape::var<T> s = T(0.75);
        const etape::active_tensor<T> z = input<T>({n}, 2.0);
        const etape::active_tensor<T> y = etape::tanh(x * s) + z * z;
        const std::vector<T> want_x = plain_vjp(t, y, dy, x);
        const std::vector<T> want_z(t.adjoints() + z.first_slot(), t.adjoints() + z.first_slot() + n);
        const T want_s = t.adjoint(s.slot());
        poison(t, T(55));
        const auto [dx, dz, ds] = etape::vjp(y, dy, x, z, s);
        same_bits(dx.values(), want_x);
        same_bits(dz.values(), want_z);
        CHECK(etape_test::bits_of(ds) == etape_test::bits_of(want_s));
        CHECK(untouched(t, y, T(55)));
        // the same quantity as the gradient of sum(y * dy), up to rounding
        const etape::var<T> loss = etape::sum(y * etape::tensor<T>({n}, dy));
        const auto [gx, gz, gs] = etape::gradient(loss, x, z, s);
        for (std::size_t i = 0; i < n; i += 97) {
            CHECK(dx.values()[i] == doctest::Approx(gx.values()[i]));
            CHECK(dz.values()[i] == doctest::Approx(gz.values()[i]));
        }
        CHECK(ds == doctest::Approx(gs).epsilon(sizeof(T) == 4 ? 1e-4 : 1e-9));
    }
    SUBCASE("a zero cotangent skips the node and gives zeros, not garbage")
    {
        const etape::active_tensor<T> y = etape::elu(x);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        const std::vector<T> zeros(n, T(0));
        same_bits(etape::vjp_view(y, zeros, x), zeros);
    }
}

TEST_CASE_TEMPLATE("vjp: every built-in node reads the cotangent in place", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> x = input<T>({6, 8}, 0.3);
    const etape::active_tensor<T> x4 = x.reshape({1, 1, 6, 8});
    // y's vjp over x against the plain sweep's, and y's adjoints left as they were
    const auto check = [&](const etape::active_tensor<T>& y) {
        const std::vector<T> dy = wave<T>(y.size(), 2.3);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        for (const T garbage : {std::numeric_limits<T>::quiet_NaN(), T(31)}) {
            poison(t, garbage);
            same_bits(etape::vjp_view(y, dy, x), want);
            CHECK(untouched(t, y, garbage));
        }
    };
    SUBCASE("matmul, either side") {
        check(etape::matmul(x, input<T>({8, 5}, 0.7)));
        check(etape::matmul(input<T>({3, 6}, 0.7), x));
    }
    SUBCASE("softmax") { check(etape::softmax(x)); }
    SUBCASE("log_softmax") { check(etape::log_softmax(x)); }
    SUBCASE("sum over an axis") { check(etape::sum(x, 0)); }
    SUBCASE("amax over an axis") { check(etape::amax(x, 1)); }
    SUBCASE("gather_rows") { check(etape::gather_rows(x, std::vector<std::size_t>{4, 0, 4})); }
    SUBCASE("concat") { check(etape::concat({input<T>({2, 8}, 0.9), x})); }
    SUBCASE("conv2d with a bias")
    {
        check(etape::conv2d(x4, input<T>({2, 1, 2, 3}, 0.6), input<T>({2}, 0.2), {.stride = 1, .padding = 1}));
    }
    SUBCASE("max pooling") { check(etape::max_pool2d(x4)); }
    SUBCASE("average pooling") { check(etape::avg_pool2d(x4, {.size = 3, .stride = 1})); }
    SUBCASE("a reshaped elementwise output") { check(etape::active_tensor<T>(etape::tanh(x)).reshape({48})); }
}

/// A node y = 3 x written the older way: its reverse reads the adjoints of
/// its outputs on the tape (reverse(adjoints, first_output)).
template <class T>
etape::active_tensor<T> triple(etape::tape<T>& t, const etape::active_tensor<T>& x)
{
    T* values = t.template allocate_scratch<T>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        values[i] = T(3) * x.values()[i];
    const etape::slot_index input = x.first_slot();
    const std::size_t n = x.size();
    const etape::slot_index first = t.record_node(n, [input, n](T* adjoints, etape::slot_index output) {
        for (std::size_t i = 0; i < n; ++i)
            adjoints[input + i] += T(3) * adjoints[output + i];
    });
    return etape::active_tensor<T>(values, x.shape(), first, t);
}

TEST_CASE_TEMPLATE("vjp: the cotangent is copied where it cannot be read in place", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> x = input<T>({2000}, 0.4);
    const std::vector<T> dy = wave<T>(x.size(), 1.9);

    SUBCASE("a node whose reverse reads its outputs' adjoints on the tape")
    {
        const etape::active_tensor<T> y = triple(t, x);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        same_bits(etape::vjp_view(y, dy, x), want);
        same_bits(std::span<const T>(t.adjoints() + y.first_slot(), y.size()), dy); // the copy
    }
    SUBCASE("y an input, asked of itself: the cotangent")
    {
        poison(t, std::numeric_limits<T>::quiet_NaN());
        same_bits(etape::vjp_view(x, dy, x), dy);
    }
    SUBCASE("y an elementwise output, asked of itself and of its input")
    {
        const etape::active_tensor<T> y = etape::exp(x);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        const auto [dy_back, dx] = etape::vjp(y, dy, y, x);
        same_bits(dy_back.values(), dy);
        same_bits(dx.values(), want);
    }
    SUBCASE("anomaly mode")
    {
        t.detect_anomalies();
        const etape::active_tensor<T> y = etape::elu(x);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        poison(t, T(5));
        same_bits(etape::vjp_view(y, dy, x), want);
        t.detect_anomalies(false);
    }
}

TEST_CASE_TEMPLATE("vjp: bad input", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x = input<T>({4, 5}, 0.4);
    const etape::active_tensor<T> y = etape::elu(x);
    const std::vector<T> short_dy(19, T(1));
    CHECK_THROWS_WITH_AS((void)etape::vjp_view(y, short_dy, x),
                         "etape::vjp: a cotangent of 19 values for a tensor of shape [4, 5]", etape::shape_error);
    const etape::tensor<T> wrong_shape({5, 4}, std::vector<T>(20, T(1)));
    CHECK_THROWS_WITH_AS((void)etape::vjp(y, wrong_shape, x),
                         "etape::vjp: a cotangent of shape [5, 4] for a tensor of shape [4, 5]", etape::shape_error);
    const etape::tensor<T> right_shape({4, 5}, std::vector<T>(20, T(1)));
    const auto [dx] = etape::vjp(y, right_shape, x);
    CHECK(dx.shape() == x.shape());
}
