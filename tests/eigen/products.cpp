// Eigen over etape vars: products and norms in fixed and dynamic sizes,
// each gradient checked against central differences in long double, in
// float and double; vars mixed with plain numbers; and the views between
// Eigen matrices and etape tensors.
#include <Eigen/Core>
#include <doctest/doctest.h>

#include <etape/eigen.hpp>
#include <etape/etape.hpp>

#include "eigen/common.hpp"

using namespace etape_test;

TEST_CASE_TEMPLATE("a product of Eigen matrices of vars and its squared norm", T, float, double)
{
    check<T>([](auto x) {
        using S = typename decltype(x)::value_type;
        const matrix<S> a = square<S>(x, 3, 0.0);
        const vector<S> v = column<S>(x, 9, 3);
        return S((a * v).squaredNorm() + a.trace() * v.sum());
    }, 12);
}

TEST_CASE_TEMPLATE("a norm and a fixed-size product", T, float, double)
{
    check<T>([](auto x) {
        using S = typename decltype(x)::value_type;
        const matrix<S, 2> a = square<S, 2>(x, 2, 1.0);
        const vector<S, 2> v = column<S, 2>(x, 4, 2);
        return S((a.transpose() * a * v).norm());
    }, 6);
}

TEST_CASE("a var times a plain number inside an Eigen expression")
{
    etape::tape_scope<double> scope;
    vector<etape::var<double>> v(2);
    v << 1.5, -2.0;
    const etape::var<double> y = (v * 3.0).sum() + (2.0 * v).squaredNorm();
    const auto [d0, d1] = etape::gradient(y, v(0), v(1));
    CHECK(y.value() == doctest::Approx(3 * -0.5 + 4 * (1.5 * 1.5 + 4.0)));
    CHECK(d0 == doctest::Approx(3 + 8 * 1.5));
    CHECK(d1 == doctest::Approx(3 + 8 * -2.0));
}

TEST_CASE("map: an Eigen view of a tensor's values, written through")
{
    etape::tensor<double> t(etape::shape{2, 3}, {1, 2, 3, 4, 5, 6});
    auto m = etape::eigen::map(t);
    CHECK(m.rows() == 2);
    CHECK(m.cols() == 3);
    CHECK(m(1, 0) == 4);
    CHECK(m.data() == t.data());
    m(0, 2) = 30;
    CHECK(t(0, 2) == 30);

    const etape::tensor<double> vector_tensor(etape::shape{3}, {7, 8, 9});
    const auto column_view = etape::eigen::map(vector_tensor);
    CHECK(column_view.cols() == 1);
    CHECK(column_view(2, 0) == 9);

    const etape::tensor<double> cube(etape::shape{2, 2, 2});
    CHECK_THROWS_WITH_AS((void)etape::eigen::map(cube),
                         "etape::eigen: a tensor of shape [2, 2, 2] is not a matrix: only rank 1 (a column) and "
                         "rank 2 map to Eigen",
                         etape::shape_error);
}

TEST_CASE("vars: Eigen expressions over an active tensor's elements, differentiated back to it")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> w(etape::tensor<double>(etape::shape{2, 2}, {1, 2, 3, 4}));
    CHECK(etape::eigen::values(w)(1, 0) == 3);
    CHECK(etape::eigen::values(w).data() == w.data());
    const auto m = etape::eigen::vars(w);
    vector<double, 2> v(0.5, -1.0);
    const etape::var<double> y = (m * v.cast<etape::var<double>>()).squaredNorm();
    // y = sum_i (W v)_i^2, dy/dW_ij = 2 (W v)_i v_j; W v = (-1.5, -2.5)
    const auto g = etape::gradient_view(y, w);
    CHECK(g[0] == doctest::Approx(2 * -1.5 * 0.5));
    CHECK(g[1] == doctest::Approx(2 * -1.5 * -1.0));
    CHECK(g[2] == doctest::Approx(2 * -2.5 * 0.5));
    CHECK(g[3] == doctest::Approx(2 * -2.5 * -1.0));
}

TEST_CASE("to_tensor: row-major blocks copied as they lie, other layouts evaluated first")
{
    etape::eigen::row_major_matrix<float> r(2, 3);
    r << 1, 2, 3, 4, 5, 6;
    const etape::tensor<float> from_row_major = etape::eigen::to_tensor(r);
    CHECK(from_row_major.shape() == etape::shape{2, 3});
    CHECK(from_row_major(1, 2) == 6);
    CHECK(from_row_major.data() != r.data()); // the tensor owns its copy

    Eigen::MatrixXf c(2, 3);
    c << 1, 2, 3, 4, 5, 6;
    const etape::tensor<float> from_column_major = etape::eigen::to_tensor(c);
    CHECK(from_column_major(0, 1) == 2);
    CHECK(from_column_major(1, 0) == 4);

    const etape::tensor<float> from_block = etape::eigen::to_tensor(c.block(0, 1, 2, 2));
    CHECK(from_block.shape() == etape::shape{2, 2});
    CHECK(from_block(1, 1) == 6);

    const etape::tensor<float> from_expression = etape::eigen::to_tensor(2 * c.transpose());
    CHECK(from_expression.shape() == etape::shape{3, 2});
    CHECK(from_expression(2, 1) == 12);
}
