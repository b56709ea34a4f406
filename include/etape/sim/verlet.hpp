// Velocity Verlet (the kick-drift-kick leapfrog) for q'' = a(q): second
// order, symplectic and time-reversible, so its energy error stays bounded
// over long runs where explicit Euler's grows. Layer: sim.
#pragma once

#include <cstddef>
#include <utility>

#include <etape/sim/errors.hpp>
#include <etape/sim/fixed_steps.hpp>
#include <etape/sim/ode_state.hpp>

namespace etape::sim {

/// A point of phase space: where the system is and how fast it moves.
template <ode_state S>
struct phase_point {
    S position;
    S velocity;
};

namespace detail {

/// A phase point with a(position), which the next step reuses: one call of a
/// per step (and, with a var or a tensor, the same recording for both uses).
template <ode_state S>
struct verlet_point {
    phase_point<S> point;
    S acceleration;
};

///   q1 = q + h v + h^2/2 a(q),   v1 = v + h/2 (a(q) + a(q1)).
template <ode_state S, acceleration_of<S> A>
[[nodiscard]] verlet_point<S> verlet_advance(const char* who, A& a, const verlet_point<S>& x, double h)
{
    using traits = state_traits<S>;
    const phase_point<S>& p = x.point;
    S q1 = traits::combine(p.position, h, {1.0, h / 2}, p.velocity, x.acceleration);
    S a1 = acceleration(who, a, q1);
    S v1 = traits::combine(p.velocity, h, {0.5, 0.5}, x.acceleration, a1);
    return {{std::move(q1), std::move(v1)}, std::move(a1)};
}

} // namespace detail

/// One velocity Verlet step of size h > 0 (two calls of a).
template <ode_state S, acceleration_of<S> A>
[[nodiscard]] phase_point<S> verlet_step(A&& a, const phase_point<S>& x, double h)
{
    detail::require_valid_step("verlet_step", h);
    const detail::verlet_point<S> start{x, detail::acceleration("verlet_step", a, x.position)};
    return detail::verlet_advance("verlet_step", a, start, h).point;
}

/// The phase point at t1 from x0 at t0 in `steps` equal steps (steps + 1
/// calls of a). Time only sets the step: a(q) does not depend on it.
template <ode_state S, acceleration_of<S> A>
[[nodiscard]] phase_point<S> integrate_verlet(A&& a, const phase_point<S>& x0, double t0, double t1,
                                              std::size_t steps)
{
    constexpr const char* who = "integrate_verlet";
    detail::require_valid_interval(who, t0, t1);
    detail::require_step_count(who, steps);
    if (t1 == t0)
        return x0;
    const detail::verlet_point<S> start{x0, detail::acceleration(who, a, x0.position)};
    const auto step = [&a](double, const detail::verlet_point<S>& x, double h) {
        return detail::verlet_advance("integrate_verlet", a, x, h);
    };
    return detail::integrate_fixed(who, step, start, t0, t1, steps).point;
}

} // namespace etape::sim
