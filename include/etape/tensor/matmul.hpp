// Matrix product as one tape node: C = op(A) op(B), op a transpose or not;
// its reverse is two more products. Uses CBLAS (OpenBLAS) when the build
// found one (ETAPE_HAS_CBLAS), a cache-blocked loop otherwise.
//
// ETAPE_HAS_CBLAS: 1 (CMake defines it when it finds a CBLAS, and links
// it), 0 (never), or left undefined: then, on Linux with GCC or Clang, the
// headers look for <cblas.h> themselves, so that `g++ -I include app.cpp
// -lfmt` multiplies as the CMake build does: they refer to cblas_sgemm and
// cblas_dgemm weakly and use them when the program is linked with a CBLAS;
// otherwise, at the first product, they load the system's OpenBLAS (or
// reference CBLAS) with dlopen; without either, the blocked loop.
// blas_in_use() says which.
// Layer: tensor.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include <etape/tensor/node_input.hpp>

#if !defined(ETAPE_HAS_CBLAS) && defined(__linux__) && defined(__GNUC__)
#if __has_include(<cblas.h>) && __has_include(<dlfcn.h>)
#include <cblas.h>
#include <dlfcn.h>
#pragma weak cblas_sgemm
#pragma weak cblas_dgemm
#define ETAPE_CBLAS_WHEN_LINKED 1
#endif
#endif
#ifndef ETAPE_CBLAS_WHEN_LINKED
#define ETAPE_CBLAS_WHEN_LINKED 0
#endif
#ifndef ETAPE_HAS_CBLAS
#define ETAPE_HAS_CBLAS ETAPE_CBLAS_WHEN_LINKED
#endif
#if ETAPE_HAS_CBLAS && !ETAPE_CBLAS_WHEN_LINKED
#include <cblas.h>
#endif

namespace etape {

enum class transpose : bool { no = false, yes = true };

namespace detail {

#if ETAPE_CBLAS_WHEN_LINKED
/// The CBLAS products a program built without CMake uses: its own when it
/// links a CBLAS, else those of the first of the system's libraries that
/// loads (null: none does). Found once, at the first call.
struct cblas_products {
    decltype(&cblas_sgemm) sgemm = nullptr;
    decltype(&cblas_dgemm) dgemm = nullptr;
};

inline const cblas_products& found_cblas() noexcept
{
    static const cblas_products found = [] {
        if (&cblas_sgemm != nullptr && &cblas_dgemm != nullptr)
            return cblas_products{&cblas_sgemm, &cblas_dgemm};
        for (const char* library : {"libopenblas.so.0", "libcblas.so.3", "libblas.so.3"}) {
            void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
            if (handle == nullptr)
                continue;
            const cblas_products loaded{reinterpret_cast<decltype(&cblas_sgemm)>(::dlsym(handle, "cblas_sgemm")),
                                        reinterpret_cast<decltype(&cblas_dgemm)>(::dlsym(handle, "cblas_dgemm"))};
            if (loaded.sgemm != nullptr && loaded.dgemm != nullptr)
                return loaded; // kept loaded for the program's life
            ::dlclose(handle);
        }
        return cblas_products{};
    }();
    return found;
}
#endif

} // namespace detail

/// True when matrix products run on CBLAS; false when on etape's blocked
/// loop (no CBLAS found, or, found by the headers alone, none to load).
[[nodiscard]] inline bool blas_in_use() noexcept
{
#if ETAPE_CBLAS_WHEN_LINKED
    return detail::found_cblas().sgemm != nullptr;
#else
    return ETAPE_HAS_CBLAS != 0;
#endif
}

namespace detail {

/// C (m x n) += op(A) op(B), row-major, op(A) is m x k; the blocked fallback.
template <class T>
void gemm_blocked(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda,
                  const T* b, std::size_t ldb, T* c, std::size_t ldc) noexcept
{
    constexpr std::size_t block = 64;
    const auto at = [=](std::size_t i, std::size_t p) { return ta ? a[p * lda + i] : a[i * lda + p]; };
    for (std::size_t i0 = 0; i0 < m; i0 += block)
        for (std::size_t p0 = 0; p0 < k; p0 += block)
            for (std::size_t j0 = 0; j0 < n; j0 += block) {
                const std::size_t i1 = std::min(m, i0 + block), p1 = std::min(k, p0 + block),
                                  j1 = std::min(n, j0 + block);
                for (std::size_t i = i0; i < i1; ++i)
                    for (std::size_t p = p0; p < p1; ++p) {
                        const T aip = at(i, p);
                        T* __restrict ci = c + i * ldc;
                        if (tb)
                            for (std::size_t j = j0; j < j1; ++j)
                                ci[j] += aip * b[j * ldb + p];
                        else {
                            const T* __restrict bp = b + p * ldb;
                            for (std::size_t j = j0; j < j1; ++j)
                                ci[j] += aip * bp[j];
                        }
                    }
            }
}

/// C (m x n) += op(A) op(B).
template <class T>
void gemm_accumulate(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda,
                     const T* b, std::size_t ldb, T* c, std::size_t ldc) noexcept
{
    if (m == 0 || n == 0 || k == 0)
        return;
#if ETAPE_HAS_CBLAS
#if ETAPE_CBLAS_WHEN_LINKED
    const cblas_products& blas = found_cblas();
    if (blas.sgemm == nullptr)
        return gemm_blocked(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    const auto cblas_sgemm = blas.sgemm;
    const auto cblas_dgemm = blas.dgemm;
#endif
    const auto op = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
    const auto i = [](std::size_t v) { return static_cast<int>(v); };
    if constexpr (std::is_same_v<T, double>) {
        cblas_dgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), 1.0, a, i(lda), b, i(ldb), 1.0, c, i(ldc));
        return;
    } else if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), 1.0f, a, i(lda), b, i(ldb), 1.0f, c, i(ldc));
        return;
    }
#endif
    gemm_blocked(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
}

template <class T>
struct matmul_reverse {
    node_input<T> a;
    node_input<T> b;
    bool ta;
    bool tb;
    std::size_t m, n, k;

    void operator()(T* adjoints, slot_index, first_writes, const T* dc) const noexcept
    {
        const std::size_t lda = a.shape[1], ldb = b.shape[1];
        if (a.active) {
            if (!ta) // dA (m x k) += dC op(B)^T
                gemm_accumulate(false, !tb, m, k, n, dc, n, b.values, ldb, a.adjoints(adjoints), lda);
            else // dA (k x m) += op(B) dC^T
                gemm_accumulate(tb, true, k, m, n, b.values, ldb, dc, n, a.adjoints(adjoints), lda);
        }
        if (b.active) {
            if (!tb) // dB (k x n) += op(A)^T dC
                gemm_accumulate(!ta, false, k, n, m, a.values, lda, dc, n, b.adjoints(adjoints), ldb);
            else // dB (n x k) += dC^T op(A)
                gemm_accumulate(true, ta, n, k, m, dc, n, a.values, lda, b.adjoints(adjoints), ldb);
        }
    }
};

} // namespace detail

/// op(A) op(B) for matrices (rank 2) and vectors (rank 1): A and B are
/// active tensors, value tensors or tensor expressions (at least one
/// active). As numpy's matmul: a vector A is one row, a vector B one
/// column, and the result drops that extent (matrix x vector is a vector
/// [m], vector x matrix a vector [n], vector x vector a scalar, rank 0);
/// transposing a vector changes nothing. One tape node.
template <class A, class B, class T = typename detail::argument_precision<A>::type>
    requires tensor_argument<A, T> && tensor_argument<B, T> && (tensor_expression<A> || tensor_expression<B>)
[[nodiscard]] active_tensor<T> matmul(const A& a, const B& b, transpose transpose_a = transpose::no,
                                      transpose transpose_b = transpose::no)
{
    auto ia = detail::as_node_input<T>(a);
    auto ib = detail::as_node_input<T>(b);
    const bool a_vector = ia.shape.rank() == 1, b_vector = ib.shape.rank() == 1;
    const bool ta = transpose_a == transpose::yes && !a_vector, tb = transpose_b == transpose::yes && !b_vector;
    if (ia.shape.rank() < 1 || ia.shape.rank() > 2 || ib.shape.rank() < 1 || ib.shape.rank() > 2)
        detail::throw_shape_mismatch("matmul (needs vectors or matrices)", ia.shape, ib.shape);
    const shape given_a = ia.shape, given_b = ib.shape;
    if (a_vector)
        ia.shape = shape{1, given_a[0]};
    if (b_vector)
        ib.shape = shape{given_b[0], 1};
    const std::size_t m = ta ? ia.shape[1] : ia.shape[0];
    const std::size_t k = ta ? ia.shape[0] : ia.shape[1];
    const std::size_t kb = tb ? ib.shape[1] : ib.shape[0];
    const std::size_t n = tb ? ib.shape[0] : ib.shape[1];
    if (k != kb)
        detail::throw_shape_mismatch(ta || tb ? "matmul (after transposes)" : "matmul", given_a, given_b);
    detail::require_result_fits("matmul", {m, n});

    tape<T>& t = active_tape<T>();
    T* c = t.template allocate_scratch<T>(m * n);
    std::fill(c, c + m * n, T(0));
    detail::gemm_accumulate(ta, tb, m, n, k, ia.values, ia.shape[1], ib.values, ib.shape[1], c, n);
    const std::array<node_operand<T>, 2> operands{ia.operand(), ib.operand()};
    const std::array<node_input_slots, 2> written{ia.slots(), ib.slots()};
    const slot_index first =
        t.record_node(m * n, detail::matmul_reverse<T>{std::move(ia), std::move(ib), ta, tb, m, n, k},
                      {"matmul", operands}, std::span<const node_input_slots>(written));
    const shape result = a_vector && b_vector ? shape{} : a_vector ? shape{n} : b_vector ? shape{m} : shape{m, n};
    return active_tensor<T>(c, result, first, t);
}

} // namespace etape
