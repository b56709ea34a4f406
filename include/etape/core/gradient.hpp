// Front-ends of the reverse sweep: gradient of one output with respect to
// chosen inputs, the functional forms over plain vectors, and jacobians.
// Layer: core (built on tape, var and the active tape).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/var.hpp>

namespace etape {

namespace detail {

/// Throws tape_error unless `v` can be differentiated on `t`.
template <class T>
void require_recorded(const tape<T>& t, const var<T>& v)
{
    if (v.slot() >= t.size()) [[unlikely]]
        throw tape_error("etape: gradient asked of a var (slot " + std::to_string(v.slot()) +
                         ") that is not on the active tape's recording (" + std::to_string(t.size()) + " slots)");
    v.check_on(t);
}

/// Clears the adjoints, seeds y's with 1 and sweeps down to slot `bottom`.
template <class T>
void sweep_from(tape<T>& t, const var<T>& y, slot_index bottom)
{
    if (!y.is_active()) {
        t.clear_adjoints();
        return;
    }
    const slot_index top = y.slot();
    const slot_range seed{top, 1};
    t.clear_and_sweep(top + 1, bottom, std::span(&seed, 1), [top](T* adjoints) { adjoints[top] = T(1); });
}

template <class T>
T adjoint_of(tape<T>& t, const var<T>& x)
{
    return x.is_active() ? t.adjoint(x.slot()) : T(0);
}

/// Rewinds the tape to where it was when the guard was made.
template <class T>
class rewind_guard {
public:
    explicit rewind_guard(tape<T>& t) : tape_(t), start_(t.position()) {}
    rewind_guard(const rewind_guard&) = delete;
    rewind_guard& operator=(const rewind_guard&) = delete;
    ~rewind_guard() { tape_.rewind(start_); }

private:
    tape<T>& tape_;
    tape_position start_;
};

template <class T>
slot_index lowest_slot(std::span<const var<T>> xs)
{
    slot_index lowest = ~slot_index{0};
    for (const auto& x : xs)
        if (x.is_active() && x.slot() < lowest)
            lowest = x.slot();
    return lowest;
}

} // namespace detail

/// d y / d x for each x, in the order given: `auto [dx, dy] = gradient(f, x, y)`.
template <class T, class... X>
    requires(std::same_as<X, var<T>> && ...)
[[nodiscard]] std::array<T, sizeof...(X)> gradient(const var<T>& y, const X&... xs)
{
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, y);
    (detail::require_recorded(t, xs), ...);
    const std::array<var<T>, sizeof...(X)> inputs{xs...};
    detail::sweep_from(t, y, detail::lowest_slot<T>(inputs));
    return {detail::adjoint_of(t, xs)...};
}

/// A statement bound to `auto` (`auto y = x * x + elu(x);`) is an
/// expression that records nothing until a var is made of it: refused with
/// one sentence instead of the candidates that did not match.
template <class E, class... X>
    requires(expression<E> && !std::same_as<E, var<scalar_t<E>>>)
std::array<scalar_t<E>, sizeof...(X)> gradient(const E&, const X&...)
{
    static_assert(!expression<E>, "etape::gradient: the output is a statement that was never recorded (bound to "
                                  "auto?); store it in a var first: etape::var<double> y = ...;");
    return {};
}

/// Writes d y / d xs[i] into out[i] for every i: the gradient over a span
/// without allocating, for loops that reuse one buffer (a training step, a
/// solver's iteration). `out` must have xs.size() elements
/// (std::invalid_argument otherwise); a passive var gets 0.
template <class T>
void gradient_into(const var<T>& y, std::type_identity_t<std::span<const var<T>>> xs,
                   std::type_identity_t<std::span<T>> out)
{
    if (out.size() != xs.size())
        throw std::invalid_argument("etape::gradient_into: " + std::to_string(out.size()) +
                                    " elements to write the gradient into, for " + std::to_string(xs.size()) +
                                    " inputs");
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, y);
    // one branch-free pass for the range of slots and whether they are
    // consecutive, as register_inputs makes them. The minimum is taken of
    // slot - 1, so that a passive var (slot 0) wraps to the largest value
    // and lowers nothing.
    constexpr slot_index none = ~slot_index{0};
    slot_index below_lowest = none, highest = 0, gaps = 0;
    const slot_index first = xs.empty() ? 0 : xs[0].slot();
    slot_index expected = first;
    std::uint32_t differences = 0; // var::mark_difference_on of every input, or-ed
    for (const var<T>& x : xs) {
        const slot_index s = x.slot();
        below_lowest = std::min(below_lowest, static_cast<slot_index>(s - 1));
        highest = std::max(highest, s);
        gaps |= s ^ expected++; // stays zero while the slots are first, first + 1, ...
        differences |= x.mark_difference_on(t);
    }
    const slot_index lowest = below_lowest == none ? none : below_lowest + 1;
    const bool consecutive = first != 0 && gaps == 0;
    if (!t.surely_hold_all(differences, highest) || highest >= t.size()) [[unlikely]]
        for (const auto& x : xs)
            detail::require_recorded(t, x); // throws, naming the var
    detail::sweep_from(t, y, lowest);
    T* adjoints = t.adjoints(); // sized by the sweep
    if (consecutive) {
        std::copy_n(adjoints + first, xs.size(), out.begin());
        return;
    }
    adjoints[0] = T(0); // the passive sink: what flowed into it is not a gradient
    for (std::size_t i = 0; i < xs.size(); ++i)
        out[i] = adjoints[xs[i].slot()];
}

/// d y / d x_i for every x_i of `xs`.
template <class T>
[[nodiscard]] std::vector<T> gradient(const var<T>& y, std::span<const var<T>> xs)
{
    std::vector<T> result(xs.size());
    gradient_into(y, xs, std::span<T>(result));
    return result;
}

template <class T>
[[nodiscard]] std::vector<T> gradient(const var<T>& y, const std::vector<var<T>>& xs)
{
    return gradient(y, std::span<const var<T>>(xs));
}

/// Value and gradient of `f` at `x`: f is called once with the inputs as a
/// std::span<const var<T>> and returns a var (or an expression). It records
/// on the active tape, which is rewound afterwards.
template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::pair<T, std::vector<T>> value_and_gradient(F&& f, std::span<const T> x)
{
    tape<T>& t = active_tape<T>();
    const detail::rewind_guard<T> guard(t);
    std::vector<var<T>> inputs(x.size());
    register_inputs(std::span<var<T>>(inputs), x);
    const var<T> y = f(std::span<const var<T>>(inputs));
    return {y.value(), gradient(y, std::span<const var<T>>(inputs))};
}

template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::pair<T, std::vector<T>> value_and_gradient(F&& f, const std::vector<T>& x)
{
    return value_and_gradient(std::forward<F>(f), std::span<const T>(x));
}

/// Gradient of `f` at `x` (see value_and_gradient).
template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::vector<T> gradient(F&& f, std::span<const T> x)
{
    return value_and_gradient(std::forward<F>(f), x).second;
}

template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::vector<T> gradient(F&& f, const std::vector<T>& x)
{
    return value_and_gradient(std::forward<F>(f), std::span<const T>(x)).second;
}

/// J[i][j] = d ys[i] / d xs[j]: one reverse sweep per output.
template <class T>
[[nodiscard]] std::vector<std::vector<T>> jacobian(std::span<const var<T>> ys, std::span<const var<T>> xs)
{
    std::vector<std::vector<T>> rows;
    rows.reserve(ys.size());
    for (const auto& y : ys)
        rows.push_back(gradient(y, xs));
    return rows;
}

template <class T>
[[nodiscard]] std::vector<std::vector<T>> jacobian(const std::vector<var<T>>& ys, const std::vector<var<T>>& xs)
{
    return jacobian(std::span<const var<T>>(ys), std::span<const var<T>>(xs));
}

/// Jacobian of `f` at `x`; f returns a std::vector<var<T>>.
template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::vector<std::vector<T>> jacobian(F&& f, std::span<const T> x)
{
    tape<T>& t = active_tape<T>();
    const detail::rewind_guard<T> guard(t);
    std::vector<var<T>> inputs(x.size());
    register_inputs(std::span<var<T>>(inputs), x);
    const std::vector<var<T>> outputs = f(std::span<const var<T>>(inputs));
    return jacobian(std::span<const var<T>>(outputs), std::span<const var<T>>(inputs));
}

template <class F, class T>
    requires std::invocable<F&, std::span<const var<T>>>
[[nodiscard]] std::vector<std::vector<T>> jacobian(F&& f, const std::vector<T>& x)
{
    return jacobian(std::forward<F>(f), std::span<const T>(x));
}

} // namespace etape
