// Invalid input at every tensor entry point of include/etape (the scalar
// ones: invalid_input.cpp): each case is a clear exception (its type, and a
// message that names the operation and the offending value or shape) or a
// documented IEEE result; never a crash and never a silently wrong
// recording. One TEST_CASE per header; the ASan + UBSan build runs the same
// cases. Entry points covered (etape:: omitted):
//
//   tensor/shape.hpp        shape(extents): rank > 4, overflow, zero extents; shape::extent
//   tensor/tensor.hpp       tensor(shape, values) of the wrong size, operator(), reshape, flatten
//   tensor/active_tensor.hpp active_tensor(tensor) past the tape's limits, operator(), at,
//                           reshape (checked-build-only checks are marked)
//   tensor/expression.hpp   elementwise operators and functions: broadcast mismatches
//   tensor/fused_kernel.hpp sum(e), mean(e) of empty tensors
//   tensor/matmul.hpp       matmul: ranks, inner extents (with transposes), empty and huge results
//   tensor/reduce.hpp       sum/mean/amax over an axis out of range or empty; amax of empty
//   tensor/softmax.hpp      softmax, log_softmax of a scalar; softmax_cross_entropy: rank,
//                           label count, label range, no classes, no rows
//   tensor/shape_ops.hpp    concat: no parts, axis, shapes; gather_rows: index range, scalar
//   tensor/conv2d.hpp       conv2d: stride 0, ranks, channels, kernel too large or empty,
//                           padding, bias, huge results, empty batch
//   tensor/pooling.hpp      max_pool2d, avg_pool2d: window 0, stride 0, window too large, rank
//   tensor/gradient.hpp     gradient(y, tensors...) of a tensor not on the recording
//   every tensor node       NaN and +-inf inputs propagate, with a gradient, and no crash
//
// There is no file input in include/etape (io/ only formats).
// Checks that only the checked build mode makes (ETAPE_CHECKED=1) are under
// `if constexpr (etape::checked_build)`: etape_tests runs them in the
// sanitizer build, etape_tests_checked (which holds this file too) in every
// build.
#include <array>
#include <cmath>
#include <compare>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "reliability/invalid_input.hpp"
#include "support/check.hpp"

using namespace invalid_input;

// ---- tensor/shape.hpp, tensor/tensor.hpp, tensor/active_tensor.hpp -------------------

TEST_CASE("invalid input: shapes")
{
    CHECK_THROWS_WITH_AS(etape::shape({1, 2, 3, 4, 5}), "etape: a tensor has rank at most 4, got rank 5",
                         etape::shape_error);
    const std::vector<std::size_t> six(6, 1);
    CHECK_THROWS_WITH_AS(etape::shape(std::span<const std::size_t>(six)),
                         "etape: a tensor has rank at most 4, got rank 6", etape::shape_error);
    // more elements than a tape has slots, also where the product wraps around to 0
    CHECK_THROWS_WITH_AS(etape::shape({std::size_t{1} << 32, std::size_t{1} << 32}),
                         "etape: a tensor of shape [4294967296, 4294967296] has more elements than a tape can hold",
                         etape::shape_error);
    CHECK_THROWS_AS(etape::shape({std::size_t{1} << 16, std::size_t{1} << 16, std::size_t{1} << 16, 1 << 16}),
                    etape::shape_error);
    CHECK_THROWS_AS(etape::shape({size_max, size_max}), etape::shape_error);
    CHECK_THROWS_AS(etape::shape({std::size_t{1} << 32}), etape::shape_error);
    CHECK(etape::shape({(std::size_t{1} << 32) - 1}).size() == (std::size_t{1} << 32) - 1);
    // a zero extent makes an empty tensor, whatever the other extents a tape could hold ...
    CHECK(etape::shape({(std::size_t{1} << 32) - 1, (std::size_t{1} << 32) - 1, 0}).size() == 0);
    // ... but an extent is kept in 32 bits, as a tape counts its slots
    CHECK_THROWS_WITH_AS(etape::shape({0, size_max}),
                         "etape: a tensor of shape [0, 18446744073709551615] has an extent past what a tape can hold "
                         "(4294967295)",
                         etape::shape_error);
    CHECK(etape::shape{}.size() == 1);
    // extent() checks the axis
    const etape::shape s{2, 3};
    CHECK_THROWS_WITH_AS((void)s.extent(2), "etape: axis 2 of a rank-2 tensor [2, 3]", etape::shape_error);
    CHECK_THROWS_AS((void)etape::shape{}.extent(0), etape::shape_error);
}

TEST_CASE_TEMPLATE("invalid input: value and active tensors", T, ETAPE_TEST_TYPES)
{
    const std::vector<T> three{1, 2, 3};
    CHECK_THROWS_WITH_AS(etape::tensor<T>({2, 2}, three), "etape: 3 values for a tensor of shape [2, 2]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS(etape::tensor<T>({2, 2}, {T(1)}), "etape: 1 value for a tensor of shape [2, 2]",
                         etape::shape_error);
    CHECK_THROWS_AS(etape::tensor<T>(etape::shape{}, std::span<const T>()), etape::shape_error);
    CHECK_THROWS_AS(etape::tensor<T>({0}, three), etape::shape_error);
    CHECK(etape::tensor<T>({0, 3}, std::vector<T>{}).size() == 0);

    etape::tensor<T> v({2, 3}, T(1));
    CHECK_THROWS_WITH_AS((void)v.reshape({4, 2}), "etape: shape mismatch in reshape: [2, 3] and [4, 2]",
                         etape::shape_error);
    CHECK_THROWS_AS((void)v.reshape(etape::shape{}), etape::shape_error);
    CHECK(etape::tensor<T>({0, 2}).flatten().shape() == etape::shape{0});

    etape::tape_scope<T> scope;
    const etape::active_tensor<T> a(v);
    CHECK_THROWS_WITH_AS((void)a.reshape({7}), "etape: shape mismatch in reshape: [2, 3] and [7]", etape::shape_error);
    CHECK(a.flatten().shape() == etape::shape{6});
    const etape::active_tensor<T> none; // shape [0]: usable, and empty
    CHECK(etape::active_tensor<T>(none * T(2)).size() == 0);
    CHECK(etape::var<T>(etape::sum(none)).value() == T(0));

    // An active tensor's elements are checked in every build (a(5, 7) on a
    // 2x3 tensor once gave a gradient of 0 in Release); a plain tensor's
    // only in the checked build.
    CHECK_THROWS_WITH_AS((void)a(0, 0, 0), "etape: 3 indices for a rank-2 tensor [2, 3]", std::out_of_range);
    CHECK_THROWS_AS((void)a(0, 3), std::out_of_range);
    CHECK_THROWS_WITH_AS((void)a(5, 7), "etape: index 5 out of range for axis 0 of extent 2 in [2, 3]",
                         std::out_of_range);
    CHECK_THROWS_AS((void)a(-1, 0), std::out_of_range); // a negative index wraps to a huge one
    CHECK_THROWS_WITH_AS((void)a.at(6), "etape: index 6 out of range for 6 elements of [2, 3]", std::out_of_range);
    CHECK_THROWS_AS((void)none.at(0), std::out_of_range);
    CHECK(a.at(5).slot() == a.first_slot() + 5);
    CHECK(a(1, 2).slot() == a.first_slot() + 5);
    if constexpr (etape::checked_build) {
        CHECK_THROWS_WITH_AS((void)v(1, 3), "etape: index 3 out of range for axis 1 of extent 3 in [2, 3]",
                             std::out_of_range);
        CHECK_THROWS_WITH_AS((void)v(2, 0), "etape: index 2 out of range for axis 0 of extent 2 in [2, 3]",
                             std::out_of_range);
        CHECK_THROWS_WITH_AS((void)v(1), "etape: 1 indices for a rank-2 tensor [2, 3]", std::out_of_range);
        CHECK_THROWS_AS((void)v(-1, 0), std::out_of_range); // a negative index wraps to a huge one
    } else {
        CHECK(v(1, 2) == T(1)); // unchecked: in range it is a plain load
    }
}

// ---- tensor/expression.hpp, tensor/fused_kernel.hpp -------------------------------------

TEST_CASE_TEMPLATE("invalid input: elementwise tensor expressions", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> a(etape::tensor<T>({2, 3}, T(1)));
    const etape::active_tensor<T> b(etape::tensor<T>({3, 2}, T(1)));
    const etape::tensor<T> row2({2}, T(1));
    CHECK_THROWS_WITH_AS((void)(a + b), "etape: shape mismatch in add: [2, 3] and [3, 2]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)(a - row2), "etape: shape mismatch in subtract: [2, 3] and [2]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)(row2 * a), "etape: shape mismatch in multiply: [2] and [2, 3]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)(a / b), "etape: shape mismatch in divide: [2, 3] and [3, 2]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::pow(etape::elu(a), b), "etape: shape mismatch in pow: [2, 3] and [3, 2]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::atan2(a, a.reshape({3, 2})), "etape: shape mismatch in atan2: [2, 3] and [3, 2]",
                         etape::shape_error);
    CHECK_THROWS_AS((void)etape::hypot(a, b), etape::shape_error);
    CHECK_THROWS_AS((void)etape::max(a, b), etape::shape_error);
    CHECK_THROWS_AS((void)etape::fmin(a, b), etape::shape_error);
    // a mismatch deep in an expression is found where it is built, before anything is recorded
    const auto slots = scope.get().size();
    CHECK_THROWS_AS((void)etape::active_tensor<T>(etape::exp(a) * T(2) + etape::sigmoid(b)), etape::shape_error);
    CHECK(scope.get().size() == slots);
    // sums and means of empty tensors: 0 and NaN (0 / 0), as numpy
    const etape::active_tensor<T> empty(etape::tensor<T>({0, 3}));
    CHECK(etape::var<T>(etape::sum(empty * T(2))).value() == T(0));
    CHECK(std::isnan(etape::var<T>(etape::mean(empty)).value()));
    CHECK(std::isnan(etape::var<T>(etape::mean(empty + T(1))).value()));
}

// ---- tensor/matmul.hpp ---------------------------------------------------------------------

TEST_CASE("invalid input: matmul")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> a(etape::tensor<double>({2, 3}, 1.0));
    const etape::active_tensor<double> v(etape::tensor<double>({3}, 1.0));
    CHECK_THROWS_WITH_AS((void)etape::matmul(a, a), "etape: shape mismatch in matmul: [2, 3] and [2, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::matmul(a, a, etape::transpose::yes, etape::transpose::yes),
                         "etape: shape mismatch in matmul (after transposes): [2, 3] and [2, 3]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::matmul(v, a), "etape: shape mismatch in matmul: [3] and [2, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::matmul(a, etape::tensor<double>({3, 2, 1})),
                         "etape: shape mismatch in matmul (needs vectors or matrices): [2, 3] and [3, 2, 1]",
                         etape::shape_error);
    CHECK_THROWS_AS((void)etape::matmul(a, etape::tensor<double>(etape::shape{})), etape::shape_error);
    CHECK_NOTHROW((void)etape::matmul(a, a, etape::transpose::no, etape::transpose::yes));
    // a result with more elements than a tape can hold: rejected before anything is allocated
    const etape::active_tensor<double> column(etape::tensor<double>({std::size_t{1} << 20, 1}, 1.0));
    const auto slots = scope.get().size();
    CHECK_THROWS_WITH_AS((void)etape::matmul(column, column, etape::transpose::no, etape::transpose::yes),
                         "etape: matmul: a result of shape [1048576, 1048576] has more elements than a tape can hold",
                         etape::shape_error);
    CHECK(scope.get().size() == slots);
    // empty operands: an empty result, or zeros from an empty inner extent
    const etape::active_tensor<double> none(etape::tensor<double>({0, 2}));
    CHECK(etape::matmul(none, etape::tensor<double>({2, 4})).shape() == etape::shape{0, 4});
    const etape::active_tensor<double> zeros = etape::matmul(etape::tensor<double>({3, 0}), none);
    CHECK(zeros.shape() == etape::shape{3, 2});
    CHECK(zeros.value().values()[5] == 0.0);
    const auto [g] = etape::gradient(etape::sum(zeros), none);
    CHECK(g.size() == 0);
}

// ---- tensor/reduce.hpp ----------------------------------------------------------------------

TEST_CASE_TEMPLATE("invalid input: reductions", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({2, 3, 4}, T(1)));
    CHECK_THROWS_WITH_AS((void)etape::sum(x, 3), "etape: sum: axis 3 of a tensor of shape [2, 3, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::mean(x, 3), "etape: mean: axis 3 of a tensor of shape [2, 3, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::amax(x, size_max), "etape: amax: axis 18446744073709551615 of a tensor of shape "
                                                         "[2, 3, 4]",
                         etape::shape_error);
    const etape::active_tensor<T> scalar(etape::tensor<T>(etape::shape{}, T(2)));
    CHECK_THROWS_WITH_AS((void)etape::sum(scalar, 0), "etape: sum: axis 0 of a tensor of shape []", etape::shape_error);
    CHECK_THROWS_AS((void)etape::mean(scalar * T(2), 0), etape::shape_error);
    // empty axes: a sum of nothing is 0, a mean NaN (0 / 0), and amax has no answer
    const etape::active_tensor<T> empty(etape::tensor<T>({2, 0}));
    CHECK(etape::sum(empty, 1).value().values()[1] == T(0));
    CHECK(std::isnan(etape::mean(empty, 1).value().values()[0]));
    CHECK(etape::sum(empty, 0).shape() == etape::shape{0});
    CHECK_THROWS_WITH_AS((void)etape::amax(empty, 1), "etape: amax over an empty axis of [2, 0]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::amax(empty), "etape: amax of an empty tensor [2, 0]", etape::shape_error);
    CHECK(etape::amax(empty, 0).shape() == etape::shape{0}); // nothing to reduce: an empty result
}

// ---- tensor/softmax.hpp ----------------------------------------------------------------------

TEST_CASE_TEMPLATE("invalid input: softmax and cross-entropy", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> scalar(etape::tensor<T>(etape::shape{}, T(1)));
    CHECK_THROWS_WITH_AS((void)etape::softmax(scalar), "etape: softmax needs rank >= 1, got a scalar",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::log_softmax(scalar * T(2)), "etape: log_softmax needs rank >= 1, got a scalar",
                         etape::shape_error);
    CHECK(etape::softmax(etape::active_tensor<T>(etape::tensor<T>({2, 0}))).shape() == etape::shape{2, 0});
    CHECK(etape::log_softmax(etape::active_tensor<T>(etape::tensor<T>({0, 3}))).size() == 0);

    const etape::active_tensor<T> logits(etape::tensor<T>({2, 3}, T(0)));
    using labels = std::vector<std::size_t>;
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(logits.flatten(), labels{0}),
                         "etape: softmax_cross_entropy needs logits [rows, classes], got [6]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(logits, labels{0}),
                         "etape: softmax_cross_entropy: 1 labels for logits [2, 3]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(logits, labels{0, 1, 2}),
                         "etape: softmax_cross_entropy: 3 labels for logits [2, 3]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(logits, labels{0, 3}),
                         "etape: softmax_cross_entropy: label 3 of row 1 out of range for 3 classes", std::out_of_range);
    CHECK_THROWS_AS((void)etape::softmax_cross_entropy(logits * T(1), labels{size_max, 0}), std::out_of_range);
    const etape::active_tensor<T> no_classes(etape::tensor<T>({1, 0}));
    CHECK_THROWS_WITH_AS((void)etape::softmax_cross_entropy(no_classes, labels{0}),
                         "etape: softmax_cross_entropy: label 0 of row 0 out of range for 0 classes", std::out_of_range);
    // no rows: a loss of 0 with no gradient to pass
    const etape::active_tensor<T> no_rows(etape::tensor<T>({0, 3}));
    const etape::var<T> loss = etape::softmax_cross_entropy(no_rows, labels{});
    CHECK(loss.value() == T(0));
    const auto [g] = etape::gradient(loss, no_rows);
    CHECK(g.size() == 0);
}

// ---- tensor/shape_ops.hpp --------------------------------------------------------------------

TEST_CASE_TEMPLATE("invalid input: concat and gather_rows", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> a(etape::tensor<T>({2, 3}, T(1)));
    const etape::active_tensor<T> b(etape::tensor<T>({2, 2}, T(2)));
    CHECK_THROWS_WITH_AS((void)etape::concat(std::span<const etape::active_tensor<T>>()),
                         "etape: concat of no tensors", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::concat({a, b}, 0), "etape: shape mismatch in concat: [2, 3] and [2, 2]",
                         etape::shape_error);
    CHECK_NOTHROW((void)etape::concat({a, b}, 1));
    CHECK_THROWS_WITH_AS((void)etape::concat({a, a}, 2), "etape: concat: axis 2 of a tensor of shape [2, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::concat({a, a.flatten()}, 0), "etape: shape mismatch in concat: [2, 3] and [6]",
                         etape::shape_error);
    const etape::active_tensor<T> scalar(etape::tensor<T>(etape::shape{}, T(1)));
    CHECK_THROWS_AS((void)etape::concat({scalar, scalar}), etape::shape_error);
    CHECK(etape::concat({etape::active_tensor<T>{}, etape::active_tensor<T>{}}).shape() == etape::shape{0});

    using indices = std::vector<std::size_t>;
    CHECK_THROWS_WITH_AS((void)etape::gather_rows(a, indices{1, 2}),
                         "etape: gather_rows: index 2 (position 1) out of range for extent 2", std::out_of_range);
    CHECK_THROWS_AS((void)etape::gather_rows(a * T(2), indices{size_max}), std::out_of_range);
    CHECK_THROWS_WITH_AS((void)etape::gather_rows(scalar, indices{0}), "etape: gather_rows of a scalar",
                         etape::shape_error);
    const etape::active_tensor<T> empty(etape::tensor<T>({0, 4}));
    CHECK_THROWS_WITH_AS((void)etape::gather_rows(empty, indices{0}),
                         "etape: gather_rows: index 0 (position 0) out of range for extent 0", std::out_of_range);
    CHECK(etape::gather_rows(a, indices{}).shape() == etape::shape{0, 3});
}

// ---- tensor/conv2d.hpp ----------------------------------------------------------------------

TEST_CASE("invalid input: conv2d")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({2, 3, 5, 5}, 1.0));
    const etape::tensor<double> w({4, 3, 3, 3}, 1.0);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, {.stride = 0}), "etape: conv2d needs a stride of at least 1, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x.reshape({6, 5, 5}), w),
                         "etape: shape mismatch in conv2d (needs x [N, C, H, W] and w [F, C, KH, KW]): [6, 5, 5] and "
                         "[4, 3, 3, 3]",
                         etape::shape_error);
    CHECK_THROWS_AS((void)etape::conv2d(x, w.reshape({12, 3, 3})), etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 2, 3, 3})),
                         "etape: shape mismatch in conv2d (channel counts of x and w differ): [2, 3, 5, 5] and "
                         "[4, 2, 3, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 3, 6, 3})),
                         "etape: shape mismatch in conv2d (kernel larger than the input with padding 0): [2, 3, 5, 5] "
                         "and [4, 3, 6, 3]",
                         etape::shape_error);
    CHECK_NOTHROW((void)etape::conv2d(x, etape::tensor<double>({4, 3, 6, 3}), {.padding = 1}));
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 3, 0, 3})),
                         "etape: shape mismatch in conv2d (a kernel extent is 0): [2, 3, 5, 5] and [4, 3, 0, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, etape::tensor<double>({3})),
                         "etape: shape mismatch in conv2d (bias needs one value per filter of w): [4, 3, 3, 3] and [3]",
                         etape::shape_error);
    CHECK_THROWS_AS((void)etape::conv2d(x, w, etape::tensor<double>({1, 4})), etape::shape_error);
    CHECK_THROWS_AS((void)etape::conv2d(x, w, etape::tensor<double>(etape::shape{})), etape::shape_error);
    // padding so large that the padded extent would not fit a size_t, or the result a tape
    const std::size_t huge = size_max / 2 + 1;
    const auto slots = scope.get().size();
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, {.padding = huge}),
                         text("etape: conv2d: padding " + std::to_string(huge) + " is too large for x [2, 3, 5, 5]"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, {.padding = std::size_t{1} << 20}),
                         "etape: conv2d: a result of shape [2, 4, 2097155, 2097155] has more elements than a tape "
                         "can hold",
                         etape::shape_error);
    CHECK(scope.get().size() == slots);
    // a stride past the input leaves one output per axis, the top-left window
    // (3 channels x 3 x 3 ones; with padding 1, 3 x 2 x 2 of them)
    CHECK(etape::conv2d(x, w, {.stride = size_max}).value().values()[7] == 27.0);
    const auto padded = etape::conv2d(x, w, {.stride = size_max - 1, .padding = 1});
    CHECK(padded.shape() == etape::shape{2, 4, 1, 1});
    CHECK(padded.value().values()[7] == 12.0);
    // an empty batch, no filters, no channels: empty results, or the bias alone
    const etape::active_tensor<double> none(etape::tensor<double>({0, 3, 5, 5}));
    CHECK(etape::conv2d(none, w).shape() == etape::shape{0, 4, 3, 3});
    CHECK(etape::conv2d(x, etape::tensor<double>({0, 3, 3, 3})).shape() == etape::shape{2, 0, 3, 3});
    const etape::active_tensor<double> no_channels(etape::tensor<double>({1, 0, 2, 2}));
    const auto y = etape::conv2d(no_channels, etape::tensor<double>({2, 0, 1, 1}), etape::tensor<double>({2}, {5.0, 6.0}));
    CHECK(y.value().values()[7] == 6.0);
}

// ---- tensor/pooling.hpp ---------------------------------------------------------------------

TEST_CASE("invalid input: pooling")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({1, 2, 3, 3}, 1.0));
    CHECK_THROWS_WITH_AS((void)etape::max_pool2d(x, {.size = 0, .stride = 1}),
                         "etape: max_pool2d needs a window size and a stride of at least 1, got size 0 and stride 1",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::avg_pool2d(x, {.size = 2, .stride = 0}),
                         "etape: avg_pool2d needs a window size and a stride of at least 1, got size 2 and stride 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::avg_pool2d(x, {.size = 4, .stride = 1}),
                         "etape: shape mismatch in avg_pool2d (window larger than the input): [1, 2, 3, 3] and [4, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::max_pool2d(x, {.size = size_max, .stride = 1}),
                         "etape: shape mismatch in max_pool2d (window larger than the input): [1, 2, 3, 3] and "
                         "[18446744073709551615, 18446744073709551615]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::max_pool2d(x.reshape({2, 3, 3})),
                         "etape: shape mismatch in max_pool2d (needs x [N, C, H, W] and a window [size, size]): "
                         "[2, 3, 3] and [2, 2]",
                         etape::shape_error);
    CHECK(etape::avg_pool2d(x * 2.0, {.size = 3, .stride = 1}).shape() == etape::shape{1, 2, 1, 1});
    CHECK(etape::max_pool2d(x, {.size = 2, .stride = size_max}).shape() == etape::shape{1, 2, 1, 1});
    const etape::active_tensor<double> none(etape::tensor<double>({0, 2, 3, 3}));
    CHECK(etape::avg_pool2d(none, {.size = 3, .stride = 1}).shape() == etape::shape{0, 2, 1, 1});
    const etape::active_tensor<double> flat(etape::tensor<double>({1, 1, 0, 3}));
    CHECK_THROWS_AS((void)etape::max_pool2d(flat, {.size = 1, .stride = 1}), etape::shape_error);
}

// ---- tensor/gradient.hpp ----------------------------------------------------------------------

TEST_CASE("invalid input: gradient with respect to tensors")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({2}, 1.0));
    const etape::var<double> y = etape::sum(x * x);
    etape::active_tensor<double> foreign;
    {
        etape::tape_scope<double> inner;
        (void)inner.get().new_inputs(50);
        foreign = etape::active_tensor<double>(etape::tensor<double>({3}, 1.0));
    }
    CHECK_THROWS_WITH_AS((void)etape::gradient(y, foreign),
                         "etape: gradient asked of an active tensor that is not on the active tape's recording",
                         etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(y, x, foreign), etape::tape_error);
    const auto [none, gx] = etape::gradient(y, etape::active_tensor<double>{}, x);
    CHECK(none.size() == 0);
    CHECK(gx.values()[1] == 2.0);

    const auto start = scope.get().position();
    const etape::active_tensor<double> stale(etape::tensor<double>({2}, 1.0));
    scope.get().rewind(start);
    CHECK_THROWS_AS((void)etape::gradient(y, stale), etape::tape_error); // past the recording
    CHECK_THROWS_WITH_AS((void)etape::active_tensor<double>(stale * 2.0),
                         doctest::Contains("is used after its recording was rewound"), etape::tape_error);
    CHECK_THROWS_AS((void)etape::matmul(stale.reshape({1, 2}), etape::tensor<double>({2, 1})), etape::tape_error);
}

// ---- every tensor node: NaN and infinity --------------------------------------------------

TEST_CASE_TEMPLATE("invalid input: NaN and infinity through every tensor node", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const T n = nan_v<T>, inf = inf_v<T>;
    // one image of two 2 x 2 channels: [NaN, 1, inf, 0] and [-inf, 2, -1, 3]
    const etape::active_tensor<T> x(etape::tensor<T>({1, 2, 2, 2}, {n, T(1), inf, T(0), -inf, T(2), T(-1), T(3)}));
    const etape::active_tensor<T> rows = x.reshape({4, 2}); // [NaN, 1], [inf, 0], [-inf, 2], [-1, 3]
    const auto gradient_of = [&](const etape::var<T>& loss) {
        const auto [g] = etape::gradient(loss, x);
        CHECK(g.shape() == x.shape());
        return std::vector<T>(g.values().begin(), g.values().end());
    };
    const auto values = [](const etape::active_tensor<T>& t) {
        return std::vector<T>(t.values().begin(), t.values().end());
    };

    // elementwise: fused, and a primitive applied directly
    const etape::active_tensor<T> fused = etape::elu(x) * T(2) + etape::exp(-x);
    CHECK(std::isnan(values(fused)[0]));
    CHECK(values(fused)[2] == inf); // 2 inf + exp(-inf)
    CHECK(values(fused)[4] == inf); // 2 elu(-inf) + exp(inf) = -2 + inf
    CHECK(std::isnan(gradient_of(etape::sum(fused))[0]));
    const etape::active_tensor<T> direct = etape::tanh(x);
    CHECK(values(direct)[2] == T(1));
    CHECK(std::isnan(gradient_of(etape::sum(direct))[0]));
    CHECK(std::isnan(etape::var<T>(etape::mean(x)).value()));

    // reductions: NaN wins amax, and gets its gradient
    CHECK(std::isnan(values(etape::sum(rows, 1))[0]));
    CHECK(values(etape::sum(rows, 1))[1] == inf);
    CHECK(values(etape::mean(rows, 1))[3] == T(1));
    const etape::var<T> top = etape::amax(x);
    CHECK(std::isnan(top.value()));
    CHECK(gradient_of(top)[0] == T(1));
    CHECK(values(etape::amax(rows, 1))[1] == inf);

    // softmax family: a row with NaN or +inf is NaN; -inf is a probability of 0
    const etape::active_tensor<T> p = etape::softmax(rows);
    CHECK(std::isnan(values(p)[0]));
    CHECK(std::isnan(values(p)[2]));
    CHECK(values(p)[4] == T(0));
    CHECK(values(p)[5] == T(1));
    CHECK(std::isnan(gradient_of(etape::sum(p * p))[0]));
    CHECK(std::isnan(values(etape::log_softmax(rows))[3]));
    (void)gradient_of(etape::sum(etape::log_softmax(rows)));
    const etape::var<T> ce = etape::softmax_cross_entropy(rows, std::vector<std::size_t>{0, 1, 1, 0});
    CHECK(std::isnan(ce.value()));
    (void)gradient_of(ce);

    // matmul, concat, gather
    const etape::active_tensor<T> product = etape::matmul(rows, etape::tensor<T>({2, 1}, {T(0), T(1)}));
    CHECK(std::isnan(values(product)[0])); // NaN 0 + 1
    CHECK(std::isnan(values(product)[1])); // inf 0 + 0
    CHECK(values(product)[3] == T(3));
    (void)gradient_of(etape::sum(product));
    const etape::active_tensor<T> joined = etape::concat({rows, rows}, 1);
    CHECK(std::isnan(values(joined)[2]));
    CHECK(gradient_of(etape::sum(joined))[1] == T(2));
    const etape::active_tensor<T> picked = etape::gather_rows(rows, std::vector<std::size_t>{1, 1});
    CHECK(values(picked)[0] == inf);
    CHECK(gradient_of(etape::sum(picked))[2] == T(2));

    // conv2d and poolings
    const etape::active_tensor<T> conv = etape::conv2d(x, etape::tensor<T>({1, 2, 1, 1}, T(1)));
    CHECK(std::isnan(values(conv)[0])); // NaN + -inf
    CHECK(values(conv)[2] == inf);      // inf + -1
    (void)gradient_of(etape::sum(conv));
    const etape::active_tensor<T> most = etape::max_pool2d(x, {.size = 2, .stride = 1});
    CHECK(std::isnan(values(most)[0]));
    CHECK(values(most)[1] == T(3));
    CHECK(gradient_of(etape::sum(most))[0] == T(1));
    const etape::active_tensor<T> average = etape::avg_pool2d(x, {.size = 2, .stride = 2});
    CHECK(std::isnan(values(average)[0]));
    CHECK(values(average)[1] == -inf);
    CHECK(gradient_of(etape::sum(average))[7] == T(0.25));

    // Every node above lies on the tape between x and this loss, which uses
    // none of them: a node whose outputs all have a zero adjoint
    // passes nothing, not even 0 * NaN (as a scalar statement with a zero
    // adjoint), so NaN in unused results never reaches x's gradient.
    const std::vector<T> twos = gradient_of(etape::sum(x * T(2)));
    for (const T g : twos)
        CHECK(g == T(2));
}
