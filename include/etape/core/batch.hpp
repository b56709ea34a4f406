// The vocabulary of a primitive's batch form: what a SIMD batch is, and the
// math a batch form may call (etape::simd::exp, select, ...). Layer: core.
//
// A primitive that sets `static constexpr bool takes_batches = true` also
// accepts a batch of values (several lanes of float or double at once) in
// primal and partial, and the fused tensor loops then run it on batches:
//
//     struct softsign_op {
//         static constexpr etape::derivative_source source = etape::derivative_source::input;
//         static constexpr bool takes_batches = true;
//         template <class T> static T primal(T x) { return x / (T(1) + std::fabs(x)); }
//         template <etape::simd::batch_type V> static V primal(V x) { return x / (V(1) + etape::simd::fabs(x)); }
//         ...
//     };
//
// A batch behaves like a number in arithmetic and comparisons (which give a
// mask); a branch is a select(mask, a, b), which evaluates both sides. This
// header only declares the functions: <etape/core/simd.hpp> defines them on
// the SIMD library's batches, so that code which never runs on batches does
// not pay for that library's headers.
#pragma once

#include <type_traits>

namespace etape::simd {

/// True for a SIMD batch type (specialised by <etape/core/simd.hpp>).
template <class V>
struct is_batch : std::false_type {};

/// A SIMD batch: a few lanes of float or double, V::value_type each.
template <class V>
concept batch_type = is_batch<V>::value;

/// A SIMD batch of T.
template <class V, class T>
concept batch_of = batch_type<V> && std::is_same_v<typename V::value_type, T>;

// The math of a batch form, lane by lane; each is within a few ulp of the
// libm function of the same name (docs/tensors.md, "Vectorized math").
template <class V> V exp(const V& x);
template <class V> V expm1(const V& x);
/// expm1 on the lanes where x <= 0; the other lanes (x > 0, NaN) are
/// meaningless and must be discarded by the caller (faster: no lane needs libm).
template <class V> V expm1_where_nonpositive(const V& x);
template <class V> V log(const V& x);
template <class V> V log1p(const V& x);
template <class V> V tanh(const V& x);
template <class V> V erf(const V& x);
template <class V> V sqrt(const V& x); // correctly rounded, as std::sqrt
template <class V> V fabs(const V& x); // exact
/// condition ? if_true : if_false, lane by lane (both sides are evaluated).
template <class M, class V> V select(const M& condition, const V& if_true, const V& if_false);

} // namespace etape::simd
