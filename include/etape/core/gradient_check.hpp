// The gradient checker: etape's gradient against central differences taken
// in long double. Layer: core (used by the tests and offered to users who
// write their own primitives).
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/core/gradient.hpp>
#include <etape/core/number_text.hpp>

namespace etape {

struct gradient_check_options {
    /// A component passes when |ad - fd| <= absolute + relative * max(|ad|, |fd|).
    long double relative_tolerance = 0;
    long double absolute_tolerance = 0;
    /// Step of component i: step_scale * max(|x_i|, step_floor), or
    /// step_scale where that is 0. The differences at h and h/2 are combined
    /// (Richardson), so the truncation error is O(h^4) and the rounding error
    /// about epsilon(long double) / h. A floor of 0 makes the step purely
    /// relative, needed next to a kink at tiny |x_i|.
    long double step_scale = std::cbrt(std::numeric_limits<long double>::epsilon());
    long double step_floor = 1;

    /// Tolerances that suit gradients computed in T.
    template <class T>
    [[nodiscard]] static gradient_check_options for_type() noexcept
    {
        gradient_check_options o;
        if constexpr (std::same_as<T, float>) {
            o.relative_tolerance = 2e-4L;
            o.absolute_tolerance = 1e-6L;
        } else {
            o.relative_tolerance = 1e-8L;
            o.absolute_tolerance = 1e-12L;
        }
        return o;
    }
};

namespace detail {

[[noreturn]] inline void throw_bad_option(const char* operation, const char* option, const char* requirement,
                                          long double value)
{
    throw std::invalid_argument(std::string("etape: ") + operation + ": " + option + " must be " + requirement +
                                ", got " + number_text(value));
}

/// The step options: step_scale > 0 and step_floor >= 0, both finite.
inline void require_valid_step(const gradient_check_options& o, const char* operation)
{
    if (!(o.step_scale > 0) || !std::isfinite(o.step_scale))
        throw_bad_option(operation, "step_scale", "positive and finite", o.step_scale);
    if (!(o.step_floor >= 0) || !std::isfinite(o.step_floor))
        throw_bad_option(operation, "step_floor", ">= 0 and finite", o.step_floor);
}

/// The tolerances: each >= 0 and finite, and one of them positive (with
/// both 0 no difference of long double and T could pass).
inline void require_valid_tolerances(const gradient_check_options& o, const char* operation)
{
    if (!(o.relative_tolerance >= 0) || !std::isfinite(o.relative_tolerance))
        throw_bad_option(operation, "relative_tolerance", ">= 0 and finite", o.relative_tolerance);
    if (!(o.absolute_tolerance >= 0) || !std::isfinite(o.absolute_tolerance))
        throw_bad_option(operation, "absolute_tolerance", ">= 0 and finite", o.absolute_tolerance);
    if (o.relative_tolerance == 0 && o.absolute_tolerance == 0)
        throw std::invalid_argument(std::string("etape: ") + operation +
                                    ": relative_tolerance and absolute_tolerance are both 0; one must be positive");
}

} // namespace detail

/// What a check found; `worst` names the component farthest from passing.
template <class T>
struct gradient_check_report {
    bool passed = true;
    std::size_t worst = 0;
    std::vector<T> reverse;                  ///< etape's gradient
    std::vector<long double> finite_difference;
    long double worst_excess = 0;            ///< |ad - fd| / allowed, at `worst` (<= 1 passes)

    explicit operator bool() const noexcept { return passed; }
};

/// Central differences of `f` at `x`, taken in long double (see
/// gradient_check_options for the step); `f` is called with
/// std::span<const long double>. A step option out of range (step_scale <=
/// 0, step_floor < 0, either not finite) throws std::invalid_argument.
template <class F, class T>
[[nodiscard]] std::vector<long double> finite_difference_gradient(F&& f, std::span<const T> x,
                                                                  const gradient_check_options& options = {})
{
    detail::require_valid_step(options, "finite_difference_gradient");
    std::vector<long double> point(x.begin(), x.end());
    const auto evaluate = [&] { return static_cast<long double>(value(f(std::span<const long double>(point)))); };
    std::vector<long double> gradient(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const long double xi = point[i];
        const long double base = std::fmax(std::fabs(xi), options.step_floor);
        const long double h = options.step_scale * (base > 0 ? base : 1);
        const auto central = [&](long double step) {
            point[i] = xi + step;
            const long double up = evaluate();
            point[i] = xi - step;
            const long double down = evaluate();
            point[i] = xi;
            return (up - down) / (2 * step);
        };
        const long double coarse = central(h);
        const long double fine = central(h / 2);
        gradient[i] = (4 * fine - coarse) / 3; // cancels the h^2 term
    }
    return gradient;
}

/// Compares a reverse-mode gradient with finite differences component by
/// component; NaN matches NaN and an infinity matches the same infinity.
/// Different lengths, or a tolerance out of range (negative, not finite, or
/// both 0), throw std::invalid_argument.
template <class T>
[[nodiscard]] gradient_check_report<T> compare_gradients(std::span<const T> reverse,
                                                         std::span<const long double> finite_difference,
                                                         const gradient_check_options& options)
{
    detail::require_valid_tolerances(options, "compare_gradients");
    if (reverse.size() != finite_difference.size())
        throw std::invalid_argument("etape: compare_gradients: " + std::to_string(reverse.size()) +
                                    " reverse components but " + std::to_string(finite_difference.size()) +
                                    " finite differences");
    gradient_check_report<T> report;
    report.reverse.assign(reverse.begin(), reverse.end());
    report.finite_difference.assign(finite_difference.begin(), finite_difference.end());
    for (std::size_t i = 0; i < reverse.size() && i < finite_difference.size(); ++i) {
        const long double ad = reverse[i];
        const long double fd = finite_difference[i];
        long double excess = 0;
        if (std::isfinite(ad) && std::isfinite(fd)) {
            const long double allowed =
                options.absolute_tolerance + options.relative_tolerance * std::fmax(std::fabs(ad), std::fabs(fd));
            excess = std::fabs(ad - fd) / allowed;
        } else if (!(std::isnan(ad) && std::isnan(fd)) && ad != fd) {
            excess = std::numeric_limits<long double>::infinity();
        }
        if (i == 0 || excess > report.worst_excess) {
            report.worst_excess = excess;
            report.worst = i;
        }
    }
    report.passed = report.worst_excess <= 1;
    return report;
}

/// Checks etape's gradient of `f` at `x` against central differences. `f` is
/// generic: it is called with std::span<const var<T>> for the reverse pass
/// and with std::span<const long double> for the differences. Options out of
/// range throw std::invalid_argument before f is called.
template <class F, class T>
[[nodiscard]] gradient_check_report<T> check_gradient(F&& f, std::span<const T> x,
                                                      const gradient_check_options& options =
                                                          gradient_check_options::for_type<T>())
{
    detail::require_valid_step(options, "check_gradient");
    detail::require_valid_tolerances(options, "check_gradient");
    const std::vector<T> reverse = gradient(f, x);
    const std::vector<long double> fd = finite_difference_gradient(f, x, options);
    return compare_gradients(std::span<const T>(reverse), std::span<const long double>(fd), options);
}

template <class F, class T>
[[nodiscard]] gradient_check_report<T> check_gradient(F&& f, const std::vector<T>& x,
                                                      const gradient_check_options& options =
                                                          gradient_check_options::for_type<T>())
{
    return check_gradient(std::forward<F>(f), std::span<const T>(x), options);
}

} // namespace etape
