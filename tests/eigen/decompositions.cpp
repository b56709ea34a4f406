// Eigen's decompositions over etape vars: a determinant, LU and Cholesky
// solves, each gradient checked against central differences in long
// double, in float and double.
#include <Eigen/Core>
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <doctest/doctest.h>

#include <etape/eigen.hpp>
#include <etape/etape.hpp>

#include "eigen/common.hpp"

using namespace etape_test;

TEST_CASE_TEMPLATE("a determinant (4 x 4: through Eigen's LU)", T, float, double)
{
    check<T>([](auto x) {
        using S = typename decltype(x)::value_type;
        return S(square<S>(x, 4, 2.0).determinant());
    }, 16);
}

TEST_CASE_TEMPLATE("a linear solve with partial-pivoting LU", T, float, double)
{
    check<T>([](auto x) {
        using S = typename decltype(x)::value_type;
        const matrix<S> a = square<S>(x, 4, 2.5);
        const vector<S> b = column<S>(x, 16, 4);
        const vector<S> solution = a.partialPivLu().solve(b);
        return S(solution.dot(column<S>(x, 20, 4)));
    }, 24);
}

TEST_CASE_TEMPLATE("a Cholesky solve of a symmetric positive definite system", T, float, double)
{
    check<T>([](auto x) {
        using S = typename decltype(x)::value_type;
        const matrix<S> a = square<S>(x, 3, 0.5);
        const matrix<S> spd = a.transpose() * a + matrix<S>::Identity(3, 3);
        const vector<S> b = column<S>(x, 9, 3);
        const Eigen::LLT<matrix<S>> llt(spd);
        return S(b.dot(llt.solve(b)));
    }, 12);
}
