// expm1 on x <= 0 without libm: the negative side of the ELU family, for
// scalars here and for SIMD batches in core/simd.hpp, which shares the
// arithmetic below. Layer: core.
//
// libm's expm1 branches on the size of its argument and divides; in a scalar
// recording of ELUs it was the largest single cost (perf, elu_sum with
// n = 100,000: 46 % of etape's time, against 18 % for the sweep), and
// xsimd's divides too. On the negative side only, the argument is in
// [-inf, 0] and this is a few dozen straight-line instructions:
//
//   t = clamp(x, -40, 0)                   expm1 rounds to -1 below -40
//   k = round(t / ln 2),  r = t - k ln 2   (ln 2 in two parts, and r's
//                                           rounding error carried along)
//   expm1(t) = 2^k expm1(r) + (2^k - 1)    2^k expm1(r) is exact: one rounding
//
// with expm1(r) = r + r^2 s(r), s the Taylor polynomial of (e^r - 1 - r) / r^2
// to degree 11 in double (|r| <= ln(2)/2: the first omitted term is below
// 2^-56 relative) and 6 in float (2^-28). A float scalar computes in double
// and rounds once; a float batch computes in float, at twice the lanes.
//
// Accuracy against expm1l in long double, over 2.5 million points (2 million
// uniform in [-45, 0], 500,000 of magnitude 2^-320 to 1) and the edges: the
// scalar is within 0.92 ulp in double, with or without FMA (glibc 2.36's
// expm1: 0.75 on the same points), and 0.5 ulp in float (glibc: 0.76); the
// batch within 0.86 ulp in double and 0.91 in float (AVX-512 and SSE2).
// tests/ops/expm1_nonpositive.cpp asserts 1 ulp (0.501 for the float scalar)
// on 1.25 million such points. expm1(-0) is -0, NaN gives NaN, -inf gives
// -1; an argument > 0 gives expm1(0) = 0, which the caller discards (the
// positive side of the ELU family is another formula).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace etape::detail {

/// The constants of the range reduction t = k ln 2 + r in T.
template <class T>
struct ln2_reduction;

template <>
struct ln2_reduction<double> {
    static constexpr double inv_ln2 = 0x1.71547652b82fep0;
    static constexpr double ln2_hi = 0x1.62e42fee00000p-1; // trailing zeros: k * ln2_hi is exact for |k| < 2^11
    static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
    static constexpr double shifter = 0x1.8p52; // adding it rounds to an integer, kept in the low bits
};

template <>
struct ln2_reduction<float> {
    static constexpr float inv_ln2 = 0x1.715476p0f;
    static constexpr float ln2_hi = 0x1.62e4p-1f; // 15 bits: k * ln2_hi is exact for |k| < 2^9
    static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
    static constexpr float shifter = 0x1.8p23f;
};

/// t = k ln 2 + r + r_error with |r| <= ln(2)/2; k is in the low bits of `shifted`.
template <class V>
struct reduced_by_ln2 {
    V shifted;
    V r;
    V r_error;
};

/// The range reduction, for t in [-40, 0] (or NaN), in T. V is T or a SIMD
/// batch of T: the same arithmetic either way.
template <class T, class V>
[[nodiscard]] inline reduced_by_ln2<V> reduce_by_ln2(const V& t) noexcept
{
    using c = ln2_reduction<T>;
    const V shifted = t * V(c::inv_ln2) + V(c::shifter);
    const V k = shifted - V(c::shifter);
    const V r_hi = t - k * V(c::ln2_hi); // exact
    const V r_lo = -(k * V(c::ln2_lo));
    const V r = r_hi + r_lo;
    return {shifted, r, (r_hi - r) + r_lo}; // what rounding r lost (|r_hi| >= |r_lo|: exact)
}

/// expm1(r + r_error) for |r| <= ln(2)/2, to first order in r_error: r plus
/// a correction of at most 0.21 |r|, so the last addition rounds to within
/// 0.6 ulp. s(r) = sum_j r^j / (j+2)! in Estrin's scheme (shorter chains
/// than Horner), to degree 11 in double and 6 in float.
template <class T, class V>
[[nodiscard]] inline V expm1_reduced(const V& r, const V& r_error) noexcept
{
    const V r2 = r * r;
    const V r4 = r2 * r2;
    V s;
    if constexpr (std::is_same_v<T, double>) {
        const V r8 = r4 * r4;
        const V s01 = V(0.5) + r * V(0x1.5555555555555p-3);                    // 1/2!, 1/3!
        const V s23 = V(0x1.5555555555555p-5) + r * V(0x1.1111111111111p-7);  // 1/4!, 1/5!
        const V s45 = V(0x1.6c16c16c16c17p-10) + r * V(0x1.a01a01a01a01ap-13); // 1/6!, 1/7!
        const V s67 = V(0x1.a01a01a01a01ap-16) + r * V(0x1.71de3a556c734p-19); // 1/8!, 1/9!
        const V s89 = V(0x1.27e4fb7789f5cp-22) + r * V(0x1.ae64567f544e4p-26); // 1/10!, 1/11!
        const V sab = V(0x1.1eed8eff8d898p-29) + r * V(0x1.6124613a86d09p-33); // 1/12!, 1/13!
        s = (s01 + r2 * s23) + r4 * (s45 + r2 * s67) + r8 * (s89 + r2 * sab);
    } else {
        static_assert(std::is_same_v<T, float>);
        const V s01 = V(0.5f) + r * V(0x1.555556p-3f);           // 1/2!, 1/3!
        const V s23 = V(0x1.555556p-5f) + r * V(0x1.111112p-7f);  // 1/4!, 1/5!
        const V s45 = V(0x1.6c16c2p-10f) + r * V(0x1.a01a02p-13f); // 1/6!, 1/7!
        const V s6 = V(0x1.a01a02p-16f);                          // 1/8!
        s = (s01 + r2 * s23) + r4 * (s45 + r2 * s6);
    }
    return r + (r2 * s + (r_error + r_error * r));
}

/// expm1(min(x, 0)) in double, within 1 ulp (see the header comment).
[[nodiscard]] inline double expm1_nonpositive(double x) noexcept
{
    const double t = std::max(std::min(x, 0.0), -40.0); // NaN stays: min and max return their first argument
    const auto [shifted, r, r_error] = reduce_by_ln2<double>(t);
    const double p = expm1_reduced<double>(r, r_error);
    // 2^k from k's bits in `shifted`; k is in [-58, 0] after the clamp
    const auto k_bits = std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(ln2_reduction<double>::shifter);
    const double two_k = std::bit_cast<double>((k_bits + 1023) << 52);
    // 2^k p is exact, so one rounding; for k = 0 this is p - 0, p exactly.
    // The result has t's sign (t <= 0), and taking it restores -0 for t = -0.
    return std::copysign(two_k * p - (1.0 - two_k), t);
}

/// Float: the double computation rounded once (see the header comment).
[[nodiscard]] inline float expm1_nonpositive(float x) noexcept
{
    return static_cast<float>(expm1_nonpositive(static_cast<double>(x)));
}

/// True for the types expm1_nonpositive computes (long double stays on libm).
template <class T>
inline constexpr bool has_expm1_nonpositive = std::is_same_v<T, float> || std::is_same_v<T, double>;

} // namespace etape::detail
