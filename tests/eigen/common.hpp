// What the Eigen tests share: matrices and vectors of any scalar built from
// a flat input array, and a gradient check in float or double.
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include <Eigen/Core>
#include <doctest/doctest.h>

#include <etape/eigen.hpp>
#include <etape/etape.hpp>

namespace etape_test {

template <class S, int N = Eigen::Dynamic>
using matrix = Eigen::Matrix<S, N, N>;
template <class S, int N = Eigen::Dynamic>
using vector = Eigen::Matrix<S, N, 1>;

/// x[0 .. n*n) as an n x n matrix (column by column) plus `shift` on the
/// diagonal, which keeps it well away from singular.
template <class S, int N = Eigen::Dynamic>
matrix<S, N> square(std::span<const S> x, Eigen::Index n, double shift)
{
    matrix<S, N> a(n, n);
    for (Eigen::Index j = 0; j < n; ++j)
        for (Eigen::Index i = 0; i < n; ++i)
            a(i, j) = i == j ? S(x[static_cast<std::size_t>(j * n + i)] + shift) : x[static_cast<std::size_t>(j * n + i)];
    return a;
}

template <class S, int N = Eigen::Dynamic>
vector<S, N> column(std::span<const S> x, std::size_t first, Eigen::Index n)
{
    vector<S, N> v(n);
    for (Eigen::Index i = 0; i < n; ++i)
        v(i) = x[first + static_cast<std::size_t>(i)];
    return v;
}

template <class T>
std::vector<T> inputs(std::size_t n)
{
    std::vector<T> x(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = static_cast<T>(0.8 * std::sin(1.3 * static_cast<double>(i) + 0.4));
    return x;
}

template <class T, class F>
void check(F&& f, std::size_t n)
{
    etape::tape_scope<T> scope;
    const auto report = etape::check_gradient(f, inputs<T>(n));
    CAPTURE(report.worst);
    CAPTURE(static_cast<double>(report.worst_excess));
    CHECK(report.passed);
}

} // namespace etape_test
