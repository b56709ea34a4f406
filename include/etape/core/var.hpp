// The active scalar var<T>: a value and the slot that identifies it on the
// thread's active tape. Layer: core (the leaf of every expression).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/errors.hpp>
#include <etape/core/expression.hpp>
#include <etape/core/expression_text.hpp>

namespace etape {

namespace detail {

/// What a checked build remembers of a var's recording.
template <class T>
struct recording_stamp {
    const tape<T>* owner = nullptr; ///< null for a passive (default) var
    std::uint32_t epoch = 0;
};
struct no_stamp {};

/// What every other build remembers: 31 bits in var's padding
/// (tape::recording_mark: the tape's identity and its rewind generation).
struct recording_mark {
    std::uint32_t bits = 0; ///< 0 for a passive (default) var
};

template <class T>
using stamp_for = std::conditional_t<checked_build, recording_stamp<T>, recording_mark>;
template <class T>
using checked_stamp_for = std::conditional_t<checked_build, recording_stamp<T>, no_stamp>;

} // namespace detail

/// An active scalar. Copying a var shares its slot (values are immutable on
/// the tape); assigning an expression records one statement and gives the var
/// a fresh slot; constructing or assigning a plain number registers a new
/// independent input. A default-constructed var is a passive zero.
///
/// `z += e` and `z -= e` record no statement of their own when z is the only
/// var of its slot and that slot is the last statement on the tape: they
/// append e's operands to it (tape::extend_statement), so an accumulation
/// loop is one statement, swept with one adjoint. A var knows it is the only
/// one while it has not been copied since its last statement (a copy, into
/// another var or into an expression, marks both as sharing).
template <class T>
class var {
    static_assert(std::is_floating_point_v<T>, "etape::var<T> needs T = float, double or long double");

public:
    using value_type = T;
    static constexpr bool is_etape_expression = true;
    static constexpr std::size_t operand_count = 1;

    /// A passive zero: it records nothing and its gradient is zero.
    constexpr var() noexcept = default;

    /// Shares `other`'s slot; neither is the slot's only var any more.
    constexpr var(const var& other) noexcept
        : value_(other.value_), slot_(other.slot_), mark_and_only_(other.mark_and_only_ & ~only_bit), stamp_(other.stamp_)
    {
        other.share();
    }

    constexpr var& operator=(const var& other) noexcept
    {
        other.share();
        value_ = other.value_;
        slot_ = other.slot_;
        mark_and_only_ = other.mark_and_only_ & ~only_bit;
        stamp_ = other.stamp_;
        return *this;
    }

    /// A new independent input on the active tape.
    var(T v) : value_(v) { register_input(active_tape<T>()); } // NOLINT: implicit like a double

    template <passive_number U>
        requires(!std::same_as<U, T>)
    var(U v) : var(static_cast<T>(v)) // NOLINT: var<double> x = 3 reads naturally
    {
    }

    /// Records `e` as one statement.
    template <expression E>
        requires(!std::same_as<E, var> && std::same_as<typename E::value_type, T>)
    var(const E& e) // NOLINT: y = x * x must read like double code
    {
        assign(e);
    }

    template <expression E>
        requires(!std::same_as<E, var> && std::same_as<typename E::value_type, T>)
    var& operator=(const E& e)
    {
        assign(e);
        return *this;
    }

    /// Makes this var a new independent input with value `v`.
    var& operator=(T v)
    {
        value_ = v;
        register_input(active_tape<T>());
        return *this;
    }

    template <operand X>
    [[gnu::always_inline]] var& operator+=(const X& x)
    {
        if (extend<true>(x))
            return *this;
        return *this = *this + x;
    }
    template <operand X>
    [[gnu::always_inline]] var& operator-=(const X& x)
    {
        if (extend<false>(x))
            return *this;
        return *this = *this - x;
    }
    template <operand X>
    var& operator*=(const X& x)
    {
        return *this = *this * x;
    }
    template <operand X>
    var& operator/=(const X& x)
    {
        return *this = *this / x;
    }

    /// A var for a slot that a node of `t` produced (for authors of nodes:
    /// tensors, external functions); the slot must be on t's recording.
    [[nodiscard]] static var bound_to(const tape<T>& t, slot_index slot, T value)
    {
        if (slot == 0 || slot >= t.size())
            throw tape_error("etape: var::bound_to a slot (" + std::to_string(slot) + ") outside the recording");
        var v;
        v.value_ = value;
        v.slot_ = slot;
        v.stamp(t, 0);
        return v;
    }

    /// The stamp a var of `slot` on `t` carries (for active tensors, which
    /// stamp their first slot once and hand it to each element).
    [[nodiscard]] static detail::stamp_for<T> stamp_of([[maybe_unused]] const tape<T>& t,
                                                                       [[maybe_unused]] slot_index slot) noexcept
    {
        if constexpr (checked_build)
            return {&t, t.epoch_of(slot)};
        else
            return {t.recording_mark()};
    }

    /// A var of `slot` carrying `stamp` (see stamp_of).
    [[nodiscard]] static var with_stamp(slot_index slot, T value, detail::stamp_for<T> stamp) noexcept
    {
        var v;
        v.value_ = value;
        v.slot_ = slot;
        if constexpr (checked_build)
            v.stamp_ = stamp;
        else
            v.mark_and_only_ = stamp.bits;
        return v;
    }

    [[nodiscard]] constexpr T value() const noexcept { return value_; }

    /// Changes the value but keeps the slot: how an optimizer updates a
    /// parameter between recordings without changing its identity.
    void set_value(T v) noexcept { value_ = v; }

    [[nodiscard]] constexpr slot_index slot() const noexcept { return slot_; }

    /// False for a default-constructed (passive) var.
    [[nodiscard]] constexpr bool is_active() const noexcept { return slot_ != 0; }

    /// How this var's mark differs from the current one of `t`, without a
    /// branch, for loops over many vars: or-ed over them, it goes to
    /// tape::surely_hold_all, and check_on decides when that fails (always
    /// in the checked build, whose vars carry no mark).
    [[nodiscard]] std::uint32_t mark_difference_on([[maybe_unused]] const tape<T>& t) const noexcept
    {
        if constexpr (checked_build)
            return ~std::uint32_t{0};
        else
            return mark_and_only_ ^ t.recording_mark();
    }

    /// Throws tape_error unless this var belongs to the current recording of
    /// `t`: recorded on `t`, and not dropped by a rewind or clear since.
    void check_on(const tape<T>& t) const
    {
        if constexpr (checked_build) {
            if (slot_ == 0)
                return;
            if (stamp_.owner != &t)
                throw tape_error("etape: var (slot " + std::to_string(slot_) +
                                 ") belongs to another tape than the one it is used on (another thread's, or "
                                 "an inactive scope's)");
            if (!t.holds(slot_, stamp_.epoch))
                throw tape_error("etape: var (slot " + std::to_string(slot_) +
                                 ") is used after its recording was rewound or cleared");
        } else if (!t.surely_holds(slot_, mark())) [[unlikely]] {
            t.require_held(slot_, mark());
        }
    }

    /// check_on for an operand of a statement on `t`, whose recording_mark()
    /// the statement read once (detail::check_operands): one comparison for
    /// a var of the current recording (a copy in an expression carries its
    /// mark alone; an only var, its mark and only_bit, decided by check_on).
    [[gnu::always_inline]] void check_operand_on(const tape<T>& t, std::uint32_t mark_now) const
    {
        if constexpr (checked_build)
            check_on(t);
        else if (mark_and_only_ != mark_now) [[unlikely]]
            check_on(t);
    }

    /// Expression interface: this leaf is one var.
    template <class F>
    [[gnu::always_inline]] void for_each_var(F& f) const
    {
        f(*this);
    }

    /// Expression interface: this leaf's operand is its own slot.
    template <class Writer>
    [[gnu::always_inline]] void record(Writer& w, T multiplier) const
    {
        if constexpr (requires { w.note_value(value_); })
            w.note_value(value_); // anomaly mode's collector
        w.push(slot_, multiplier);
    }

private:
    template <class E>
    void assign(const E& e)
    {
        tape<T>& t = active_tape<T>();
        detail::check_operands(t, e);
        const T v = e.value();
        slot_ = t.record_statement(E::operand_count, [&](T* partials, slot_index* slots) {
            detail::operand_writer<T> w{partials, slots};
            e.record(w, T(1));
        });
        if (t.detecting_anomalies()) [[unlikely]]
            t.note_statement(slot_, &detail::describe_expression<E>, [&](auto& collector) { e.record(collector, T(1)); });
        value_ = v;
        stamp(t, only_bit);
    }

    /// z += x (Add) or z -= x by appending x's operands, their partials
    /// negated for -=, to the statement of z's slot: z's partials stay those
    /// of its statement and gain x's, as the statement z_old + x would give
    /// them. False, recording nothing, when the tape cannot extend it.
    template <bool Add, class X>
    [[gnu::always_inline]] bool extend(const X& x)
    {
        tape<T>& t = active_tape<T>();
        if constexpr (checked_build) {
            if (!only_var_of_slot())
                return false;
            check_on(t);
        } else if (mark_and_only_ != (t.recording_mark() | only_bit)) {
            // shared, or not surely of this recording (a var of an older
            // one is never its last statement's): the plain statement
            // decides, and throws if this var is not held
            return false;
        }
        const auto write = [&](T* partials, slot_index* slots) {
            if constexpr (expression<X>) {
                detail::operand_writer<T> w{partials, slots};
                x.record(w, Add ? T(1) : T(-1));
            }
        };
        constexpr std::size_t count = [] {
            if constexpr (expression<X>)
                return X::operand_count;
            else
                return std::size_t{0};
        }();
        if constexpr (std::same_as<X, var>)
            if (x.slot_ == slot_)
                return false; // z += z: taken by reference, so not marked as a copy
        if constexpr (expression<X>)
            detail::check_operands(t, x);
        if (!t.extend_statement(slot_, count, write))
            return false;
        const T v = static_cast<T>(etape::value(x));
        value_ = Add ? value_ + v : value_ - v;
        return true;
    }

    void share() const noexcept
    {
        if (mark_and_only_ & only_bit) // a test first: model parameters are read by several threads at once
            mark_and_only_ &= ~only_bit; // the whole word: a later load of it is forwarded the store
    }

    void register_input(tape<T>& t)
    {
        slot_ = t.new_input();
        stamp(t, 0);
    }

    /// Marks this var as made now on `t`; `only` is only_bit when it is
    /// its slot's only var, else 0.
    void stamp(const tape<T>& t, std::uint32_t only) noexcept
    {
        if constexpr (checked_build) {
            stamp_ = {&t, t.epoch_of(slot_)};
            mark_and_only_ = only;
        } else {
            mark_and_only_ = t.recording_mark() | only;
        }
    }

    T value_ = T(0);
    slot_index slot_ = 0;
    // Bit 0: this var is the only one of its slot (see the class comment).
    // Bits 1 to 31: the mark of its recording (tape::recording_mark; not in
    // the checked build). In one word, in what was var's padding.
    static constexpr std::uint32_t only_bit = 1;
    [[nodiscard]] bool only_var_of_slot() const noexcept { return (mark_and_only_ & only_bit) != 0; }
    [[nodiscard]] std::uint32_t mark() const noexcept { return mark_and_only_ & ~only_bit; }
    mutable std::uint32_t mark_and_only_ = 0;
    [[no_unique_address]] detail::checked_stamp_for<T> stamp_{};
};

/// Makes vars[i] a new independent input with value values[i], all on
/// consecutive slots of the active tape, registered at once: the fast way to
/// (re)register a model's parameters or a function's inputs.
template <class T>
void register_inputs(std::span<var<T>> vars, std::span<const T> values)
{
    if (vars.size() != values.size())
        throw std::invalid_argument("etape::register_inputs: " + std::to_string(vars.size()) + " vars for " +
                                    std::to_string(values.size()) + " values");
    tape<T>& t = active_tape<T>();
    const slot_index first = t.new_inputs(vars.size());
    const auto stamp = var<T>::stamp_of(t, first);
    for (std::size_t i = 0; i < vars.size(); ++i)
        vars[i] = var<T>::with_stamp(static_cast<slot_index>(first + i), values[i], stamp);
}

template <class T>
void register_inputs(std::vector<var<T>>& vars, const std::vector<T>& values)
{
    register_inputs(std::span<var<T>>(vars), std::span<const T>(values));
}

} // namespace etape
