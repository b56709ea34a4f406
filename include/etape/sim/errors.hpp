// The exceptions of the ODE steppers, and the checks of their inputs that
// throw them. Layer: sim (under every stepper header).
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <etape/core/number_text.hpp>

namespace etape::sim {

/// A step size that is zero, negative, infinite or NaN, or a step count of 0.
class invalid_step_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// An interval [t0, t1] that ends before it starts, or a bound that is not finite.
class invalid_interval_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// Options of the adaptive stepper out of range (a negative tolerance, ...).
class invalid_options_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A derivative (or acceleration) with another number of elements than the
/// state: a tensor would otherwise be broadcast against it without a word.
class state_size_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A NaN or an infinity in the state while the adaptive stepper runs: no
/// error estimate can be made of it, so the stepper stops instead of
/// shrinking its step for ever.
class non_finite_state_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The adaptive stepper cannot meet its tolerance: its step fell below the
/// minimum, or it made max_steps attempts before reaching the end.
class tolerance_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {

using etape::detail::number_text;

/// `who`: the public function, named in the message.
inline void require_valid_step(const char* who, double h)
{
    if (!(h > 0) || !std::isfinite(h)) [[unlikely]]
        throw invalid_step_error(std::string("etape::sim::") + who +
                                 ": the step size must be positive and finite, got " + number_text(h));
}

inline void require_step_count(const char* who, std::size_t steps)
{
    if (steps == 0) [[unlikely]]
        throw invalid_step_error(std::string("etape::sim::") + who + ": the number of steps must be at least 1, got 0");
}

/// t1 == t0 is an empty interval, not an error: the integrators return the
/// initial state.
inline void require_valid_interval(const char* who, double t0, double t1)
{
    if (!std::isfinite(t0) || !std::isfinite(t1)) [[unlikely]]
        throw invalid_interval_error(std::string("etape::sim::") + who + ": the interval [" + number_text(t0) +
                                     ", " + number_text(t1) + "] must have finite bounds");
    if (t1 < t0) [[unlikely]]
        throw invalid_interval_error(std::string("etape::sim::") + who + ": the end time " + number_text(t1) +
                                     " is before the start time " + number_text(t0));
}

} // namespace detail

} // namespace etape::sim
