// The fused kernel: a whole tensor expression recorded as ONE tape node.
// Forward is one loop that writes the output and, for each active leaf k,
// the partial J_k[i] of output element i; reverse is one loop per leaf,
//     adjoint[leaf_k + i] += J_k[i] * adjoint[output + i],
// with broadcast leaves reducing into their slot (a scalar) or their row (a
// vector). A primitive applied directly to an active tensor stores no
// partials at all: its reverse reads the saved input and output (for the ELU
// family, the output alone). Layer: tensor.
//
// Vectorized math: when etape has a SIMD library (core/simd.hpp) and every
// primitive of the expression takes batches, the forward loop runs on
// batches of lanes (transcendentals included) and a scalar tail finishes the
// last elements; so does the reverse of a primitive applied to a tensor.
// Otherwise each loop runs element by element, as before. The reverse of a
// fused node needs no math: it runs on batches whenever a SIMD library is
// there, except a broadcast scalar's sum, which adds in order.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <etape/core/active_tape.hpp>
#include <etape/core/anomaly.hpp>
#include <etape/core/expression_text.hpp>
#include <etape/core/simd.hpp>
#include <etape/core/var.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/contribution.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/stencil_reverse.hpp>

namespace etape {

namespace detail {

/// Stores a value (a number at p, or a batch's lanes from p on).
template <class T>
inline void put(T* p, T v) noexcept
{
    *p = v;
}
template <class T, simd::batch_of<T> V>
inline void put(T* p, const V& v)
{
    simd::store(p, v);
}

/// The type sums accumulate in: double for float, T otherwise.
template <class T>
using accumulator_t = std::conditional_t<std::is_same_v<T, float>, double, T>;

/// A sum of numbers and batches in accumulator_t<T> with one running sum
/// per lane, added together at the end. Lanes never wait for each other:
/// adding a batch's lanes one by one into one total made a fused `sum`
/// latency-bound, slower than the whole loop it reduces. The order depends
/// only on the batch width, so a sum is the same from one run to the next.
/// The running sums are batches of the accumulator (two per float batch):
/// kept as numbers, g++ added the lanes one instruction each.
template <class T, bool = simd::enabled_for<T>>
class lane_sum {
public:
    using accumulator = accumulator_t<T>;

    void add(T v) noexcept { tail_ += static_cast<accumulator>(v); }
    [[nodiscard]] accumulator total() const noexcept { return tail_; }

private:
    accumulator tail_ = 0;
};

template <class T>
class lane_sum<T, true> {
public:
    using accumulator = accumulator_t<T>;

    void add(T v) noexcept { tail_ += static_cast<accumulator>(v); }

    template <simd::batch_of<T> V>
    void add(const V& v) noexcept
    {
        std::array<T, lanes> narrow;
        simd::store(narrow.data(), v);
        for (std::size_t part = 0; part < parts; ++part) {
            std::array<accumulator, wide::size> widened;
            for (std::size_t j = 0; j < wide::size; ++j)
                widened[j] = static_cast<accumulator>(narrow[part * wide::size + j]);
            sums_[part] += simd::load<wide>(widened.data());
        }
    }

    [[nodiscard]] accumulator total() const noexcept
    {
        std::array<accumulator, lanes> by_lane;
        for (std::size_t part = 0; part < parts; ++part)
            simd::store(by_lane.data() + part * wide::size, sums_[part]);
        accumulator t = 0;
        for (const accumulator lane : by_lane)
            t += lane;
        return t + tail_;
    }

private:
    using wide = simd::batch<accumulator>;
    static constexpr std::size_t lanes = simd::batch<T>::size;
    static constexpr std::size_t parts = lanes / wide::size;
    std::array<wide, parts> sums_ = filled(wide(accumulator(0)));
    accumulator tail_ = 0;

    static std::array<wide, parts> filled(const wide& zero) noexcept
    {
        std::array<wide, parts> a;
        a.fill(zero);
        return a;
    }
};

/// Adds (Store: stores) contribution(j[i], out[i * out_step]) into in[i]
/// for i < n (out_step 0 or 1), on batches when T allows: the compiler does
/// not vectorize the zero-adjoint test itself (it will not multiply
/// speculatively). The same operations element by element, so the same
/// results.
template <bool Store, class T>
void add_contributions(T* __restrict in, const T* __restrict j, const T* __restrict out, std::size_t out_step,
                       std::size_t n) noexcept
{
    std::size_t i = 0;
    if constexpr (simd::enabled_for<T>) {
        using V = simd::batch<T>;
        for (; i + V::size <= n; i += V::size) {
            const V o = out_step == 0 ? V(out[0]) : simd::load<V>(out + i);
            const V d = contribution(simd::load<V>(j + i), o);
            simd::store(in + i, accumulated<Store>(Store ? V(0) : simd::load<V>(in + i), d));
        }
    }
    for (; i < n; ++i)
        in[i] = accumulated<Store>(Store ? T(0) : in[i], contribution(j[i], out[i * out_step]));
}

/// Reverse of a fused node: output adjoints are read with `output_stride`
/// (1 for an elementwise output, 0 for a sum into one slot).
template <class T, std::size_t L>
struct fused_reverse {
    std::size_t size;
    std::size_t columns;
    std::size_t output_stride;
    std::array<const T*, L> partials;
    std::array<leaf_info, L> leaves;

    /// The slots each leaf's adjoints take; full leaves are storable.
    [[nodiscard]] std::array<node_input_slots, L> inputs() const noexcept
    {
        std::array<node_input_slots, L> in{};
        for (std::size_t k = 0; k < L; ++k) {
            const broadcast kind = leaves[k].kind;
            in[k] = {leaves[k].first, static_cast<slot_index>(leaves[k].slot_count(size, columns)),
                     kind == broadcast::full || kind == broadcast::rolled};
        }
        return in;
    }

    /// For a sum (one output): a full leaf's stored partials, which are
    /// what the reverse stores into its adjoints when the output's adjoint
    /// is 1, bit for bit: contribution(j, 1) + 0 is j, since j, a sum that
    /// element_partials starts at +0, is never -0. Null otherwise
    /// (tape::gradient_held_by_node).
    [[nodiscard]] const T* unit_seed_gradient(std::size_t input) const noexcept
    {
        return output_stride == 0 && input < L && leaves[input].kind == broadcast::full ? partials[input] : nullptr;
    }

    /// `output_adjoints`: the adjoints of the outputs, on the tape or the
    /// caller's cotangent (tape::sweep_cotangent).
    void operator()(T* adjoints, slot_index, first_writes stores, const T* output_adjoints) const noexcept
    {
        const T* __restrict out = output_adjoints;
        for (std::size_t k = 0; k < L; ++k) {
            const T* __restrict j = partials[k];
            T* __restrict in = adjoints + leaves[k].first;
            switch (leaves[k].kind) {
            case broadcast::full:
                if (stores_input(stores, k))
                    add_contributions<true>(in, j, out, output_stride, size);
                else
                    add_contributions<false>(in, j, out, output_stride, size);
                break;
            case broadcast::row:
                if (output_stride == 1) // row by row: each in[c] still adds its rows in order
                    for (std::size_t r = 0; r < size; r += columns)
                        add_contributions<false>(in, j + r, out + r, 1, columns);
                else
                    for (std::size_t i = 0, c = 0; i < size; ++i, c = (c + 1 == columns ? 0 : c + 1))
                        in[c] += contribution(j[i], out[0]);
                break;
            case broadcast::scalar:
                in[0] += static_cast<T>(sum_of_contributions(j, out));
                break;
            case broadcast::strided: // row by row, each row to its place
                for (std::size_t r = 0, o = 0; o < size; ++r, o += columns)
                    add_contributions<false>(in + r * leaves[k].step, j + o, out + o * output_stride, output_stride,
                                             columns);
                break;
            case broadcast::rolled:
                if (stores_input(stores, k))
                    add_rolled<true>(in, j, out, leaves[k]);
                else
                    add_rolled<false>(in, j, out, leaves[k]);
                break;
            }
        }
    }

private:
    /// A rolled leaf's adjoints: in each segment, output element p read
    /// input element p + step (less the period past its end), so the
    /// segment's contributions go in two contiguous runs. Together they
    /// cover each input slot once: a store is complete.
    template <bool Store>
    void add_rolled(T* in, const T* j, const T* out, const leaf_info& leaf) const noexcept
    {
        const std::size_t period = leaf.period, step = leaf.step;
        for (std::size_t base = 0; base < size; base += period) {
            add_contributions<Store>(in + base + step, j + base, out + base * output_stride, output_stride,
                                     period - step);
            add_contributions<Store>(in + base, j + base + period - step,
                                     out + (base + period - step) * output_stride, output_stride, step);
        }
    }

    /// sum_i contribution(j[i], out[i * output_stride]), on batches when T allows.
    [[nodiscard]] accumulator_t<T> sum_of_contributions(const T* j, const T* out) const noexcept
    {
        lane_sum<T> sum;
        std::size_t i = 0;
        if constexpr (simd::enabled_for<T>) {
            using V = simd::batch<T>;
            for (; i + V::size <= size; i += V::size)
                sum.add(contribution(simd::load<V>(j + i),
                                     output_stride == 0 ? V(out[0]) : simd::load<V>(out + i)));
        }
        for (; i < size; ++i)
            sum.add(contribution(j[i], out[i * output_stride]));
        return sum.total();
    }
};

/// Reverse of a fused node whose partials are cheap (recomputable: sums,
/// differences, products): nothing but the output is stored; the reverse
/// runs the expression again over the leaves, which outlive the node, and
/// adds each element's contribution where its leaves were read. One pass
/// per leaf, as the stored partials' reverse: a stencil's leaves overlap,
/// and adding each element into several of them in turn made every load
/// wait for the store before it. For a linear stencil the partials are
/// constants, so a pass loads no leaf: it reads the output's adjoints and
/// adds into one input's. The tree reads its value tensors from copies on
/// the tape (keep_values), as stored partials would have kept them.
template <class T, class Bound>
struct recomputing_reverse {
    Bound bound;
    std::size_t size;
    std::size_t columns;

    void operator()(T* adjoints, slot_index, first_writes, const T* output_adjoints) const
    {
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (add_leaf<K>(adjoints, output_adjoints), ...);
        }(std::make_index_sequence<Bound::leaf_count>{});
    }

private:
    template <std::size_t K>
    [[gnu::flatten]] void add_leaf(T* adjoints, const T* out) const
    {
        constexpr std::size_t L = Bound::leaf_count;
        const Bound tree = bound; // a local: the loop's stores cannot change it
        const auto one = [&](std::size_t i, std::size_t c, std::size_t r) {
            element_partials<T, L> d;
            tree.template element<0>(i, c, r).record(d, T(1));
            tree.template add_adjoint<0, K>(adjoints, i, c, r, contribution(d.d[K], out[i]));
        };
        if constexpr (tree_on_batches<T, Bound>) {
            using V = simd::batch<T>;
            const std::size_t row = tree.reads_rows() ? columns : size;
            for (std::size_t start = 0, r = 0; start < size; start += row, ++r) {
                std::size_t c = 0;
                for (; c + V::size <= row; c += V::size) {
                    const std::size_t i = start + c;
                    element_partials<V, L> d;
                    tree.template batch_element<0, V>(i, c, r).record(d, V(T(1)));
                    tree.template add_adjoint<0, K>(adjoints, i, c, r, contribution(d.d[K], simd::load<V>(out + i)));
                }
                for (; c < row; ++c)
                    one(start + c, c, r);
            }
        } else {
            for (std::size_t i = 0, c = 0, r = 0; i < size; ++i) {
                one(i, c, r);
                if (++c == columns) {
                    c = 0;
                    ++r;
                }
            }
        }
    }
};

/// Reverse of P applied to an active tensor: no stored partials.
template <class T, class P>
struct primitive_reverse {
    [[no_unique_address]] P p;
    std::size_t size;
    const T* x;
    const T* y;
    slot_index input;

    void operator()(T* adjoints, slot_index, first_writes stores, const T* output_adjoints) const
    {
        if (stores_input(stores, 0))
            run<true>(adjoints, output_adjoints);
        else
            run<false>(adjoints, output_adjoints);
    }

private:
    template <bool Store>
    void run(T* adjoints, const T* output_adjoints) const
    {
        // locals, not members: g++ reloaded the members through `this` after
        // every store through `in` (xsimd's stores may alias anything)
        const T* __restrict out = output_adjoints;
        T* __restrict in = adjoints + input;
        const T* const xs = x;
        const T* const ys = y;
        const std::size_t n = size;
        std::size_t i = 0;
        if constexpr (on_batches<T, P>) {
            using V = simd::batch<T>;
            const P op = p;
            for (; i + V::size <= n; i += V::size) {
                const V yv = simd::load<V>(ys + i);
                V xv = yv; // a partial from the output does not read x: no load
                if constexpr (P::source != derivative_source::output)
                    xv = simd::load<V>(xs + i);
                const V d = contribution(static_cast<V>(op.partial(xv, yv)), simd::load<V>(out + i));
                simd::store(in + i, accumulated<Store>(Store ? V(0) : simd::load<V>(in + i), d));
            }
        }
        for (; i < n; ++i)
            in[i] = accumulated<Store>(Store ? T(0) : in[i],
                                       contribution(static_cast<T>(p.partial(xs[i], ys[i])), out[i]));
    }
};

template <class E>
inline constexpr bool is_primitive_of_active = false;
template <class P, class T>
inline constexpr bool is_primitive_of_active<tensor_unary<P, active_tensor<T>>> = true;

/// Runs the bound expression over every element: hands each value to
/// `sink(i, value)` (value a number, or a batch of lanes i.. on), stores the
/// partials into J (unless !Partials: values only), and returns the sink. The tree, the partial pointers and
/// the sink are copied into locals first: g++ must assume that the loop's
/// stores (xsimd's unaligned stores may alias anything) change whatever is
/// read through a reference, so a tree behind one had its leaves' pointers
/// and constants reloaded, and a sum behind one stored and reloaded, on
/// every batch.
template <class T, std::size_t L, class Bound, class Sink, bool Partials = true>
Sink forward_loop(const Bound& tree, std::size_t size, std::size_t columns,
                  const std::array<T*, L>& partial_arrays, Sink sink)
{
    const Bound bound = tree;
    const std::array<T*, L> partials = partial_arrays;
    const auto one = [&](std::size_t i, std::size_t c, std::size_t r) {
        const auto element = bound.template element<0>(i, c, r);
        sink(i, element.value());
        if constexpr (Partials) {
            element_partials<T, L> d;
            element.record(d, T(1));
            for (std::size_t k = 0; k < L; ++k)
                partials[k][i] = d.d[k];
        }
    };
    if constexpr (tree_on_batches<T, Bound>) {
        using V = simd::batch<T>;
        // A leaf that reads rows (a bias, a slice) loads columns c..c+size
        // of its row, so batches stay inside one row; otherwise the whole
        // tensor is one row.
        const std::size_t row = bound.reads_rows() ? columns : size;
        for (std::size_t start = 0, r = 0; start < size; start += row, ++r) {
            std::size_t c = 0;
            for (; c + V::size <= row; c += V::size) {
                const auto element = bound.template batch_element<0, V>(start + c, c, r);
                sink(start + c, element.value());
                if constexpr (Partials) {
                    element_partials<V, L> d;
                    element.record(d, V(T(1)));
                    for (std::size_t k = 0; k < L; ++k)
                        simd::store(partials[k] + start + c, d.d[k]);
                }
            }
            for (; c < row; ++c)
                one(start + c, c, r);
        }
    } else {
        for (std::size_t i = 0, c = 0, r = 0; i < size; ++i) {
            one(i, c, r);
            if (++c == columns) {
                c = 0;
                ++r;
            }
        }
    }
    return sink;
}

/// The sink of a fused sum: adds every value into one lane_sum.
template <class T>
struct summing_sink {
    lane_sum<T> sum;
    template <class Value>
    void operator()(std::size_t, const Value& v) noexcept
    {
        sum.add(v);
    }
};

/// Anomaly mode's view of a fused node's active leaves: each leaf's adjoint
/// slots and values (a broadcast scalar's value is copied to the tape, the
/// bound tree that holds it does not outlive the recording).
template <class T, std::size_t L, class Bound>
[[nodiscard]] std::array<node_operand<T>, L> fused_operands(tape<T>& t, const Bound& bound,
                                                            const std::array<leaf_info, L>& leaves,
                                                            std::size_t size, std::size_t columns)
{
    std::array<const T*, L> values{};
    bound.leaf_values(values.data());
    std::array<node_operand<T>, L> operands{};
    for (std::size_t k = 0; k < L; ++k) {
        const broadcast kind = leaves[k].kind;
        const T* v = values[k];
        if (kind == broadcast::scalar) {
            T* copy = t.template allocate_scratch<T>(1);
            *copy = *v;
            v = copy;
        }
        operands[k] = {leaves[k].first, leaves[k].slot_count(size, columns), v};
    }
    return operands;
}

/// The label of a fused node: its expression, one element's worth.
template <class T, std::size_t L, class Bound>
[[nodiscard]] node_label<T> fused_label(std::string_view name, const std::array<node_operand<T>, L>& operands)
{
    using element = decltype(std::declval<const Bound&>().template element<0>(0, 0, 0));
    return {name, operands, &describe_expression<element>, true};
}

/// The sink that writes each value to y[i] (y[i..] for a batch).
template <class T>
[[nodiscard]] auto put_into(T* y) noexcept
{
    return [y](std::size_t i, const auto& v) { put(y + i, v); };
}

template <class T, class E>
active_tensor<T> materialize(const E& e)
{
    tape<T>& t = active_tape<T>();
    const shape s = shape_of(e);
    const std::size_t n = s.size();
    if constexpr (is_primitive_of_active<E>) {
        const active_tensor<T>& x = e.operand();
        x.check_on(t);
        T* y = t.template allocate_scratch<T>(n);
        const auto& p = e.primitive();
        using P = std::remove_cvref_t<decltype(p)>;
        const T* xs = x.data();
        std::size_t i = 0;
        if constexpr (on_batches<T, P>) {
            using V = simd::batch<T>;
            const P op = p; // a local copy: stores to y cannot change its parameters
            for (; i + V::size <= n; i += V::size)
                simd::store(y + i, static_cast<V>(op.primal(simd::load<V>(xs + i))));
        }
        for (; i < n; ++i)
            y[i] = static_cast<T>(p.primal(xs[i]));
        const node_operand<T> operand{x.first_slot(), n, x.data()};
        const node_input_slots input{x.first_slot(), static_cast<slot_index>(n), true};
        const slot_index first = t.record_node(n, primitive_reverse<T, P>{p, n, x.data(), y, x.first_slot()},
                                               {primitive_name<P>(), std::span(&operand, 1), nullptr, true},
                                               std::span(&input, 1));
        return active_tensor<T>(y, s, first, t);
    } else if constexpr (decltype(bind(e, s))::recomputable) {
        constexpr std::size_t L = E::leaf_count;
        auto bound = bind(e, s);
        bound.keep_values(t, n, s.last());
        T* y = t.template allocate_scratch<T>(n);
        forward_loop<T, 0, decltype(bound), decltype(put_into(y)), false>(bound, n, s.last(), {}, put_into(y));
        std::array<leaf_info, L> leaves{};
        bound.leaves(leaves.data());
        std::array<node_operand<T>, L> operands{};
        if (t.detecting_anomalies())
            operands = fused_operands(t, bound, leaves, n, s.last());
        const node_label<T> label = fused_label<T, L, decltype(bound)>("elementwise", operands);
        if (const auto shifts = stencil_shifts<L>::of(leaves, n, s.last())) {
            const node_input_slots input{leaves[0].first, static_cast<slot_index>(n), true};
            const slot_index first = t.record_node(
                n, gathering_reverse<T, decltype(bound)>{bound, n, s.last(), leaves[0].first, *shifts}, label,
                std::span(&input, 1));
            return active_tensor<T>(y, s, first, t);
        }
        std::array<node_input_slots, L> inputs{};
        for (std::size_t k = 0; k < L; ++k)
            inputs[k] = {leaves[k].first, static_cast<slot_index>(leaves[k].slot_count(n, s.last())), false};
        const slot_index first = t.record_node(n, recomputing_reverse<T, decltype(bound)>{bound, n, s.last()}, label,
                                               std::span<const node_input_slots>(inputs));
        return active_tensor<T>(y, s, first, t);
    } else {
        constexpr std::size_t L = E::leaf_count;
        const auto bound = bind(e, s);
        T* y = t.template allocate_scratch<T>(n);
        std::array<T*, L> partials{};
        for (auto& j : partials)
            j = t.template allocate_scratch<T>(n);
        forward_loop<T, L>(bound, n, s.last(), partials, put_into(y));
        fused_reverse<T, L> reverse{n, s.last(), 1, {}, {}};
        for (std::size_t k = 0; k < L; ++k)
            reverse.partials[k] = partials[k];
        bound.leaves(reverse.leaves.data());
        std::array<node_operand<T>, L> operands{};
        if (t.detecting_anomalies())
            operands = fused_operands(t, bound, reverse.leaves, n, s.last());
        const std::array<node_input_slots, L> inputs = reverse.inputs();
        const slot_index first = t.record_node(n, reverse, fused_label<T, L, decltype(bound)>("elementwise", operands),
                                               std::span<const node_input_slots>(inputs));
        return active_tensor<T>(y, s, first, t);
    }
}

} // namespace detail

/// Sum of all elements of a tensor expression, fused: the expression's
/// elements are never stored, only their partials. One tape node. The sum
/// runs in double for float, with one running sum per SIMD lane.
template <tensor_expression E>
[[nodiscard]] var<typename E::value_type> sum(const E& e)
{
    using T = typename E::value_type;
    tape<T>& t = active_tape<T>();
    const shape s = detail::shape_of(e);
    const std::size_t n = s.size();
    detail::lane_sum<T> total;
    slot_index first = 0;
    if constexpr (std::same_as<E, active_tensor<T>>) {
        e.check_on(t);
        const T* values = e.data();
        std::size_t i = 0;
        if constexpr (simd::enabled_for<T>) {
            using V = simd::batch<T>;
            for (; i + V::size <= n; i += V::size)
                total.add(simd::load<V>(values + i));
        }
        for (; i < n; ++i)
            total.add(values[i]);
        const slot_index input = e.first_slot();
        const node_operand<T> operand{input, n, e.data()};
        const node_input_slots written{input, static_cast<slot_index>(n), true};
        first = t.record_node(
            1,
            [n, input](T* adjoints, slot_index, first_writes stores, const T* output_adjoints) {
                const T g = output_adjoints[0];
                T* __restrict in = adjoints + input;
                if (detail::stores_input(stores, 0))
                    std::fill_n(in, n, g + T(0));
                else
                    for (std::size_t k = 0; k < n; ++k)
                        in[k] += g;
            },
            {"sum", std::span(&operand, 1)}, std::span(&written, 1));
    } else {
        constexpr std::size_t L = E::leaf_count;
        const auto bound = detail::bind(e, s);
        std::array<T*, L> partials{};
        for (auto& j : partials)
            j = t.template allocate_scratch<T>(n);
        total = detail::forward_loop<T, L>(bound, n, s.last(), partials, detail::summing_sink<T>{}).sum;
        detail::fused_reverse<T, L> reverse{n, s.last(), 0, {}, {}};
        for (std::size_t k = 0; k < L; ++k)
            reverse.partials[k] = partials[k];
        bound.leaves(reverse.leaves.data());
        std::array<node_operand<T>, L> operands{};
        if (t.detecting_anomalies())
            operands = detail::fused_operands(t, bound, reverse.leaves, n, s.last());
        const std::array<node_input_slots, L> inputs = reverse.inputs();
        first = t.record_node(1, reverse, detail::fused_label<T, L, decltype(bound)>("sum of elementwise", operands),
                              std::span<const node_input_slots>(inputs));
    }
    return var<T>::with_stamp(first, static_cast<T>(total.total()), var<T>::stamp_of(t, first));
}

/// Mean of all elements (sum / size).
template <tensor_expression E>
[[nodiscard]] var<typename E::value_type> mean(const E& e)
{
    using T = typename E::value_type;
    const std::size_t n = detail::shape_of(e).size();
    return sum(e) / static_cast<T>(n);
}

} // namespace etape
