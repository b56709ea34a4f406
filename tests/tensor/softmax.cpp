// softmax, log_softmax and softmax cross-entropy against finite differences.
#include <cmath>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::spread;

namespace {
template <class V>
std::vector<long double> plain_log_softmax(std::span<const V> x, std::size_t rows, std::size_t columns)
{
    std::vector<long double> y(x.size());
    for (std::size_t r = 0; r < rows; ++r) {
        long double m = x[r * columns];
        for (std::size_t c = 1; c < columns; ++c)
            m = std::max<long double>(m, x[r * columns + c]);
        long double s = 0;
        for (std::size_t c = 0; c < columns; ++c)
            s += std::exp(static_cast<long double>(x[r * columns + c]) - m);
        for (std::size_t c = 0; c < columns; ++c)
            y[r * columns + c] = x[r * columns + c] - m - std::log(s);
    }
    return y;
}
} // namespace

TEST_CASE_TEMPLATE("softmax and log_softmax along the last axis", T, ETAPE_TEST_TYPES)
{
    const auto at = spread<T>({3, 5}, 4.0);
    const auto weight = [](std::size_t i) { return static_cast<long double>((i * 3) % 7) - 2.5L; };
    for (const bool log_form : {false, true}) {
        CAPTURE(log_form);
        check_tensor_gradient<T>(
            [&](const etape::active_tensor<T>& x) {
                const etape::active_tensor<T> y = log_form ? etape::log_softmax(x) : etape::softmax(x);
                etape::var<T> s = T(0);
                for (std::size_t i = 0; i < y.size(); ++i)
                    s += y.at(i) * static_cast<T>(weight(i));
                return s;
            },
            [&](auto x) {
                const auto ly = plain_log_softmax(x, 3, 5);
                long double s = 0;
                for (std::size_t i = 0; i < ly.size(); ++i)
                    s += (log_form ? ly[i] : std::exp(ly[i])) * weight(i);
                return s;
            },
            at);
    }
}

TEST_CASE_TEMPLATE("softmax cross-entropy over class indices", T, ETAPE_TEST_TYPES)
{
    const std::vector<std::size_t> labels{2, 0, 4, 4};
    check_tensor_gradient<T>(
        [&](const etape::active_tensor<T>& x) { return etape::softmax_cross_entropy(x, labels); },
        [&](auto x) {
            const auto ly = plain_log_softmax(x, 4, 5);
            long double loss = 0;
            for (std::size_t r = 0; r < 4; ++r)
                loss -= ly[r * 5 + labels[r]];
            return loss / 4;
        },
        spread<T>({4, 5}, 5.0));

    // the fused loss equals mean(-log_softmax[label])
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({4, 5}, 5.0));
    const etape::var<T> fused = etape::softmax_cross_entropy(x * 1.0, labels);
    const etape::active_tensor<T> ls = etape::log_softmax(x);
    etape::var<T> unfused = T(0);
    for (std::size_t r = 0; r < 4; ++r)
        unfused -= ls(r, labels[r]) / 4.0;
    CHECK(fused.value() == doctest::Approx(unfused.value()).epsilon(1e-6));
}

TEST_CASE("softmax stays finite for huge logits and rejects bad labels")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({1, 3}, {1000.0, 1001.0, -1000.0}));
    const etape::active_tensor<double> p = etape::softmax(x);
    CHECK(p.values()[1] == doctest::Approx(1 / (1 + std::exp(-1.0))));
    CHECK(p.values()[2] == 0.0);
    const etape::var<double> loss = etape::softmax_cross_entropy(x, std::vector<std::size_t>{0});
    CHECK(std::isfinite(loss.value()));
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(x, std::vector<std::size_t>{3}),
                         "etape: softmax_cross_entropy: label 3 of row 0 out of range for 3 classes", std::out_of_range);
    CHECK_THROWS_AS((void)etape::softmax_cross_entropy(x, std::vector<std::size_t>{0, 1}), etape::shape_error);
}
