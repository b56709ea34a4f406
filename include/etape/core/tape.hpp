// The tape: the ordered record of statements and nodes, the adjoint vector
// and the reverse sweep. Layer: core (everything active records here).
//
// tape<T> is built in layers, each in its own header and each a base of the
// next, from the bottom:
//   recording_marks.hpp  the mark a var carries, and whether a rewind has
//                        dropped its slot since
//   tape_storage.hpp     the arrays (the format is described there), the node
//                        arena and the adjoints, their growth within the
//                        tape's limits (tape_limits.hpp); slots and rows
//   tape_anomalies.hpp   anomaly mode: notes, checks and reports
//   tape_nodes.hpp       recording nodes; the plan of first writers
//   tape_readers.hpp     who reads which slots: held gradients, lowest readers
//   tape_positions.hpp   positions and rewinds
//   tape.hpp             this header: recording statements and inputs, and
//                        the reverse sweep
//
// Anomaly mode (detect_anomalies) adds notes beside the recording: each
// statement's text and operand values, each labelled node's name and inputs;
// the sweep then checks every adjoint it writes and throws anomaly_error at
// the first NaN or inf.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include <etape/core/anomaly.hpp>
#include <etape/core/config.hpp>
#include <etape/core/tape_anomalies.hpp>
#include <etape/core/tape_limits.hpp>
#include <etape/core/tape_nodes.hpp>
#include <etape/core/tape_positions.hpp>
#include <etape/core/tape_storage.hpp>

namespace etape {

template <class T>
class tape : public detail::tape_positions<T> {
    using storage = detail::tape_storage<T>;
    using anomalies = detail::tape_anomalies<T>;
    using nodes = detail::tape_nodes<T>;
    using anomalies::anomaly_mode_, anomalies::statement_notes_, anomalies::noted_values_, anomalies::context_,
        anomalies::unlabelled_writer, anomalies::check_range, anomalies::report_statement, anomalies::check_node_inputs;
    using nodes::first_write_planner_, nodes::clear_adjoints_except_not_cleared, nodes::zero_stored_inputs,
        nodes::not_cleared_;
    using storage::statement_end_, storage::operands_, storage::nodes_, storage::adjoints_, storage::statements_,
        storage::row_room_, storage::operand_room_, storage::extendable_, storage::make_room, storage::rows,
        storage::append_slot, storage::new_slots, storage::extend_adjoints;
    using typename storage::node;

public:
    using value_type = T;

    /// Out of line: a tape is made rarely, and making it initialises the
    /// members of every layer, which would otherwise grow each caller.
    [[gnu::noinline]] explicit tape(const tape_limits& limits = {}) : detail::tape_positions<T>(limits) {}

    tape(const tape&) = delete;
    tape& operator=(const tape&) = delete;

    /// Switches anomaly mode on or off. While on, statements and labelled
    /// nodes are recorded with notes, and every sweep checks each adjoint it
    /// writes, throwing anomaly_error at the first NaN or inf. Only what was
    /// recorded while it was on can be named in a report. The checking
    /// sweep is called through a pointer taken here, so that it and its
    /// reports are compiled only where anomaly mode is switched on.
    void detect_anomalies(bool on = true) noexcept
    {
        anomalies::set_anomaly_mode(on);
        checking_sweep_ = &tape::sweep_range<true>;
    }

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

    // ---- the reverse sweep --------------------------------------------------

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
        top = top > this->size() ? this->size() : top;
        bottom = bottom == 0 ? 1 : bottom;
        not_cleared_.clear();
        for (const slot_range& r : seeded) {
            const std::size_t end = std::min<std::size_t>(std::size_t{r.first} + r.count, this->size());
            not_cleared_.push_back({r.first, static_cast<slot_index>(end)});
        }
        struct forget_plan { // no node keeps its mark past this sweep, whatever happens in it
            tape& t;
            std::size_t lowest_marked;
            ~forget_plan()
            {
                for (std::size_t k = lowest_marked; k < t.nodes_.size(); ++k)
                    t.nodes_[k].stores = 0;
            }
        } forget{*this, nodes_.size()};
        if (!anomaly_mode_ && first_write_planner_)
            (this->*first_write_planner_)(top, bottom, forget.lowest_marked);
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
        const auto top =
            static_cast<slot_index>(std::min<std::size_t>(std::size_t{outputs.first} + outputs.count, this->size()));
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

    /// Propagates adjoints from every slot below `top` (exclusive) down to
    /// slot `bottom` (inclusive, at least 1) through statements and nodes.
    /// In anomaly mode, throws anomaly_error at the first NaN or inf adjoint.
    void sweep(slot_index top, slot_index bottom = 1)
    {
        if (anomaly_mode_) [[unlikely]]
            (this->*checking_sweep_)(top, bottom);
        else
            sweep_range<false>(top, bottom);
    }

    /// Sweeps the whole recording back to position `p`.
    void sweep_to(const tape_position& p) { sweep(this->size(), p.slots); }

private:
    template <bool Check>
    void sweep_range(slot_index top, slot_index bottom)
    {
        extend_adjoints();
        bottom = bottom == 0 ? 1 : bottom;
        top = top > this->size() ? this->size() : top;
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

    static constexpr std::size_t no_node = ~std::size_t{0};
    std::size_t in_place_node_ = no_node; // sweep_cotangent: the node that reads in_place_cotangent_
    const T* in_place_cotangent_ = nullptr;
    void (tape::*checking_sweep_)(slot_index, slot_index) = nullptr; // set by detect_anomalies
};

} // namespace etape
