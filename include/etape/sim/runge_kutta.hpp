// The classic fourth-order Runge-Kutta method (RK4). Layer: sim.
#pragma once

#include <cstddef>

#include <etape/sim/errors.hpp>
#include <etape/sim/fixed_steps.hpp>
#include <etape/sim/ode_state.hpp>

namespace etape::sim {

/// One RK4 step of size h > 0 from y at time t:
///   k1 = f(t, y),               k2 = f(t + h/2, y + h/2 k1),
///   k3 = f(t + h/2, y + h/2 k2), k4 = f(t + h, y + h k3),
///   y + h (k1 + 2 k2 + 2 k3 + k4) / 6.
/// Each stage's argument and the result are one combination each.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S rk4_step(F&& f, double t, const S& y, double h)
{
    detail::require_valid_step("rk4_step", h);
    using traits = state_traits<S>;
    const double half = h / 2;
    const S k1 = detail::derivative("rk4_step", f, t, y);
    const S k2 = detail::derivative("rk4_step", f, t + half, traits::combine(y, half, {1.0}, k1));
    const S k3 = detail::derivative("rk4_step", f, t + half, traits::combine(y, half, {1.0}, k2));
    const S k4 = detail::derivative("rk4_step", f, t + h, traits::combine(y, h, {1.0}, k3));
    return traits::combine(y, h, {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}, k1, k2, k3, k4);
}

/// y(t1) from y(t0) = y0 in `steps` equal RK4 steps.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S integrate_rk4(F&& f, const S& y0, double t0, double t1, std::size_t steps)
{
    return detail::integrate_fixed(
        "integrate_rk4", [&f](double t, const S& y, double h) { return rk4_step(f, t, y, h); }, y0, t0, t1, steps);
}

} // namespace etape::sim
