// The tape: the ordered record of statements and nodes, the adjoint vector
// and the reverse sweep. Layer: core (everything active records here).
//
// Format (linear indexing: every active value gets a fresh slot, except that
// `z += e` on the only var of the last statement's slot appends e's operands
// to that statement, see extend_statement):
//   statement_end_[r]  row r: end of the operands of the r-th slot that is
//                      a statement or an input (an input has none); its
//                      operands start at statement_end_[r - 1].
//   operands_          partial k: d(slot s)/d(operand), and operand slot k.
//   nodes_             records {first slot, end slot, row, reverse, payload}
//                      for work that is not a scalar statement. A node's
//                      output slots take no rows (a tensor node of 2^25
//                      elements writes no 2^25 row entries), so a slot's row
//                      is the slot minus the node slots below it: between
//                      two nodes, row = slot - (node.end - node.row) of the
//                      node below. The node propagates its outputs' adjoints.
//   node_inputs_       the input slots each node declared (record_node), for
//                      clear_and_sweep's plan of first writers.
// A block of 4,096 slots or more starts after a few unused input rows
// (gap_before): adjoint streams 2^k apart are slow.
// Slot 0 is a passive sink: default-constructed vars point at it and what
// flows into it is never read.
//
// Anomaly mode (detect_anomalies) adds notes beside the recording: each
// statement's text and operand values, each labelled node's name and inputs;
// the sweep then checks every adjoint it writes and throws anomaly_error at
// the first NaN or inf.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/core/anomaly.hpp>
#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/growing_array.hpp>
#include <etape/core/node_arena.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/slot_intervals.hpp>
#include <etape/core/tape_identity.hpp>

namespace etape {

/// A saved point of a recording: sweep back to it, or rewind to it.
struct tape_position {
    slot_index slots = 1;
    std::size_t rows = 1; ///< statements and inputs (with the passive slot 0); node outputs take none
    std::size_t operands = 0;
    std::size_t nodes = 0;
    std::size_t statements = 0;
    detail::node_arena::mark arena{};

    friend bool operator==(const tape_position&, const tape_position&) = default;
};

/// Counts and memory of a recording (memory in use, not capacity).
struct tape_stats {
    std::size_t slots = 0;       ///< active values, inputs included (slot 0 excluded)
    std::size_t statements = 0;  ///< recorded scalar assignments
    std::size_t operands = 0;    ///< (slot, partial) pairs over all statements
    std::size_t nodes = 0;       ///< non-scalar records (fused kernels, external functions)
    std::size_t bytes = 0;       ///< bytes of the recording (node arena in use included), adjoints excluded
    std::size_t peak_bytes = 0;  ///< the largest `bytes` since the tape was made (or reset_peak())
    std::size_t capacity_bytes = 0; ///< bytes the tape holds, adjoints included: what max_bytes bounds
};

/// An input of a node as the reverse sweep sees it: the slots whose
/// adjoints the node's reverse adds into, and whether the reverse can store
/// into them instead, when it is the first in a sweep to write them (see
/// record_node and clear_and_sweep).
struct node_input_slots {
    slot_index first = 0;
    slot_index count = 0;
    bool storable = false;
};

/// What clear_and_sweep tells a node's reverse: bit i set when the node is
/// the first in the sweep to write the adjoints of its input i, which then
/// hold no value yet (not even zero): the reverse stores into them instead
/// of adding. Only inputs declared storable, and only the first 64, get one.
using first_writes = std::uint64_t;

/// A range of slots [first, first + count).
struct slot_range {
    slot_index first = 0;
    slot_index count = 0;
};

/// Upper bounds of one tape; exceeding one throws std::length_error
/// (memory_budget_error for max_bytes) before anything is written. The
/// defaults are the index types' limits, and a tape rejects larger ones
/// (std::invalid_argument); max_bytes is off by default.
struct tape_limits {
    std::size_t max_slots = std::numeric_limits<slot_index>::max() - 1;
    std::size_t max_operands = std::numeric_limits<std::uint32_t>::max();
    /// The memory budget: the bytes the tape may hold (tape_stats::capacity_bytes:
    /// its arrays, node arena and adjoints), checked before each growth.
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();
};

/// A tape asked for memory beyond its budget (tape_limits::max_bytes).
/// Nothing was recorded by the call that threw; the tape stays usable, and
/// a rewind frees room in the recording for what comes next.
class memory_budget_error : public std::length_error {
public:
    memory_budget_error(std::size_t held, std::size_t asked, std::size_t budget, const char* what)
        : std::length_error("etape: the tape's memory budget is " + std::to_string(budget) + " bytes; it holds " +
                            std::to_string(held) + " and asked for " + std::to_string(asked) + " more (" + what +
                            "); rewind to record less, or raise tape_limits::max_bytes"),
          held_(held), asked_(asked), budget_(budget)
    {
    }
    [[nodiscard]] std::size_t held() const noexcept { return held_; }
    [[nodiscard]] std::size_t asked() const noexcept { return asked_; }
    [[nodiscard]] std::size_t budget() const noexcept { return budget_; }

private:
    std::size_t held_, asked_, budget_;
};

namespace detail {

/// `limits`, or std::invalid_argument when one is past what its index type addresses.
[[nodiscard]] inline tape_limits addressable(const tape_limits& limits)
{
    const auto reject = [](const char* what, std::size_t value, const char* index, std::size_t most) {
        throw std::invalid_argument(std::string("etape: tape_limits::") + what + " of " + std::to_string(value) +
                                    " is more than " + index + " can address (" + std::to_string(most) + ")");
    };
    if (limits.max_slots > tape_limits{}.max_slots)
        reject("max_slots", limits.max_slots, "a slot index", tape_limits{}.max_slots);
    if (limits.max_operands > tape_limits{}.max_operands)
        reject("max_operands", limits.max_operands, "an operand index", tape_limits{}.max_operands);
    return limits;
}

} // namespace detail

template <class T>
class tape {
    static_assert(std::is_floating_point_v<T>, "etape::tape<T> needs T = float, double or long double");

public:
    using value_type = T;

    explicit tape(const tape_limits& limits = {}) : limits_(detail::addressable(limits))
    {
        make_room(1, 1, 0);
        (void)append_slot(); // slot 0: the passive sink
    }

    tape(const tape&) = delete;
    tape& operator=(const tape&) = delete;
    ~tape() { destroy_nodes_after(0); }

    // ---- recording ------------------------------------------------------

    /// Registers an independent value (no operands); returns its slot.
    slot_index new_input()
    {
        if (rows() >= row_room_) [[unlikely]]
            make_room(1, 1, 0);
        extendable_ = 0;
        return append_slot();
    }

    /// Registers `count` consecutive independent slots; returns the first.
    slot_index new_inputs(std::size_t count)
    {
        extendable_ = 0;
        return new_slots(count);
    }

    /// Records one statement whose operands `write(partials, slots)` writes;
    /// exactly `count` of them. Returns the statement's fresh slot.
    template <class Writer>
    slot_index record_statement(std::size_t count, Writer&& write)
    {
        if (rows() >= row_room_ || operands_.size() + count > operand_room_) [[unlikely]]
            make_room(1, 1, count);
        std::forward<Writer>(write)(operands_.first() + operands_.size(), operands_.second() + operands_.size());
        operands_.commit(count);
        ++statements_;
        extendable_ = append_slot();
        return extendable_;
    }

    /// Appends `count` operands, written by `write` as in record_statement,
    /// to the statement of `slot`, when that is the last thing recorded and
    /// no position was taken since; returns false, writing nothing,
    /// otherwise. What `z += e` records when z is the only var of its slot:
    /// nothing has read the slot, so it may stand for the new value, whose
    /// partials are the old ones and e's (see docs/tape.md). In anomaly mode
    /// a var's statements have notes, which describe each as recorded, so
    /// note_statement closes them and `z += e` records a statement.
    template <class Writer>
    bool extend_statement(slot_index slot, std::size_t count, Writer&& write)
    {
        if (slot != extendable_) // in anomaly mode, note_statement closed it
            return false;
        if (operands_.size() + count > operand_room_) [[unlikely]]
            make_room(0, 0, count);
        std::forward<Writer>(write)(operands_.first() + operands_.size(), operands_.second() + operands_.size());
        operands_.commit(count);
        statement_end_.data()[statement_end_.size() - 1] = static_cast<std::uint32_t>(operands_.size());
        return true;
    }

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

    // ---- anomaly mode ----------------------------------------------------

    /// Switches anomaly mode on or off. While on, statements and labelled
    /// nodes are recorded with notes, and every sweep checks each adjoint it
    /// writes, throwing anomaly_error at the first NaN or inf. Only what was
    /// recorded while it was on can be named in a report.
    void detect_anomalies(bool on = true) noexcept
    {
        anomaly_mode_ = on;
        extendable_ = 0; // nothing recorded before the switch is extended after it
    }

    [[nodiscard]] bool detecting_anomalies() const noexcept { return anomaly_mode_; }

    /// Anomaly mode: names what is recorded from now on (a layer's dotted
    /// name, "encoder.l2"), so that a report ends "in encoder.l2"; returns
    /// the context to restore afterwards (anomaly_context does both). Off,
    /// it does nothing and returns 0.
    std::uint32_t enter_anomaly_context(std::string_view name)
    {
        if (!anomaly_mode_) [[likely]]
            return 0;
        const std::uint32_t previous = context_;
        const auto known = std::find(contexts_.begin(), contexts_.end(), name); // a model's few layer names
        context_ = static_cast<std::uint32_t>(known - contexts_.begin());
        if (known == contexts_.end())
            contexts_.emplace_back(name);
        return previous;
    }
    void leave_anomaly_context(std::uint32_t previous) noexcept { context_ = anomaly_mode_ ? previous : 0; }

    /// Anomaly mode: keeps the text and operand values of the statement just
    /// recorded at `slot`; `record_values(collector)` records the statement's
    /// expression into a collector of operand values (see var).
    /// A noted statement is never extended (extend_statement): its notes
    /// describe it as recorded.
    template <class RecordValues>
    void note_statement(slot_index slot, detail::describe_function describe, RecordValues&& record_values)
    {
        extendable_ = 0;
        const std::size_t first = noted_values_.size();
        detail::operand_value_collector<T, tape> collector{&noted_values_, this};
        std::forward<RecordValues>(record_values)(collector);
        statement_notes_.push_back({slot, first, noted_values_.size() - first, describe, context_});
    }

    /// Scratch memory in the node arena, alive until a rewind past this point.
    template <class U>
    [[nodiscard]] U* allocate_scratch(std::size_t count)
    {
        static_assert(std::is_trivially_destructible_v<U>);
        if (count > std::numeric_limits<std::size_t>::max() / sizeof(U) / 2) [[unlikely]]
            throw std::length_error("etape: scratch of " + std::to_string(count) + " elements does not fit in memory");
        check_budget([&] { return arena_.growth_for(count * sizeof(U), alignof(U)); }, "node scratch");
        return static_cast<U*>(arena_.allocate(count * sizeof(U), alignof(U)));
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
            if (k.source == values && k.count == count && k.generation == generation_ &&
                std::memcmp(k.copy, values, count * sizeof(T)) == 0)
                return k.copy;
        T* copy = allocate_scratch<T>(count);
        std::copy_n(values, count, copy);
        kept_[next_kept_] = {values, count, copy, generation_};
        next_kept_ = (next_kept_ + 1) % kept_.size();
        return copy;
    }

    // ---- positions --------------------------------------------------------

    /// The current position. Taking one also closes the last statement:
    /// a later compound assignment cannot extend it (extend_statement), so
    /// rewinding to the position finds the recording as it was.
    [[nodiscard]] tape_position position() const noexcept
    {
        extendable_ = 0;
        return {size(), rows(), operands_.size(), nodes_.size(), statements_, arena_.position()};
    }

    /// Drops everything recorded after `p`; vars created before it keep their
    /// slots (model parameters), later ones become invalid: using them
    /// throws tape_error, in every build (see the recording marks below).
    void rewind(const tape_position& p)
    {
        if (!is_on_recording(p))
            throw tape_error("etape: rewind to a position (" + std::to_string(p.slots) + " slots, " +
                             std::to_string(p.operands) + " operands, " + std::to_string(p.nodes) +
                             " nodes) that is not on this tape's recording (" + std::to_string(size()) + " slots)");
        std::size_t kept = rewinds_.size(); // of the rewinds, those to below p
        while (kept > 0 && rewinds_[kept - 1].slots >= p.slots)
            --kept;
        rewinds_.reserve(std::max<std::size_t>(kept + 1, 8)); // may throw: before anything changes
        ++generation_;
        rewinds_.erase(rewinds_.begin() + static_cast<std::ptrdiff_t>(kept), rewinds_.end());
        rewinds_.push_back({generation_, p.slots});
        peak_bytes_ = std::max(peak_bytes_, recording_bytes());
        never_dropped_below_ = std::min(never_dropped_below_, p.slots);
        mark_now_ = (identity_.value() << 24) | static_cast<std::uint32_t>((generation_ & generation_mask) << 1);
        destroy_nodes_after(p.nodes);
        nodes_.truncate(p.nodes);
        node_inputs_.truncate(p.nodes > 0 ? nodes_[p.nodes - 1].inputs_end : 0);
        statement_end_.truncate(p.rows);
        slots_ = p.slots;
        operands_.truncate(p.operands);
        statements_ = p.statements;
        arena_.rewind(p.arena);
        adjoints_.truncate(p.slots);
        extendable_ = 0;
        forget_notes_after(p);
        if constexpr (checked_build) {
            slot_epoch_.truncate(p.slots);
            epoch_ = next_epoch();
        }
        update_room();
    }

    /// Rewinds to the empty recording (only the passive slot 0 remains).
    void clear() { rewind(tape_position{}); }

    /// Makes room for `statements` more statements (or inputs) with
    /// `operands` operands in all, so that recording them obtains no memory:
    /// a long first recording then grows no array as it goes. Throws
    /// std::length_error past the tape's limits and std::bad_alloc, before
    /// changing anything that holds a value.
    void reserve(std::size_t statements, std::size_t operands) { make_room(statements, statements, operands); }

    // ---- adjoints and the reverse sweep -------------------------------------

    /// Sets every adjoint to zero (sized to the recording).
    void clear_adjoints()
    {
        check_adjoints_budget();
        adjoints_.assign_zeros(size());
    }

    /// An input of fewer slots is never stored into (clear_and_sweep):
    /// clearing and adding costs a few dozen nanoseconds there, less than the
    /// plan's bookkeeping (a tape of 20,000 nodes over 8 elements each took
    /// 10 times the plain sweep's time with every input a candidate).
    static constexpr std::size_t min_stored_slots = 1024;

    /// A gradient's sweep: as clear_adjoints(), then `seed(adjoints())`,
    /// then sweep(top, bottom), with the same adjoints bit for bit, except
    /// that the adjoints of the `seeded` ranges are not cleared (`seed`
    /// writes them, or they keep what the caller wrote before) and that
    /// less memory moves: a node that declared its inputs (record_node) and
    /// is the first in the sweep to write one of them stores into its
    /// adjoints, which are not cleared either (docs/tape.md, "First
    /// writers"). In anomaly mode, the plain clear and sweep.
    template <class Seed>
    void clear_and_sweep(slot_index top, slot_index bottom, std::span<const slot_range> seeded, Seed&& seed)
    {
        clear_and_sweep(top, bottom, seeded, std::forward<Seed>(seed), {}, [](std::size_t) {});
    }

    /// As clear_and_sweep, pausing at each of `stops` (slots, descending):
    /// `reached(j)` runs once the sweep has processed every slot down to
    /// stops[j], a node's first slot or a statement's (as lowest_readers
    /// gives), and before it goes on below. The adjoints are the same bit
    /// for bit. For work that needs some adjoints as soon as they are
    /// final, such as sending gradients over a network during the sweep.
    template <class Seed, class Reached>
    void clear_and_sweep(slot_index top, slot_index bottom, std::span<const slot_range> seeded, Seed&& seed,
                         std::span<const slot_index> stops, Reached&& reached)
    {
        top = top > size() ? size() : top;
        bottom = bottom == 0 ? 1 : bottom;
        not_cleared_.clear();
        for (const slot_range& r : seeded)
            not_cleared_.push_back(
                {r.first, static_cast<slot_index>(std::min<std::size_t>(std::size_t{r.first} + r.count, size()))});
        struct forget_plan { // no node keeps its mark past this sweep, whatever happens in it
            tape& t;
            std::size_t lowest_marked;
            ~forget_plan()
            {
                for (std::size_t k = lowest_marked; k < t.nodes_.size(); ++k)
                    t.nodes_[k].stores = 0;
            }
        } forget{*this, nodes_.size()};
        if (!anomaly_mode_)
            plan_first_writes(top, bottom, forget.lowest_marked);
        clear_adjoints_except_not_cleared();
        std::forward<Seed>(seed)(adjoints_.data());
        slot_index upper = top;
        for (std::size_t j = 0; j < stops.size(); ++j) {
            const slot_index stop = std::max(bottom, std::min(stops[j], upper));
            sweep(upper, stop);
            reached(j);
            upper = stop;
        }
        sweep(upper, bottom);
    }

    /// A vector-Jacobian product's sweep: as clear_and_sweep from the end
    /// of `outputs` down to `bottom`, with a seed that copies `cotangent`
    /// (outputs.count values) into the adjoints of `outputs`, and with the
    /// same adjoints bit for bit outside `outputs`. The adjoints of `outputs`
    /// themselves are left unspecified: the cotangent is read in place, not
    /// copied, when `outputs` are exactly the outputs of a node whose reverse
    /// reads them through the address it is given (record_node), as every
    /// built-in node does; it is copied otherwise, and in anomaly mode.
    /// What torch's `y.backward(dy)` does, without moving dy.
    void sweep_cotangent(slot_range outputs, const T* cotangent, slot_index bottom)
    {
        const auto top = static_cast<slot_index>(std::min<std::size_t>(std::size_t{outputs.first} + outputs.count, size()));
        const std::span<const slot_range> seeded(&outputs, 1);
        std::size_t k = nodes_.size();
        while (k > 0 && nodes_[k - 1].first >= top)
            --k;
        const bool in_place = !anomaly_mode_ && outputs.count > 0 && k > 0 && nodes_[k - 1].first == outputs.first &&
                              nodes_[k - 1].end == top && nodes_[k - 1].reads_output_pointer;
        if (!in_place) {
            clear_and_sweep(top, bottom, seeded, [&](T* adjoints) {
                std::copy_n(cotangent, top - outputs.first, adjoints + outputs.first);
            });
            return;
        }
        struct forget_cotangent { // a later sweep reads the node's outputs from the tape again
            tape& t;
            ~forget_cotangent()
            {
                t.in_place_node_ = no_node;
                t.in_place_cotangent_ = nullptr;
            }
        } forget{*this};
        in_place_node_ = k - 1;
        in_place_cotangent_ = cotangent;
        clear_and_sweep(top, bottom, seeded, [](T*) {});
    }

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

    /// The adjoint of `slot` (zero for slots recorded since the last clear);
    /// std::out_of_range for a slot past the recording.
    [[nodiscard]] T& adjoint(slot_index slot)
    {
        if (slot >= size()) [[unlikely]]
            throw std::out_of_range("etape: adjoint of slot " + std::to_string(slot) + ", past the recording (" +
                                    std::to_string(size()) + " slots)");
        extend_adjoints();
        return adjoints_[slot];
    }
    [[nodiscard]] T* adjoints() noexcept { return adjoints_.data(); }

    /// Propagates adjoints from every slot below `top` (exclusive) down to
    /// slot `bottom` (inclusive, at least 1) through statements and nodes.
    /// In anomaly mode, throws anomaly_error at the first NaN or inf adjoint.
    void sweep(slot_index top, slot_index bottom = 1)
    {
        if (anomaly_mode_) [[unlikely]]
            sweep_range<true>(top, bottom);
        else
            sweep_range<false>(top, bottom);
    }

    /// Sweeps the whole recording back to position `p`.
    void sweep_to(const tape_position& p) { sweep(size(), p.slots); }

    // ---- queries ------------------------------------------------------------

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
        top = std::min(top, size());
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

    /// Number of slots, the passive slot 0 included.
    [[nodiscard]] slot_index size() const noexcept { return slots_; }

    /// Gives the memory the tape holds beyond its current recording back to
    /// the system: the arena blocks and array capacity that a rewind freed
    /// for reuse. For a long program after a large one-off recording; the
    /// next recording that needs the memory obtains (and faults) it afresh.
    /// Positions, vars and tensors of the current recording stay valid; the
    /// adjoints move, so a span from gradient_view or vjp_view does not. On
    /// std::bad_alloc (an array is copied into one of its exact size) some
    /// memory stays held, and the recording is unchanged.
    void release_unused()
    {
        arena_.release_unused();
        try {
            statement_end_.shrink_to_fit();
            operands_.shrink_to_fit();
            nodes_.shrink_to_fit();
            node_inputs_.shrink_to_fit();
            adjoints_.shrink_to_fit();
            if constexpr (checked_build)
                slot_epoch_.shrink_to_fit();
        } catch (...) {
            update_room(); // the arrays shrunk so far
            throw;
        }
        update_room();
    }

    [[nodiscard]] tape_stats stats() const noexcept
    {
        tape_stats s;
        s.slots = size() - 1;
        s.statements = statements_;
        s.operands = operands_.size();
        s.nodes = nodes_.size();
        s.bytes = recording_bytes();
        s.peak_bytes = std::max(peak_bytes_, s.bytes);
        s.capacity_bytes = held_bytes();
        return s;
    }

    /// Starts stats().peak_bytes again from the current recording.
    void reset_peak() noexcept { peak_bytes_ = 0; }

    [[nodiscard]] const tape_limits& limits() const noexcept { return limits_; }

    /// Recording epoch of `slot` (checked build): a var stores the epoch in
    /// which its slot was created; a rewind past the slot changes it.
    [[nodiscard]] std::uint32_t epoch_of(slot_index slot) const noexcept
    {
        if constexpr (checked_build)
            return slot < slot_epoch_.size() ? slot_epoch_[slot] : ~std::uint32_t{0};
        else
            return 0;
    }

    // ---- recording marks (every build but the checked one) --------------
    // A var carries the mark of the recording it was made in: the tape's
    // identity (8 bits, 1 to 255) and the tape's rewind generation (23
    // bits). A rewind starts a new generation and drops the slots from its
    // position on; a var is held when it was marked by this tape and no
    // rewind since its generation dropped its slot.

    /// The mark of a var made now.
    [[nodiscard]] std::uint32_t recording_mark() const noexcept { return mark_now_; }

    /// Slots below this were never dropped by a rewind.
    [[nodiscard]] slot_index never_dropped_below() const noexcept { return never_dropped_below_; }

    /// The bits of a mark that hold the tape's identity.
    static constexpr std::uint32_t identity_bits = std::uint32_t{0xff} << 24;

    /// True when `mark` is this tape's.
    [[nodiscard]] bool marked(std::uint32_t mark) const noexcept { return mark >> 24 == identity_.value(); }

    /// The fast test of every operand: true when a var of `slot` marked
    /// `mark` is surely held (made in this generation, or below every
    /// rewind so far); false when holds_marked must decide.
    [[nodiscard]] [[gnu::always_inline]] bool surely_holds(slot_index slot, std::uint32_t mark) const noexcept
    {
        return mark == mark_now_ || (slot < never_dropped_below_ && marked(mark));
    }

    /// surely_holds without a branch, for loops over many vars: zero when
    /// a var of `slot` marked `mark` is surely held.
    [[nodiscard]] std::uint32_t doubt(slot_index slot, std::uint32_t mark) const noexcept
    {
        return (mark ^ mark_now_) & (slot < never_dropped_below_ ? identity_bits : ~std::uint32_t{0});
    }

    /// True when a var of `slot` marked `mark` (by this tape) is held: no
    /// rewind since its generation went down to its slot or below. A var
    /// older than 2^23 rewinds is taken for one of the newest 2^23
    /// generations with the same low bits.
    [[nodiscard]] bool holds_marked(slot_index slot, std::uint32_t mark) const noexcept
    {
        if (slot >= size())
            return false;
        if (surely_holds(slot, mark))
            return true;
        const std::uint64_t low = (mark >> 1) & generation_mask;
        const std::uint64_t made = generation_ - ((generation_ - low) & generation_mask);
        // rewinds_ keeps, of the rewinds so far, those with no later one to
        // a lower position: the first after `made` went lowest since
        const auto later = std::upper_bound(rewinds_.begin(), rewinds_.end(), made,
                                            [](std::uint64_t g, const rewind_record& r) { return g < r.generation; });
        return later == rewinds_.end() || slot < later->slots;
    }

    /// Throws tape_error unless a var of `slot` marked `mark` is held on
    /// this tape (a passive var, slot 0, always is). Out of line and cold:
    /// called only when surely_holds fails, with values, so that no caller
    /// has to keep its var or expression in memory for it.
    [[gnu::noinline, gnu::cold]] void require_held(slot_index slot, std::uint32_t mark) const
    {
        if (slot == 0)
            return;
        if (!marked(mark))
            throw tape_error("etape: var (slot " + std::to_string(slot) +
                             ") belongs to another tape than the one it is used on (another thread's, or "
                             "an inactive scope's)");
        if (!holds_marked(slot, mark))
            throw tape_error("etape: var (slot " + std::to_string(slot) +
                             ") is used after its recording was rewound or cleared");
    }

    /// True when `slot`, stamped with `epoch`, is still part of the recording.
    [[nodiscard]] bool holds(slot_index slot, std::uint32_t epoch) const noexcept
    {
        return slot < size() && epoch_of(slot) == epoch;
    }

private:
    struct node {
        slot_index first;
        slot_index end;
        std::uint32_t row; // rows below the node (those of the slots before it)
        bool declares_inputs;
        std::size_t inputs_begin; // its inputs: node_inputs_[inputs_begin, inputs_end)
        std::size_t inputs_end;
        first_writes stores; // set by clear_and_sweep's plan for its sweep only
        std::size_t candidates_through; // nodes up to this one with a storable input of min_stored_slots or more
        bool reads_output_pointer; // its reverse takes its output adjoints' address (record_node)
        void* payload;
        void (*reverse)(void*, T*, slot_index, first_writes, const T*);
        void (*destroy)(void*);
        // its reverse's unit_seed_gradient(input), or null when it has none (record_node)
        const T* (*unit_seed_gradient)(const void*, std::size_t);
    };

    /// Copies or moves `reverse` into the arena (a fused node's reverse
    /// holds its bound expression: a few hundred bytes, copied once).
    template <class ReverseArgument>
    slot_index append_node(std::size_t outputs, ReverseArgument&& reverse, const node_label<T>& label,
                           std::span<const node_input_slots> inputs, bool declares_inputs)
    {
        using Reverse = std::remove_cvref_t<ReverseArgument>;
        constexpr bool reads_output_pointer = std::is_invocable_v<Reverse&, T*, slot_index, first_writes, const T*>;
        constexpr bool can_store = reads_output_pointer || std::is_invocable_v<Reverse&, T*, slot_index, first_writes>;
        static_assert(can_store || std::is_invocable_v<Reverse&, T*, slot_index>,
                      "a node's reverse must be callable as reverse(T* adjoints, slot_index first_output)");
        const std::size_t gap = gap_before(outputs);
        make_room(gap + outputs, gap, 0); // node outputs take no rows; the gap's slots are inputs
        check_budget(
            [&] {
                return (nodes_.capacity_after(1) - nodes_.capacity()) * sizeof(node) +
                       (node_inputs_.capacity_after(inputs.size()) - node_inputs_.capacity()) *
                           sizeof(node_input_slots) +
                       arena_.growth_for(sizeof(Reverse), alignof(Reverse));
            },
            "a node");
        nodes_.reserve_more(1);
        node_inputs_.reserve_more(inputs.size());
        void* memory = arena_.allocate(sizeof(Reverse), alignof(Reverse));
        auto* stored = new (memory) Reverse(std::forward<ReverseArgument>(reverse));
        node n;
        n.payload = stored;
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
        (void)append_slots(gap); // nothing throws from here on
        n.first = size();
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
        detail::slot_intervals& written = plan_written_;
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

    /// Adds to `written` the slots between the lowest and the highest
    /// operand of the statements in slots [bottom, top) (no node slots).
    /// Slot 0, the passive sink, counts for nothing: no adjoint is read there.
    void write_statement_run(detail::slot_intervals& written, slot_index bottom, slot_index top,
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

    /// Sizes the adjoints to the recording and zeroes all but not_cleared_.
    void clear_adjoints_except_not_cleared()
    {
        const std::size_t n = size();
        check_adjoints_budget();
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

    /// True when `p` could have been taken on the current recording: its
    /// counts agree with what the recording holds at its slot (a position of
    /// another tape, or one left stale by a rewind, mostly does not).
    [[nodiscard]] bool is_on_recording(const tape_position& p) const noexcept
    {
        if (p.slots == 0 || p.slots > size() || p.rows == 0 || p.rows > rows() ||
            statement_end_[p.rows - 1] != p.operands || p.statements > statements_ || p.nodes > nodes_.size())
            return false;
        if (p.nodes > 0 && nodes_[p.nodes - 1].end > p.slots)
            return false;
        if (p.slots - p.rows != (p.nodes > 0 ? nodes_[p.nodes - 1].end - nodes_[p.nodes - 1].row : 0))
            return false; // the node slots below p.slots
        if (p.nodes < nodes_.size() && nodes_[p.nodes].first < p.slots)
            return false;
        const detail::node_arena::mark now = arena_.position(); // the arena only moves forward while recording
        return p.arena.block < now.block || (p.arena.block == now.block && p.arena.offset <= now.offset);
    }

    void zero_stored_inputs(const node& n) noexcept
    {
        for (std::size_t i = 0; i < n.inputs_end - n.inputs_begin; ++i)
            if (n.stores & (first_writes{1} << i)) {
                const node_input_slots& in = node_inputs_[n.inputs_begin + i];
                std::fill_n(adjoints_.data() + in.first, in.count, T(0));
            }
    }

    template <bool Check>
    void sweep_range(slot_index top, slot_index bottom)
    {
        extend_adjoints();
        bottom = bottom == 0 ? 1 : bottom;
        top = top > size() ? size() : top;
        if constexpr (Check)
            check_range(bottom, top, "before the sweep began (a seed, or left by an earlier sweep)");
        std::size_t k = nodes_.size();
        while (k > 0 && nodes_[k - 1].first >= top)
            --k; // nodes entirely above the seed contribute nothing
        slot_index upper = top;
        for (; k > 0 && nodes_[k - 1].end > bottom; --k) {
            const node& n = nodes_[k - 1];
            sweep_statements<Check>(n.end, upper, n.end - n.row);
            if constexpr (Check)
                check_range(n.first, n.end, unlabelled_writer);
            const T* out = k - 1 == in_place_node_ ? in_place_cotangent_ : adjoints_.data() + n.first;
            if (std::any_of(out, out + (n.end - n.first), [](T a) { return a != T(0); })) {
                // as a statement with a zero adjoint: not even 0 * NaN passes
                n.reverse(n.payload, adjoints_.data(), n.first, n.stores, out);
                if constexpr (Check)
                    check_node_inputs(k - 1);
            } else if (n.stores != 0) {
                zero_stored_inputs(n); // the planned first writer writes nothing: the clear it stood for
            }
            upper = n.first;
        }
        if (upper > bottom)
            sweep_statements<Check>(bottom, upper, k > 0 ? nodes_[k - 1].end - nodes_[k - 1].row : 0);
        if constexpr (Check)
            check_range(bottom, top, unlabelled_writer);
    }

    /// The statements in slots [bottom, top), a range without node slots
    /// whose rows are the slots minus `node_slots_below`.
    template <bool Check>
    void sweep_statements(slot_index bottom, slot_index top, slot_index node_slots_below) noexcept(!Check)
    {
        if (top <= bottom)
            return;
        T* const adj = adjoints_.data();
        const std::uint32_t* const end = statement_end_.data(); // by row: slot s is row s - node_slots_below
        const T* const partial = operands_.first();
        const slot_index* const operand = operands_.second();
        // statements are contiguous in the operand arrays: carry the boundary;
        // once it reaches `floor`, no slot left below has operands (inputs)
        const std::uint32_t floor = end[bottom - 1 - node_slots_below];
        std::uint32_t stop = end[top - 1 - node_slots_below];
        for (slot_index s = top - 1; s >= bottom && stop != floor; --s) {
            const std::uint32_t start = end[s - 1 - node_slots_below];
            const T a = adj[s];
            if constexpr (Check)
                if (!std::isfinite(a)) [[unlikely]]
                    check_range(s, s + 1, unlabelled_writer);
            if (a != T(0))
                for (std::size_t k = start; k < stop; ++k) { // size_t: no 32-bit wraparound to keep
                    adj[operand[k]] += partial[k] * a;
                    if constexpr (Check)
                        if (!std::isfinite(adj[operand[k]])) [[unlikely]]
                            report_statement(s, k - start, start, stop);
                }
            stop = start;
        }
    }

    // ---- anomaly mode: checks and reports (cold) ----------------------------

    static constexpr const char* unlabelled_writer =
        "by a node without a label (record_node's node_label) or recorded before anomaly mode was on";

    [[nodiscard]] static std::string text_of(T v) { return std::isnan(v) ? "NaN" : detail::number_text(v); }

    /// A non-finite adjoint in [bottom, top) that no check saw being written.
    void check_range(slot_index bottom, slot_index top, const char* when) const
    {
        const T* adj = adjoints_.data();
        for (slot_index s = bottom; s < top; ++s)
            if (!std::isfinite(adj[s])) [[unlikely]]
                throw anomaly_error("etape anomaly: the adjoint of slot " + std::to_string(s) + " is " +
                                        text_of(adj[s]) + ", written " + when,
                                    "", {}, std::nullopt, s);
    }

    [[noreturn]] [[gnu::cold]] void report_statement(slot_index s, std::size_t k, std::uint32_t start,
                                                     std::uint32_t stop) const
    {
        const slot_index target = operands_.second()[start + k];
        const T adjoint = adjoints_.data()[s];
        std::string operation;
        std::vector<long double> values;
        const auto note = std::lower_bound(statement_notes_.begin(), statement_notes_.end(), s,
                                           [](const detail::statement_note& n, slot_index v) { return n.slot < v; });
        const bool noted = note != statement_notes_.end() && note->slot == s;
        if (noted) {
            note->describe(operation);
            for (std::size_t i = 0; i < note->count; ++i)
                values.push_back(noted_values_[note->first_value + i]);
        }
        std::string report = "etape anomaly: the adjoint of slot " + std::to_string(target) + " became " +
                             text_of(adjoints_.data()[target]) + " in the reverse of statement " +
                             std::to_string(s) + (noted ? " `" + operation + "`" : std::string()) + ": operand a" +
                             std::to_string(k) + " (slot " + std::to_string(target) + ") has partial " +
                             text_of(operands_.first()[start + k]) + ", the statement's adjoint is " +
                             text_of(adjoint);
        if (noted) {
            report += "; operands when recorded:";
            for (std::size_t i = 0; i < values.size(); ++i)
                report += " a" + std::to_string(i) + " = " + text_of(static_cast<T>(values[i])) +
                          (i + 1 < values.size() ? "," : "");
        } else {
            report += " (" + std::to_string(stop - start) +
                      " operands; recorded before anomaly mode was on, so no text or values)";
        }
        throw anomaly_error(report + in_context(noted ? note->context : 0), std::move(operation), std::move(values),
                            std::nullopt, target);
    }

    /// After a labelled node's reverse: the first non-finite adjoint among
    /// its inputs, reported with the node's name and the element.
    void check_node_inputs(std::size_t index) const
    {
        const auto note = std::lower_bound(node_notes_.begin(), node_notes_.end(), index,
                                           [](const detail::node_note<T>& n, std::size_t v) { return n.node < v; });
        if (note == node_notes_.end() || note->node != index)
            return;
        const T* adj = adjoints_.data();
        for (std::size_t input = 0; input < note->inputs.size(); ++input) {
            const node_operand<T>& in = note->inputs[input];
            if (in.first == 0)
                continue; // a value tensor: no adjoints
            for (std::size_t i = 0; i < in.size; ++i)
                if (!std::isfinite(adj[in.first + i])) [[unlikely]]
                    report_node(*note, input, i);
        }
    }

    [[noreturn]] [[gnu::cold]] void report_node(const detail::node_note<T>& note, std::size_t input,
                                                std::size_t element) const
    {
        const node& n = nodes_[note.node];
        const node_operand<T>& in = note.inputs[input];
        const slot_index target = static_cast<slot_index>(in.first + element);
        std::string operation(note.name);
        if (note.describe) {
            operation += ' ';
            note.describe(operation);
        }
        std::vector<long double> values;
        std::string listed;
        const auto list = [&](std::size_t k, const node_operand<T>& o, std::size_t at) {
            if (o.values == nullptr || o.size == 0)
                return;
            const T v = o.values[at % o.size];
            values.push_back(v);
            listed += (listed.empty() ? " a" : ", a") + std::to_string(k) + " = " + text_of(v);
        };
        if (note.elementwise)
            for (std::size_t k = 0; k < note.inputs.size(); ++k)
                list(k, note.inputs[k], element);
        else
            list(input, in, element);
        std::string report = "etape anomaly: the adjoint of element " + std::to_string(element) + " of input a" +
                             std::to_string(input) + " (slot " + std::to_string(target) + ") became " +
                             text_of(adjoints_.data()[target]) + " in the reverse of node `" + operation +
                             "` (output slots " + std::to_string(n.first) + " to " + std::to_string(n.end - 1) + ")";
        if (!listed.empty())
            report += "; operands at that element when recorded:" + listed;
        throw anomaly_error(report + in_context(note.context), std::move(operation), std::move(values), element,
                            target);
    }

    /// " in <context>" for a noted context, "" for none.
    [[nodiscard]] std::string in_context(std::uint32_t context) const
    {
        return context == 0 ? std::string() : " in " + contexts_[context];
    }

    void forget_notes_after(const tape_position& p)
    {
        while (!statement_notes_.empty() && statement_notes_.back().slot >= p.slots)
            statement_notes_.pop_back();
        noted_values_.resize(statement_notes_.empty()
                                 ? 0
                                 : statement_notes_.back().first_value + statement_notes_.back().count);
        while (!node_notes_.empty() && node_notes_.back().node >= p.nodes)
            node_notes_.pop_back();
    }

    /// Gives slots recorded since the last clear_adjoints() a zero adjoint.
    void extend_adjoints()
    {
        const std::size_t have = adjoints_.size();
        if (have >= size())
            return;
        check_adjoints_budget();
        T* fresh = adjoints_.reserve_more(size() - have);
        for (std::size_t i = 0; i < size() - have; ++i)
            fresh[i] = T(0);
        adjoints_.commit(size() - have);
    }

    /// The slow path of recording: checks the limits (throwing before
    /// anything is written), grows the arrays, and recomputes the room.
    [[gnu::noinline]] void make_room(std::size_t slots, std::size_t rows, std::size_t operands)
    {
        if (size() + slots > limits_.max_slots + 1 || slots > limits_.max_slots)
            throw_length_error("slots", limits_.max_slots);
        if (operands_.size() + operands > limits_.max_operands || operands > limits_.max_operands)
            throw_length_error("operands", limits_.max_operands);
        check_budget(
            [&] {
                std::size_t growth =
                    (statement_end_.capacity_after(rows) - statement_end_.capacity()) * sizeof(std::uint32_t) +
                    (operands_.capacity_after(operands) - operands_.capacity()) * (sizeof(T) + sizeof(slot_index));
                if constexpr (checked_build)
                    growth += (slot_epoch_.capacity_after(slots) - slot_epoch_.capacity()) * sizeof(std::uint32_t);
                return growth;
            },
            "statements");
        statement_end_.reserve_more(rows);
        if constexpr (checked_build)
            slot_epoch_.reserve_more(slots);
        operands_.reserve_more(operands);
        update_room();
    }

    /// Recomputes how many rows and operands fit before make_room() must
    /// run: the arrays' capacities, and the slot limit (rows advance with
    /// slots except in nodes, so the rows left are the slots left).
    void update_room() noexcept
    {
        const std::size_t slots_left = limits_.max_slots + 1 - size();
        row_room_ = std::min(statement_end_.capacity(), rows() + slots_left);
        if constexpr (checked_build)
            row_room_ = std::min(row_room_, rows() + (slot_epoch_.capacity() - size()));
        operand_room_ = std::min(operands_.capacity(), limits_.max_operands);
    }

    /// Rows: the slots that are statements or inputs (node outputs take none).
    [[nodiscard]] std::size_t rows() const noexcept { return statement_end_.size(); }

    /// Bytes of the recording (stats().bytes): rows, operands, nodes and
    /// their declared inputs, and the node arena in use (tensor values,
    /// partials, saved data).
    [[nodiscard]] std::size_t recording_bytes() const noexcept
    {
        return statement_end_.size() * sizeof(std::uint32_t) + operands_.size() * (sizeof(T) + sizeof(slot_index)) +
               nodes_.size() * sizeof(node) + node_inputs_.size() * sizeof(node_input_slots) + arena_.bytes_in_use();
    }

    /// Bytes the tape holds (stats().capacity_bytes), the checked build's epochs included.
    [[nodiscard]] std::size_t held_bytes() const noexcept
    {
        std::size_t bytes = statement_end_.capacity() * sizeof(std::uint32_t) +
                            operands_.capacity() * (sizeof(T) + sizeof(slot_index)) + nodes_.capacity() * sizeof(node) +
                            node_inputs_.capacity() * sizeof(node_input_slots) + adjoints_.capacity() * sizeof(T) +
                            arena_.capacity();
        if constexpr (checked_build)
            bytes += slot_epoch_.capacity() * sizeof(std::uint32_t);
        return bytes;
    }

    /// Throws memory_budget_error when growing by growth() bytes would take
    /// the tape past its budget, after giving back what a rewind left
    /// unused in the recording's arrays and the node arena (the adjoints
    /// stay: a gradient_view may point into them).
    template <class Growth>
    void check_budget(Growth growth, const char* what)
    {
        if (limits_.max_bytes == std::numeric_limits<std::size_t>::max())
            return;
        const auto fits = [&](std::size_t more) {
            return more <= limits_.max_bytes && held_bytes() <= limits_.max_bytes - more;
        };
        if (fits(growth()))
            return;
        arena_.release_unused();
        statement_end_.shrink_to_fit();
        operands_.shrink_to_fit();
        nodes_.shrink_to_fit();
        node_inputs_.shrink_to_fit();
        if constexpr (checked_build)
            slot_epoch_.shrink_to_fit();
        update_room();
        const std::size_t more = growth();
        if (!fits(more))
            throw memory_budget_error(held_bytes(), more, limits_.max_bytes, what);
    }

    /// check_budget for an adjoint per slot of the recording.
    void check_adjoints_budget()
    {
        check_budget(
            [&] {
                const std::size_t missing = size() > adjoints_.size() ? size() - adjoints_.size() : 0;
                return (adjoints_.capacity_after(missing) - adjoints_.capacity()) * sizeof(T);
            },
            "adjoints");
    }

    [[noreturn]] [[gnu::cold]] static void throw_length_error(const char* what, std::size_t limit)
    {
        throw std::length_error(std::string("etape: tape would exceed its limit of ") + std::to_string(limit) + " " +
                                what + " (tape_limits)");
    }

    slot_index new_slots(std::size_t count)
    {
        const std::size_t gap = gap_before(count);
        make_room(gap + count, gap + count, 0);
        (void)append_slots(gap);
        return append_slots(count);
    }

    /// A block of at least this many slots (an input tensor, a node's
    /// outputs) starts after `block_gap` unused input slots, 512 bytes of
    /// adjoints: without them, two blocks of 2^k slots recorded one after
    /// the other have adjoints exactly 2^k elements apart, and a reverse
    /// that reads one while it writes the other (an ELU node's) streams two
    /// addresses a large power of two apart, which this machine's memory
    /// serves slowly: 1.3 times the time of the same loop over separate
    /// arrays, at 2^25 doubles (docs/tape.md, "Growth and reuse").
    static constexpr std::size_t large_block = 4096;
    static constexpr std::size_t block_gap = 512 / sizeof(T) > 0 ? 512 / sizeof(T) : 1;

    /// The gap before a block of `count` slots: none for a small block, or
    /// where the gap would take the last slots the limits allow.
    [[nodiscard]] std::size_t gap_before(std::size_t count) const noexcept
    {
        const std::size_t slots_left = limits_.max_slots + 1 - size();
        return count >= large_block && count <= slots_left && slots_left - count >= block_gap ? block_gap : 0;
    }

    /// Appends one slot (and its row) whose operands end at the current
    /// operand count; room was made by the caller.
    slot_index append_slot() noexcept
    {
        const slot_index slot = slots_++;
        statement_end_.data()[statement_end_.size()] = static_cast<std::uint32_t>(operands_.size());
        statement_end_.commit(1);
        if constexpr (checked_build) {
            slot_epoch_.data()[slot] = epoch_;
            slot_epoch_.commit(1);
        }
        return slot;
    }

    /// Appends `count` input slots (rows without operands); room was made
    /// by the caller.
    slot_index append_slots(std::size_t count) noexcept
    {
        const slot_index first = size();
        std::fill_n(statement_end_.data() + statement_end_.size(), count, static_cast<std::uint32_t>(operands_.size()));
        statement_end_.commit(count);
        slots_ = static_cast<slot_index>(slots_ + count);
        if constexpr (checked_build) {
            std::fill_n(slot_epoch_.data() + first, count, epoch_);
            slot_epoch_.commit(count);
        }
        return first;
    }

    void destroy_nodes_after(std::size_t keep) noexcept
    {
        for (std::size_t k = nodes_.size(); k > keep; --k)
            if (nodes_[k - 1].destroy)
                nodes_[k - 1].destroy(nodes_[k - 1].payload);
    }

    static constexpr unsigned generation_bits = 23;
    static constexpr std::uint64_t generation_mask = (std::uint64_t{1} << generation_bits) - 1;
    struct rewind_record {
        std::uint64_t generation; // the generation the rewind started
        slot_index slots;         // the slots it kept
    };

    /// Checked build: epochs are drawn from one count for all tapes, so that
    /// a var of an ended tape is not taken for one of a new tape that was
    /// given the same address.
    [[nodiscard]] static std::uint32_t next_epoch() noexcept
    {
        static std::atomic<std::uint32_t> issued{0};
        return issued.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    detail::tape_identity identity_;
    std::uint64_t generation_ = 0;
    struct kept_values { // keep_copy's last copies, valid while generation_ has not moved
        const T* source = nullptr;
        std::size_t count = 0;
        const T* copy = nullptr;
        std::uint64_t generation = 0;
    };
    std::array<kept_values, 4> kept_{};
    std::size_t next_kept_ = 0;
    std::uint32_t mark_now_ = identity_.value() << 24;
    slot_index never_dropped_below_ = ~slot_index{0};
    std::vector<rewind_record> rewinds_; // increasing in generation and in slots
    detail::growing_array<std::uint32_t> statement_end_;
    detail::growing_pair<T, slot_index> operands_; // partials and operand slots
    slot_index slots_ = 0;
    std::size_t row_room_ = 0;     // rows that fit before make_room() must run
    std::size_t operand_room_ = 0; // operands likewise
    // the slot of the last statement, while nothing was recorded after it and
    // no position was taken; 0 (the passive slot, never a statement) otherwise
    mutable slot_index extendable_ = 0;
    detail::growing_array<node> nodes_;
    detail::growing_array<node_input_slots> node_inputs_; // the declared inputs of all nodes, in node order
    detail::growing_array<T> adjoints_;
    static constexpr std::size_t no_node = ~std::size_t{0};
    static constexpr std::size_t no_input = ~std::size_t{0};
    std::size_t in_place_node_ = no_node; // sweep_cotangent: the node that reads in_place_cotangent_
    const T* in_place_cotangent_ = nullptr;
    std::vector<std::pair<slot_index, slot_index>> not_cleared_; // clear_and_sweep: seeds, first-written inputs
    detail::slot_intervals plan_written_; // clear_and_sweep's plan: the slots written so far
    detail::growing_array<std::uint32_t> slot_epoch_; // checked build only
    detail::node_arena arena_;
    std::size_t statements_ = 0;
    std::uint32_t epoch_ = next_epoch();
    bool anomaly_mode_ = false;
    std::vector<detail::statement_note> statement_notes_; // anomaly mode only
    std::vector<T> noted_values_;
    std::vector<detail::node_note<T>> node_notes_;
    std::vector<std::string> contexts_{std::string()}; // anomaly contexts; 0 is none
    std::uint32_t context_ = 0;
    // read only on the slow paths: last, so that the recording's members keep their place
    tape_limits limits_;
    std::size_t peak_bytes_ = 0; // the largest recording_bytes() before a rewind
};

/// While it lives, anomaly reports name `name` for what `t` records
/// (tape::enter_anomaly_context). What a layer's forward holds.
template <class T>
class anomaly_context {
public:
    anomaly_context(tape<T>& t, std::string_view name) : tape_(t), previous_(t.enter_anomaly_context(name)) {}
    anomaly_context(const anomaly_context&) = delete;
    anomaly_context& operator=(const anomaly_context&) = delete;
    ~anomaly_context() { tape_.leave_anomaly_context(previous_); }

private:
    tape<T>& tape_;
    std::uint32_t previous_;
};

} // namespace etape
