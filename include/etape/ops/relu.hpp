// Rectifiers: relu and leaky_relu. Layer: ops.
// At x == 0 both take the negative side's slope (0 and `slope`), as PyTorch.
// relu(x) is IEEE 754-2019 maximum(x, +0): +0 for every x <= 0 (-0 and -inf
// included), NaN for NaN. Both take SIMD batches (core/batch.hpp).
#pragma once

#include <cmath>
#include <concepts>
#include <string_view>

#include <etape/core/number_text.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

struct relu_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "relu";
    static constexpr bool takes_batches = true;
    /// x <= 0 is false for NaN, which passes through; every other x <= 0
    /// (-0 and -inf too) gives +0, never the -0 or NaN of 0 * x
    template <class T> static T primal(T x) { return x <= T(0) ? T(0) : x; }
    template <class T> static T partial(T x, T) { return x > T(0) ? T(1) : T(0); }
    template <simd::batch_type V> static V primal(V x) { return simd::select(x <= V(0), V(0), x); }
    template <simd::batch_type V> static V partial(V x, V) { return simd::select(x > V(0), V(1), V(0)); }
};

template <std::floating_point T>
struct leaky_relu_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "leaky_relu";
    static constexpr bool takes_batches = true;
    T slope = T(0.01);
    [[nodiscard]] T primal(T x) const { return x > T(0) ? x : slope * x; }
    [[nodiscard]] T partial(T x, T) const { return x > T(0) ? T(1) : slope; }
    template <simd::batch_of<T> V> [[nodiscard]] V primal(V x) const { return simd::select(x > V(0), x, V(slope) * x); }
    template <simd::batch_of<T> V> [[nodiscard]] V partial(V x, V) const { return simd::select(x > V(0), V(1), V(slope)); }
};

template <elementwise_operand X> [[nodiscard]] auto relu(const X& x) { return apply(relu_op{}, x); }
/// Any finite slope (the partial reads the input, so a negative one is fine);
/// a NaN or infinite slope throws std::invalid_argument.
template <elementwise_operand X> [[nodiscard]] auto leaky_relu(const X& x, scalar_t<X> slope = scalar_t<X>(0.01))
{
    if (!std::isfinite(slope)) [[unlikely]]
        detail::throw_invalid_number("etape::leaky_relu: slope must be finite, got ", slope);
    return apply(leaky_relu_op<scalar_t<X>>{slope}, x);
}

} // namespace etape
