// SIMD batches for the fused tensor loops: the batch type of float and
// double, and the batch math declared by <etape/core/batch.hpp>, on xsimd.
// Layer: core (included by the tensor layer, which runs the loops).
//
// ETAPE_HAS_XSIMD=1 turns batches on; without it `simd::enabled_for<T>` is
// false and every loop runs element by element on libm. CMake defines it, 1
// or 0, from what it finds and ETAPE_USE_SIMD; a build without CMake
// (`g++ -I include app.cpp -lfmt`) that leaves it undefined gets 1 when
// xsimd 8 or later is on the include path, as CMake would have found it. The width is the widest the target
// flags allow: 8 floats or 4 doubles with -march=native on an AVX2 machine,
// 4 and 2 with the x86-64 baseline (SSE2).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <etape/core/batch.hpp>
#include <etape/core/expm1_nonpositive.hpp>

#ifndef ETAPE_HAS_XSIMD
#if __has_include(<xsimd/config/xsimd_config.hpp>)
#include <xsimd/config/xsimd_config.hpp>
#if XSIMD_VERSION_MAJOR >= 8
#define ETAPE_HAS_XSIMD 1
#endif
#endif
#endif
#ifndef ETAPE_HAS_XSIMD
#define ETAPE_HAS_XSIMD 0
#endif

#if ETAPE_HAS_XSIMD
// g++ 12 warns "(may be) used uninitialized" inside its own AVX-512
// intrinsics (the deliberately undefined operand of _mm512_undefined_ps and
// its kin, GCC bug 105593) wherever xsimd's AVX-512 kernels are inlined: a
// build with -march=native -Werror failed on an AVX-512 machine. The warning
// is reported at the intrinsic's line, so ignoring it for the headers
// included here silences only those (tests/build/avx512.cpp checks it).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xsimd/xsimd.hpp>
#pragma GCC diagnostic pop
#else
#include <xsimd/xsimd.hpp>
#endif
#endif

/// The batch math below is forced inline: called out of line, a function
/// of a few dozen vector instructions passes its batches through memory,
/// and g++ did leave expm1 out of line in a large translation unit (the
/// ELU forward of the tensor benchmark ran at half the speed of the same
/// loop in a small program).
#define ETAPE_SIMD_INLINE [[gnu::always_inline]] inline

namespace etape::simd {

/// True when etape was built with a SIMD library (xsimd).
inline constexpr bool available = ETAPE_HAS_XSIMD != 0;

/// True when loops over T may run on batches: a SIMD library, and T float or double.
template <class T>
inline constexpr bool enabled_for = available && (std::is_same_v<T, float> || std::is_same_v<T, double>);

#if ETAPE_HAS_XSIMD

/// The batch of T the loops use (xsimd's widest for the target).
template <class T>
using batch = xsimd::batch<T>;

template <class T, class A>
struct is_batch<xsimd::batch<T, A>> : std::true_type {};

namespace detail {

/// Where xsimd 8.1 departs from libm by more than a few ulp, measured by
/// tests/tensor/simd_math.cpp: exp flushes subnormal results to 0, exp and
/// expm1 overflow early in the last unit below ln(max), log (double) misreads
/// subnormal inputs, erf (double) gives NaN for huge |x|. Lanes in these
/// ranges are rare; they are recomputed with libm. (xsimd's erfc loses up to
/// 1e-6 relative in its tail, so etape's erfc stays on libm.)
template <class T>
struct xsimd_edges {
    static constexpr bool is_float = std::is_same_v<T, float>;
    static constexpr T log_denorm_min = is_float ? T(-103.28) : T(-744.44); // ln of the smallest subnormal
    static constexpr T log_min = is_float ? T(-87.34) : T(-708.40);         // ln of the smallest normal
    static constexpr T log_max = is_float ? T(88.72) : T(709.78);           // ln of the largest finite
    static constexpr T erf_one = T(6);                                      // |erf| rounds to 1 beyond
};

/// y, with the lanes where `edge` holds recomputed as libm(x). Out of line
/// and cold: a call inside the hot loop would make it keep its constants
/// out of registers.
template <class V, class M, class F>
[[gnu::noinline, gnu::cold]] V libm_lanes(V y, V x, M edge, F libm)
{
    std::array<typename V::value_type, V::size> xs, ys;
    std::array<bool, V::size> on;
    x.store_unaligned(xs.data());
    y.store_unaligned(ys.data());
    edge.store_unaligned(on.data());
    for (std::size_t j = 0; j < V::size; ++j)
        if (on[j])
            ys[j] = libm(xs[j]);
    return V::load_unaligned(ys.data());
}

template <class V, class M, class F>
ETAPE_SIMD_INLINE V with_libm_lanes(const V& y, const V& x, const M& edge, F libm)
{
    if (xsimd::any(edge)) [[unlikely]]
        return libm_lanes(y, x, edge, libm);
    return y;
}

/// fast(x) on the lanes with |x| <= bound, libm(x) on the others and where
/// `edge` holds. The others (NaN, inf, huge) reach `fast` as 0: below
/// AVX-512, xsimd 8.1 turns double lanes into int64 with a scalar cast,
/// which is undefined behaviour for NaN, inf and values past 2^63 (UBSan
/// catches it in exp's range reduction).
template <class V, class M, class Fast, class F>
ETAPE_SIMD_INLINE V tamed(const V& x, typename V::value_type bound, const M& edge, Fast fast, F libm)
{
    const auto tame = xsimd::abs(x) <= V(bound); // false for NaN
    const V y = fast(xsimd::select(tame, x, V(0)));
    // the mask is negated only on the cold path: AVX2 has no mask negation,
    // and xsimd's costs several instructions per batch
    if (xsimd::any(edge) || !xsimd::all(tame)) [[unlikely]]
        return libm_lanes(y, x, edge || !tame, libm);
    return y;
}

} // namespace detail

template <class V> ETAPE_SIMD_INLINE V exp(const V& x)
{
    using T = typename V::value_type;
    using e = detail::xsimd_edges<T>;
    const auto edge = (x > V(e::log_denorm_min - 1) && x < V(e::log_min + 1)) || x > V(e::log_max - 1);
    return detail::tamed(x, -e::log_denorm_min + 1, edge, [](const V& v) { return xsimd::exp(v); },
                         [](T v) { return std::exp(v); });
}
template <class V> ETAPE_SIMD_INLINE V expm1(const V& x)
{
    using T = typename V::value_type;
    using e = detail::xsimd_edges<T>;
    return detail::tamed(x, -e::log_denorm_min + 1, x > V(e::log_max - 1), [](const V& v) { return xsimd::expm1(v); },
                         [](T v) { return std::expm1(v); });
}
/// expm1 for the lanes where x <= 0: etape's own (core/expm1_nonpositive.hpp,
/// the same range reduction and polynomial as its scalar, in T), with no
/// division and no libm lane: the argument is clamped to [-40, 0] first, and
/// expm1 rounds to -1 in float and double from -40 down. Lanes with x > 0 or
/// NaN give values that the caller must discard: the negative branch of the
/// ELU family, whose positive lanes take another formula.
template <class V> ETAPE_SIMD_INLINE V expm1_where_nonpositive(const V& x)
{
    using T = typename V::value_type;
    using bits = xsimd::batch<std::conditional_t<std::is_same_v<T, float>, std::int32_t, std::int64_t>,
                              typename V::arch_type>;
    constexpr int mantissa_bits = std::numeric_limits<T>::digits - 1;
    constexpr int exponent_bias = std::numeric_limits<T>::max_exponent - 1;
    // on x86, min(NaN, 0) is 0 (minps and minpd return their second operand
    // when either is NaN); elsewhere a NaN lane stays NaN, and is discarded
    const V t = xsimd::max(xsimd::min(x, V(T(0))), V(T(-40)));
    const auto [shifted, r, r_error] = etape::detail::reduce_by_ln2<T>(t);
    const V p = etape::detail::expm1_reduced<T>(r, r_error);
    // 2^k from k's bits in `shifted` (k in [-58, 0]); 2^k p + (2^k - 1) in
    // one rounding where FMA is native; the sign of x restores -0 for x = -0
    const bits k = xsimd::bitwise_cast<bits>(shifted) - xsimd::bitwise_cast<bits>(V(etape::detail::ln2_reduction<T>::shifter));
    const V two_k = xsimd::bitwise_cast<V>((k + bits(exponent_bias)) << mantissa_bits);
    return xsimd::fma(two_k, p, two_k - V(T(1))) | (x & V(T(-0.0)));
}
template <class V> ETAPE_SIMD_INLINE V log(const V& x)
{
    using T = typename V::value_type;
    const auto edge = x > V(0) && x < V(std::numeric_limits<T>::min());
    return detail::with_libm_lanes(xsimd::log(x), x, edge, [](T v) { return std::log(v); });
}
template <class V> ETAPE_SIMD_INLINE V log1p(const V& x) { return xsimd::log1p(x); }
template <class V> ETAPE_SIMD_INLINE V tanh(const V& x)
{
    using T = typename V::value_type;
    const auto none = x != x && x == x; // no edge of its own: only the wild lanes go to libm
    return detail::tamed(x, detail::xsimd_edges<T>::log_max / 2, none, [](const V& v) { return xsimd::tanh(v); },
                         [](T v) { return std::tanh(v); });
}
template <class V> ETAPE_SIMD_INLINE V erf(const V& x)
{
    using T = typename V::value_type;
    const auto none = x != x && x == x; // the wild lanes are the edge: |x| > 6, NaN
    return detail::tamed(x, detail::xsimd_edges<T>::erf_one, none, [](const V& v) { return xsimd::erf(v); },
                         [](T v) { return std::erf(v); });
}
template <class V> ETAPE_SIMD_INLINE V sqrt(const V& x) { return xsimd::sqrt(x); }
template <class V> ETAPE_SIMD_INLINE V fabs(const V& x) { return xsimd::abs(x); }
template <class M, class V> ETAPE_SIMD_INLINE V select(const M& condition, const V& if_true, const V& if_false)
{
    return xsimd::select(condition, if_true, if_false);
}

#else

template <class T>
struct no_batch {
    static constexpr std::size_t size = 1;
};
/// Without a SIMD library: a placeholder that no loop instantiates.
template <class T>
using batch = no_batch<T>;

#endif

/// Loads size lanes from p (no alignment needed).
template <class V>
[[nodiscard]] V load(const typename V::value_type* p)
{
    return V::load_unaligned(p);
}

/// Stores the lanes of v at p (no alignment needed).
template <class V>
void store(typename V::value_type* p, const V& v)
{
    v.store_unaligned(p);
}

} // namespace etape::simd
