// The ODE steppers: explicit Euler, RK4, adaptive Dormand-Prince and
// velocity Verlet, on numbers, vars, active tensors and small arrays.
// Layer: sim.
#pragma once

#include <etape/sim/errors.hpp>
#include <etape/sim/ode_state.hpp>
#include <etape/sim/euler.hpp>
#include <etape/sim/runge_kutta.hpp>
#include <etape/sim/dormand_prince.hpp>
#include <etape/sim/verlet.hpp>
