// The loop of the fixed-step integrators: n equal steps over [t0, t1].
// Layer: sim (under euler.hpp, runge_kutta.hpp and verlet.hpp).
#pragma once

#include <cstddef>

#include <etape/sim/errors.hpp>
#include <etape/sim/ode_state.hpp>

namespace etape::sim::detail {

/// x after `steps` calls x = step(t, x, h), h = (t1 - t0) / steps. Each time
/// is t0 + i h, not a running sum, so that rounding does not drift over
/// long runs. An empty interval returns x0.
template <class X, class Step>
[[nodiscard]] X integrate_fixed(const char* who, Step&& step, const X& x0, double t0, double t1, std::size_t steps)
{
    require_valid_interval(who, t0, t1);
    require_step_count(who, steps);
    if (t1 == t0)
        return x0;
    const double h = (t1 - t0) / static_cast<double>(steps);
    require_valid_step(who, h); // an interval so short that h underflows to 0
    X x = x0;
    for (std::size_t i = 0; i < steps; ++i)
        x = step(t0 + static_cast<double>(i) * h, x, h);
    return moved(x);
}

} // namespace etape::sim::detail
