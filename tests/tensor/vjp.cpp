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

TEST_CASE_TEMPLATE("vjp: other outputs copy the cotangent", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();

    SUBCASE("a matrix product's output")
    {
        const etape::active_tensor<T> a = input<T>({40, 30}, 0.1);
        const etape::active_tensor<T> b = input<T>({30, 50}, 0.7);
        const etape::active_tensor<T> y = etape::matmul(a, b);
        const std::vector<T> dy = wave<T>(y.size(), 2.3);
        const std::vector<T> want = plain_vjp(t, y, dy, a);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        const auto [da] = etape::vjp(y, dy, a);
        same_bits(da.values(), want);
    }
    SUBCASE("y an input, asked of itself: the cotangent")
    {
        const etape::active_tensor<T> x = input<T>({2000}, 0.4);
        const std::vector<T> dy = wave<T>(x.size(), 1.9);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        same_bits(etape::vjp_view(x, dy, x), dy);
    }
    SUBCASE("y an elementwise output, asked of itself and of its input")
    {
        const etape::active_tensor<T> x = input<T>({2000}, 0.4);
        const etape::active_tensor<T> y = etape::exp(x);
        const std::vector<T> dy = wave<T>(x.size(), 1.9);
        const std::vector<T> want = plain_vjp(t, y, dy, x);
        poison(t, std::numeric_limits<T>::quiet_NaN());
        const auto [dy_back, dx] = etape::vjp(y, dy, y, x);
        same_bits(dy_back.values(), dy);
        same_bits(dx.values(), want);
    }
    SUBCASE("anomaly mode")
    {
        const etape::active_tensor<T> x = input<T>({3000}, 0.4);
        t.detect_anomalies();
        const etape::active_tensor<T> y = etape::elu(x);
        const std::vector<T> dy = wave<T>(x.size(), 1.9);
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
