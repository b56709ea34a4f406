// Invalid input at every public entry point of include/etape: each case is a
// clear exception (its type, and a message that names the operation and the
// offending value or shape) or a documented IEEE result; never a crash and
// never a silently wrong recording. One TEST_CASE per header; the ASan +
// UBSan build runs the same cases. The tensor entry points are in
// invalid_tensor_input.cpp. Entry points covered here (etape:: omitted):
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
                             "tape's recording (1 slot)",
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
