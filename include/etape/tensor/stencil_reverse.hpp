// The reverse of a stencil: a fused node whose partials are recomputed
// (a tree of + - * and negation, recomputed_in_reverse) and whose active
// leaves all read one tensor, whole or periodically shifted (etape::roll),
// such as a finite-difference update written over the whole grid. One
// pass over the tensor's elements gathers, for each element, what every
// output element that read it passes back, as a hand-written adjoint does
// with the transposed stencil; the reverse that recomputes the partials
// otherwise runs one pass per leaf. Each adjoint is written once, so the
// pass stores it when the node is its first writer in a sweep. Layer: tensor.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <utility>

#include <etape/core/simd.hpp>
#include <etape/core/tape.hpp>
#include <etape/tensor/contribution.hpp>
#include <etape/tensor/expression.hpp>

namespace etape::detail {

/// How a stencil's leaves read its tensor: through leaf k, output element
/// (row r, column c) reads element (r + row_shift[k], c + column_shift[k]),
/// each modulo its extent; both are 0 for a leaf read whole.
template <std::size_t L>
struct stencil_shifts {
    std::array<slot_index, L> row_shift{}; // element counts: the tensor fits a tape
    std::array<slot_index, L> column_shift{};

    /// The shifts of `leaves` for an output of `size` elements in rows of
    /// `columns`; none when they are not a stencil's: leaves of several
    /// tensors, or a leaf broadcast or sliced. A roll reads along the rows
    /// (its period is a row) or moves whole rows (its step is a number of
    /// rows: tensor_roll makes no other).
    [[nodiscard]] static std::optional<stencil_shifts> of(const std::array<leaf_info, L>& leaves, std::size_t size,
                                                          std::size_t columns) noexcept
    {
        if (size == 0 || columns == 0)
            return std::nullopt;
        stencil_shifts s;
        for (std::size_t k = 0; k < L; ++k) {
            const leaf_info& leaf = leaves[k];
            if (leaf.first != leaves[0].first)
                return std::nullopt;
            if (leaf.kind == broadcast::full)
                continue;
            if (leaf.kind != broadcast::rolled)
                return std::nullopt;
            if (leaf.period == columns)
                s.column_shift[k] = leaf.step;
            else if (leaf.period == size && leaf.step % columns == 0)
                s.row_shift[k] = static_cast<slot_index>(leaf.step / columns);
            else
                return std::nullopt;
        }
        return s;
    }
};

/// The reverse of a stencil node (see the top of this file): `bound` is the
/// node's tree, whose value tensors read copies on the tape (keep_values);
/// `first` is the first slot of the one tensor every active leaf reads.
template <class T, class Bound>
struct gathering_reverse {
    static constexpr std::size_t L = Bound::leaf_count;
    Bound bound;
    std::size_t size;
    std::size_t columns;
    slot_index first;
    stencil_shifts<L> shifts;

    void operator()(T* adjoints, slot_index, first_writes stores, const T* output_adjoints) const
    {
        if (stores_input(stores, 0))
            gather<true>(adjoints + first, output_adjoints);
        else
            gather<false>(adjoints + first, output_adjoints);
    }

private:
    /// Row by row, in runs of columns between the places where a leaf's
    /// reader wraps around (the same in every row): within a run, each
    /// leaf's reader is a fixed distance away.
    template <bool Store>
    void gather(T* in, const T* out) const
    {
        std::array<std::size_t, L + 1> run_ends{}; // kept in order as they come
        std::size_t runs = 0;
        for (const std::size_t c : shifts.column_shift) {
            std::size_t at = 0;
            while (at < runs && run_ends[at] < c)
                ++at;
            if (c == 0 || (at < runs && run_ends[at] == c))
                continue;
            for (std::size_t j = runs; j > at; --j)
                run_ends[j] = run_ends[j - 1];
            run_ends[at] = c;
            ++runs;
        }
        run_ends[runs++] = columns;
        const Bound tree = bound; // a local: the loop's stores cannot change it
        const std::size_t rows = size / columns;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t e = 0, begin = 0; e < runs; begin = run_ends[e++])
                gather_run<Store>(tree, in + r * columns, out, r, rows, begin, run_ends[e]);
    }

    /// Columns [begin, end) of row r, whose adjoints start at `in`. Through
    /// leaf k, column q was read by output element (reader_row[k], q +
    /// reader_column[k]), flat index q + reader_flat[k] (unsigned
    /// arithmetic: an offset may wrap around, the sum does not).
    template <bool Store>
    [[gnu::flatten]] void gather_run(const Bound& tree, T* __restrict in, const T* __restrict out, std::size_t r,
                                     std::size_t rows, std::size_t begin, std::size_t end) const
    {
        std::array<std::size_t, L> reader_row{}, reader_column{}, reader_flat{};
        for (std::size_t k = 0; k < L; ++k) {
            const std::size_t rs = shifts.row_shift[k], cs = shifts.column_shift[k];
            reader_row[k] = r >= rs ? r - rs : r + rows - rs;
            reader_column[k] = begin >= cs ? std::size_t{0} - cs : columns - cs;
            reader_flat[k] = reader_row[k] * columns + reader_column[k];
        }
        const auto gathered = [&]<class V>(std::size_t q) {
            return [&]<std::size_t... K>(std::index_sequence<K...>) {
                return (passed_back<K, V>(tree, out, q + reader_flat[K], q + reader_column[K], reader_row[K]) + ...);
            }(std::make_index_sequence<L>{});
        };
        std::size_t q = begin;
        if constexpr (tree_on_batches<T, Bound>) {
            using V = simd::batch<T>;
            for (; q + V::size <= end; q += V::size) {
                const V d = gathered.template operator()<V>(q);
                simd::store(in + q, accumulated<Store>(Store ? V(0) : simd::load<V>(in + q), d));
            }
        }
        for (; q < end; ++q)
            in[q] = accumulated<Store>(Store ? T(0) : in[q], gathered.template operator()<T>(q));
    }

    /// What output element (i, c, r) passes back through leaf K (a number,
    /// or a batch of lanes i.. on).
    template <std::size_t K, class V>
    [[nodiscard]] static V passed_back(const Bound& tree, const T* out, std::size_t i, std::size_t c, std::size_t r)
    {
        element_partials<V, L> d;
        if constexpr (std::same_as<V, T>) {
            tree.template element<0>(i, c, r).record(d, T(1));
            return contribution(d.d[K], out[i]);
        } else {
            tree.template batch_element<0, V>(i, c, r).record(d, V(T(1)));
            return contribution(d.d[K], simd::load<V>(out + i));
        }
    }
};

} // namespace etape::detail
