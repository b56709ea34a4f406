// Random differential testing: random expressions over every primitive,
// differentiated by etape as scalar statements and compared with central
// differences in long double; each case that passes is also run on the fused
// tensor path over a batch of points and must agree with the scalar path
// (or, where SIMD math makes them differ, pass the same check). Environment:
//   ETAPE_RANDOM_EXPRESSIONS   how many (default 100,000; fewer under sanitizers)
//   ETAPE_RANDOM_SEED          the generator's seed (default 20261127)
// A failure prints the seed, the case's index, the point and the smallest
// failing prefix of the expression, which reproduce it.
#include <cmath>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "support/check.hpp"
#include "support/random_expression.hpp"

namespace {

using etape_test::expression_dag;
using etape_test::op;

long environment_number(const char* name, long fallback)
{
    const char* text = std::getenv(name);
    return text ? std::strtol(text, nullptr, 10) : fallback;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long default_count = 10'000;
#else
constexpr long default_count = 100'000;
#endif

/// How close the point is to a kink or a domain edge of some node: there
/// finite differences and a one-sided derivative legitimately disagree.
long double distance_to_kink(const expression_dag& dag, std::span<const long double> x)
{
    const std::vector<long double> v = dag.values<long double>(x);
    long double nearest = std::numeric_limits<long double>::infinity();
    const auto near = [&](long double d, long double scale) { nearest = std::fmin(nearest, std::fabs(d) / (1 + std::fabs(scale))); };
    for (std::size_t k = 0; k < dag.nodes.size(); ++k) {
        const auto& n = dag.nodes[k];
        const long double a = n.a >= 0 ? v[static_cast<std::size_t>(n.a)] : 0;
        const long double b = n.b >= 0 ? v[static_cast<std::size_t>(n.b)] : 0;
        switch (n.kind) {
        case op::abs: case op::relu: case op::leaky_relu: case op::elu: case op::selu: case op::celu: near(a, 0); break;
        case op::fmin: case op::fmax: case op::min: case op::max: near(a - b, a); break;
        case op::pow: near(a > 0 ? a : 0, 0); break; // a <= 0: one-sided, or log(a) of a negative
        case op::sqrt: case op::cbrt: case op::log: case op::log2: case op::log10: near(a, 0); break;
        case op::log1p: near(a + 1, 0); break;
        case op::asin: case op::acos: case op::atanh: near(1 - std::fabs(a), 0); break;
        case op::acosh: near(a - 1, 0); break;
        case op::atan2: near(b < 0 ? a : std::fabs(a) + std::fabs(b), 0); break; // the cut along b < 0
        case op::hypot: near(std::fabs(a) + std::fabs(b), 0); break;
        case op::divide: near(b, 0); break;
        default: break;
        }
    }
    return nearest;
}

struct verdict {
    bool compared = false;
    bool failed = false;
    std::string detail;
};

/// Checks the reverse-mode gradient at x against finite differences; or,
/// when `given` is not empty, that gradient instead (the tensor path's).
verdict check(const expression_dag& dag, const std::vector<double>& x, std::span<const double> given = {})
{
    verdict result;
    const std::vector<long double> xl(x.begin(), x.end());
    // Points where a derivative cannot be checked this way: a NaN, infinite
    // or huge intermediate (in long double, or in double: its range is
    // smaller; a huge one swamps the differences of the rest), a kink or a
    // domain edge nearby.
    const auto exact = dag.values<long double>(std::span<const long double>(xl));
    const auto rounded = dag.values<double>(std::span<const double>(x));
    for (std::size_t k = 0; k < exact.size(); ++k)
        if (!std::isfinite(exact[k]) || !std::isfinite(rounded[k]) || std::fabs(exact[k]) > 1e8L)
            return result;
    if (distance_to_kink(dag, xl) < 1e-3L)
        return result;
    long double largest = 0; // the differences' rounding error scales with it
    for (const long double v : exact)
        largest = std::fmax(largest, std::fabs(v));

    const auto on_vars = [&dag](std::span<const etape::var<double>> v) { return dag.evaluate<etape::var<double>>(v); };
    etape::gradient_check_options coarse;
    etape::gradient_check_options fine;
    fine.step_scale = coarse.step_scale / 8;
    const auto fd1 = etape::finite_difference_gradient([&](std::span<const long double> v) { return dag.evaluate<long double>(v); },
                                                       std::span<const double>(x), coarse);
    const auto fd2 = etape::finite_difference_gradient([&](std::span<const long double> v) { return dag.evaluate<long double>(v); },
                                                       std::span<const double>(x), fine);
    for (std::size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(fd1[i]) || !std::isfinite(fd2[i]) || std::fabs(fd1[i] - fd2[i]) > 1e-6L * (1 + std::fabs(fd1[i])))
            return result; // differences disagree: not smooth enough here

    const auto [value, reverse] = etape::value_and_gradient(on_vars, x);
    const std::span<const double> grad = given.empty() ? std::span<const double>(reverse) : given;
    result.compared = true;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const long double ad = grad[i];
        const long double step = coarse.step_scale * std::fmax(std::fabs(xl[i]), coarse.step_floor);
        const long double rounding = 10 * std::numeric_limits<long double>::epsilon() * largest / (step / 8);
        const long double allowed =
            1e-6L * (std::fabs(ad) + std::fabs(fd1[i])) + 1e-9L + 100 * std::fabs(fd1[i] - fd2[i]) + rounding;
        if (!(std::fabs(ad - fd1[i]) <= allowed)) {
            result.failed = true;
            result.detail = fmt::format("d/dx{}: reverse {:.17g}, finite difference {:.17g} (value {:.17g})", i,
                                        static_cast<double>(ad), static_cast<double>(fd1[i]), value);
            return result;
        }
    }
    return result;
}

/// The same expression on the fused tensor path, over a batch of points
/// (the first one is x): its gradient must equal the scalar path's at every
/// point where that one is finite. With SIMD math (docs/tensors.md,
/// "Vectorized math") exp, erf, ... differ from libm by a few ulp, which an
/// expression can amplify (log1p(erf(x)) where erf(x) is near -1, the tail
/// of celu): where the paths differ, the tensor path's gradient must pass
/// the finite-difference check the scalar path passed (a point where no
/// such check can be made, near a kink or with a huge intermediate, is
/// skipped, as check() skips it). Returns a description of a mismatch.
std::optional<std::string> check_tensor_path(const expression_dag& dag, const std::vector<std::vector<double>>& points)
{
    const std::size_t m = points.size(), inputs = static_cast<std::size_t>(dag.inputs);
    etape::tape_scope<double> scope;
    std::vector<etape::active_tensor<double>> x;
    for (std::size_t i = 0; i < inputs; ++i) {
        etape::tensor<double> column({m});
        for (std::size_t j = 0; j < m; ++j)
            column(j) = points[j][i];
        x.emplace_back(column);
    }
    const auto v = dag.values<etape::active_tensor<double>>(x, [m](double c) {
        return etape::active_tensor<double>(etape::tensor<double>({m}, c));
    });
    const etape::var<double> total = etape::sum(v.back() * 1.0);
    std::vector<std::vector<double>> tensor_gradient;
    for (std::size_t i = 0; i < inputs; ++i) {
        const auto [g] = etape::gradient(total, x[i]);
        tensor_gradient.emplace_back(g.values().begin(), g.values().end());
    }
    for (std::size_t j = 0; j < m; ++j) {
        const auto on_vars = [&dag](std::span<const etape::var<double>> p) { return dag.evaluate<etape::var<double>>(p); };
        const auto [value, scalar_gradient] = etape::value_and_gradient(on_vars, points[j]);
        if (!std::isfinite(value))
            continue;
        for (std::size_t i = 0; i < inputs; ++i) {
            const double s = scalar_gradient[i], t = tensor_gradient[i][j];
            if (std::isfinite(s) && !(std::fabs(s - t) <= 1e-12 * (std::fabs(s) + std::fabs(t)) + 1e-300)) {
                if constexpr (etape::simd::enabled_for<double>) {
                    std::vector<double> at_point(inputs);
                    for (std::size_t k = 0; k < inputs; ++k)
                        at_point[k] = tensor_gradient[k][j];
                    if (!check(dag, points[j], at_point).failed)
                        break; // as right as the scalar path, by the same measure
                }
                return fmt::format("point {} ({}) d/dx{}: scalar path {:.17g}, tensor path {:.17g}", j, fmt::join(points[j], ", "), i, s, t);
            }
        }
    }
    return std::nullopt;
}

/// The shortest prefix of the DAG (ending at one of its nodes) that still fails.
expression_dag shrink(const expression_dag& dag, const std::vector<double>& x)
{
    for (std::size_t k = static_cast<std::size_t>(dag.inputs) + 1; k <= dag.nodes.size(); ++k) {
        expression_dag prefix{{dag.nodes.begin(), dag.nodes.begin() + static_cast<std::ptrdiff_t>(k)}, dag.inputs};
        if (check(prefix, x).failed)
            return prefix;
    }
    return dag;
}

} // namespace

TEST_CASE("random expressions: reverse mode against long double differences")
{
    const auto seed = static_cast<std::uint64_t>(environment_number("ETAPE_RANDOM_SEED", 20261127));
    const long count = environment_number("ETAPE_RANDOM_EXPRESSIONS", default_count);
    etape_test::expression_generator generator(seed);
    etape::tape_scope<double> scope;
    long compared = 0, failures = 0;
    for (long i = 0; i < count && failures < 5; ++i) {
        const int inputs = 1 + static_cast<int>(i % 3);
        const auto dag = generator.next(inputs, 8);
        const auto x = generator.point(inputs);
        const verdict v = check(dag, x);
        compared += v.compared;
        if (v.compared && !v.failed) {
            std::vector<std::vector<double>> batch{x};
            for (int j = 0; j < 3; ++j)
                batch.push_back(generator.point(inputs));
            if (const auto mismatch = check_tensor_path(dag, batch)) {
                ++failures;
                FAIL_CHECK(fmt::format("seed {} case {}: tensor path, {}\n  expression: {}", seed, i, *mismatch,
                                       dag.to_string()));
            }
        }
        if (v.failed) {
            ++failures;
            const auto minimal = shrink(dag, x);
            FAIL_CHECK(fmt::format("seed {} case {}: at x = ({}) {}\n  expression: {}\n  smallest failing prefix: {}\n  {}",
                                   seed, i, fmt::join(x, ", "), v.detail, dag.to_string(), minimal.to_string(),
                                   check(minimal, x).detail));
        }
    }
    MESSAGE(fmt::format("{} random expressions, {} compared with finite differences, seed {}", count, compared, seed));
    CHECK(failures == 0);
    CHECK(compared > count / 5); // many cases are checkable: the filter does not hide everything
}
