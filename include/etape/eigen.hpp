// Eigen interop (optional: needs Eigen 3.3 or later, Debian libeigen3-dev).
// Eigen::NumTraits for etape::var, so that Eigen matrices of vars work as
// matrices of doubles do, and every Eigen expression over them (products,
// norms, LU and Cholesky solves) is recorded and differentiated; and views
// between Eigen matrices and etape tensors that copy nothing where the
// layouts match. Layer: interop (uses core and tensor; nothing includes it).
#pragma once

#include <cstddef>
#include <limits>
#include <stdexcept>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include <etape/etape.hpp>

namespace Eigen {

/// An etape::var<T> is a real number to Eigen: its costs are those of T
/// plus the recording (a statement per operation, a few nanoseconds).
template <class T>
struct NumTraits<etape::var<T>> : NumTraits<T> {
    using Real = etape::var<T>;
    using NonInteger = etape::var<T>;
    using Nested = etape::var<T>;
    using Literal = T;

    enum {
        IsComplex = 0,
        IsInteger = 0,
        IsSigned = 1,
        RequireInitialization = 1,
        ReadCost = 1,
        AddCost = 3,
        MulCost = 3,
    };

    static T epsilon() { return std::numeric_limits<T>::epsilon(); }
    static T dummy_precision() { return NumTraits<T>::dummy_precision(); }
    static T highest() { return std::numeric_limits<T>::max(); }
    static T lowest() { return std::numeric_limits<T>::lowest(); }
    static int digits10() { return std::numeric_limits<T>::digits10; }
};

/// var op T and T op var give a var, as they do outside Eigen.
template <class T, class Op>
struct ScalarBinaryOpTraits<etape::var<T>, T, Op> {
    using ReturnType = etape::var<T>;
};
template <class T, class Op>
struct ScalarBinaryOpTraits<T, etape::var<T>, Op> {
    using ReturnType = etape::var<T>;
};

} // namespace Eigen

namespace etape::eigen {

/// The Eigen matrix whose layout is a rank-2 tensor's: row-major.
template <class T>
using row_major_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace detail {

/// Rows and columns of a tensor seen as a matrix: a rank-2 tensor as it
/// is, a vector as one column; other ranks throw shape_error.
inline std::pair<Eigen::Index, Eigen::Index> matrix_extents(const etape::shape& s)
{
    if (s.rank() == 2)
        return {static_cast<Eigen::Index>(s[0]), static_cast<Eigen::Index>(s[1])};
    if (s.rank() == 1)
        return {static_cast<Eigen::Index>(s[0]), 1};
    throw shape_error("etape::eigen: a tensor of shape " + s.to_string() +
                      " is not a matrix: only rank 1 (a column) and rank 2 map to Eigen");
}

} // namespace detail

/// An Eigen view of `t`'s values (rank 2, or rank 1 as a column): writes
/// through it change the tensor; nothing is copied.
template <class T>
[[nodiscard]] Eigen::Map<row_major_matrix<T>> map(tensor<T>& t)
{
    const auto [rows, columns] = detail::matrix_extents(t.shape());
    return {t.data(), rows, columns};
}

template <class T>
[[nodiscard]] Eigen::Map<const row_major_matrix<T>> map(const tensor<T>& t)
{
    const auto [rows, columns] = detail::matrix_extents(t.shape());
    return {t.data(), rows, columns};
}

/// A read-only Eigen view of an active tensor's values; nothing is copied
/// and nothing recorded.
template <class T>
[[nodiscard]] Eigen::Map<const row_major_matrix<T>> values(const active_tensor<T>& t)
{
    const auto [rows, columns] = detail::matrix_extents(t.shape());
    return {t.data(), rows, columns};
}

/// An Eigen matrix of vars on `t`'s slots: Eigen expressions over it are
/// differentiated with respect to `t`'s elements (etape::gradient_view(y,
/// t) gives the whole gradient at once). Builds one var per element,
/// recording nothing.
template <class T>
[[nodiscard]] row_major_matrix<var<T>> vars(const active_tensor<T>& t)
{
    const auto [rows, columns] = detail::matrix_extents(t.shape());
    row_major_matrix<var<T>> m(rows, columns);
    for (Eigen::Index i = 0; i < m.size(); ++i)
        m.data()[i] = t.at(static_cast<std::size_t>(i));
    return m;
}

/// A tensor holding `m`'s values, rows by columns: one copy of the block
/// when `m` lies in memory as a row-major matrix (or a contiguous vector)
/// of plain numbers, an evaluation into one first otherwise.
template <class Derived>
[[nodiscard]] tensor<typename Derived::Scalar> to_tensor(const Eigen::MatrixBase<Derived>& m)
{
    using T = typename Derived::Scalar;
    static_assert(std::is_floating_point_v<T>,
                  "etape::eigen::to_tensor takes a matrix of plain numbers; for vars, use .unaryExpr(value) first");
    const etape::shape s{static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
    const auto size = static_cast<std::size_t>(m.size());
    if constexpr ((Derived::Flags & Eigen::DirectAccessBit) != 0 &&
                  (Derived::IsRowMajor || Derived::IsVectorAtCompileTime)) {
        const bool contiguous = m.innerStride() == 1 && (Derived::IsVectorAtCompileTime || m.rows() <= 1 ||
                                                         m.outerStride() == m.cols());
        if (contiguous)
            return tensor<T>(s, std::span<const T>(m.derived().data(), size));
    }
    const row_major_matrix<T> laid_out = m;
    return tensor<T>(s, std::span<const T>(laid_out.data(), size));
}

/// The values of a matrix of vars, as plain numbers.
template <class Derived>
[[nodiscard]] auto values_of(const Eigen::MatrixBase<Derived>& m)
{
    return m.unaryExpr([](const auto& v) { return v.value(); });
}

} // namespace etape::eigen
