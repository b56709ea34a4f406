// A tape's storage: the arrays a recording fills, the node arena and the
// adjoints, their growth within the tape's limits and memory budget, and
// slots and rows. Layer: core (a layer of the tape, see tape.hpp).
//
// Format (linear indexing: every active value gets a fresh slot, except that
// `z += e` on the only var of the last statement's slot appends e's operands
// to that statement, see tape::extend_statement):
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
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <etape/core/config.hpp>
#include <etape/core/growing_array.hpp>
#include <etape/core/node_arena.hpp>
#include <etape/core/recording_marks.hpp>
#include <etape/core/tape_limits.hpp>

namespace etape {

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

namespace detail {

template <class T>
class tape_storage : public recording_marks {
    static_assert(std::is_floating_point_v<T>, "etape::tape<T> needs T = float, double or long double");

public:
    explicit tape_storage(const tape_limits& limits) : limits_(addressable(limits))
    {
        make_room(1, 1, 0);
        (void)append_slot(); // slot 0: the passive sink
    }

    ~tape_storage() { destroy_nodes_after(0); }

    /// Number of slots, the passive slot 0 included.
    [[nodiscard]] slot_index size() const noexcept { return slots_; }

    /// Makes room for `statements` more statements (or inputs) with
    /// `operands` operands in all, so that recording them obtains no memory:
    /// a long first recording then grows no array as it goes. Throws
    /// std::length_error past the tape's limits and std::bad_alloc, before
    /// changing anything that holds a value.
    void reserve(std::size_t statements, std::size_t operands) { make_room(statements, statements, operands); }

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

    /// Sets every adjoint to zero (sized to the recording).
    void clear_adjoints()
    {
        check_adjoints_budget();
        adjoints_.assign_zeros(size());
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
        release_unused_except_adjoints();
        adjoints_.shrink_to_fit();
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

    /// True when `slot`, stamped with `epoch`, is still part of the recording.
    [[nodiscard]] bool holds(slot_index slot, std::uint32_t epoch) const noexcept
    {
        return slot < size() && epoch_of(slot) == epoch;
    }

protected:
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
        if (limits_.max_bytes == std::numeric_limits<std::size_t>::max() || within_budget(growth()))
            return;
        release_unused_except_adjoints();
        const std::size_t more = growth();
        if (!within_budget(more))
            throw memory_budget_error(held_bytes(), more, limits_.max_bytes, what);
    }

    /// True when the tape may hold `more` bytes beyond what it holds.
    [[nodiscard]] bool within_budget(std::size_t more) const noexcept
    {
        return more <= limits_.max_bytes && held_bytes() <= limits_.max_bytes - more;
    }

    /// release_unused without the adjoints (a gradient_view may point into
    /// them): check_budget's way out before it throws.
    [[gnu::noinline]] void release_unused_except_adjoints()
    {
        arena_.release_unused();
        try {
            statement_end_.shrink_to_fit();
            operands_.shrink_to_fit();
            nodes_.shrink_to_fit();
            node_inputs_.shrink_to_fit();
            if constexpr (checked_build)
                slot_epoch_.shrink_to_fit();
        } catch (...) {
            update_room(); // the arrays shrunk so far
            throw;
        }
        update_room();
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

    /// Checked build: epochs are drawn from one count for all tapes, so that
    /// a var of an ended tape is not taken for one of a new tape that was
    /// given the same address.
    [[nodiscard]] static std::uint32_t next_epoch() noexcept
    {
        static std::atomic<std::uint32_t> issued{0};
        return issued.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    growing_array<std::uint32_t> statement_end_;
    growing_pair<T, slot_index> operands_; // partials and operand slots
    slot_index slots_ = 0;
    std::size_t row_room_ = 0;     // rows that fit before make_room() must run
    std::size_t operand_room_ = 0; // operands likewise
    // the slot of the last statement, while nothing was recorded after it and
    // no position was taken; 0 (the passive slot, never a statement) otherwise
    mutable slot_index extendable_ = 0;
    growing_array<node> nodes_;
    growing_array<node_input_slots> node_inputs_; // the declared inputs of all nodes, in node order
    growing_array<T> adjoints_;
    growing_array<std::uint32_t> slot_epoch_; // checked build only
    node_arena arena_;
    std::size_t statements_ = 0;
    std::uint32_t epoch_ = next_epoch();
    // read only on the slow paths: last, after the recording's members
    tape_limits limits_;
    std::size_t peak_bytes_ = 0; // the largest recording_bytes() before a rewind
};

} // namespace detail
} // namespace etape
