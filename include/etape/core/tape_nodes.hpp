// A tape's nodes: recording a node (its reverse, and values it keeps, in
// the tape's arena), and the plan of first writers that lets a node's
// reverse store into adjoints that a gradient's sweep did not clear.
// Layer: core (a layer of the tape, see tape.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/core/anomaly.hpp>
#include <etape/core/config.hpp>
#include <etape/core/slot_intervals.hpp>
#include <etape/core/tape_anomalies.hpp>
#include <etape/core/tape_storage.hpp>

namespace etape::detail {

template <class T>
class tape_nodes : public tape_anomalies<T> {
protected: // what this layer uses of the ones below, for the layers above too
    using storage = tape_storage<T>;
    using anomalies = tape_anomalies<T>;
    using typename storage::node;
    using storage::statement_end_, storage::operands_, storage::nodes_, storage::node_inputs_, storage::adjoints_,
        storage::arena_, storage::slots_, storage::extendable_, storage::slot_epoch_, storage::epoch_,
        storage::make_room, storage::update_room, storage::check_budget, storage::gap_before, storage::append_slots,
        storage::rows, storage::generation;
    using anomalies::anomaly_mode_, anomalies::node_notes_, anomalies::context_;

public:
    using anomalies::anomalies;

    /// An input of fewer slots is never stored into (clear_and_sweep):
    /// clearing and adding costs a few dozen nanoseconds there, less than the
    /// plan's bookkeeping (a tape of 20,000 nodes over 8 elements each took
    /// 10 times the plain sweep's time with every input a candidate).
    static constexpr std::size_t min_stored_slots = 1024;

    /// Records a node with `outputs` fresh consecutive slots; returns the
    /// first. `reverse` is a callable `reverse(T* adjoints, slot_index first)`,
    /// stored in the tape's arena and destroyed on rewind; the sweep calls it
    /// when it reaches the node: it reads the adjoints of the output slots
    /// [first, first + outputs) and adds into those of its inputs. `label`
    /// names the node and its inputs for anomaly mode (unused otherwise).
    template <class Reverse>
    slot_index record_node(std::size_t outputs, Reverse&& reverse, const node_label<T>& label = {})
    {
        return append_node(outputs, std::forward<Reverse>(reverse), label, {}, false);
    }

    /// The same, for a node that declares every slot its reverse writes:
    /// `inputs` (its reverse adds into nothing else). A reverse callable as
    /// `reverse(T* adjoints, slot_index first, first_writes stores)` may also
    /// mark inputs storable: in a clear_and_sweep where it is the first to
    /// write one, it stores into its adjoints, which were not cleared. A
    /// sweep reaching a node that declares nothing assumes it may write
    /// anywhere, so the nodes below it add, as after clear_adjoints().
    /// A reverse callable as `reverse(T* adjoints, slot_index first,
    /// first_writes stores, const T* output_adjoints)` reads its outputs'
    /// adjoints from `output_adjoints`, which is `adjoints + first` except in
    /// sweep_cotangent, where it may be the caller's cotangent, read in place.
    /// A node of one output may also hand out a gradient it holds: a reverse
    /// with a member `const T* unit_seed_gradient(std::size_t input) const`
    /// returns, for input `input`, the `count` values its reverse would
    /// store there when the output's adjoint is exactly 1, or null (see
    /// gradient_held_by_node).
    template <class Reverse>
    slot_index record_node(std::size_t outputs, Reverse&& reverse, const node_label<T>& label,
                           std::span<const node_input_slots> inputs)
    {
        return append_node(outputs, std::forward<Reverse>(reverse), label, inputs, true);
    }

    /// A copy of values[0, count) in the node arena, alive until a rewind
    /// past this point, for a node whose reverse must read the values as
    /// they are now (a value tensor the caller may overwrite). When one of
    /// the last few copies kept since the last rewind is of the same
    /// address and count and still equal bit for bit, it is returned
    /// instead of a new one: a coefficient tensor read at every step of a
    /// time loop is stored once, for the price of a comparison.
    [[nodiscard]] const T* keep_copy(const T* values, std::size_t count)
    {
        for (const kept_values& k : kept_)
            if (k.source == values && k.count == count && k.generation == generation() &&
                std::memcmp(k.copy, values, count * sizeof(T)) == 0)
                return k.copy;
        T* copy = this->template allocate_scratch<T>(count);
        std::copy_n(values, count, copy);
        kept_[next_kept_] = {values, count, copy, generation()};
        next_kept_ = (next_kept_ + 1) % kept_.size();
        return copy;
    }

protected:
    /// Records a node of `outputs` slots (record_node): copies or moves
    /// `reverse` into the arena (a fused node's reverse holds its bound
    /// expression: a few hundred bytes, copied once), and in anomaly mode
    /// notes a labelled node. Only what depends on the reverse's type is
    /// compiled per node kind; making room and linking the node into the
    /// recording are compiled once per tape type.
    template <class ReverseArgument>
    slot_index append_node(std::size_t outputs, ReverseArgument&& reverse, const node_label<T>& label,
                           std::span<const node_input_slots> inputs, bool declares_inputs)
    {
        using Reverse = std::remove_cvref_t<ReverseArgument>;
        constexpr bool reads_output_pointer = std::is_invocable_v<Reverse&, T*, slot_index, first_writes, const T*>;
        constexpr bool can_store = reads_output_pointer || std::is_invocable_v<Reverse&, T*, slot_index, first_writes>;
        static_assert(can_store || std::is_invocable_v<Reverse&, T*, slot_index>,
                      "a node's reverse must be callable as reverse(T* adjoints, slot_index first_output)");
        const node_room room = make_node_room(outputs, inputs.size(), sizeof(Reverse), alignof(Reverse));
        node n;
        n.payload = new (room.payload) Reverse(std::forward<ReverseArgument>(reverse));
        n.reads_output_pointer = reads_output_pointer;
        if constexpr (reads_output_pointer)
            n.reverse = [](void* p, T* adj, slot_index first, first_writes w, const T* out) {
                (*static_cast<Reverse*>(p))(adj, first, w, out);
            };
        else if constexpr (can_store)
            n.reverse = [](void* p, T* adj, slot_index first, first_writes w, const T*) {
                (*static_cast<Reverse*>(p))(adj, first, w);
            };
        else
            n.reverse = [](void* p, T* adj, slot_index first, first_writes, const T*) {
                (*static_cast<Reverse*>(p))(adj, first);
            };
        if constexpr (requires(const Reverse& r, std::size_t i) {
                          { r.unit_seed_gradient(i) } -> std::same_as<const T*>;
                      })
            n.unit_seed_gradient = [](const void* p, std::size_t input) {
                return static_cast<const Reverse*>(p)->unit_seed_gradient(input);
            };
        else
            n.unit_seed_gradient = nullptr;
        if constexpr (std::is_trivially_destructible_v<Reverse>)
            n.destroy = nullptr;
        else
            n.destroy = [](void* p) { static_cast<Reverse*>(p)->~Reverse(); };
        return link_node(n, room.gap, outputs, label, inputs, declares_inputs, can_store);
    }

    /// Where append_node builds a node: the unused slots to leave before
    /// its outputs (gap_before) and arena memory for its reverse.
    struct node_room {
        std::size_t gap;
        void* payload;
    };

    /// Checks the tape's limits and budget for a node of `outputs` slots,
    /// `input_count` declared inputs and a reverse of `size` bytes, and
    /// makes room for it: what throws here leaves the recording as it was.
    [[nodiscard]] node_room make_node_room(std::size_t outputs, std::size_t input_count, std::size_t size,
                                           std::size_t alignment)
    {
        const std::size_t gap = gap_before(outputs);
        make_room(gap + outputs, gap, 0); // node outputs take no rows; the gap's slots are inputs
        check_budget(
            [&] {
                return (nodes_.capacity_after(1) - nodes_.capacity()) * sizeof(node) +
                       (node_inputs_.capacity_after(input_count) - node_inputs_.capacity()) *
                           sizeof(node_input_slots) +
                       arena_.growth_for(size, alignment);
            },
            "a node");
        nodes_.reserve_more(1);
        node_inputs_.reserve_more(input_count);
        return {gap, arena_.allocate(size, alignment)};
    }

    /// Appends node `n` (its reverse set by append_node) after `gap`
    /// unused slots, with its `outputs` slots and declared inputs, into the
    /// room make_node_room made; returns its first output slot.
    slot_index link_node(node n, std::size_t gap, std::size_t outputs, const node_label<T>& label,
                         std::span<const node_input_slots> inputs, bool declares_inputs, bool can_store)
    {
        (void)append_slots(gap); // nothing throws from here on
        n.first = this->size();
        n.end = static_cast<slot_index>(n.first + outputs);
        n.row = static_cast<std::uint32_t>(rows());
        n.declares_inputs = declares_inputs;
        n.inputs_begin = node_inputs_.size();
        bool candidate = false;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            node_input_slots in = inputs[i];
            in.storable = in.storable && can_store && i < 64 && in.count >= min_stored_slots;
            candidate = candidate || in.storable;
            node_inputs_.push_back(in);
        }
        n.inputs_end = node_inputs_.size();
        n.candidates_through = (nodes_.size() > 0 ? nodes_[nodes_.size() - 1].candidates_through : 0) + (candidate ? 1 : 0);
        if (candidate)
            first_write_planner_ = &tape_nodes::plan_first_writes;
        n.stores = 0;
        slots_ = n.end;
        extendable_ = 0;
        if constexpr (checked_build) {
            std::fill_n(slot_epoch_.data() + n.first, outputs, epoch_);
            slot_epoch_.commit(outputs);
        }
        update_room();
        nodes_.push_back(n);
        if (anomaly_mode_ && !label.name.empty()) [[unlikely]]
            node_notes_.push_back({nodes_.size() - 1, label.name, label.describe, label.elementwise,
                                   std::vector<node_operand<T>>(label.inputs.begin(), label.inputs.end()), context_});
        return n.first;
    }

    /// clear_and_sweep's plan: walks the nodes and statements of a sweep
    /// from `top` to `bottom` in the sweep's order and marks, in each node's
    /// `stores`, the storable inputs that nothing before it in that order
    /// writes (the seeded ranges count as written)
    /// and that no other input of the same node overlaps. A statement run
    /// counts as writing every slot between its lowest and highest operand;
    /// a node that declares nothing ends the plan. Adds the marked inputs to
    /// not_cleared_, which holds the seeded ranges (a marked input meets
    /// neither: it was unwritten); `lowest_marked` follows the lowest node
    /// marked so far. What lies above a node cannot meet the inputs of the
    /// nodes below it, so the set of written slots forgets it there.
    void plan_first_writes(slot_index top, slot_index bottom, std::size_t& lowest_marked)
    {
        std::size_t k = nodes_.size();
        while (k > 0 && nodes_[k - 1].first >= top)
            --k;
        if (k == 0 || nodes_[k - 1].candidates_through == 0)
            return; // no node at or below the top can store
        slot_intervals& written = plan_written_;
        written.clear();
        for (const auto& [first, end] : not_cleared_)
            written.insert(first, end);
        slot_index upper = top;
        // no candidate at or below node k - 1: nothing left to plan
        for (; k > 0 && nodes_[k - 1].end > bottom && nodes_[k - 1].candidates_through > 0; --k) {
            node& n = nodes_[k - 1];
            if (upper > n.end)
                write_statement_run(written, n.end, upper, n.end - n.row);
            if (!n.declares_inputs)
                break;
            const node_input_slots* in = node_inputs_.data() + n.inputs_begin;
            const std::size_t count = n.inputs_end - n.inputs_begin;
            for (std::size_t i = 0; i < count; ++i) {
                const slot_index end = in[i].first + in[i].count;
                if (!in[i].storable || in[i].count == 0 || written.intersects(in[i].first, end))
                    continue;
                bool alone = true;
                for (std::size_t j = 0; j < count && alone; ++j)
                    alone = j == i || in[j].first >= end || in[i].first >= in[j].first + in[j].count;
                if (alone) {
                    not_cleared_.push_back({in[i].first, end});
                    lowest_marked = k - 1;
                    n.stores |= first_writes{1} << i;
                }
            }
            for (std::size_t i = 0; i < count; ++i)
                written.insert(in[i].first, in[i].first + in[i].count);
            written.keep_below(n.first);
            upper = n.first;
        }
    }

    /// Sizes the adjoints to the recording and zeroes all but not_cleared_.
    void clear_adjoints_except_not_cleared()
    {
        const std::size_t n = this->size();
        this->check_adjoints_budget();
        adjoints_.resize_keeping(n); // the seeds written before stay
        T* adj = adjoints_.data();
        std::sort(not_cleared_.begin(), not_cleared_.end());
        std::size_t next = 0;
        const auto zero_to = [&](std::size_t end) {
            if (end > next)
                std::memset(static_cast<void*>(adj + next), 0, (end - next) * sizeof(T));
        };
        for (const auto& [first, end] : not_cleared_) { // seeds may overlap one another
            zero_to(first);
            next = std::max<std::size_t>(next, end);
        }
        zero_to(n);
    }

    /// What a planned first writer whose outputs' adjoints are all zero
    /// does instead of its reverse: the clear it stood for.
    void zero_stored_inputs(const node& n) noexcept
    {
        for (std::size_t i = 0; i < n.inputs_end - n.inputs_begin; ++i)
            if (n.stores & (first_writes{1} << i)) {
                const node_input_slots& in = node_inputs_[n.inputs_begin + i];
                std::fill_n(adjoints_.data() + in.first, in.count, T(0));
            }
    }

    std::vector<std::pair<slot_index, slot_index>> not_cleared_; // clear_and_sweep: seeds, first-written inputs
    /// plan_first_writes, once a node that can store has been recorded: called
    /// through this pointer, the plan is compiled only where such nodes are.
    void (tape_nodes::*first_write_planner_)(slot_index, slot_index, std::size_t&) = nullptr;

private:
    /// Adds to `written` the slots between the lowest and the highest
    /// operand of the statements in slots [bottom, top) (no node slots).
    /// Slot 0, the passive sink, counts for nothing: no adjoint is read there.
    void write_statement_run(slot_intervals& written, slot_index bottom, slot_index top,
                             slot_index node_slots_below) const
    {
        const std::uint32_t* const end = statement_end_.data();
        const slot_index* const operand = operands_.second();
        slot_index lowest = std::numeric_limits<slot_index>::max();
        slot_index highest = 0;
        for (std::uint32_t k = end[bottom - 1 - node_slots_below]; k < end[top - 1 - node_slots_below]; ++k) {
            const slot_index s = operand[k];
            lowest = s != 0 && s < lowest ? s : lowest;
            highest = s > highest ? s : highest;
        }
        if (highest != 0)
            written.insert(lowest, highest + 1);
    }

    struct kept_values { // keep_copy's last copies, valid while the generation has not moved
        const T* source = nullptr;
        std::size_t count = 0;
        const T* copy = nullptr;
        std::uint64_t generation = 0;
    };
    std::array<kept_values, 4> kept_{};
    std::size_t next_kept_ = 0;
    slot_intervals plan_written_; // clear_and_sweep's plan: the slots written so far
};

} // namespace etape::detail
