// The tape: the ordered record of statements and nodes, the adjoint vector
// and the reverse sweep. Layer: core (everything active records here).
//
// Format (linear indexing: every active value gets a fresh slot):
//   statement_end_[s]  end of slot s's operands; its operands start at
//                      statement_end_[s - 1]. An input has none.
//   operands_          partial k: d(slot s)/d(operand), and operand slot k.
//   nodes_             records {first slot, end slot, reverse, payload} for
//                      work that is not a scalar statement; their output
//                      slots hold no operands, the node propagates them.
// Slot 0 is a passive sink: default-constructed vars point at it and what
// flows into it is never read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <etape/core/config.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/growing_array.hpp>
#include <etape/core/node_arena.hpp>

namespace etape {

/// A saved point of a recording: sweep back to it, or rewind to it.
struct tape_position {
    slot_index slots = 1;
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
    std::size_t bytes = 0;       ///< bytes of the recording, adjoints excluded
    std::size_t capacity_bytes = 0; ///< bytes the tape holds, adjoints included
};

/// Upper bounds of one tape; exceeding one throws std::length_error before
/// anything is written. The defaults are the index types' limits.
struct tape_limits {
    std::size_t max_slots = std::numeric_limits<slot_index>::max() - 1;
    std::size_t max_operands = std::numeric_limits<std::uint32_t>::max();
};

template <class T>
class tape {
    static_assert(std::is_floating_point_v<T>, "etape::tape<T> needs T = float, double or long double");

public:
    using value_type = T;

    explicit tape(tape_limits limits = {}) : limits_(limits)
    {
        make_room(1, 0);
        (void)append_slot(); // slot 0: the passive sink
    }

    tape(const tape&) = delete;
    tape& operator=(const tape&) = delete;
    ~tape() { destroy_nodes_after(0); }

    // ---- recording ------------------------------------------------------

    /// Registers an independent value (no operands); returns its slot.
    slot_index new_input()
    {
        if (size() >= slot_room_) [[unlikely]]
            make_room(1, 0);
        return append_slot();
    }

    /// Registers `count` consecutive independent slots; returns the first.
    slot_index new_inputs(std::size_t count) { return new_slots(count); }

    /// Records one statement whose operands `write(partials, slots)` writes;
    /// exactly `count` of them. Returns the statement's fresh slot.
    template <class Writer>
    slot_index record_statement(std::size_t count, Writer&& write)
    {
        if (size() >= slot_room_ || operands_.size() + count > operand_room_) [[unlikely]]
            make_room(1, count);
        std::forward<Writer>(write)(operands_.first() + operands_.size(), operands_.second() + operands_.size());
        operands_.commit(count);
        ++statements_;
        return append_slot();
    }

    /// Records a node with `outputs` fresh consecutive slots; returns the
    /// first. `reverse` is a callable `reverse(T* adjoints, slot_index first)`,
    /// stored in the tape's arena and destroyed on rewind; the sweep calls it
    /// when it reaches the node: it reads the adjoints of the output slots
    /// [first, first + outputs) and adds into those of its inputs.
    template <class Reverse>
    slot_index record_node(std::size_t outputs, Reverse reverse)
    {
        static_assert(std::is_invocable_v<Reverse&, T*, slot_index>,
                      "a node's reverse must be callable as reverse(T* adjoints, slot_index first_output)");
        make_room(outputs, 0);
        nodes_.reserve_more(1);
        void* memory = arena_.allocate(sizeof(Reverse), alignof(Reverse));
        auto* stored = new (memory) Reverse(std::move(reverse));
        node n;
        n.payload = stored;
        n.reverse = [](void* p, T* adj, slot_index first) { (*static_cast<Reverse*>(p))(adj, first); };
        if constexpr (std::is_trivially_destructible_v<Reverse>)
            n.destroy = nullptr;
        else
            n.destroy = [](void* p) { static_cast<Reverse*>(p)->~Reverse(); };
        n.first = append_slots(outputs);
        n.end = static_cast<slot_index>(n.first + outputs);
        nodes_.push_back(n);
        return n.first;
    }

    /// Scratch memory in the node arena, alive until a rewind past this point.
    template <class U>
    [[nodiscard]] U* allocate_scratch(std::size_t count)
    {
        static_assert(std::is_trivially_destructible_v<U>);
        if (count > std::numeric_limits<std::size_t>::max() / sizeof(U) / 2) [[unlikely]]
            throw std::length_error("etape: scratch of " + std::to_string(count) + " elements does not fit in memory");
        return static_cast<U*>(arena_.allocate(count * sizeof(U), alignof(U)));
    }

    // ---- positions --------------------------------------------------------

    [[nodiscard]] tape_position position() const noexcept
    {
        return {size(), operands_.size(), nodes_.size(), statements_, arena_.position()};
    }

    /// Drops everything recorded after `p`; vars created before it keep their
    /// slots (model parameters), later ones become invalid (checked build:
    /// using them throws).
    void rewind(const tape_position& p)
    {
        if (p.slots > size() || p.slots == 0)
            throw tape_error("etape: rewind to a position that is not on this tape's recording");
        destroy_nodes_after(p.nodes);
        nodes_.truncate(p.nodes);
        statement_end_.truncate(p.slots);
        operands_.truncate(p.operands);
        statements_ = p.statements;
        arena_.rewind(p.arena);
        adjoints_.truncate(p.slots);
        if constexpr (checked_build) {
            slot_epoch_.truncate(p.slots);
            ++epoch_;
        }
    }

    /// Rewinds to the empty recording (only the passive slot 0 remains).
    void clear() { rewind(tape_position{}); }

    // ---- adjoints and the reverse sweep -------------------------------------

    /// Sets every adjoint to zero (sized to the recording).
    void clear_adjoints() { adjoints_.assign_zeros(size()); }

    /// The adjoint of `slot` (zero for slots recorded since the last clear).
    [[nodiscard]] T& adjoint(slot_index slot)
    {
        extend_adjoints();
        return adjoints_[slot];
    }
    [[nodiscard]] T* adjoints() noexcept { return adjoints_.data(); }

    /// Propagates adjoints from every slot below `top` (exclusive) down to
    /// slot `bottom` (inclusive, at least 1) through statements and nodes.
    void sweep(slot_index top, slot_index bottom = 1)
    {
        extend_adjoints();
        bottom = bottom == 0 ? 1 : bottom;
        top = top > size() ? size() : top;
        std::size_t k = nodes_.size();
        while (k > 0 && nodes_[k - 1].first >= top)
            --k; // nodes entirely above the seed contribute nothing
        slot_index upper = top;
        for (; k > 0 && nodes_[k - 1].end > bottom; --k) {
            const node& n = nodes_[k - 1];
            sweep_statements(n.end, upper);
            n.reverse(n.payload, adjoints_.data(), n.first);
            upper = n.first;
        }
        if (upper > bottom)
            sweep_statements(bottom, upper);
    }

    /// Sweeps the whole recording back to position `p`.
    void sweep_to(const tape_position& p) { sweep(size(), p.slots); }

    // ---- queries ------------------------------------------------------------

    /// Number of slots, the passive slot 0 included.
    [[nodiscard]] slot_index size() const noexcept { return static_cast<slot_index>(statement_end_.size()); }

    [[nodiscard]] tape_stats stats() const noexcept
    {
        tape_stats s;
        s.slots = size() - 1;
        s.statements = statements_;
        s.operands = operands_.size();
        s.nodes = nodes_.size();
        s.bytes = statement_end_.size() * sizeof(std::uint32_t) + operands_.size() * (sizeof(T) + sizeof(slot_index)) +
                  nodes_.size() * sizeof(node);
        s.capacity_bytes = statement_end_.capacity() * sizeof(std::uint32_t) +
                           operands_.capacity() * (sizeof(T) + sizeof(slot_index)) + nodes_.capacity() * sizeof(node) +
                           adjoints_.capacity() * sizeof(T) + arena_.capacity();
        return s;
    }

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

private:
    struct node {
        slot_index first;
        slot_index end;
        void* payload;
        void (*reverse)(void*, T*, slot_index);
        void (*destroy)(void*);
    };

    void sweep_statements(slot_index bottom, slot_index top) noexcept
    {
        if (top <= bottom)
            return;
        T* const adj = adjoints_.data();
        const std::uint32_t* const end = statement_end_.data();
        const T* const partial = operands_.first();
        const slot_index* const operand = operands_.second();
        // statements are contiguous in the operand arrays: carry the boundary
        std::uint32_t stop = end[top - 1];
        for (slot_index s = top - 1; s >= bottom; --s) {
            const std::uint32_t start = end[s - 1];
            const T a = adj[s];
            if (a != T(0))
                for (std::uint32_t k = start; k < stop; ++k)
                    adj[operand[k]] += partial[k] * a;
            stop = start;
        }
    }

    /// Gives slots recorded since the last clear_adjoints() a zero adjoint.
    void extend_adjoints()
    {
        const std::size_t have = adjoints_.size();
        if (have >= size())
            return;
        T* fresh = adjoints_.reserve_more(size() - have);
        for (std::size_t i = 0; i < size() - have; ++i)
            fresh[i] = T(0);
        adjoints_.commit(size() - have);
    }

    /// The slow path of recording: checks the limits (throwing before
    /// anything is written), grows the arrays, and recomputes the room.
    [[gnu::noinline]] void make_room(std::size_t slots, std::size_t operands)
    {
        if (size() + slots > limits_.max_slots + 1 || slots > limits_.max_slots)
            throw_length_error("slots", limits_.max_slots);
        if (operands_.size() + operands > limits_.max_operands || operands > limits_.max_operands)
            throw_length_error("operands", limits_.max_operands);
        statement_end_.reserve_more(slots);
        if constexpr (checked_build)
            slot_epoch_.reserve_more(slots);
        operands_.reserve_more(operands);
        slot_room_ = std::min(statement_end_.capacity(), limits_.max_slots + 1);
        if constexpr (checked_build)
            slot_room_ = std::min(slot_room_, slot_epoch_.capacity());
        operand_room_ = std::min(operands_.capacity(), limits_.max_operands);
    }

    [[noreturn]] [[gnu::cold]] static void throw_length_error(const char* what, std::size_t limit)
    {
        throw std::length_error(std::string("etape: tape would exceed its limit of ") + std::to_string(limit) + " " +
                                what + " (tape_limits)");
    }

    slot_index new_slots(std::size_t count)
    {
        make_room(count, 0);
        return append_slots(count);
    }

    /// Appends one slot whose operands end at the current operand count;
    /// room was made by the caller.
    slot_index append_slot() noexcept
    {
        const slot_index slot = size();
        statement_end_.data()[slot] = static_cast<std::uint32_t>(operands_.size());
        statement_end_.commit(1);
        if constexpr (checked_build) {
            slot_epoch_.data()[slot] = epoch_;
            slot_epoch_.commit(1);
        }
        return slot;
    }

    /// Appends `count` slots without operands; room was made by the caller.
    /// One fill, not `count` appends: a tensor node of 2^25 elements spent
    /// as long registering its slots as computing its values.
    slot_index append_slots(std::size_t count) noexcept
    {
        const slot_index first = size();
        std::fill_n(statement_end_.data() + first, count, static_cast<std::uint32_t>(operands_.size()));
        statement_end_.commit(count);
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

    tape_limits limits_;
    detail::growing_array<std::uint32_t> statement_end_;
    detail::growing_pair<T, slot_index> operands_; // partials and operand slots
    std::size_t slot_room_ = 0;    // slots that fit before make_room() must run
    std::size_t operand_room_ = 0; // operands likewise
    detail::growing_array<node> nodes_;
    detail::growing_array<T> adjoints_;
    detail::growing_array<std::uint32_t> slot_epoch_; // checked build only
    detail::node_arena arena_;
    std::size_t statements_ = 0;
    std::uint32_t epoch_ = 0;
};

} // namespace etape
