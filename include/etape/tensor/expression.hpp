// Fused elementwise tensor expressions: the leaves (active tensors, value
// tensors, scalar vars, numbers), the unary and binary nodes, broadcasting,
// and the operators. Layer: tensor.
//
// A tensor expression is a tree of nodes. To run it, the fused kernel binds
// the tree to the output's shape; element (i, c, r) of the bound tree (flat
// index i, column c of the last axis, row r) is an ordinary scalar expression of
// core/, built from the same primitives, whose leaves are numbered 0..L-1 at
// compile time. Its value is the output element, and recording it yields the
// partial with respect to each numbered leaf.
//
// Broadcasting: a leaf of the output's shape is read elementwise; a scalar
// (a var, a number, a rank-0 tensor) is read everywhere; a vector whose
// length is the output's last extent is read along each row (a bias).
// Views of an active tensor are leaves too: a slice whose rows are apart in
// memory (tensor/slice.hpp) and a periodic shift (tensor/roll.hpp).
//
// Batches: when every primitive of the tree takes SIMD batches
// (batch_primitive), `batch_element<K, V>(i, c, r)` builds the same scalar
// expression over batches V of lanes i..i+size (columns c..c+size, which the
// loop keeps inside one row when a leaf reads rows).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <etape/core/binary_expr.hpp>
#include <etape/core/simd.hpp>
#include <etape/core/unary_expr.hpp>
#include <etape/core/var.hpp>
#include <etape/ops/arithmetic.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape {

namespace detail {

/// How a leaf's elements map onto the output's: one each (full), one row
/// read by every row (row), one value (scalar), rows `step` elements apart
/// (strided: a slice), or each segment of `period` elements read shifted
/// by `step` places, wrapping around (rolled: a periodic shift).
enum class broadcast : unsigned char { full, row, scalar, strided, rolled };

/// Where an active leaf's adjoints go, and how it was broadcast.
struct leaf_info {
    slot_index first;
    broadcast kind;
    slot_index step = 0; // counts of elements, which fit a slot_index as the tensor fits a tape
    slot_index period = 0;

    /// The slots the leaf's adjoints span, for an output of `size`
    /// elements in rows of `columns`.
    [[nodiscard]] std::size_t slot_count(std::size_t size, std::size_t columns) const noexcept
    {
        switch (kind) {
        case broadcast::full: return size;
        case broadcast::row: return columns;
        case broadcast::scalar: return 1;
        case broadcast::strided: return size == 0 ? 0 : (size / columns - 1) * step + columns;
        default: return size;
        }
    }
};

/// The shape of an elementwise result of operands of shapes a and b: one
/// of the two (a reference to it), or shape_error naming `operation`.
[[nodiscard]] inline const shape& broadcast_shape(std::string_view operation, const shape& a, const shape& b)
{
    if (a == b)
        return a;
    if (a.rank() == 0)
        return b;
    if (b.rank() == 0)
        return a;
    if (a.rank() == 1 && b.rank() >= 2 && a[0] == b.last())
        return b;
    if (b.rank() == 1 && a.rank() >= 2 && b[0] == a.last())
        return a;
    throw_shape_mismatch(operation, a, b);
}

[[nodiscard]] inline broadcast broadcast_kind(const shape& leaf, const shape& out) noexcept
{
    if (leaf == out)
        return broadcast::full;
    return leaf.rank() == 0 ? broadcast::scalar : broadcast::row;
}

/// Element (i, c, r) of a leaf reads data[i * by_index + c * by_column + r * by_row].
struct leaf_strides {
    slot_index by_index; // 0 or 1; slot_index keeps a bound tree, copied as it runs, small
    slot_index by_column;
    slot_index by_row = 0;
    static constexpr leaf_strides of(broadcast kind) noexcept
    {
        switch (kind) {
        case broadcast::full: return {1, 0};
        case broadcast::row: return {0, 1};
        default: return {0, 0};
        }
    }

    [[nodiscard]] std::size_t offset(std::size_t i, std::size_t c, std::size_t r) const noexcept
    {
        return i * by_index + c * by_column + r * by_row;
    }

    /// Lanes i..i+size of a leaf (columns c..c+size of row r): a load, or
    /// one value broadcast to every lane.
    template <class V>
    [[nodiscard]] V batch_at(const typename V::value_type* data, std::size_t i, std::size_t c, std::size_t r) const
    {
        const typename V::value_type* p = data + offset(i, c, r);
        return by_index == 0 && by_column == 0 ? V(*p) : simd::load<V>(p);
    }
};

/// Primitives whose partials a fused node's reverse recomputes from the
/// leaves instead of storing them in the forward (fused_kernel.hpp): a few
/// arithmetic instructions, or none (a sum or a product by a constant),
/// against an array of partials per leaf written and read back.
template <class P>
inline constexpr bool recomputed_in_reverse = std::same_as<P, add_op> || std::same_as<P, subtract_op> ||
                                              std::same_as<P, multiply_op> || std::same_as<P, negate_op>;

/// Adds a number, or a batch's lanes, into `p` (p[0..size) for a batch;
/// p[0] for all lanes when `one_slot`, the broadcast scalar's reduction).
template <class T, class V>
inline void add_into(T* p, const V& v, bool one_slot)
{
    if constexpr (std::same_as<V, T>) {
        *p += v;
    } else if (one_slot) {
        std::array<T, V::size> lanes;
        simd::store(lanes.data(), v);
        for (const T lane : lanes)
            *p += lane;
    } else {
        simd::store(p, simd::load<V>(p) + v);
    }
}

/// Leaf K of one element's scalar expression.
template <class T, std::size_t K>
struct numbered_leaf {
    using value_type = T;
    static constexpr bool is_etape_expression = true;
    static constexpr std::size_t operand_count = 1;
    T v;
    [[nodiscard]] T value() const noexcept { return v; }
    template <class Writer>
    void record(Writer& w, T multiplier) const noexcept
    {
        w.template add<K>(multiplier);
    }
};

/// The partials of one output element with respect to leaves 0..L-1.
template <class T, std::size_t L>
struct element_partials {
    std::array<T, L> d{};
    template <std::size_t K>
    void add(T m) noexcept
    {
        d[K] += m;
    }
};

// ---- leaves, unbound and bound -------------------------------------------

/// An active tensor bound to an output shape.
template <class T>
struct bound_active {
    static constexpr std::size_t leaf_count = 1;
    static constexpr bool takes_batches = true;
    const T* data;
    leaf_strides strides;
    leaf_info info;
    template <std::size_t K>
    [[nodiscard]] numbered_leaf<T, K> element(std::size_t i, std::size_t c, std::size_t r) const noexcept
    {
        return {data[strides.offset(i, c, r)]};
    }
    template <std::size_t K, class V>
    [[nodiscard]] numbered_leaf<V, K> batch_element(std::size_t i, std::size_t c, std::size_t r) const
    {
        return {strides.batch_at<V>(data, i, c, r)};
    }
    [[nodiscard]] bool reads_rows() const noexcept
    {
        return info.kind == broadcast::row || info.kind == broadcast::strided;
    }
    void leaves(leaf_info* out) const noexcept { out[0] = info; }
    void leaf_values(const T** out) const noexcept { out[0] = data; }

    static constexpr bool recomputable = true;
    /// When this is leaf `Target` (this leaf is K): adds element (i, c,
    /// r)'s contribution `v` (a number or a batch) into its adjoints.
    template <std::size_t K, std::size_t Target, class V>
    void add_adjoint(T* adjoints, std::size_t i, std::size_t c, std::size_t r, const V& v) const
    {
        if constexpr (K == Target)
            add_into(adjoints + info.first + strides.offset(i, c, r), v,
                     strides.by_index == 0 && strides.by_column == 0);
    }
    template <class Tape>
    void keep_values(Tape&, std::size_t, std::size_t) noexcept
    {
    }
};

/// A value tensor inside an expression: shares the tensor's storage, and
/// so do its copies (an expression is copied as it is built and recorded;
/// a tensor's own copy would copy the values each time).
template <class T>
struct value_leaf {
    using value_type = T;
    static constexpr std::size_t leaf_count = 0;

    explicit value_leaf(const tensor<T>& t) : values(t.reshape(t.shape())) {}
    value_leaf(const value_leaf& other) : values(other.values.reshape(other.values.shape())) {}
    value_leaf& operator=(const value_leaf&) = delete;

    tensor<T> values;
};

template <class T>
struct bound_value {
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool takes_batches = true;
    const T* data;
    leaf_strides strides;
    template <std::size_t K>
    [[nodiscard]] constant<T> element(std::size_t i, std::size_t c, std::size_t r) const noexcept
    {
        return {data[strides.offset(i, c, r)]};
    }
    template <std::size_t K, class V>
    [[nodiscard]] constant<V> batch_element(std::size_t i, std::size_t c, std::size_t r) const
    {
        return {strides.batch_at<V>(data, i, c, r)};
    }
    [[nodiscard]] bool reads_rows() const noexcept { return strides.by_column != 0; }
    void leaves(leaf_info*) const noexcept {}
    void leaf_values(const T**) const noexcept {}

    static constexpr bool recomputable = true;
    template <std::size_t K, std::size_t Target, class V>
    void add_adjoint(T*, std::size_t, std::size_t, std::size_t, const V&) const noexcept
    {
    }

    /// For a reverse that reads the tree again: reads a copy of the values
    /// on tape `t` from now on, so that the node sees them as they were when
    /// it was recorded, whatever the caller later writes into the tensor.
    template <class Tape>
    void keep_values(Tape& t, std::size_t size, std::size_t columns)
    {
        const std::size_t count = strides.by_index != 0 ? size : strides.by_column != 0 ? columns : 1;
        data = t.keep_copy(data, count);
    }
};

/// A scalar var broadcast over the output; its partials reduce into its slot.
template <class T>
struct scalar_leaf {
    using value_type = T;
    static constexpr std::size_t leaf_count = 1;
    var<T> v;
};

template <class T>
struct bound_scalar {
    static constexpr std::size_t leaf_count = 1;
    static constexpr bool takes_batches = true;
    T v;
    slot_index slot;
    template <std::size_t K>
    [[nodiscard]] numbered_leaf<T, K> element(std::size_t, std::size_t, std::size_t) const noexcept
    {
        return {v};
    }
    template <std::size_t K, class V>
    [[nodiscard]] numbered_leaf<V, K> batch_element(std::size_t, std::size_t, std::size_t) const
    {
        return {V(v)};
    }
    [[nodiscard]] bool reads_rows() const noexcept { return false; }
    void leaves(leaf_info* out) const noexcept { out[0] = {slot, broadcast::scalar}; }
    void leaf_values(const T** out) const noexcept { out[0] = &v; } // valid while this bound tree lives

    static constexpr bool recomputable = false; // its partials reduce into one slot: stored, then summed
};

/// A number broadcast over the output.
template <class T>
struct constant_leaf {
    using value_type = T;
    static constexpr std::size_t leaf_count = 0;
    T v;
};

template <class T>
struct bound_constant {
    static constexpr std::size_t leaf_count = 0;
    static constexpr bool takes_batches = true;
    T v;
    template <std::size_t K>
    [[nodiscard]] constant<T> element(std::size_t, std::size_t, std::size_t) const noexcept
    {
        return {v};
    }
    template <std::size_t K, class V>
    [[nodiscard]] constant<V> batch_element(std::size_t, std::size_t, std::size_t) const
    {
        return {V(v)};
    }
    [[nodiscard]] bool reads_rows() const noexcept { return false; }
    void leaves(leaf_info*) const noexcept {}
    void leaf_values(const T**) const noexcept {}

    static constexpr bool recomputable = true;
    template <std::size_t K, std::size_t Target, class V>
    void add_adjoint(T*, std::size_t, std::size_t, std::size_t, const V&) const noexcept
    {
    }
    template <class Tape>
    void keep_values(Tape&, std::size_t, std::size_t) noexcept
    {
    }
};

/// The shape of a scalar leaf (a var or a number), rank 0.
inline constexpr shape scalar_shape{};

// A node's shape is a reference to one of its leaves' (or scalar_shape):
// finding it copies nothing.
template <class T>
[[nodiscard]] const shape& shape_of(const active_tensor<T>& x) { return x.shape(); }
template <class T>
[[nodiscard]] const shape& shape_of(const value_leaf<T>& x) { return x.values.shape(); }
template <class T>
[[nodiscard]] const shape& shape_of(const scalar_leaf<T>&) { return scalar_shape; }
template <class T>
[[nodiscard]] const shape& shape_of(const constant_leaf<T>&) { return scalar_shape; }
template <class E>
    requires requires(const E& e) { e.shape(); }
[[nodiscard]] const shape& shape_of(const E& e)
{
    return e.shape();
}

template <class T>
[[nodiscard]] bound_active<T> bind(const active_tensor<T>& x, const shape& out)
{
    x.check_on(active_tape<T>());
    const broadcast kind = broadcast_kind(x.shape(), out);
    return {x.data(), leaf_strides::of(kind), {x.first_slot(), kind}};
}
template <class T>
[[nodiscard]] bound_value<T> bind(const value_leaf<T>& x, const shape& out)
{
    return {x.values.data(), leaf_strides::of(broadcast_kind(x.values.shape(), out))};
}
template <class T>
[[nodiscard]] bound_scalar<T> bind(const scalar_leaf<T>& x, const shape&)
{
    x.v.check_on(active_tape<T>());
    return {x.v.value(), x.v.slot()};
}
template <class T>
[[nodiscard]] bound_constant<T> bind(const constant_leaf<T>& x, const shape&)
{
    return {x.v};
}
template <class E>
    requires requires(const E& e, const shape& s) { e.bind(s); }
[[nodiscard]] auto bind(const E& e, const shape& out)
{
    return e.bind(out);
}

/// Turns an operand of a tensor operation into a tree node of precision T:
/// a tensor expression is handed on as it is (a reference, copied once,
/// into its parent), anything else becomes a leaf.
template <class T, class X>
[[nodiscard]] decltype(auto) as_tensor_node(const X& x)
{
    if constexpr (tensor_expression<X>)
        return (x);
    else if constexpr (std::same_as<X, tensor<T>>)
        return value_leaf<T>(x);
    else if constexpr (std::same_as<X, var<T>>)
        return scalar_leaf<T>{x};
    else if constexpr (expression<X>)
        return scalar_leaf<T>{var<T>(x)}; // a scalar expression is recorded first
    else
        return constant_leaf<T>{static_cast<T>(x)};
}

// ---- bound nodes -----------------------------------------------------------

template <class P, class A>
struct bound_unary {
    static constexpr std::size_t leaf_count = A::leaf_count;
    static constexpr bool takes_batches = batch_primitive<P> && A::takes_batches;
    [[no_unique_address]] P p;
    A a;
    template <std::size_t K>
    [[nodiscard]] auto element(std::size_t i, std::size_t c, std::size_t r) const
    {
        using child = decltype(a.template element<K>(i, c, r));
        return unary_expr<P, child>(p, children_in_place, [&] { return a.template element<K>(i, c, r); });
    }
    template <std::size_t K, class V>
    [[nodiscard]] auto batch_element(std::size_t i, std::size_t c, std::size_t r) const
    {
        using child = decltype(a.template batch_element<K, V>(i, c, r));
        return unary_expr<P, child>(p, children_in_place,
                                    [&] { return a.template batch_element<K, V>(i, c, r); });
    }
    [[nodiscard]] bool reads_rows() const noexcept { return a.reads_rows(); }
    void leaves(leaf_info* out) const noexcept { a.leaves(out); }
    template <class T>
    void leaf_values(const T** out) const noexcept
    {
        a.leaf_values(out);
    }

    static constexpr bool recomputable = recomputed_in_reverse<P> && A::recomputable;
    template <std::size_t K, std::size_t Target, class T, class V>
    void add_adjoint(T* adjoints, std::size_t i, std::size_t c, std::size_t r, const V& v) const
    {
        a.template add_adjoint<K, Target>(adjoints, i, c, r, v);
    }
    template <class Tape>
    void keep_values(Tape& t, std::size_t size, std::size_t columns)
    {
        a.keep_values(t, size, columns);
    }
};

template <class P, class A, class B>
struct bound_binary {
    static constexpr std::size_t leaf_count = A::leaf_count + B::leaf_count;
    static constexpr bool takes_batches = batch_primitive<P> && A::takes_batches && B::takes_batches;
    [[no_unique_address]] P p;
    A a;
    B b;
    template <std::size_t K>
    [[nodiscard]] auto element(std::size_t i, std::size_t c, std::size_t r) const
    {
        using left = decltype(a.template element<K>(i, c, r));
        using right = decltype(b.template element<K + A::leaf_count>(i, c, r));
        return binary_expr<P, left, right>(p, children_in_place, [&] { return a.template element<K>(i, c, r); },
                                           [&] { return b.template element<K + A::leaf_count>(i, c, r); });
    }
    template <std::size_t K, class V>
    [[nodiscard]] auto batch_element(std::size_t i, std::size_t c, std::size_t r) const
    {
        using left = decltype(a.template batch_element<K, V>(i, c, r));
        using right = decltype(b.template batch_element<K + A::leaf_count, V>(i, c, r));
        return binary_expr<P, left, right>(
            p, children_in_place, [&] { return a.template batch_element<K, V>(i, c, r); },
            [&] { return b.template batch_element<K + A::leaf_count, V>(i, c, r); });
    }
    [[nodiscard]] bool reads_rows() const noexcept { return a.reads_rows() || b.reads_rows(); }
    void leaves(leaf_info* out) const noexcept
    {
        a.leaves(out);
        b.leaves(out + A::leaf_count);
    }
    template <class T>
    void leaf_values(const T** out) const noexcept
    {
        a.leaf_values(out);
        b.leaf_values(out + A::leaf_count);
    }

    static constexpr bool recomputable = recomputed_in_reverse<P> && A::recomputable && B::recomputable;
    template <std::size_t K, std::size_t Target, class T, class V>
    void add_adjoint(T* adjoints, std::size_t i, std::size_t c, std::size_t r, const V& v) const
    {
        if constexpr (Target < K + A::leaf_count)
            a.template add_adjoint<K, Target>(adjoints, i, c, r, v);
        else
            b.template add_adjoint<K + A::leaf_count, Target>(adjoints, i, c, r, v);
    }
    template <class Tape>
    void keep_values(Tape& t, std::size_t size, std::size_t columns)
    {
        a.keep_values(t, size, columns);
        b.keep_values(t, size, columns);
    }
};

} // namespace detail

// ---- nodes -------------------------------------------------------------------

/// P applied to every element of a tensor expression.
template <class P, class A>
class tensor_unary {
public:
    using value_type = typename A::value_type;
    static constexpr bool is_etape_tensor_expression = true;
    static constexpr std::size_t leaf_count = A::leaf_count;

    tensor_unary(const P& p, const A& a) : p_(p), a_(a) {}

    [[nodiscard]] const etape::shape& shape() const { return detail::shape_of(a_); }
    [[nodiscard]] auto bind(const etape::shape& out) const
    {
        using bound_child = decltype(detail::bind(a_, out));
        return detail::bound_unary<P, bound_child>{p_, detail::bind(a_, out)};
    }
    [[nodiscard]] const P& primitive() const noexcept { return p_; }
    [[nodiscard]] const A& operand() const noexcept { return a_; }

private:
    [[no_unique_address]] P p_;
    A a_;
};

/// P applied elementwise to two operands, with broadcasting.
template <class P, class A, class B>
class tensor_binary {
public:
    using value_type = std::conditional_t<tensor_expression<A>, typename A::value_type, typename B::value_type>;
    static constexpr bool is_etape_tensor_expression = true;
    static constexpr std::size_t leaf_count = A::leaf_count + B::leaf_count;

    /// Throws shape_error when the operands' shapes do not broadcast.
    tensor_binary(const P& p, const A& a, const B& b) : p_(p), a_(a), b_(b)
    {
        (void)detail::broadcast_shape(primitive_name<P>(), detail::shape_of(a_), detail::shape_of(b_));
    }

    /// Found when asked (a leaf's), not stored: a tree is copied into its
    /// parent at every level as it is built, and its copies are what
    /// building costs. The operands broadcast (checked when this node was
    /// built), so the result is the operand shape of the higher rank, the
    /// first on a tie: what broadcast_shape gives, without comparing extents.
    [[nodiscard]] const etape::shape& shape() const noexcept
    {
        const etape::shape& a = detail::shape_of(a_);
        const etape::shape& b = detail::shape_of(b_);
        return a.rank() >= b.rank() ? a : b;
    }

    [[nodiscard]] auto bind(const etape::shape& out) const
    {
        using bound_a = decltype(detail::bind(a_, out));
        using bound_b = decltype(detail::bind(b_, out));
        return detail::bound_binary<P, bound_a, bound_b>{p_, detail::bind(a_, out), detail::bind(b_, out)};
    }

private:
    [[no_unique_address]] P p_;
    A a_;
    B b_;
};

/// An operand of an elementwise tensor operation.
template <class X>
concept tensor_operand = tensor_expression<X> || requires(const X& x) {
    typename X::value_type;
    requires std::same_as<X, tensor<typename X::value_type>>;
};

/// A value tensor (passive data, such as observations).
template <class X>
concept value_tensor = tensor_operand<X> && !tensor_expression<X>;

/// Two operands of an elementwise tensor operation: at least one active
/// tensor expression, the other a tensor, a scalar var or expression, or a
/// number; or a value tensor with an active scalar (`y - mu`, observations
/// against a parameter). Both of the same precision.
template <class A, class B>
concept tensor_operand_pair =
    (tensor_expression<A> && (tensor_operand<B> || operand<B>)) ||
    (tensor_expression<B> && (tensor_operand<A> || operand<A>)) ||
    (value_tensor<A> && expression<B> && std::same_as<typename A::value_type, scalar_t<B>>) ||
    (expression<A> && value_tensor<B> && std::same_as<scalar_t<A>, typename B::value_type>);

/// P on every element of a tensor expression: a tensor_unary node.
template <class P, tensor_expression X>
[[nodiscard]] auto apply(const P& p, const X& x)
{
    static_assert(unary_primitive<P, typename X::value_type>, ETAPE_NOT_A_UNARY_PRIMITIVE);
    if constexpr (!unary_primitive<P, typename X::value_type>)
        return x; // never reached: only keeps the error to the sentence above
    else
        return tensor_unary<P, X>(p, x);
}

/// P elementwise on two operands, at least one of them a tensor expression.
template <class P, class A, class B>
    requires tensor_operand_pair<A, B>
[[nodiscard]] auto apply(const P& p, const A& a, const B& b)
{
    using T = std::conditional_t<tensor_expression<A> || expression<A>, scalar_t<A>, scalar_t<B>>;
    static_assert(binary_primitive<P, T>, ETAPE_NOT_A_BINARY_PRIMITIVE);
    using node_a = std::remove_cvref_t<decltype(detail::as_tensor_node<T>(a))>;
    using node_b = std::remove_cvref_t<decltype(detail::as_tensor_node<T>(b))>;
    static_assert(std::same_as<typename node_a::value_type, typename node_b::value_type>,
                  "etape: both operands must have the same precision; convert one explicitly");
    return tensor_binary<P, node_a, node_b>(p, detail::as_tensor_node<T>(a), detail::as_tensor_node<T>(b));
}

template <class A, class B>
    requires tensor_operand_pair<A, B>
[[nodiscard]] auto operator+(const A& a, const B& b)
{
    return apply(add_op{}, a, b);
}
template <class A, class B>
    requires tensor_operand_pair<A, B>
[[nodiscard]] auto operator-(const A& a, const B& b)
{
    return apply(subtract_op{}, a, b);
}
template <class A, class B>
    requires tensor_operand_pair<A, B>
[[nodiscard]] auto operator*(const A& a, const B& b)
{
    return apply(multiply_op{}, a, b);
}
template <class A, class B>
    requires tensor_operand_pair<A, B>
[[nodiscard]] auto operator/(const A& a, const B& b)
{
    return apply(divide_op{}, a, b);
}
template <tensor_expression A>
[[nodiscard]] auto operator-(const A& a)
{
    return apply(negate_op{}, a);
}

} // namespace etape
