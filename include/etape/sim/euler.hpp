// Explicit Euler: y_{n+1} = y_n + h f(t_n, y_n), first order. Layer: sim.
#pragma once

#include <cstddef>

#include <etape/sim/errors.hpp>
#include <etape/sim/fixed_steps.hpp>
#include <etape/sim/ode_state.hpp>

namespace etape::sim {

/// One Euler step of size h > 0 from y at time t.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S euler_step(F&& f, double t, const S& y, double h)
{
    detail::require_valid_step("euler_step", h);
    const S k = detail::derivative("euler_step", f, t, y);
    return state_traits<S>::combine(y, h, {1.0}, k);
}

/// y(t1) from y(t0) = y0 in `steps` equal Euler steps.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S integrate_euler(F&& f, const S& y0, double t0, double t1, std::size_t steps)
{
    return detail::integrate_fixed(
        "integrate_euler", [&f](double t, const S& y, double h) { return euler_step(f, t, y, h); }, y0, t0, t1,
        steps);
}

} // namespace etape::sim
