// expm1 on x <= 0 without libm: the negative side of the ELU family, for
// scalars. Layer: core.
//
// libm's expm1 branches on the size of its argument and divides; in a scalar
// recording of ELUs it was the largest single cost (perf, elu_sum with
// n = 100,000: 46 % of etape's time, against 18 % for the sweep). On the
// negative side only, the argument is in [-inf, 0] and this is a few dozen
// straight-line instructions:
//
//   t = clamp(x, -40, 0)                   expm1 rounds to -1 below -40
//   k = round(t / ln 2),  r = t - k ln 2   (ln 2 in two parts, and r's
//                                           rounding error carried along)
//   expm1(t) = 2^k expm1(r) + (2^k - 1)    2^k expm1(r) is exact: one rounding
//
// with expm1(r) = r + r^2 s(r), s the Taylor polynomial of (e^r - 1 - r) / r^2
// to degree 11 (|r| <= ln(2)/2: the first omitted term is below 2^-56
// relative). Float computes in double and rounds once.
//
// Accuracy against expm1l in long double, over 2.5 million points (2 million
// uniform in [-45, 0], 500,000 of magnitude 2^-320 to 1) and the edges: at
// most 0.92 ulp in double, with or without FMA (glibc 2.36's expm1: 0.75 on
// the same points), 0.5 ulp in float (glibc: 0.76).
// tests/ops/expm1_nonpositive.cpp asserts 1 ulp and 0.501 ulp on 1.25
// million such points. expm1(-0) is -0, NaN gives NaN, -inf gives -1; an
// argument > 0 gives expm1(0) = 0, which the caller discards (the positive
// side of the ELU family is another formula).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace etape::detail {

/// expm1(min(x, 0)) in double, within 1 ulp (see the header comment).
[[nodiscard]] inline double expm1_nonpositive(double x) noexcept
{
    constexpr double inv_ln2 = 0x1.71547652b82fep0;
    constexpr double ln2_hi = 0x1.62e42fee00000p-1; // trailing zeros: k * ln2_hi is exact for |k| < 2^11
    constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
    constexpr double shifter = 0x1.8p52; // adding it rounds to an integer, kept in the low bits
    const double t = std::max(std::min(x, 0.0), -40.0); // NaN stays: min and max return their first argument
    const double shifted = t * inv_ln2 + shifter;
    const double k = shifted - shifter;
    const double r_hi = t - k * ln2_hi; // exact
    const double r_lo = -k * ln2_lo;
    const double r = r_hi + r_lo;
    const double r_error = (r_hi - r) + r_lo; // what rounding r lost (|r_hi| >= |r_lo|: exact)
    // expm1(r) = r + r^2 s(r), s(r) = sum_{j=0}^{11} r^j / (j+2)!, s in
    // Estrin's scheme (shorter chains than Horner); the last addition is r
    // plus a correction of at most 0.21 |r|, so it rounds to within 0.6 ulp
    const double r2 = r * r;
    const double r4 = r2 * r2;
    const double r8 = r4 * r4;
    const double s01 = 0.5 + r * 0x1.5555555555555p-3;                    // 1/2!, 1/3!
    const double s23 = 0x1.5555555555555p-5 + r * 0x1.1111111111111p-7;  // 1/4!, 1/5!
    const double s45 = 0x1.6c16c16c16c17p-10 + r * 0x1.a01a01a01a01ap-13; // 1/6!, 1/7!
    const double s67 = 0x1.a01a01a01a01ap-16 + r * 0x1.71de3a556c734p-19; // 1/8!, 1/9!
    const double s89 = 0x1.27e4fb7789f5cp-22 + r * 0x1.ae64567f544e4p-26; // 1/10!, 1/11!
    const double sab = 0x1.1eed8eff8d898p-29 + r * 0x1.6124613a86d09p-33; // 1/12!, 1/13!
    const double poly = (s01 + r2 * s23) + r4 * (s45 + r2 * s67) + r8 * (s89 + r2 * sab);
    const double p = r + (r2 * poly + (r_error + r_error * r)); // expm1(r + r_error), to first order in r_error
    // 2^k from k's bits in `shifted`; k is in [-58, 0] after the clamp
    const auto k_bits = std::bit_cast<std::uint64_t>(shifted) - std::bit_cast<std::uint64_t>(shifter);
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
