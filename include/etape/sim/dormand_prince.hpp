// The adaptive Dormand-Prince RK5(4) stepper: a fifth-order step with an
// embedded fourth-order one whose difference estimates the local error, and
// a step-size controller that rejects and retries steps that miss the
// tolerance. Layer: sim.
//
// Differentiation: an accepted step's arithmetic is recorded like any other
// code (each stage's argument and the result are one combination each, the
// last derivative is reused as the next step's first: FSAL). The error
// estimate and the step sizes are computed on values, so the gradient is
// that of the discrete map with the step sequence held fixed. A rejected
// attempt is rewound off the tape: the tape grows with accepted steps only
// (so f must not keep vars that it records for later use).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <etape/core/active_tape.hpp>
#include <etape/sim/errors.hpp>
#include <etape/sim/ode_state.hpp>

namespace etape::sim {

struct adaptive_options {
    /// A step passes when the RMS over the elements of err_i / (absolute +
    /// relative * max(|y_i|, |y_new_i|)) is at most 1.
    double relative_tolerance = 1e-6;
    double absolute_tolerance = 1e-9;
    /// The first step tried; 0 estimates it from the tolerances and f(t0, y0).
    double initial_step = 0;
    /// Below max(min_step, 16 ulp of the time) the stepper gives up
    /// (tolerance_error). The last step, shortened to end at t1, is exempt.
    double min_step = 0;
    double max_step = std::numeric_limits<double>::infinity();
    /// The next step is h * safety * error^(-1/5), the factor kept in
    /// [min_factor, max_factor] (and at most 1 right after a rejection).
    double safety = 0.9;
    double min_factor = 0.2;
    double max_factor = 5.0;
    /// Attempts, accepted and rejected together, before tolerance_error.
    std::size_t max_steps = 100000;
};

/// What an adaptive integration did (filled in as it goes, so that it tells
/// how far a run that threw got).
struct adaptive_report {
    std::size_t accepted = 0;
    std::size_t rejected = 0;
    std::size_t evaluations = 0; ///< calls of f
    double time = 0;             ///< the time reached
    double last_step = 0;        ///< the last accepted step
    double next_step = 0;        ///< the step the controller would try next
};

/// One attempted step.
template <ode_state S>
struct dormand_prince_result {
    S state;      ///< the fifth-order solution at t + h
    S derivative; ///< f(t + h, state): the next step's first stage
    double error; ///< the scaled error estimate (adaptive_options): <= 1 meets the tolerance
};

namespace detail {

/// Dormand & Prince (1980), RK5(4)7FM. The second stage's weights in both
/// solutions are 0, so k2 appears in no combination below.
namespace dopri {
inline constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
inline constexpr std::array<double, 1> a2{1.0 / 5};
inline constexpr std::array<double, 2> a3{3.0 / 40, 9.0 / 40};
inline constexpr std::array<double, 3> a4{44.0 / 45, -56.0 / 15, 32.0 / 9};
inline constexpr std::array<double, 4> a5{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729};
inline constexpr std::array<double, 5> a6{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656};
/// The fifth-order weights of k1, k3, k4, k5, k6.
inline constexpr std::array<double, 5> b{35.0 / 384, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
/// Fifth- minus fourth-order weights of k1, k3, k4, k5, k6, k7.
inline constexpr std::array<double, 6> e{71.0 / 57600,      -71.0 / 16695, 71.0 / 1920,
                                         -17253.0 / 339200, 22.0 / 525,    -1.0 / 40};
} // namespace dopri

inline void require_valid_options(const char* who, const adaptive_options& o)
{
    const auto fail = [who](const char* option, const char* requirement, double value) {
        throw invalid_options_error(std::string("etape::sim::") + who + ": " + option + " must be " + requirement +
                                    ", got " + number_text(value));
    };
    if (!(o.relative_tolerance >= 0) || !std::isfinite(o.relative_tolerance))
        fail("relative_tolerance", ">= 0 and finite", o.relative_tolerance);
    if (!(o.absolute_tolerance >= 0) || !std::isfinite(o.absolute_tolerance))
        fail("absolute_tolerance", ">= 0 and finite", o.absolute_tolerance);
    if (o.relative_tolerance == 0 && o.absolute_tolerance == 0)
        throw invalid_options_error(std::string("etape::sim::") + who +
                                    ": relative_tolerance and absolute_tolerance are both 0; one must be positive");
    if (!(o.initial_step >= 0) || !std::isfinite(o.initial_step))
        fail("initial_step", ">= 0 and finite (0 to estimate it)", o.initial_step);
    if (!(o.min_step >= 0) || !std::isfinite(o.min_step))
        fail("min_step", ">= 0 and finite", o.min_step);
    if (!(o.max_step > 0) || !(o.max_step >= o.min_step))
        fail("max_step", "positive and at least min_step", o.max_step);
    if (!(o.safety > 0 && o.safety <= 1))
        fail("safety", "in (0, 1]", o.safety);
    if (!(o.min_factor > 0 && o.min_factor <= 1))
        fail("min_factor", "in (0, 1]", o.min_factor);
    if (!(o.max_factor >= 1) || !std::isfinite(o.max_factor))
        fail("max_factor", ">= 1 and finite", o.max_factor);
    if (o.max_steps == 0)
        throw invalid_options_error(std::string("etape::sim::") + who + ": max_steps must be at least 1, got 0");
}

/// v / scale, with 0 / 0 taken as 0: an element that is 0 and has no
/// absolute tolerance is exactly right.
template <class R>
[[nodiscard]] R scaled(R v, R scale) noexcept
{
    return v == 0 ? R(0) : v / scale;
}

/// The index of the first element of y that is NaN or infinite, or size(y).
template <ode_state S>
[[nodiscard]] std::size_t first_non_finite(const S& y)
{
    const std::size_t n = state_traits<S>::size(y);
    std::size_t i = 0;
    while (i < n && std::isfinite(static_cast<double>(state_traits<S>::value(y, i))))
        ++i;
    return i;
}

/// The message of a non_finite_state_error for element i of y at time t.
template <ode_state S>
[[nodiscard]] std::string non_finite_message(const char* who, const char* what, const S& y, std::size_t i, double t)
{
    return std::string("etape::sim::") + who + ": element " + std::to_string(i) + " of " + what + " is " +
           number_text(static_cast<double>(state_traits<S>::value(y, i))) + " at t = " + number_text(t);
}

[[nodiscard]] inline std::string step_text(double t, double h)
{
    return " (a step of " + number_text(h) + " from t = " + number_text(t) + ")";
}

/// The start of a tolerance_error's message: the tolerance, and where the
/// integration over [t0, t1] stopped.
[[nodiscard]] inline std::string cannot_meet_message(const char* who, const adaptive_options& o, double t, double t0,
                                                     double t1)
{
    return std::string("etape::sim::") + who + ": cannot meet the tolerance (relative " +
           number_text(o.relative_tolerance) + ", absolute " + number_text(o.absolute_tolerance) + ") at t = " +
           number_text(t) + " of [" + number_text(t0) + ", " + number_text(t1) + "]: ";
}

/// The precision of the error norm: double, or long double for a long
/// double state (there for its precision, as a reference solution: in
/// double, the estimate's rounding would stop it short of tight tolerances).
template <ode_state S>
using norm_type =
    std::conditional_t<std::is_same_v<typename state_traits<S>::scalar, long double>, long double, double>;

/// RMS over i of (h sum_j e_j k_j[i]) / (absolute + relative max(|y_i|, |y1_i|)),
/// on values: the estimate steers the step sizes and is not differentiated.
template <ode_state S>
[[nodiscard]] double scaled_error(const S& y, const S& y1, double h, const std::array<const S*, 6>& k,
                                  const adaptive_options& o)
{
    using traits = state_traits<S>;
    using R = norm_type<S>;
    const std::size_t n = traits::size(y);
    if (n == 0)
        return 0;
    const auto at = [](const S& s, std::size_t i) { return static_cast<R>(traits::value(s, i)); };
    R sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        R difference = 0;
        for (std::size_t j = 0; j < k.size(); ++j)
            difference += dopri::e[j] * at(*k[j], i);
        const R scale = o.absolute_tolerance + o.relative_tolerance * std::max(std::abs(at(y, i)), std::abs(at(y1, i)));
        const R r = scaled(h * difference, scale);
        sum += r * r;
    }
    return static_cast<double>(std::sqrt(sum / static_cast<R>(n)));
}

/// A first step from the sizes of y0 and f(t0, y0) in the tolerance's units
/// (Hairer, Norsett & Wanner, II.4, without the trial Euler step, which
/// would call f once more): 1% of the time y takes to change by its own size.
template <ode_state S>
[[nodiscard]] double initial_step(const S& y, const S& dydt, double span, const adaptive_options& o)
{
    using traits = state_traits<S>;
    const std::size_t n = traits::size(y);
    if (n == 0)
        return span;
    double d0 = 0, d1 = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(traits::value(y, i));
        const double scale = o.absolute_tolerance + o.relative_tolerance * std::abs(v);
        const double sv = scaled(v, scale), sd = scaled(static_cast<double>(traits::value(dydt, i)), scale);
        d0 += sv * sv;
        d1 += sd * sd;
    }
    const double h = d0 < 1e-10 * static_cast<double>(n) || d1 < 1e-10 * static_cast<double>(n)
                         ? 1e-6 * span
                         : 0.01 * std::sqrt(d0 / d1);
    return std::min(h, span);
}

/// The tape's position before an attempt, to drop the attempt if it is
/// rejected; nothing for a state that records nothing.
template <ode_state S, bool = state_traits<S>::records>
struct attempt_recording {
    void drop() noexcept {}
};

template <ode_state S>
struct attempt_recording<S, true> {
    tape<typename state_traits<S>::scalar>& t = active_tape<typename state_traits<S>::scalar>();
    tape_position start = t.position();
    void drop() { t.rewind(start); }
};

template <ode_state S, derivative_of<S> F>
[[nodiscard]] dormand_prince_result<S> dormand_prince_attempt(const char* who, F& f, double t, const S& y,
                                                              const S& k1, double h, const adaptive_options& o)
{
    using traits = state_traits<S>;
    namespace c = dopri;
    const S k2 = derivative(who, f, t + c::c2 * h, traits::combine(y, h, c::a2, k1));
    const S k3 = derivative(who, f, t + c::c3 * h, traits::combine(y, h, c::a3, k1, k2));
    const S k4 = derivative(who, f, t + c::c4 * h, traits::combine(y, h, c::a4, k1, k2, k3));
    const S k5 = derivative(who, f, t + c::c5 * h, traits::combine(y, h, c::a5, k1, k2, k3, k4));
    const S k6 = derivative(who, f, t + h, traits::combine(y, h, c::a6, k1, k2, k3, k4, k5));
    S y1 = traits::combine(y, h, c::b, k1, k3, k4, k5, k6);
    if (const std::size_t i = first_non_finite(y1); i != traits::size(y1)) [[unlikely]]
        throw non_finite_state_error(non_finite_message(who, "the state", y1, i, t + h) + step_text(t, h));
    S k7 = derivative(who, f, t + h, y1);
    const double error = scaled_error(y, y1, h, {&k1, &k3, &k4, &k5, &k6, &k7}, o);
    if (!std::isfinite(error)) [[unlikely]]
        throw non_finite_state_error(std::string("etape::sim::") + who + ": the error estimate is " +
                                     number_text(error) + step_text(t, h) + ": a derivative is not finite");
    return {std::move(y1), std::move(k7), error};
}

} // namespace detail

/// The controller: h * safety * error^(-1/5), the factor kept within
/// [min_factor, max_factor]. The exponent is 1/(q + 1) for the embedded
/// solution's order q = 4: its local error grows as h^5.
[[nodiscard]] inline double next_step_size(double h, double error, const adaptive_options& o)
{
    const double factor = error > 0 ? o.safety * std::pow(error, -0.2) : o.max_factor;
    return h * std::clamp(factor, o.min_factor, o.max_factor);
}

/// One attempted step of size h > 0 from y at time t, given dydt = f(t, y)
/// (the previous result's `derivative`); six calls of f. Whether to accept
/// it (error <= 1) and the next size (next_step_size) are the caller's.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] dormand_prince_result<S> dormand_prince_step(F&& f, double t, const S& y, const S& dydt, double h,
                                                           const adaptive_options& options = {})
{
    detail::require_valid_step("dormand_prince_step", h);
    detail::require_valid_options("dormand_prince_step", options);
    detail::require_same_size("dormand_prince_step", y, dydt);
    return detail::dormand_prince_attempt("dormand_prince_step", f, t, y, dydt, h, options);
}

/// The same, calling f(t, y) first (seven calls of f).
template <ode_state S, derivative_of<S> F>
[[nodiscard]] dormand_prince_result<S> dormand_prince_step(F&& f, double t, const S& y, double h,
                                                           const adaptive_options& options = {})
{
    detail::require_valid_step("dormand_prince_step", h);
    const S dydt = detail::derivative("dormand_prince_step", f, t, y);
    return dormand_prince_step(f, t, y, dydt, h, options);
}

/// y(t1) from y(t0) = y0 with steps chosen to meet the tolerance; `report`,
/// when given, tells how many were accepted and rejected.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S integrate_dormand_prince(F&& f, const S& y0, double t0, double t1,
                                         const adaptive_options& options = {}, adaptive_report* report = nullptr)
{
    const char* const who = "integrate_dormand_prince";
    detail::require_valid_interval(who, t0, t1);
    detail::require_valid_options(who, options);
    adaptive_report unused;
    adaptive_report& r = report != nullptr ? *report : unused;
    r = {};
    r.time = t0;
    if (t1 == t0)
        return y0;
    if (const std::size_t i = detail::first_non_finite(y0); i != state_traits<S>::size(y0))
        throw non_finite_state_error(detail::non_finite_message(who, "the initial state", y0, i, t0));
    S y = y0;
    S dydt = detail::derivative(who, f, t0, y);
    r.evaluations = 1;
    double h = options.initial_step > 0 ? options.initial_step : detail::initial_step(y, dydt, t1 - t0, options);
    h = std::clamp(h, options.min_step, options.max_step);
    const auto give_up = [&](const std::string& why) {
        throw tolerance_error(detail::cannot_meet_message(who, options, r.time, t0, t1) + why);
    };
    bool after_rejection = false;
    while (r.time < t1) {
        const double t = r.time;
        // below 16 ulp of the time, t + h takes a handful of values: no step at all
        const double ulps = 16 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t), std::abs(t1));
        const double floor = std::max(options.min_step, ulps);
        if (h < floor || !(h > 0))
            give_up("the step size " + detail::number_text(h) + " fell below the minimum " +
                    detail::number_text(floor));
        if (r.accepted + r.rejected == options.max_steps)
            give_up("max_steps (" + std::to_string(options.max_steps) + ") attempts made, " +
                    std::to_string(r.accepted) + " accepted, with step size " + detail::number_text(h));
        // the last step ends on t1 exactly; one within 1% of it is stretched
        // rather than followed by a sliver
        const bool last = t + 1.01 * h >= t1;
        const double step = last ? t1 - t : h;
        detail::attempt_recording<S> recording;
        dormand_prince_result<S> attempt = detail::dormand_prince_attempt(who, f, t, y, dydt, step, options);
        r.evaluations += 6;
        double next = next_step_size(step, attempt.error, options);
        if (attempt.error <= 1) {
            ++r.accepted;
            r.time = last ? t1 : t + step;
            r.last_step = step;
            y = std::move(attempt.state);
            dydt = std::move(attempt.derivative);
            if (after_rejection)
                next = std::min(next, step); // growing again at once tends to be rejected again
            after_rejection = false;
        } else {
            ++r.rejected;
            recording.drop();
            after_rejection = true;
        }
        h = std::min(next, options.max_step);
        r.next_step = h;
    }
    return detail::moved(y);
}

} // namespace etape::sim
