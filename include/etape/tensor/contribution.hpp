// How the reverse of a fused node adds into adjoints: a partial times an
// output's adjoint (contribution), added or stored into an input's adjoint
// (accumulated, when the node is the input's first writer in a sweep), and
// whether a loop over an expression runs on SIMD batches. Layer: tensor.
#pragma once

#include <cstddef>

#include <etape/core/primitive.hpp>
#include <etape/core/simd.hpp>
#include <etape/core/tape.hpp>

namespace etape::detail {

/// partial * adjoint, except that a zero adjoint passes nothing on, not even
/// 0 * inf (as the scalar sweep skips a zero adjoint). Branch-free, so the
/// loops stay vectorizable.
template <class T>
[[nodiscard]] inline T contribution(T partial, T adjoint) noexcept
{
    return adjoint == T(0) ? T(0) : partial * adjoint;
}

/// contribution() lane by lane. Written with ==, not !=: xsimd 8's != on
/// AVX is an ordered compare (false for NaN, unlike SSE2's), so a select on
/// `adjoint != 0` would drop NaN adjoints there (tests/tensor/simd_math.cpp
/// catches it when built with -march=native).
template <simd::batch_type V>
[[nodiscard]] inline V contribution(V partial, V adjoint) noexcept
{
    return simd::select(adjoint == V(0), V(0), partial * adjoint);
}

/// True when loops over T run primitive P (or bound tree P) on batches.
template <class T, class P>
inline constexpr bool on_batches = simd::enabled_for<T> && batch_primitive<P>;
template <class T, class Bound>
inline constexpr bool tree_on_batches = simd::enabled_for<T> && Bound::takes_batches;

/// in[i] + d, or, when this node is the first writer of `in` in the sweep
/// (tape::clear_and_sweep), 0 + d without reading in[i]: the adjoint it
/// would have added to, with the same result bit for bit (+0 for -0).
template <bool Store, class V>
[[nodiscard]] inline V accumulated(const V& adjoint_before, const V& d) noexcept
{
    if constexpr (Store)
        return d + V(0);
    else
        return adjoint_before + d;
}

/// True when bit `k` of `stores` is set: input k is stored, not added into.
[[nodiscard]] constexpr bool stores_input(first_writes stores, std::size_t k) noexcept
{
    return k < 64 && ((stores >> k) & 1U) != 0;
}

} // namespace etape::detail
