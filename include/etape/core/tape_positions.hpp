// A tape's positions and rewinds: the saved point of a recording
// (tape_position), taking one, dropping everything recorded after one
// (rewind, clear), and whether a var's slot has been dropped since its mark
// was given (the recording marks' questions, asked of this recording).
// Layer: core (a layer of the tape, see tape.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/node_arena.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/recording_marks.hpp>
#include <etape/core/tape_anomalies.hpp>
#include <etape/core/tape_readers.hpp>
#include <etape/core/tape_storage.hpp>

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

namespace detail {

template <class T>
class tape_positions : public tape_readers<T> {
protected: // what this layer uses of the ones below, for the layers above too
    using storage = tape_storage<T>;
    using storage::statement_end_, storage::operands_, storage::nodes_, storage::node_inputs_, storage::adjoints_,
        storage::arena_, storage::slots_, storage::statements_, storage::extendable_, storage::slot_epoch_,
        storage::epoch_, storage::peak_bytes_, storage::update_room, storage::rows, storage::destroy_nodes_after,
        storage::recording_bytes, storage::next_epoch, storage::start_generation;
    using tape_anomalies<T>::forget_notes_after;

public:
    using tape_readers<T>::tape_readers;

    /// The current position. Taking one also closes the last statement:
    /// a later compound assignment cannot extend it (extend_statement), so
    /// rewinding to the position finds the recording as it was.
    [[nodiscard]] tape_position position() const noexcept
    {
        extendable_ = 0;
        return {this->size(), rows(), operands_.size(), nodes_.size(), statements_, arena_.position()};
    }

    /// Drops everything recorded after `p`; vars created before it keep their
    /// slots (model parameters), later ones become invalid: using them
    /// throws tape_error, in every build (see recording_marks.hpp).
    void rewind(const tape_position& p)
    {
        if (!is_on_recording(p))
            throw tape_error("etape: rewind to a position (" + counted(p.slots, "slot") + ", " +
                             counted(p.operands, "operand") + ", " + counted(p.nodes, "node") +
                             ") that is not on this tape's recording (" + counted(this->size(), "slot") + ")");
        start_generation(p.slots); // may throw: before anything changes
        peak_bytes_ = std::max(peak_bytes_, recording_bytes());
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
        forget_notes_after(p.slots, p.nodes);
        if constexpr (checked_build) {
            slot_epoch_.truncate(p.slots);
            epoch_ = next_epoch();
        }
        update_room();
    }

    /// Rewinds to the empty recording (only the passive slot 0 remains).
    void clear() { rewind(tape_position{}); }

    // the recording marks' questions, with this recording's size (recording_marks.hpp;
    // every build but the checked one)

    /// True when a var of `slot` marked `mark` (by this tape) is held: no
    /// rewind since its generation went down to its slot or below.
    [[nodiscard]] bool holds_marked(slot_index slot, std::uint32_t mark) const noexcept
    {
        return detail::recording_marks::holds_marked(slot, mark, this->size());
    }

    /// Throws tape_error unless a var of `slot` marked `mark` is held on
    /// this tape (a passive var, slot 0, always is). Out of line and cold:
    /// called only when surely_holds fails, with values, so that no caller
    /// has to keep its var or expression in memory for it.
    [[gnu::noinline, gnu::cold]] void require_held(slot_index slot, std::uint32_t mark) const
    {
        detail::recording_marks::require_held(slot, mark, this->size());
    }

private:
    /// True when `p` could have been taken on the current recording: its
    /// counts agree with what the recording holds at its slot (a position of
    /// another tape, or one left stale by a rewind, mostly does not).
    [[nodiscard]] bool is_on_recording(const tape_position& p) const noexcept
    {
        if (p.slots == 0 || p.slots > this->size() || p.rows == 0 || p.rows > rows() ||
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
};

} // namespace detail
} // namespace etape
