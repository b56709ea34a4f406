// Matrix products: every transpose combination, active on either side, the
// BLAS path against the blocked fallback, shape errors.
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::spread;

namespace {
/// sum_ij w_ij (op(A) op(B))_ij on plain numbers; A is `a`, B is `b`.
template <class V>
long double weighted_product(std::span<const V> a, std::span<const V> b, std::size_t m, std::size_t n, std::size_t k,
                             bool ta, bool tb)
{
    long double s = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            long double c = 0;
            for (std::size_t p = 0; p < k; ++p) {
                const long double aip = ta ? a[p * m + i] : a[i * k + p];
                const long double bpj = tb ? b[j * k + p] : b[p * n + j];
                c += aip * bpj;
            }
            s += c * static_cast<long double>(1 + i + 2 * j) / 10; // unequal weights
        }
    return s;
}

template <class T>
etape::tensor<T> weights(std::size_t m, std::size_t n)
{
    etape::tensor<T> w({m, n});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            w(i, j) = static_cast<T>(1 + i + 2 * j) / 10;
    return w;
}
} // namespace

TEST_CASE_TEMPLATE("matmul gradients for every transpose, either side active", T, ETAPE_TEST_TYPES)
{
    const std::size_t m = 3, n = 4, k = 5;
    for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
            CAPTURE(ta);
            CAPTURE(tb);
            const auto a_values = spread<T>(ta ? etape::shape{k, m} : etape::shape{m, k}, 1.5);
            const auto b_values = spread<T>(tb ? etape::shape{n, k} : etape::shape{k, n}, 1.0);
            const auto op_a = ta ? etape::transpose::yes : etape::transpose::no;
            const auto op_b = tb ? etape::transpose::yes : etape::transpose::no;
            const auto w = weights<T>(m, n);
            // with respect to A (B a value tensor)
            check_tensor_gradient<T>(
                [&](const etape::active_tensor<T>& a) { return etape::sum(etape::matmul(a, b_values, op_a, op_b) * w); },
                [&](std::span<const long double> a) {
                    std::vector<long double> b(b_values.values().begin(), b_values.values().end());
                    return weighted_product<long double>(a, b, m, n, k, ta, tb);
                },
                a_values);
            // with respect to B (A a value tensor)
            check_tensor_gradient<T>(
                [&](const etape::active_tensor<T>& b) { return etape::sum(etape::matmul(a_values, b, op_a, op_b) * w); },
                [&](std::span<const long double> b) {
                    std::vector<long double> a(a_values.values().begin(), a_values.values().end());
                    return weighted_product<long double>(a, b, m, n, k, ta, tb);
                },
                b_values);
        }
}

TEST_CASE_TEMPLATE("matmul with both sides active and a fused expression as input", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> a(spread<T>({2, 3}));
    const etape::active_tensor<T> b(spread<T>({3, 2}));
    const etape::var<T> y = etape::sum(etape::matmul(etape::tanh(a), b * 2.0));
    const auto [ga, gb] = etape::gradient(y, a, b);
    // d/da_ip = (1 - tanh^2 a_ip) * sum_j 2 b_pj ; d/db_pj = 2 sum_i tanh a_ip
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t p = 0; p < 3; ++p) {
            const T th = std::tanh(a.values()[i * 3 + p]);
            const T row = 2 * (b.values()[p * 2] + b.values()[p * 2 + 1]);
            CHECK(ga(i, p) == doctest::Approx((1 - th * th) * row).epsilon(1e-5));
        }
    for (std::size_t p = 0; p < 3; ++p) {
        const T col = 2 * (std::tanh(a.values()[p]) + std::tanh(a.values()[3 + p]));
        CHECK(gb(p, 0) == doctest::Approx(col).epsilon(1e-5));
    }
}

TEST_CASE_TEMPLATE("the blocked fallback equals the library product", T, ETAPE_TEST_TYPES)
{
    // sizes that are not multiples of the block, transposes included
    const std::size_t m = 70, n = 65, k = 129;
    const auto a = spread<T>({m, k});
    const auto b = spread<T>({k, n});
    std::vector<T> fast(m * n, T(0)), blocked(m * n, T(0)), naive(m * n, T(0));
    etape::detail::gemm_accumulate(false, false, m, n, k, a.data(), k, b.data(), n, fast.data(), n);
    etape::detail::gemm_blocked(false, false, m, n, k, a.data(), k, b.data(), n, blocked.data(), n);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
            for (std::size_t p = 0; p < k; ++p)
                naive[i * n + j] += a.data()[i * k + p] * b.data()[p * n + j];
    for (std::size_t i = 0; i < m * n; ++i) {
        CHECK(fast[i] == doctest::Approx(naive[i]).epsilon(1e-4));
        CHECK(blocked[i] == doctest::Approx(naive[i]).epsilon(1e-4));
    }
}

TEST_CASE("matmul shape errors name both shapes")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> a(etape::tensor<double>({2, 3}));
    const etape::tensor<double> b({2, 3});
    CHECK_THROWS_WITH_AS((void)etape::matmul(a, b), "etape: shape mismatch in matmul: [2, 3] and [2, 3]",
                         etape::shape_error);
    CHECK_NOTHROW((void)etape::matmul(a, b, etape::transpose::no, etape::transpose::yes));
    CHECK_THROWS_WITH_AS((void)etape::matmul(a, etape::tensor<double>({2})),
                         "etape: shape mismatch in matmul: [2, 3] and [2]", etape::shape_error);
    const etape::active_tensor<double> empty(etape::tensor<double>({0, 3}));
    CHECK(etape::matmul(empty, etape::tensor<double>({3, 4})).shape() == etape::shape{0, 4});
}

TEST_CASE_TEMPLATE("matmul of vectors: W x, x W and x . y as numpy computes them, with their gradients", T,
                   ETAPE_TEST_TYPES)
{
    const std::size_t m = 3, k = 4;
    const auto w_values = spread<T>({m, k}, 1.5);
    const auto x_values = spread<T>({k}, 1.0);
    const auto row_weights = weights<T>(1, m).reshape({m});
    {
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> w(w_values), x(x_values);
        const etape::active_tensor<T> wx = etape::matmul(w, x);
        const etape::active_tensor<T> xw = etape::matmul(x, w, etape::transpose::no, etape::transpose::yes);
        const etape::active_tensor<T> xx = etape::matmul(x, x, etape::transpose::yes);
        CHECK(wx.shape() == etape::shape{m});
        CHECK(xw.shape() == etape::shape{m});
        CHECK(xx.shape() == etape::shape{});
        T dot = 0;
        for (std::size_t p = 0; p < k; ++p)
            dot += x_values(p) * x_values(p);
        CHECK(xx.values()[0] == doctest::Approx(dot));
        for (std::size_t i = 0; i < m; ++i) {
            T expected = 0;
            for (std::size_t p = 0; p < k; ++p)
                expected += w_values(i, p) * x_values(p);
            CHECK(wx.values()[i] == doctest::Approx(expected));
            CHECK(xw.values()[i] == wx.values()[i]);
        }
    }
    // the gradients of W x with respect to x (W a value tensor) and to W (x a value tensor)
    check_tensor_gradient<T>([&](const etape::active_tensor<T>& x) { return etape::sum(etape::matmul(w_values, x) * row_weights); },
                             [&](std::span<const long double> x) {
                                 std::vector<long double> w(w_values.values().begin(), w_values.values().end());
                                 return weighted_product<long double>(x, w, 1, m, k, false, true);
                             },
                             x_values);
    check_tensor_gradient<T>([&](const etape::active_tensor<T>& w) { return etape::sum(etape::matmul(w, x_values) * row_weights); },
                             [&](std::span<const long double> w) {
                                 std::vector<long double> x(x_values.values().begin(), x_values.values().end());
                                 return weighted_product<long double>(x, w, 1, m, k, false, true);
                             },
                             w_values);
}
