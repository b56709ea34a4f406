// Stencils: slices (tensor/slice.hpp) and periodic shifts (tensor/roll.hpp)
// as leaves of fused expressions. Each stencil is one node; its values match
// the same update written on numbers, and its gradient matches finite
// differences in long double. Sizes leave SIMD tails and batches that
// straddle a roll's wrap-around.
#include <cmath>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::spread;

namespace {

/// Element k of x rotated like numpy.roll(x, shift): x[(k - shift) mod n].
long double rolled(std::span<const long double> x, std::ptrdiff_t shift, std::size_t k)
{
    const auto n = static_cast<std::ptrdiff_t>(x.size());
    return x[static_cast<std::size_t>(((static_cast<std::ptrdiff_t>(k) - shift) % n + n) % n)];
}

long double elu_of(long double v) { return v > 0 ? v : std::expm1(v); }

} // namespace

TEST_CASE_TEMPLATE("a 1-D stencil of slices is one node and differentiates like scalar code", T, ETAPE_TEST_TYPES)
{
    for (const std::size_t n : {3, 4, 37, 70}) {
        CAPTURE(n);
        const std::size_t m = n - 2;
        const etape::tensor<T> r = etape_test::output_weights<T>({m});
        const T c = T(0.375);
        const auto on_tensor = [&](const etape::active_tensor<T>& u) {
            const auto nodes = etape::active_tape<T>().stats().nodes;
            const etape::active_tensor<T> next =
                u.slice(1, m) - c * (u.slice(2, m) - u.slice(0, m)) + T(0.5) * etape::elu(u.slice(1, m));
            CHECK(etape::active_tape<T>().stats().nodes == nodes + 1);
            return etape_test::loss(next, r);
        };
        const auto on_numbers = [&](std::span<const long double> u) {
            std::vector<long double> next(m);
            for (std::size_t i = 0; i < m; ++i)
                next[i] = u[i + 1] - c * (u[i + 2] - u[i]) + 0.5L * elu_of(u[i + 1]);
            return etape_test::loss<T>(next, r);
        };
        check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>({n}));
    }
}

TEST_CASE_TEMPLATE("a 2-D five-point stencil of strided slices", T, ETAPE_TEST_TYPES)
{
    for (const auto& extents : {std::pair<std::size_t, std::size_t>{7, 13}, {3, 3}, {4, 21}}) {
        const std::size_t rows = extents.first, columns = extents.second; // named: CAPTURE's lambda takes them
        CAPTURE(rows);
        CAPTURE(columns);
        const std::size_t ri = rows - 2, ci = columns - 2;
        const etape::tensor<T> r = etape_test::output_weights<T>({ri, ci});
        const etape::tensor<T> k = spread<T>({ri, ci}, 0.25); // a coefficient per interior point
        const auto interior = [&](const etape::active_tensor<T>& u, std::size_t row, std::size_t column) {
            return etape::slice(u.slice(row, ri), 1, column, ci);
        };
        const auto on_tensor = [&](const etape::active_tensor<T>& u) {
            const auto nodes = etape::active_tape<T>().stats().nodes;
            const auto centre = interior(u, 1, 1);
            const etape::active_tensor<T> next =
                centre + k * (interior(u, 0, 1) + interior(u, 2, 1) + interior(u, 1, 0) + interior(u, 1, 2) -
                              T(4) * centre);
            CHECK(etape::active_tape<T>().stats().nodes == nodes + 1);
            CHECK(next.shape() == etape::shape{ri, ci});
            return etape_test::loss(next, r);
        };
        const auto on_numbers = [&](std::span<const long double> u) {
            const auto at = [&](std::size_t i, std::size_t j) { return u[i * columns + j]; };
            std::vector<long double> next(ri * ci);
            for (std::size_t i = 1; i + 1 < rows; ++i)
                for (std::size_t j = 1; j + 1 < columns; ++j)
                    next[(i - 1) * ci + j - 1] =
                        at(i, j) + static_cast<long double>(k.data()[(i - 1) * ci + j - 1]) *
                                       (at(i - 1, j) + at(i + 1, j) + at(i, j - 1) + at(i, j + 1) - 4 * at(i, j));
            return etape_test::loss<T>(next, r);
        };
        check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>({rows, columns}));
    }
}

TEST_CASE_TEMPLATE("a fused sum over strided slices", T, ETAPE_TEST_TYPES)
{
    // columns 2..7 of rows 1..4 of a 6 x 9 matrix, squared and summed: one node, output stride 0
    const auto on_tensor = [](const etape::active_tensor<T>& u) {
        const auto part = etape::slice(etape::slice(u, 0, 1, 4), 1, 2, 6);
        return etape::sum(part * part * T(0.5) + part);
    };
    const auto on_numbers = [](std::span<const long double> u) {
        long double s = 0;
        for (std::size_t i = 1; i < 5; ++i)
            for (std::size_t j = 2; j < 8; ++j)
                s += u[i * 9 + j] * u[i * 9 + j] / 2 + u[i * 9 + j];
        return s;
    };
    check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>({6, 9}));
}

TEST_CASE_TEMPLATE("slices are views: the axis-0 member and etape::slice read the tensor's slots", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({4, 5}));
    const auto nodes = scope.get().stats().nodes;
    const etape::active_tensor<T> rows = x.slice(1, 2);
    CHECK(scope.get().stats().nodes == nodes);
    CHECK(rows.shape() == etape::shape{2, 5});
    CHECK(rows(0, 0).slot() == x(1, 0).slot());
    CHECK(rows(1, 4).value() == x(2, 4).value());
    const auto columns = etape::slice(x, 1, 3, 2);
    CHECK(columns.shape() == etape::shape{4, 2});
    CHECK(columns.row_stride() == 5);
    CHECK_FALSE(columns.contiguous());
    CHECK(etape::slice(x, 0, 1, 2).contiguous());
    const etape::active_tensor<T> copy = columns; // recorded as a copy
    CHECK(scope.get().stats().nodes == nodes + 1);
    CHECK(copy(3, 1).value() == x(3, 4).value());
    const auto twice = etape::slice(columns, 0, 2, 2); // rows 2..3 of columns 3..4
    const etape::var<T> y = etape::sum(twice * T(3));
    const auto [g] = etape::gradient(y, x);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            CHECK(g(i, j) == (i >= 2 && j >= 3 ? T(3) : T(0)));
    // a 1-D slice of a row broadcasts as a row, like any vector
    const etape::active_tensor<T> bias = x.slice(0, 1).reshape({5});
    const etape::active_tensor<T> shifted = etape::slice(bias, 0, 1, 3) + etape::slice(x, 1, 0, 3);
    CHECK(shifted(2, 1).value() == x(0, 2).value() + x(2, 1).value());
}

TEST_CASE_TEMPLATE("a periodic Lax-Wendroff step of rolls is one node over the whole tensor", T, ETAPE_TEST_TYPES)
{
    for (const std::size_t n : {3, 5, 37, 100}) {
        CAPTURE(n);
        const etape::tensor<T> r = etape_test::output_weights<T>({n});
        const T a = T(0.25), b = T(0.125);
        const auto on_tensor = [&](const etape::active_tensor<T>& u) {
            const auto nodes = etape::active_tape<T>().stats().nodes;
            const auto right = etape::roll(u, -1), left = etape::roll(u, 1);
            const etape::active_tensor<T> next = u - a * (right - left) + b * (right - T(2) * u + left);
            CHECK(etape::active_tape<T>().stats().nodes == nodes + 1);
            return etape_test::loss(next, r);
        };
        const auto on_numbers = [&](std::span<const long double> u) {
            std::vector<long double> next(n);
            for (std::size_t i = 0; i < n; ++i) {
                const long double right = u[(i + 1) % n], left = u[(i + n - 1) % n];
                next[i] = u[i] - a * (right - left) + b * (right - 2 * u[i] + left);
            }
            return etape_test::loss<T>(next, r);
        };
        check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>({n}));
    }
}

TEST_CASE_TEMPLATE("a periodic five-point step over a grid, twice, with another reader of the grid", T,
                   ETAPE_TEST_TYPES)
{
    // Each step's leaves all read one tensor, rolled along both axes: its
    // reverse gathers each adjoint in one pass (tensor/stencil_reverse.hpp),
    // storing it when it is the first writer (the second step's input) and
    // adding to it otherwise (u0, which the last term reads again); 2 x 613
    // points are past tape::min_stored_slots, which a node must reach to store.
    for (const auto& extents : {std::pair<std::size_t, std::size_t>{7, 13}, {1, 9}, {5, 4}, {4, 1}, {2, 613}}) {
        const std::size_t rows = extents.first, columns = extents.second;
        CAPTURE(rows);
        CAPTURE(columns);
        const etape::shape grid{rows, columns};
        const etape::tensor<T> r = etape_test::output_weights<T>(grid);
        const etape::tensor<T> k = spread<T>(grid, 0.2); // a coefficient per point
        const auto step = [&](const etape::active_tensor<T>& u) {
            const auto nodes = etape::active_tape<T>().stats().nodes;
            const etape::active_tensor<T> next =
                u + k * (etape::roll(u, 1, 0) + etape::roll(u, -1, 0) + etape::roll(u, 1, 1) + etape::roll(u, -1, 1) -
                         T(4) * u) * etape::roll(u, 2, 1);
            CHECK(etape::active_tape<T>().stats().nodes == nodes + 1);
            return next;
        };
        const auto on_tensor = [&](const etape::active_tensor<T>& u0) {
            const etape::active_tensor<T> u2 = step(step(u0));
            return etape_test::loss(u2, r) + etape::sum(u0 * u0);
        };
        const auto at = [&](std::span<const long double> u, std::size_t i, std::size_t j, std::ptrdiff_t di,
                            std::ptrdiff_t dj) {
            const auto wrap = [](std::size_t x, std::ptrdiff_t d, std::size_t n) {
                const auto m = static_cast<std::ptrdiff_t>(n);
                return static_cast<std::size_t>(((static_cast<std::ptrdiff_t>(x) + d) % m + m) % m);
            };
            return u[wrap(i, di, rows) * columns + wrap(j, dj, columns)];
        };
        const auto step_numbers = [&](std::span<const long double> u) {
            std::vector<long double> next(rows * columns);
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < columns; ++j) {
                    const long double laplacian = at(u, i, j, -1, 0) + at(u, i, j, 1, 0) + at(u, i, j, 0, -1) +
                                                  at(u, i, j, 0, 1) - 4 * at(u, i, j, 0, 0);
                    next[i * columns + j] = at(u, i, j, 0, 0) + static_cast<long double>(k.data()[i * columns + j]) *
                                                                    laplacian * at(u, i, j, 0, -2);
                }
            return next;
        };
        const auto on_numbers = [&](std::span<const long double> u0) {
            const std::vector<long double> u1 = step_numbers(u0);
            long double squares = 0;
            for (const long double v : u0)
                squares += v * v;
            return etape_test::loss<T>(step_numbers(u1), r) + squares;
        };
        check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>(grid, 0.25));
    }
}

TEST_CASE_TEMPLATE("roll along the first and the last axis, by any shift", T, ETAPE_TEST_TYPES)
{
    const std::size_t rows = 5, columns = 19;
    for (const std::size_t axis : {0, 1})
        for (const std::ptrdiff_t shift : {0, 1, -1, 3, -7, 24, -40}) {
            CAPTURE(axis);
            CAPTURE(shift);
            const etape::tensor<T> r = etape_test::output_weights<T>({rows, columns});
            const auto on_tensor = [&](const etape::active_tensor<T>& u) {
                const etape::active_tensor<T> y = etape::roll(u, shift, axis) * (u + T(1));
                return etape_test::loss(y, r);
            };
            const auto on_numbers = [&](std::span<const long double> u) {
                std::vector<long double> y(rows * columns);
                for (std::size_t i = 0; i < rows; ++i)
                    for (std::size_t j = 0; j < columns; ++j) {
                        long double source = 0;
                        if (axis == 0) {
                            std::vector<long double> column(rows);
                            for (std::size_t k = 0; k < rows; ++k)
                                column[k] = u[k * columns + j];
                            source = rolled(column, shift, i);
                        } else {
                            source = rolled(u.subspan(i * columns, columns), shift, j);
                        }
                        y[i * columns + j] = source * (u[i * columns + j] + 1);
                    }
                return etape_test::loss<T>(y, r);
            };
            check_tensor_gradient<T>(on_tensor, on_numbers, spread<T>({rows, columns}));
        }
}

TEST_CASE_TEMPLATE("a roll's adjoints, recomputed or stored by its node as their first writer", T, ETAPE_TEST_TYPES)
{
    // 4,099 elements: past tape::min_stored_slots, so clear_and_sweep lets a node store
    const std::size_t n = 4099;
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> u(spread<T>({n}));
    const etape::tensor<T> r = etape_test::output_weights<T>({n});
    // a product by a constant: partials recomputed in the reverse, nothing stored
    const etape::active_tensor<T> twice = etape::roll(u, 3) * T(2);
    const auto [g] = etape::gradient(etape::sum(twice * r), u);
    for (std::size_t k = 0; k < n; ++k) // twice[k] = 2 u[k - 3]: u[i] gets 2 r[i + 3]
        REQUIRE(g.values()[k] == T(2) * r.data()[(k + 3) % n]);
    // exp: partials stored in the forward; the node is the first to write u's adjoints and stores them
    const etape::active_tensor<T> e = etape::exp(etape::roll(u, 3));
    const auto [ge] = etape::gradient(etape::sum(e * r), u);
    for (std::size_t k = 0; k < n; ++k)
        REQUIRE(ge.values()[k] == doctest::Approx(r.data()[(k + 3) % n] * std::exp(u.values()[k])).epsilon(1e-6));
}

TEST_CASE("slices and rolls outside the tensor, or of a middle axis, are refused with what was asked")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(spread<double>({4, 5}));
    CHECK_THROWS_WITH_AS((void)x.slice(3, 2),
                         "etape: slice [3, 3 + 2) of axis 0 is outside its extent 4 (shape [4, 5])",
                         std::out_of_range);
    CHECK_THROWS_WITH_AS((void)etape::slice(x, 1, 4, 2),
                         "etape: slice [4, 4 + 2) of axis 1 is outside its extent 5 (shape [4, 5])", std::out_of_range);
    CHECK_THROWS_AS((void)etape::slice(x, 2, 0, 1), etape::shape_error);
    const etape::active_tensor<double> cube(spread<double>({2, 3, 4}));
    CHECK_THROWS_AS((void)etape::slice(cube, 1, 0, 2), etape::shape_error);
    CHECK_THROWS_AS((void)etape::roll(cube, 1, 1), etape::shape_error);
    CHECK(etape::slice(cube, 1, 0, 3).shape() == etape::shape{2, 3, 4}); // the whole axis: nothing to space out
    const etape::active_tensor<double> cube_rows = etape::slice(cube, 2, 1, 2);
    CHECK(cube_rows(1, 2, 1).value() == cube(1, 2, 2).value());
    // a rolled tensor is read elementwise, never broadcast as a row
    const etape::active_tensor<double> row(spread<double>({5}));
    CHECK_THROWS_WITH_AS((void)etape::active_tensor<double>(etape::roll(row, 1) + x),
                         "etape: shape mismatch in roll (a rolled tensor is read elementwise): [5] and [4, 5]",
                         etape::shape_error);
}

TEST_CASE_TEMPLATE("a recomputing node reads its value tensors as they were when it was recorded", T, ETAPE_TEST_TYPES)
{
    // x * w + x is all sums and products: its reverse recomputes the partials
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({37}));
    etape::tensor<T> w = spread<T>({37}, 2.0);
    const etape::tensor<T> w_then = w;
    const etape::active_tensor<T> y = x * w + x;
    for (std::size_t i = 0; i < w.size(); ++i)
        w.data()[i] = T(100); // the caller reuses the buffer (a dropout mask, the next observation)
    const auto [g] = etape::gradient(etape::sum(y), x);
    for (std::size_t i = 0; i < g.size(); ++i)
        CHECK(g.values()[i] == w_then.data()[i] + T(1));
}

TEST_CASE_TEMPLATE("a value tensor read at every step is kept on the tape once while it is unchanged", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const std::size_t n = 1000;
    const etape::active_tensor<T> x(spread<T>({n}));
    etape::tensor<T> k = spread<T>({n}, 0.5);
    const auto recorded = [&] { return etape::active_tape<T>().stats().bytes; };
    // x * k + x recomputes its partials, so its node keeps a copy of k
    const auto before_first = recorded();
    const etape::active_tensor<T> y1 = x * k + x;
    const auto first = recorded() - before_first;
    const etape::active_tensor<T> y2 = y1 * k + y1; // k unchanged: the same copy
    const auto second = recorded() - before_first - first;
    CHECK(first >= second + n * sizeof(T));
    k.data()[n - 1] += T(1); // one bit of change is enough for a new copy
    const etape::active_tensor<T> y3 = y2 * k + y2;
    CHECK(recorded() - before_first - first - second >= n * sizeof(T));
    // each node reads k as it was when recorded (k + 1 is added as k a + a: Approx)
    etape::tensor<T> k_then = k;
    k_then.data()[n - 1] -= T(1);
    const auto [g] = etape::gradient(etape::sum(y3), x);
    const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    for (std::size_t i = 0; i < n; ++i) {
        const T before = k_then.data()[i] + T(1), now = k.data()[i] + T(1);
        REQUIRE(g.values()[i] == doctest::Approx(before * before * now).epsilon(tolerance));
    }
}
