// Test helpers for tensors: a tensor function's gradient against finite
// differences of the same function written on plain numbers.
#pragma once

#include <span>
#include <vector>

#include "support/check.hpp"

namespace etape_test {

/// `g`, a gradient that etape computed at `at`, against central differences
/// of `on_numbers(std::span<const long double>)`, the same function
/// computed on plain numbers.
template <class T, class OnNumbers>
void check_against_differences(const OnNumbers& on_numbers, std::span<const T> at, std::span<const T> g,
                               etape::gradient_check_options options = etape::gradient_check_options::for_type<T>())
{
    const auto fd = etape::finite_difference_gradient(on_numbers, at, options);
    const auto report = etape::compare_gradients(g, std::span<const long double>(fd), options);
    INFO(fmt::format("{}", report));
    CHECK(report.passed);
}

/// `on_tensor(active_tensor<T>)` returns the var to differentiate;
/// `on_numbers(std::span<const long double>)` computes the same value from
/// the flat elements.
template <class T, class OnTensor, class OnNumbers>
void check_tensor_gradient(OnTensor on_tensor, OnNumbers on_numbers, const etape::tensor<T>& at,
                           etape::gradient_check_options options = etape::gradient_check_options::for_type<T>())
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(at);
    const etape::var<T> y = on_tensor(x);
    const auto [g] = etape::gradient(y, x);
    check_against_differences<T>(on_numbers, at.values(), g.values(), options);
}

/// Values spread over [-range, range], deterministic.
template <class T>
etape::tensor<T> spread(const etape::shape& s, double range = 3.0)
{
    etape::tensor<T> t(s);
    const std::size_t n = t.size();
    for (std::size_t i = 0; i < n; ++i)
        t.data()[i] = static_cast<T>(range * (2.0 * static_cast<double>((i * 7919) % (n + 1)) / static_cast<double>(n + 1) - 1.0) + 0.01);
    return t;
}

} // namespace etape_test

namespace etape_test {

/// The gradient of a function of several tensors with respect to each of
/// them in turn (x, w and bias of conv2d, say): `on_tensors(xs)` gets every
/// argument as an active tensor (a const std::vector, in order) and returns
/// the var to differentiate; `on_numbers(xs)` computes the same value from
/// the arguments' flat elements (a const std::vector<std::vector<long double>>).
template <class T, class OnTensors, class OnNumbers>
void check_tensor_gradients(OnTensors on_tensors, OnNumbers on_numbers, const std::vector<etape::tensor<T>>& at,
                            etape::gradient_check_options options = etape::gradient_check_options::for_type<T>())
{
    std::vector<std::vector<long double>> numbers;
    for (const auto& a : at)
        numbers.emplace_back(a.values().begin(), a.values().end());
    for (std::size_t k = 0; k < at.size(); ++k) {
        etape::tape_scope<T> scope;
        std::vector<etape::active_tensor<T>> xs;
        for (const auto& a : at)
            xs.emplace_back(a);
        const std::vector<etape::active_tensor<T>>& arguments = xs;
        const etape::var<T> y = on_tensors(arguments);
        const auto [g] = etape::gradient(y, xs[k]);
        std::vector<std::vector<long double>> point = numbers;
        INFO("argument ", k);
        check_against_differences<T>(
            [&](std::span<const long double> p) {
                point[k].assign(p.begin(), p.end());
                const std::vector<std::vector<long double>>& all = point;
                return on_numbers(all);
            },
            at[k].values(), g.values(), options);
    }
}

/// Fixed unequal weights r over an output, in steps of 1/4 (exact in float):
/// a loss that weights outputs unequally catches a wrong index mapping.
template <class T> etape::tensor<T> output_weights(const etape::shape& s)
{
    etape::tensor<T> r(s);
    for (std::size_t k = 0; k < r.size(); ++k)
        r.data()[k] = T(0.25) * static_cast<T>(1 + (k * 3) % 7) - T(1);
    return r;
}

/// The loss both sides of a check compute: sum_k r_k y_k + y_k^2 / 4.
template <class T> etape::var<T> loss(const etape::active_tensor<T>& y, const etape::tensor<T>& r)
{
    return etape::sum(y * r + y * y * T(0.25));
}

template <class T> long double loss(std::span<const long double> y, const etape::tensor<T>& r)
{
    long double s = 0;
    for (std::size_t k = 0; k < y.size(); ++k)
        s += static_cast<long double>(r.data()[k]) * y[k] + y[k] * y[k] / 4;
    return s;
}

} // namespace etape_test
