// Invalid input at every public entry point of include/etape: each case is a
// clear exception (its type, and a message that names the operation and the
// offending value or shape) or a documented IEEE result; never a crash and
// never a silently wrong recording. One TEST_CASE per header; the ASan +
// UBSan build runs the same cases. Entry points covered (etape:: omitted):
//
//   core/tape.hpp           tape(tape_limits), tape_scope(tape_limits), new_input, new_inputs,
//                           record_node, allocate_scratch, rewind, clear, adjoint, sweep, sweep_to
//   core/var.hpp            var(T), var(expression), var::bound_to, var::check_on (checked build)
//   core/gradient.hpp       gradient(y, xs...), gradient(y, span), gradient(f, x), value_and_gradient,
//                           jacobian(ys, xs), jacobian(f, x)
//   core/gradient_check.hpp finite_difference_gradient, compare_gradients, check_gradient
//   core/comparison.hpp     == and <=> with NaN
//   ops/*.hpp               every scalar primitive outside its domain, at NaN and at +-inf;
//                           elu/celu alpha, leaky_relu slope, softplus beta and threshold,
//                           selu (no parameter)
//   ops/elu_activation.hpp  elu_activation(alpha), activate, measure (mismatched sizes)
//   io/format.hpp           gradient_check_report with no inputs or inconsistent sizes
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

#include "support/check.hpp"

namespace {

template <class T>
constexpr T nan_v = std::numeric_limits<T>::quiet_NaN();
template <class T>
constexpr T inf_v = std::numeric_limits<T>::infinity();

constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

/// A message built at run time, for CHECK_THROWS_WITH_AS.
doctest::String text(const std::string& s)
{
    return s.c_str();
}

/// d y / d x of a one-input function at x.
template <class T, class F>
T derivative(F f, T x)
{
    return etape::gradient(f, std::vector<T>{x})[0];
}

/// The value of a one-input function at x.
template <class T, class F>
T value_at(F f, T x)
{
    return etape::value_and_gradient(f, std::vector<T>{x}).first;
}

} // namespace

// ---- core/tape.hpp ----------------------------------------------------------------

TEST_CASE("invalid input: tape limits, growth, positions and adjoints")
{
    SUBCASE("limits the slot and operand indices cannot address")
    {
        CHECK_THROWS_WITH_AS(etape::tape<double>(etape::tape_limits{.max_slots = size_max}),
                             "etape: tape_limits::max_slots of 18446744073709551615 is more than a slot index can "
                             "address (4294967294)",
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(etape::tape<double>(etape::tape_limits{.max_operands = std::size_t{1} << 32}),
                             "etape: tape_limits::max_operands of 4294967296 is more than an operand index can "
                             "address (4294967295)",
                             std::invalid_argument);
        CHECK_THROWS_AS(etape::tape_scope<double>(etape::tape_limits{.max_slots = std::size_t{1} << 32}),
                        std::invalid_argument);
        // a tape without room for its passive slot 0
        CHECK_THROWS_WITH_AS(etape::tape<double>(etape::tape_limits{.max_slots = 0}),
                             "etape: tape would exceed its limit of 0 slots (tape_limits)", std::length_error);
        CHECK_NOTHROW(etape::tape<double>(etape::tape_limits{.max_slots = 1, .max_operands = 0}));
    }

    SUBCASE("growth past the limits: length_error, nothing half-written")
    {
        etape::tape_scope<double> scope(etape::tape_limits{.max_slots = 10, .max_operands = 4});
        etape::tape<double>& t = scope.get();
        etape::var<double> x = 2.0;
        const auto before = t.stats();
        CHECK_THROWS_WITH_AS(x = x * x * x * x * x, "etape: tape would exceed its limit of 4 operands (tape_limits)",
                             std::length_error);
        CHECK_THROWS_WITH_AS((void)t.new_inputs(10), "etape: tape would exceed its limit of 10 slots (tape_limits)",
                             std::length_error);
        CHECK_THROWS_AS((void)t.new_inputs(size_max), std::length_error);
        CHECK_THROWS_AS((void)t.record_node(size_max, [](double*, etape::slot_index) {}), std::length_error);
        CHECK_THROWS_AS((void)etape::active_tensor<double>(etape::tensor<double>({4, 4})), std::length_error);
        CHECK_THROWS_WITH_AS((void)t.allocate_scratch<double>(size_max / 4),
                             text("etape: scratch of " + std::to_string(size_max / 4) +
                                  " elements does not fit in memory"),
                             std::length_error);
        CHECK(t.stats().slots == before.slots);
        CHECK(t.stats().operands == before.operands);
        CHECK(t.stats().nodes == before.nodes);
        const etape::var<double> y = x * x; // still records, and differentiates
        CHECK(etape::gradient(y, x)[0] == 4.0);
        (void)t.new_inputs(10 - t.stats().slots); // up to the slot limit
        CHECK_THROWS_WITH_AS(etape::var<double>(1.0), "etape: tape would exceed its limit of 10 slots (tape_limits)",
                             std::length_error);
    }

    SUBCASE("rewind to a position that is not on this recording")
    {
        etape::tape_scope<double> scope;
        etape::tape<double>& t = scope.get();
        const etape::var<double> x = 1.0;
        (void)etape::var<double>(x * x);
        const auto later = t.position(); // 3 slots, 2 operands
        t.clear();
        CHECK_THROWS_WITH_AS(t.rewind(later),
                             "etape: rewind to a position (3 slots, 2 operands, 0 nodes) that is not on this "
                             "tape's recording (1 slots)",
                             etape::tape_error);
        etape::tape_position no_slots;
        no_slots.slots = 0;
        CHECK_THROWS_AS(t.rewind(no_slots), etape::tape_error);

        // a position of another tape that fits this one's slot count but not
        // its operands, nodes or arena: rejected, the recording untouched
        etape::tape<double> other;
        {
            etape::tape_scope<double> on_other(other);
            etape::var<double> a = 1.0;
            a = a * a;
            const etape::active_tensor<double> u(etape::tensor<double>({3}, 1.0));
            (void)etape::active_tensor<double>(u * 2.0);
            for (int i = 0; i < 3; ++i) // blocks past the first in the arena
                (void)other.allocate_scratch<double>(100000);
        }
        const auto foreign = other.position();
        (void)t.new_inputs(foreign.slots + 5);
        (void)t.allocate_scratch<double>(10);
        const auto stats = t.stats();
        CHECK_THROWS_AS(t.rewind(foreign), etape::tape_error);
        etape::tape_position foreign_operands = t.position();
        foreign_operands.operands += 1;
        CHECK_THROWS_AS(t.rewind(foreign_operands), etape::tape_error);
        etape::tape_position foreign_nodes = t.position();
        foreign_nodes.nodes += 1;
        CHECK_THROWS_AS(t.rewind(foreign_nodes), etape::tape_error);
        etape::tape_position foreign_arena = t.position();
        foreign_arena.arena.block += 2;
        CHECK_THROWS_AS(t.rewind(foreign_arena), etape::tape_error);
        CHECK(t.stats().slots == stats.slots);
        CHECK(t.stats().statements == stats.statements);
        (void)t.allocate_scratch<double>(100000); // the arena still works
        CHECK_NOTHROW(t.rewind(etape::tape_position{}));
        CHECK(t.stats().slots == 0);
        // sweeping to a position past the recording sweeps nothing
        const etape::var<double> z = 3.0;
        t.clear_adjoints();
        t.adjoint(z.slot()) = 1.0;
        CHECK_NOTHROW(t.sweep_to(later));
        CHECK_NOTHROW(t.sweep(1000, 2000));
        CHECK(t.adjoint(z.slot()) == 1.0);
    }

    SUBCASE("the adjoint of a slot past the recording")
    {
        etape::tape_scope<double> scope;
        etape::tape<double>& t = scope.get();
        const etape::var<double> x = 1.0;
        CHECK(t.adjoint(x.slot()) == 0.0);
        CHECK_THROWS_WITH_AS((void)t.adjoint(7), "etape: adjoint of slot 7, past the recording (2 slots)",
                             std::out_of_range);
        CHECK_THROWS_AS((void)t.adjoint(~etape::slot_index{0}), std::out_of_range);
    }
}

// ---- core/var.hpp ------------------------------------------------------------------

TEST_CASE("invalid input: var")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    const etape::var<double> x = 2.0;
    CHECK_THROWS_WITH_AS((void)etape::var<double>::bound_to(t, 0, 1.0),
                         "etape: var::bound_to a slot (0) outside the recording", etape::tape_error);
    CHECK_THROWS_WITH_AS((void)etape::var<double>::bound_to(t, t.size(), 1.0),
                         "etape: var::bound_to a slot (2) outside the recording", etape::tape_error);
    CHECK_THROWS_AS((void)etape::var<double>::bound_to(t, ~etape::slot_index{0}, 1.0), etape::tape_error);
    CHECK(etape::var<double>::bound_to(t, x.slot(), 5.0).value() == 5.0);

    // NaN and infinite inputs are ordinary values
    const etape::var<double> n = nan_v<double>;
    const etape::var<double> i = -inf_v<double>;
    CHECK(std::isnan(etape::var<double>(n * 2.0).value()));
    CHECK(etape::var<double>(i * 2.0).value() == -inf_v<double>);

    const auto start = t.position();
    const etape::var<double> stale = 3.0;
    t.rewind(start);
    etape::tape<double> other;
    CHECK_THROWS_WITH_AS(stale.check_on(t),
                         text("etape: var (slot " + std::to_string(stale.slot()) +
                              ") is used after its recording was rewound or cleared"),
                         etape::tape_error);
    CHECK_THROWS_WITH_AS(x.check_on(other),
                         "etape: var (slot 1) belongs to another tape than the one it is used on (another "
                         "thread's, or an inactive scope's)",
                         etape::tape_error);
    CHECK_THROWS_AS(etape::var<double>(stale * 2.0), etape::tape_error);
}

// ---- core/gradient.hpp -------------------------------------------------------------

TEST_CASE("invalid input: gradient and jacobian front-ends")
{
    etape::tape_scope<double> scope;
    const etape::var<double> x = 3.0;
    const etape::var<double> y = x * x;

    // vars of a tape with more slots than the active one
    etape::var<double> foreign;
    {
        etape::tape_scope<double> inner;
        (void)inner.get().new_inputs(100);
        foreign = etape::var<double>(4.0);
    }
    const doctest::String past = "etape: gradient asked of a var (slot 101) that is not on the active tape's "
                             "recording (3 slots)";
    CHECK_THROWS_WITH_AS((void)etape::gradient(foreign, x), past, etape::tape_error);
    CHECK_THROWS_WITH_AS((void)etape::gradient(y, foreign), past, etape::tape_error);
    CHECK_THROWS_WITH_AS((void)etape::gradient(y, std::vector<etape::var<double>>{x, foreign}), past,
                         etape::tape_error);
    CHECK_THROWS_AS((void)etape::jacobian(std::vector<etape::var<double>>{y}, std::vector<etape::var<double>>{foreign}),
                    etape::tape_error);
    CHECK_THROWS_AS((void)etape::jacobian(std::vector<etape::var<double>>{foreign}, std::vector<etape::var<double>>{x}),
                    etape::tape_error);

    // empty input lists: empty results, nothing swept
    CHECK(etape::gradient(y).empty());
    CHECK(etape::gradient(y, std::vector<etape::var<double>>{}).empty());
    CHECK(etape::jacobian(std::vector<etape::var<double>>{}, std::vector<etape::var<double>>{x}).empty());
    const auto rows = etape::jacobian(std::vector<etape::var<double>>{y}, std::vector<etape::var<double>>{});
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].empty());
    const auto [value, g] = etape::value_and_gradient(
        [](std::span<const etape::var<double>>) { return etape::var<double>(7.0); }, std::vector<double>{});
    CHECK(value == 7.0);
    CHECK(g.empty());
    CHECK(etape::gradient([](std::span<const etape::var<double>> v) { return etape::var<double>(static_cast<double>(v.size())); },
                          std::vector<double>{})
              .empty());
    CHECK(etape::jacobian([](std::span<const etape::var<double>>) { return std::vector<etape::var<double>>{}; },
                          std::vector<double>{})
              .empty());
    // a passive (default) var has a zero gradient and passes none
    CHECK(etape::gradient(etape::var<double>{}, x)[0] == 0.0);
    CHECK(etape::gradient(y, etape::var<double>{})[0] == 0.0);
}

// ---- core/gradient_check.hpp, io/format.hpp ----------------------------------------

TEST_CASE("invalid input: gradient checker options and reports")
{
    const auto f = [](auto v) { return v[0] * v[0]; };
    const std::vector<double> x{1.5};
    const auto with = [](auto change) {
        auto o = etape::gradient_check_options::for_type<double>();
        change(o);
        return o;
    };
    using options = etape::gradient_check_options;
    for (const long double bad : {0.0L, -1e-3L, std::numeric_limits<long double>::quiet_NaN(),
                                  std::numeric_limits<long double>::infinity()}) {
        const auto o = with([&](options& p) { p.step_scale = bad; });
        CAPTURE(static_cast<double>(bad));
        CHECK_THROWS_WITH_AS((void)etape::finite_difference_gradient(f, std::span<const double>(x), o),
                             doctest::Contains("etape: finite_difference_gradient: step_scale must be positive and "
                                               "finite, got "),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS((void)etape::check_gradient(f, x, o),
                             doctest::Contains("etape: check_gradient: step_scale must be positive and finite"),
                             std::invalid_argument);
    }
    CHECK_THROWS_WITH_AS((void)etape::check_gradient(f, x, with([](options& p) { p.step_scale = 0; })),
                         "etape: check_gradient: step_scale must be positive and finite, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::check_gradient(f, x, with([](options& p) { p.step_floor = -1; })),
                         "etape: check_gradient: step_floor must be >= 0 and finite, got -1", std::invalid_argument);
    CHECK_THROWS_AS((void)etape::finite_difference_gradient(f, std::span<const double>(x),
                                                            with([](options& p) { p.step_floor = std::nanl(""); })),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::check_gradient(f, x, with([](options& p) { p.relative_tolerance = -1e-8L; })),
                         "etape: check_gradient: relative_tolerance must be >= 0 and finite, got -1e-08",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        (void)etape::check_gradient(f, x, with([](options& p) { p.absolute_tolerance = std::nanl(""); })),
        "etape: check_gradient: absolute_tolerance must be >= 0 and finite, got nan", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::check_gradient(f, x, options{}),
                         "etape: check_gradient: relative_tolerance and absolute_tolerance are both 0; one must be "
                         "positive",
                         std::invalid_argument);
    // a zero step floor is allowed (the step is then relative), and so is one zero tolerance
    CHECK(etape::check_gradient(f, x, with([](options& p) { p.step_floor = 0; })).passed);
    CHECK(etape::check_gradient(f, x, with([](options& p) { p.absolute_tolerance = 0; })).passed);
    // finite_difference_gradient needs no tolerances
    CHECK(etape::finite_difference_gradient(f, std::span<const double>(x))[0] == doctest::Approx(3.0));

    const std::vector<double> two{1.0, 2.0};
    const std::vector<long double> three{1.0L, 2.0L, 3.0L};
    const auto tolerant = options::for_type<double>();
    CHECK_THROWS_WITH_AS(
        (void)etape::compare_gradients(std::span<const double>(two), std::span<const long double>(three), tolerant),
        "etape: compare_gradients: 2 reverse components but 3 finite differences", std::invalid_argument);
    CHECK_THROWS_AS((void)etape::compare_gradients(std::span<const double>(two),
                                                   std::span<const long double>(three.data(), 2), options{}),
                    std::invalid_argument);
    // no inputs: passes, and says so
    const auto constant = [](auto v) { return typename decltype(v)::value_type(2); };
    const auto empty = etape::check_gradient(constant, std::vector<double>{}, tolerant);
    CHECK(empty.passed);
    CHECK(fmt::format("{}", empty) == "gradient check passed: no inputs");
    // NaN matches NaN, an infinity the same infinity
    const std::vector<double> odd{nan_v<double>, inf_v<double>};
    const std::vector<long double> odd_fd{std::nanl(""), std::numeric_limits<long double>::infinity()};
    CHECK(etape::compare_gradients(std::span<const double>(odd), std::span<const long double>(odd_fd), tolerant).passed);
    // a report put together by hand with inconsistent sizes still formats
    etape::gradient_check_report<double> by_hand;
    by_hand.passed = false;
    by_hand.reverse = {1.0};
    by_hand.worst = 3;
    CHECK(fmt::format("{}", by_hand) == "gradient check failed: 1 reverse components and 0 finite differences");
}

// ---- core/comparison.hpp, ops/*.hpp --------------------------------------------------

TEST_CASE_TEMPLATE("invalid input: activation parameters", T, ETAPE_TEST_TYPES)
{
    const etape::var<T> x = T(-1);
    // ELU: alpha >= 0 (the derivative reads the output), finite
    CHECK_THROWS_WITH_AS((void)etape::elu(x, T(-1)),
                         "etape::elu: alpha must be >= 0 for the derivative from the output, got -1 (pass "
                         "etape::from_input for alpha < 0)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::elu(x, nan_v<T>), doctest::Contains("etape::elu: alpha must be >= 0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::elu(x, inf_v<T>), "etape::elu: alpha must be finite, got inf",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::elu(x, nan_v<T>, etape::from_input), "etape::elu: alpha must be finite, got nan",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::elu(x, -inf_v<T>, etape::from_input),
                         "etape::elu: alpha must be finite, got -inf", std::invalid_argument);
    CHECK_THROWS_AS((void)etape::elu(T(1), T(-2)), std::invalid_argument); // plain numbers too
    CHECK(etape::var<T>(etape::elu(x, T(0))).value() == T(0)); // alpha 0: a ReLU
    CHECK(etape::var<T>(etape::elu(x, T(-0.5), etape::from_input)).value() ==
          doctest::Approx(-0.5 * std::expm1(-1.0)));
    // CELU: alpha nonzero and finite; negative alpha is allowed
    CHECK_THROWS_WITH_AS((void)etape::celu(x, T(0)), "etape::celu: alpha must be nonzero, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::celu(x, nan_v<T>), "etape::celu: alpha must be nonzero, got nan",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::celu(x, inf_v<T>), "etape::celu: alpha must be finite, got inf",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::celu(x, T(0), etape::from_input), "etape::celu: alpha must be nonzero, got 0",
                         std::invalid_argument);
    CHECK_NOTHROW((void)etape::celu(x, T(-2)));
    // leaky ReLU: any finite slope (its derivative reads the input)
    CHECK_THROWS_WITH_AS((void)etape::leaky_relu(x, nan_v<T>), "etape::leaky_relu: slope must be finite, got nan",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::leaky_relu(x, -inf_v<T>), "etape::leaky_relu: slope must be finite, got -inf",
                         std::invalid_argument);
    CHECK(derivative<T>([](auto v) { return etape::leaky_relu(v[0], T(-0.5)); }, T(-2)) == T(-0.5));
    // softplus: beta positive and finite, the threshold not NaN (+-inf allowed)
    CHECK_THROWS_WITH_AS((void)etape::softplus(x, T(0)), "etape::softplus: beta must be positive and finite, got 0",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::softplus(x, -inf_v<T>),
                         "etape::softplus: beta must be positive and finite, got -inf", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::softplus(x, inf_v<T>),
                         "etape::softplus: beta must be positive and finite, got inf", std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::softplus(x, T(1), nan_v<T>),
                         "etape::softplus: threshold must not be NaN, got nan", std::invalid_argument);
    CHECK(etape::var<T>(etape::softplus(x, T(2), inf_v<T>)).value() ==
          doctest::Approx(std::log1p(std::exp(-2.0)) / 2)); // x = -1
    // SELU has no parameter; its input may be anything
    CHECK(std::isnan(etape::var<T>(etape::selu(etape::var<T>(nan_v<T>))).value()));
    CHECK(etape::selu(-inf_v<T>) == doctest::Approx(-1.0507009873554805 * 1.6732632423543772));

    // the same parameters on tensors
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> a(etape::tensor<T>({2}, {T(-1), T(1)}));
    CHECK_THROWS_AS((void)etape::elu(a, T(-1)), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::celu(a * T(2), T(0)), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::leaky_relu(a, nan_v<T>), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::softplus(a * T(2), T(-1)), std::invalid_argument);
}

TEST_CASE("invalid input: elu_activation")
{
    CHECK_THROWS_WITH_AS(etape::elu_activation<double>(-1.0), doctest::Contains("etape::elu: alpha must be >= 0"),
                         std::invalid_argument);
    CHECK_THROWS_AS((void)etape::elu_activation<float>(std::numeric_limits<float>::infinity()), std::invalid_argument);
    const etape::elu_activation<double> unit;
    const std::vector<double> outputs{0.5, -0.25};
    const std::vector<double> one_error{1.0};
    CHECK_THROWS_WITH_AS((void)unit.measure(std::span<const double>(outputs), std::span<const double>(one_error)),
                         "etape::elu_activation::measure: 2 outputs but 1 errors", std::invalid_argument);
    CHECK(unit.activate(std::span<const double>()).empty());
    CHECK(unit.measure(std::span<const double>(), std::span<const double>()).empty());
    CHECK(unit.measure(std::span<const double>(), 1.0).empty());
    CHECK(std::isnan(unit.activate(nan_v<double>)));
    CHECK(unit.activate(-inf_v<double>) == -1.0);
    CHECK(std::isnan(unit.measure(nan_v<double>, 1.0)));
}

TEST_CASE_TEMPLATE("invalid input: math outside its domain gives the IEEE result", T, ETAPE_TEST_TYPES)
{
    // The value is libm's; the partial is the derivative's formula evaluated
    // in IEEE arithmetic (docs/getting-started.md, "Errors"). Nothing throws.
    const auto log_of = [](auto v) { return etape::log(v[0]); };
    CHECK(std::isnan(value_at<T>(log_of, T(-1))));
    CHECK(derivative<T>(log_of, T(-1)) == T(-1)); // 1/x, as PyTorch
    CHECK(value_at<T>(log_of, T(0)) == -inf_v<T>);
    CHECK(derivative<T>(log_of, T(0)) == inf_v<T>);
    for (const auto f : {+[](std::span<const etape::var<T>> v) { return etape::var<T>(etape::log2(v[0])); },
                         +[](std::span<const etape::var<T>> v) { return etape::var<T>(etape::log10(v[0])); },
                         +[](std::span<const etape::var<T>> v) { return etape::var<T>(etape::log1p(v[0] - T(1))); }})
        CHECK(std::isnan(value_at<T>(f, T(-1))));

    const auto sqrt_of = [](auto v) { return etape::sqrt(v[0]); };
    CHECK(std::isnan(value_at<T>(sqrt_of, T(-4))));
    CHECK(std::isnan(derivative<T>(sqrt_of, T(-4))));
    CHECK(value_at<T>(sqrt_of, T(0)) == T(0));
    CHECK(derivative<T>(sqrt_of, T(0)) == inf_v<T>);
    CHECK(derivative<T>([](auto v) { return etape::cbrt(v[0]); }, T(0)) == inf_v<T>);

    const auto pow_of = [](auto v) { return etape::pow(v[0], v[1]); };
    const auto pow_at = [&](T a, T b) { return etape::value_and_gradient(pow_of, std::vector<T>{a, b}); };
    CHECK(std::isnan(pow_at(T(-8), T(1) / T(3)).first));
    const auto [square, square_gradient] = pow_at(T(-2), T(2));
    CHECK(square == T(4));
    CHECK(square_gradient[0] == T(-4));
    CHECK(std::isnan(square_gradient[1])); // y log(a), a < 0 (docs/reliability.md)
    CHECK(pow_at(T(0), T(-1)).first == inf_v<T>);
    CHECK(pow_at(T(0), T(2)).second[1] == T(0)); // the limit, as PyTorch

    const auto divide_of = [](auto v) { return v[0] / v[1]; };
    const auto [quotient, quotient_gradient] = etape::value_and_gradient(divide_of, std::vector<T>{T(1), T(0)});
    CHECK(quotient == inf_v<T>);
    CHECK(quotient_gradient[0] == inf_v<T>);
    CHECK(std::isnan(value_at<T>([](auto v) { return v[0] / v[0]; }, T(0))));

    CHECK(std::isnan(value_at<T>([](auto v) { return etape::asin(v[0]); }, T(2))));
    CHECK(std::isnan(derivative<T>([](auto v) { return etape::asin(v[0]); }, T(2))));
    CHECK(std::isnan(value_at<T>([](auto v) { return etape::acos(v[0]); }, T(-2))));
    CHECK(std::isnan(value_at<T>([](auto v) { return etape::acosh(v[0]); }, T(0.5))));
    CHECK(value_at<T>([](auto v) { return etape::atanh(v[0]); }, T(1)) == inf_v<T>);
    CHECK(derivative<T>([](auto v) { return etape::atanh(v[0]); }, T(1)) == inf_v<T>);
    // no derivative at the origin: NaN partials
    const auto hypot_at = etape::value_and_gradient([](auto v) { return etape::hypot(v[0], v[1]); }, std::vector<T>{0, 0});
    CHECK(hypot_at.first == T(0));
    CHECK(std::isnan(hypot_at.second[0]));
    const auto atan2_at = etape::value_and_gradient([](auto v) { return etape::atan2(v[0], v[1]); }, std::vector<T>{0, 0});
    CHECK(std::isnan(atan2_at.second[0]));
}

TEST_CASE_TEMPLATE("invalid input: NaN and infinity through every scalar primitive", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::var<T> n = nan_v<T>;
    const etape::var<T> one = T(1);
    // each function of a NaN is NaN (the IEEE result), and differentiating it does not throw
    const auto nan_in_nan_out = [&](auto f) {
        const etape::var<T> y = f(n);
        CHECK(std::isnan(y.value()));
        CHECK_NOTHROW((void)etape::gradient(y, n));
    };
    nan_in_nan_out([](const auto& v) { return etape::var<T>(-v); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(v + T(1)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(v * T(0)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(T(1) / v); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::exp(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::expm1(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::log(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::log1p(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::log2(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::log10(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::sqrt(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::cbrt(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::sin(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::cos(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::tan(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::asin(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::acos(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::atan(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::sinh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::cosh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::tanh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::asinh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::acosh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::atanh(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::erf(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::erfc(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::abs(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::fabs(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::elu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::elu(v, T(2), etape::from_input)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::selu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::celu(v, T(0.5))); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::relu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::leaky_relu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::sigmoid(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::softplus(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::silu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::gelu(v)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::gelu(v, etape::approximate::tanh)); });
    nan_in_nan_out([](const auto& v) { return etape::var<T>(etape::softplus(v, T(2), T(20))); });
    nan_in_nan_out([&](const auto& v) { return etape::var<T>(etape::pow(v, one)); });
    nan_in_nan_out([&](const auto& v) { return etape::var<T>(etape::atan2(v, one)); });
    nan_in_nan_out([&](const auto& v) { return etape::var<T>(etape::hypot(v, one)); });
    nan_in_nan_out([&](const auto& v) { return etape::var<T>(etape::max(v, one)); });
    nan_in_nan_out([&](const auto& v) { return etape::var<T>(etape::min(one, v)); });
    // documented exceptions: fmax and fmin ignore a NaN operand (libm), and so does its gradient
    const etape::var<T> larger = etape::fmax(n, one);
    CHECK(larger.value() == T(1));
    CHECK(etape::gradient(larger, n, one) == std::array<T, 2>{T(0), T(1)});
    CHECK(etape::var<T>(etape::fmin(one, n)).value() == T(1));
    // relu and abs take the zero slope at NaN (x > 0 and x < 0 are false)
    CHECK(etape::gradient(etape::var<T>(etape::relu(n)), n)[0] == T(0));
    CHECK(etape::gradient(etape::var<T>(etape::abs(n)), n)[0] == T(0));

    // infinities: the limits, where IEEE arithmetic has them
    const etape::var<T> minus = -inf_v<T>;
    const etape::var<T> plus = inf_v<T>;
    CHECK(etape::var<T>(etape::exp(minus)).value() == T(0));
    CHECK(etape::var<T>(etape::tanh(plus)).value() == T(1));
    CHECK(etape::var<T>(etape::sigmoid(minus)).value() == T(0));
    CHECK(etape::var<T>(etape::sigmoid(plus)).value() == T(1));
    CHECK(etape::var<T>(etape::softplus(minus)).value() == T(0));
    CHECK(etape::var<T>(etape::elu(minus)).value() == T(-1));
    CHECK(etape::gradient(etape::var<T>(etape::elu(minus)), minus)[0] == T(0));
    CHECK(etape::var<T>(etape::relu(plus)).value() == inf_v<T>);
    // relu(-inf) is +0 (its sign bit clear), not 0 * -inf
    CHECK(etape_test::bits_of(etape::var<T>(etape::relu(minus)).value()) == etape_test::bits_of(T(0)));
    CHECK(etape::gradient(etape::var<T>(etape::relu(minus)), minus)[0] == T(0));
    CHECK(std::isnan(etape::var<T>(etape::gelu(minus, etape::approximate::tanh)).value())); // -inf * 0, as the erf form
    CHECK(etape::var<T>(etape::gelu(plus, etape::approximate::tanh)).value() == inf_v<T>);
    CHECK(etape::var<T>(etape::softplus(minus, T(2))).value() == T(0));
    CHECK(etape::var<T>(etape::softplus(plus, T(2))).value() == inf_v<T>);
    CHECK(std::isnan(etape::var<T>(plus - plus).value()));
    CHECK(std::isnan(etape::var<T>(plus * T(0)).value()));

    // comparisons with NaN are unordered and unequal, and record nothing
    const auto slots = scope.get().size();
    CHECK_FALSE(n == n);
    CHECK((n <=> one) == std::partial_ordering::unordered);
    CHECK_FALSE(n < 1.0);
    CHECK(scope.get().size() == slots);
}

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
    CHECK_THROWS_WITH_AS(etape::tensor<T>({2, 2}, {T(1)}), "etape: 1 values for a tensor of shape [2, 2]",
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
