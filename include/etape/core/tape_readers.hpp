// A tape's questions about who reads which slots: the gradient a node
// holds when nothing else reads its input (gradient_held_by_node), and the
// lowest statement or node reading each of some ranges (lowest_readers).
// Layer: core (a layer of the tape, see tape.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include <etape/core/config.hpp>
#include <etape/core/tape_anomalies.hpp>
#include <etape/core/tape_nodes.hpp>
#include <etape/core/tape_storage.hpp>

namespace etape {

/// A range of slots [first, first + count).
struct slot_range {
    slot_index first = 0;
    slot_index count = 0;
};

namespace detail {

template <class T>
class tape_readers : public tape_nodes<T> {
protected: // what this layer uses of the ones below, for the layers above too
    using storage = tape_storage<T>;
    using anomalies = tape_anomalies<T>;
    using typename storage::node;
    using storage::statement_end_, storage::operands_, storage::nodes_, storage::node_inputs_;
    using anomalies::anomaly_mode_;

public:
    using tape_nodes<T>::tape_nodes;

    /// The gradient of slot `y` with respect to the slots `x`, read where the
    /// node whose one output is y holds it, without a sweep; null when
    /// that is not sure to be it. Sure when the node hands it out
    /// (record_node's unit_seed_gradient), x is exactly one of the node's
    /// declared inputs and meets none of the others, and nothing else in the
    /// recording from x's first slot up to the node may add into x's
    /// adjoints: no statement has an operand in x, and every node declares
    /// its inputs and none meets x. Then a sweep from y seeded with 1 would
    /// store exactly these values into x's adjoints. Null in anomaly mode
    /// (whose sweep checks every adjoint). Valid until a rewind past the node.
    [[nodiscard]] const T* gradient_held_by_node(slot_index y, slot_range x) const
    {
        if (anomaly_mode_ || x.count == 0)
            return nullptr;
        std::size_t k = nodes_.size();
        while (k > 0 && nodes_[k - 1].first > y)
            --k;
        if (k == 0)
            return nullptr;
        const node& n = nodes_[k - 1];
        const slot_index x_end = x.first + x.count;
        if (n.first != y || n.end != y + 1 || n.unit_seed_gradient == nullptr || x_end > n.first)
            return nullptr;
        std::size_t held = no_input;
        for (std::size_t i = n.inputs_begin; i < n.inputs_end; ++i) {
            const node_input_slots& in = node_inputs_[i];
            if (in.first == x.first && in.count == x.count && held == no_input)
                held = i - n.inputs_begin;
            else if (meets(in, x))
                return nullptr;
        }
        if (held == no_input || may_add_into(x, n.first, k - 1))
            return nullptr;
        return n.unit_seed_gradient(n.payload, held);
    }

    /// For each of `ranges`, the lowest slot below `top` of a statement or
    /// node that reads one of its slots (a node that declares no inputs
    /// may read any slot below it); `top` when none does. Once a sweep from
    /// `top` has processed that slot, the range's adjoints are final: what
    /// clear_and_sweep's stops are for. One pass over the recording's
    /// operands and nodes.
    void lowest_readers(std::span<const slot_range> ranges, slot_index top, std::span<slot_index> out) const
    {
        if (out.size() != ranges.size())
            throw std::invalid_argument("etape::tape::lowest_readers: " + std::to_string(out.size()) +
                                        " places to write, for " + std::to_string(ranges.size()) + " ranges");
        top = std::min(top, this->size());
        std::fill(out.begin(), out.end(), top);
        std::size_t unread = ranges.size();
        const auto read = [&](slot_index first, slot_index count, slot_index reader) {
            for (std::size_t i = 0; i < ranges.size(); ++i)
                if (out[i] == top && ranges[i].count > 0 && ranges[i].first < first + count &&
                    first < ranges[i].first + ranges[i].count) {
                    out[i] = reader;
                    --unread;
                }
        };
        const std::uint32_t* const end = statement_end_.data();
        const slot_index* const operand = operands_.second();
        slot_index s = 1, node_slots_below = 0;
        for (std::size_t k = 0; s < top && unread > 0; ++k) {
            const slot_index statements_end = k < nodes_.size() ? std::min(nodes_[k].first, top) : top;
            if (s < statements_end) { // their operands lie side by side: walk those, not the slots
                const std::uint32_t* const ends = end + (s - node_slots_below); // of slots s, s + 1, ...
                const std::uint32_t* const last = end + (statements_end - node_slots_below);
                for (std::uint32_t j = end[s - 1 - node_slots_below]; j < last[-1] && unread > 0; ++j) {
                    // operand j is the statement's whose operands end past j
                    const auto holder = static_cast<slot_index>(std::upper_bound(ends, last, j) - ends);
                    read(operand[j], 1, s + holder);
                }
                s = statements_end;
            }
            if (k >= nodes_.size() || s >= top || unread == 0)
                break;
            const node& n = nodes_[k];
            if (n.declares_inputs)
                for (std::size_t i = n.inputs_begin; i < n.inputs_end; ++i)
                    read(node_inputs_[i].first, node_inputs_[i].count, n.first);
            else
                read(1, n.first - 1, n.first);
            s = n.end;
            node_slots_below = n.end - n.row;
        }
    }

private:
    [[nodiscard]] static bool meets(const node_input_slots& in, slot_range x) noexcept
    {
        return in.count > 0 && in.first < x.first + x.count && x.first < in.first + in.count;
    }

    /// True when a statement or a node in slots [x.first, top) may add into
    /// the adjoints of x; nodes_[0, k) are the nodes below `top`.
    [[nodiscard]] bool may_add_into(slot_range x, slot_index top, std::size_t k) const
    {
        slot_index upper = top;
        for (; k > 0 && nodes_[k - 1].end > x.first; --k) {
            const node& m = nodes_[k - 1];
            if (statements_read(x, m.end, upper, m.end - m.row) || !m.declares_inputs)
                return true;
            for (std::size_t i = m.inputs_begin; i < m.inputs_end; ++i)
                if (meets(node_inputs_[i], x))
                    return true;
            upper = m.first;
        }
        const slot_index node_slots_below = k > 0 ? nodes_[k - 1].end - nodes_[k - 1].row : 0;
        return upper > x.first && statements_read(x, x.first, upper, node_slots_below);
    }

    /// True when a statement in slots [bottom, top) (no node slots) has an operand in x.
    [[nodiscard]] bool statements_read(slot_range x, slot_index bottom, slot_index top,
                                       slot_index node_slots_below) const noexcept
    {
        const std::uint32_t* const end = statement_end_.data();
        const slot_index* const operand = operands_.second();
        for (std::uint32_t k = end[bottom - 1 - node_slots_below]; k < end[top - 1 - node_slots_below]; ++k)
            if (operand[k] >= x.first && operand[k] - x.first < x.count)
                return true;
        return false;
    }

    static constexpr std::size_t no_input = ~std::size_t{0};
};

} // namespace detail
} // namespace etape
