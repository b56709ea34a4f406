// The ELU family: elu, selu, celu. Layer: ops.
//
// All three are  y = scale * (x > 0 ? x : alpha * expm1(input_scale * x)),
// with the negative branch taken at x == 0 (PyTorch's convention), and
//   dy/dx = y > 0 ? scale : input_scale * (y + alpha * scale)
// read from the output, so the reverse pass evaluates no exponential. The
// sign of y tells the branch only while alpha * scale and input_scale agree
// in sign: ELU rejects alpha < 0, CELU rejects alpha == 0 (and both an
// infinite alpha, whose elu(0) would be inf * 0).
//
// Precision: far in the negative tail y + alpha*scale cancels; its absolute
// error stays within about one ulp of alpha*scale, but the relative error
// grows (in float the derivative reads 0 below x ~ -17, in double below
// x ~ -37). Pass etape::from_input to take the derivative from x instead
// (one more exp per element), when the tail matters.
//
// With the default (libm) exponentials all three take SIMD batches
// (core/batch.hpp): the batch forms are the same formulas, lane by lane, with
// a select for the branch; the negative side's expm1 is etape's own on both
// (core/expm1_nonpositive.hpp: etape::simd::expm1_where_nonpositive on
// batches), except for CELU with alpha < 0 (libm's, xsimd's).
#pragma once

#include <cmath>
#include <concepts>
#include <string_view>

#include <etape/core/expm1_nonpositive.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

/// Derivative policies of the ELU family.
struct from_output_t {};
struct from_input_t {};
inline constexpr from_output_t from_output{};
inline constexpr from_input_t from_input{};

template <class S>
concept elu_derivative_policy = std::same_as<S, from_output_t> || std::same_as<S, from_input_t>;

namespace detail {

/// The exponentials the ELU family calls; a test substitutes a counting one.
struct libm_exponentials {
    template <class T> static T expm1(T x) { return std::expm1(x); }
    template <class T> static T exp(T x) { return std::exp(x); }
};

/// A constant of the formula that is 1 for the whole primitive (ELU's scale
/// and input_scale, SELU's input_scale, CELU's scale). It is 1 at compile
/// time, so the multiplications by it fold away, in the SIMD loops too;
/// x * 1 == x exactly, NaN included, so the results are those of a runtime 1.
template <class T>
struct unit_constant {
    constexpr operator T() const noexcept { return T(1); }
};

/// The shared formula of the family, with its three constants: Scale and
/// InputScale are T, or unit_constant<T> where the primitive fixes them to 1.
template <class T, class Source, class Math, class Scale, class InputScale>
struct elu_formula {
    [[no_unique_address]] Scale scale;
    T alpha;
    [[no_unique_address]] InputScale input_scale;
    /// scale * alpha, rounded once: the partial from the output adds it to
    /// y, and a product written inline there could be fused into an FMA in
    /// one path and not in the other (scalar and batch would then differ in
    /// the far negative tail, where the sum cancels).
    T negative_limit = scale * alpha;

    [[nodiscard]] T primal(T x) const
    {
        return x > T(0) ? scale * x : negative_limit * negative_side_expm1(input_scale * x);
    }

    /// expm1 of the negative side's argument: etape's own, without libm's
    /// branches and division, where that argument is <= 0 (all but CELU with
    /// alpha < 0; core/expm1_nonpositive.hpp), libm's otherwise.
    [[nodiscard]] T negative_side_expm1(T t) const
    {
        if constexpr (std::same_as<Math, libm_exponentials> && has_expm1_nonpositive<T>)
            if (input_scale > T(0))
                return expm1_nonpositive(t);
        return Math::expm1(t);
    }

    [[nodiscard]] T partial(T x, T y) const
    {
        if constexpr (std::same_as<Source, from_output_t>)
            return y > T(0) ? scale : input_scale * (y + negative_limit); // y + alpha*scale = alpha*scale*exp(input_scale*x)
        else
            return x > T(0) ? scale : input_scale * scale * alpha * Math::exp(input_scale * x);
    }

    template <simd::batch_of<T> V>
    [[nodiscard]] V primal(V x) const
    {
        // With input_scale > 0 (all but CELU with alpha < 0) the lanes that
        // keep the exponential have an argument <= 0, which needs no libm
        // fallback. The select is written so that NaN takes scale * x.
        const V t = V(T(input_scale)) * x;
        const V e = input_scale > T(0) ? simd::expm1_where_nonpositive(t) : simd::expm1(t);
        return simd::select(x <= V(0), V(negative_limit) * e, V(T(scale)) * x);
    }

    template <simd::batch_of<T> V>
    [[nodiscard]] V partial(V x, V y) const
    {
        if constexpr (std::same_as<Source, from_output_t>)
            return simd::select(y > V(0), V(T(scale)), V(T(input_scale)) * (y + V(negative_limit)));
        else
            return simd::select(x > V(0), V(T(scale)),
                                V(T(input_scale)) * V(T(scale)) * V(alpha) * simd::exp(V(T(input_scale)) * x));
    }
};

/// The batch forms call etape::simd's exponentials, so a substituted Math
/// (a test's counting one) keeps the family on numbers.
template <class Math>
inline constexpr bool libm_math = std::same_as<Math, libm_exponentials>;

template <class Source>
inline constexpr derivative_source source_of = std::same_as<Source, from_output_t> ? derivative_source::output
                                                                                   : derivative_source::input;

} // namespace detail

/// ELU: x > 0 ? x : alpha (e^x - 1).
template <std::floating_point T, elu_derivative_policy Source = from_output_t, class Math = detail::libm_exponentials>
struct elu_op {
    static constexpr derivative_source source = detail::source_of<Source>;
    static constexpr std::string_view name = "elu";
    static constexpr bool takes_batches = detail::libm_math<Math>;

    explicit elu_op(T alpha = T(1)) : formula{{}, alpha, {}}
    {
        if (std::same_as<Source, from_output_t> && !(alpha >= T(0))) [[unlikely]]
            detail::throw_invalid_number("etape::elu: alpha must be >= 0 for the derivative from the output, got ",
                                         alpha, " (pass etape::from_input for alpha < 0)");
        if (!std::isfinite(alpha)) [[unlikely]] // an infinite alpha makes elu(0) = inf * 0 = NaN
            detail::throw_invalid_number("etape::elu: alpha must be finite, got ", alpha);
    }

    [[nodiscard]] T alpha() const noexcept { return formula.alpha; }
    [[nodiscard]] T primal(T x) const { return formula.primal(x); }
    [[nodiscard]] T partial(T x, T y) const { return formula.partial(x, y); }
    template <simd::batch_of<T> V> [[nodiscard]] V primal(V x) const { return formula.primal(x); }
    template <simd::batch_of<T> V> [[nodiscard]] V partial(V x, V y) const { return formula.partial(x, y); }

    detail::elu_formula<T, Source, Math, detail::unit_constant<T>, detail::unit_constant<T>> formula;
};

/// SELU: scale * elu(x, alpha) with the self-normalising constants.
template <std::floating_point T, elu_derivative_policy Source = from_output_t, class Math = detail::libm_exponentials>
struct selu_op {
    static constexpr derivative_source source = detail::source_of<Source>;
    static constexpr std::string_view name = "selu";
    static constexpr bool takes_batches = detail::libm_math<Math>;
    static constexpr T scale = static_cast<T>(1.0507009873554804934193349852946L);
    static constexpr T alpha = static_cast<T>(1.6732632423543772848170429916717L);

    [[nodiscard]] T primal(T x) const { return formula.primal(x); }
    [[nodiscard]] T partial(T x, T y) const { return formula.partial(x, y); }
    template <simd::batch_of<T> V> [[nodiscard]] V primal(V x) const { return formula.primal(x); }
    template <simd::batch_of<T> V> [[nodiscard]] V partial(V x, V y) const { return formula.partial(x, y); }

    detail::elu_formula<T, Source, Math, T, detail::unit_constant<T>> formula{scale, alpha, {}};
};

/// CELU: x > 0 ? x : alpha (e^(x/alpha) - 1); continuously differentiable.
template <std::floating_point T, elu_derivative_policy Source = from_output_t, class Math = detail::libm_exponentials>
struct celu_op {
    static constexpr derivative_source source = detail::source_of<Source>;
    static constexpr std::string_view name = "celu";
    static constexpr bool takes_batches = detail::libm_math<Math>;

    explicit celu_op(T alpha = T(1)) : formula{{}, alpha, T(1) / alpha}
    {
        if (alpha == T(0) || std::isnan(alpha)) [[unlikely]]
            detail::throw_invalid_number("etape::celu: alpha must be nonzero, got ", alpha);
        if (std::isinf(alpha)) [[unlikely]] // input_scale 0: celu(x) = inf * 0 = NaN
            detail::throw_invalid_number("etape::celu: alpha must be finite, got ", alpha);
    }

    [[nodiscard]] T alpha() const noexcept { return formula.alpha; }
    [[nodiscard]] T primal(T x) const { return formula.primal(x); }
    [[nodiscard]] T partial(T x, T y) const { return formula.partial(x, y); }
    template <simd::batch_of<T> V> [[nodiscard]] V primal(V x) const { return formula.primal(x); }
    template <simd::batch_of<T> V> [[nodiscard]] V partial(V x, V y) const { return formula.partial(x, y); }

    detail::elu_formula<T, Source, Math, detail::unit_constant<T>, T> formula;
};

template <elementwise_operand X>
[[nodiscard]] auto elu(const X& x, scalar_t<X> alpha = 1)
{
    return apply(elu_op<scalar_t<X>>(alpha), x);
}
template <elementwise_operand X>
[[nodiscard]] auto elu(const X& x, scalar_t<X> alpha, from_input_t)
{
    return apply(elu_op<scalar_t<X>, from_input_t>(alpha), x);
}

template <elementwise_operand X>
[[nodiscard]] auto selu(const X& x)
{
    return apply(selu_op<scalar_t<X>>{}, x);
}
template <elementwise_operand X>
[[nodiscard]] auto selu(const X& x, from_input_t)
{
    return apply(selu_op<scalar_t<X>, from_input_t>{}, x);
}

template <elementwise_operand X>
[[nodiscard]] auto celu(const X& x, scalar_t<X> alpha = 1)
{
    return apply(celu_op<scalar_t<X>>(alpha), x);
}
template <elementwise_operand X>
[[nodiscard]] auto celu(const X& x, scalar_t<X> alpha, from_input_t)
{
    return apply(celu_op<scalar_t<X>, from_input_t>(alpha), x);
}

} // namespace etape
