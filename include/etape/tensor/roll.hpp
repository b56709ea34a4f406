// Periodic shifts: an active tensor read with its elements rotated along an
// axis, as a leaf of fused expressions. The stencil of a periodic domain is
// then one node over the whole tensor, the boundary included:
//     u_next = u - c * (roll(u, -1) - roll(u, 1))    (u[i+1] and u[i-1])
// Layer: tensor.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string>

#include <etape/core/active_tape.hpp>
#include <etape/core/simd.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/shape.hpp>

namespace etape {

namespace detail {

/// A rolled tensor bound to its expression: in each segment of `period`
/// elements (the whole tensor, or one row when `by_row`), output position
/// p reads element p + step, less the period past the segment's end.
template <class T>
struct bound_rolled {
    static constexpr std::size_t leaf_count = 1;
    static constexpr bool takes_batches = true;
    const T* data;
    leaf_info info; // its step and period too
    bool by_row;

    template <std::size_t K>
    [[nodiscard]] numbered_leaf<T, K> element(std::size_t i, std::size_t c, std::size_t) const noexcept
    {
        const std::size_t position = by_row ? c : i;
        std::size_t source = position + info.step;
        source -= source >= info.period ? info.period : 0;
        return {data[i - position + source]};
    }

    /// Lanes i..i+size: one load when they do not straddle the wrap, one
    /// batch a segment that does, lane by lane.
    template <std::size_t K, class V>
    [[nodiscard]] numbered_leaf<V, K> batch_element(std::size_t i, std::size_t c, std::size_t) const
    {
        const std::size_t position = by_row ? c : i;
        const T* segment = data + (i - position);
        const std::size_t source = position + info.step;
        if (source + V::size <= info.period)
            return {simd::load<V>(segment + source)};
        if (source >= info.period)
            return {simd::load<V>(segment + source - info.period)};
        std::array<T, V::size> lanes;
        for (std::size_t lane = 0; lane < V::size; ++lane) {
            const std::size_t s = source + lane;
            lanes[lane] = segment[s >= info.period ? s - info.period : s];
        }
        return {simd::load<V>(lanes.data())};
    }

    [[nodiscard]] bool reads_rows() const noexcept { return by_row; }
    void leaves(leaf_info* out) const noexcept { out[0] = info; }
    void leaf_values(const T** out) const noexcept { out[0] = data; }

    static constexpr bool recomputable = true;
    /// When this is leaf `Target`: adds element (i, c, r)'s contribution (a
    /// number, or a batch whose lanes may straddle the wrap) where the
    /// element was read from.
    template <std::size_t K, std::size_t Target, class V>
    void add_adjoint(T* adjoints, std::size_t i, std::size_t c, std::size_t, const V& v) const
    {
        if constexpr (K == Target) {
            const std::size_t position = by_row ? c : i;
            T* segment = adjoints + info.first + (i - position);
            const std::size_t source = position + info.step;
            if constexpr (std::same_as<V, T>) {
                segment[source >= info.period ? source - info.period : source] += v;
            } else if (source + V::size <= info.period || source >= info.period) {
                add_into(segment + (source >= info.period ? source - info.period : source), v, false);
            } else {
                std::array<T, V::size> lanes;
                simd::store(lanes.data(), v);
                for (std::size_t lane = 0; lane < V::size; ++lane) {
                    const std::size_t s = source + lane;
                    segment[s >= info.period ? s - info.period : s] += lanes[lane];
                }
            }
        }
    }
    template <class Tape>
    void keep_values(Tape&, std::size_t, std::size_t) noexcept
    {
    }
};

} // namespace detail

/// An active tensor whose elements are rotated along an axis; made by
/// etape::roll. A leaf of fused expressions, whose adjoints go back into
/// the rolled tensor's slots. Valid as long as the tensor it views.
template <std::floating_point T>
class tensor_roll {
public:
    using value_type = T;
    static constexpr bool is_etape_tensor_expression = true;
    static constexpr std::size_t leaf_count = 1;

    tensor_roll(const active_tensor<T>& x, std::ptrdiff_t shift, std::size_t axis) : x_(x)
    {
        const etape::shape& s = x.shape();
        if (axis >= s.rank())
            throw shape_error("etape: roll along axis " + std::to_string(axis) + " of a tensor of shape " +
                              s.to_string());
        std::size_t outer = 1, inner = 1;
        for (std::size_t a = 0; a < axis; ++a)
            outer *= s[a];
        for (std::size_t a = axis + 1; a < s.rank(); ++a)
            inner *= s[a];
        const std::size_t extent = s[axis];
        by_row_ = outer > 1;
        if (by_row_ && axis + 1 != s.rank())
            throw shape_error("etape: roll along axis " + std::to_string(axis) + " of shape " + s.to_string() +
                              ": only the first and the last axis of a tensor can be rolled; reshape it first");
        period_ = static_cast<slot_index>(extent * inner);
        if (extent > 0) {
            // result[k] = x[k - shift] along the axis: position p reads p + step
            const auto e = static_cast<std::ptrdiff_t>(extent);
            std::ptrdiff_t back = -shift;
            if (back <= -e || back >= e) // a division only for shifts past the extent
                back %= e;
            if (back < 0)
                back += e;
            step_ = static_cast<slot_index>(static_cast<std::size_t>(back) * inner);
        }
    }

    [[nodiscard]] const etape::shape& shape() const noexcept { return x_.shape(); }

    [[nodiscard]] detail::bound_rolled<T> bind(const etape::shape& out) const
    {
        x_.check_on(active_tape<T>());
        if (x_.shape() != out)
            detail::throw_shape_mismatch("roll (a rolled tensor is read elementwise)", x_.shape(), out);
        return {x_.data(), {x_.first_slot(), detail::broadcast::rolled, step_, period_}, by_row_};
    }

private:
    active_tensor<T> x_;
    slot_index period_ = 0; // element counts: the tensor fits a tape
    slot_index step_ = 0;
    bool by_row_ = false;
};

/// `x` rotated by `shift` places along `axis`, as numpy.roll: element k
/// of the result is x[k - shift] (modulo the extent), so roll(u, 1) reads
/// u[i-1] and roll(u, -1) reads u[i+1] with periodic wrap-around. The
/// first and the last axis can be rolled (any axis whose preceding
/// extents are 1). Nothing is recorded until the expression is.
template <class T>
[[nodiscard]] tensor_roll<T> roll(const active_tensor<T>& x, std::ptrdiff_t shift, std::size_t axis = 0)
{
    return tensor_roll<T>(x, shift, axis);
}

} // namespace etape
