// The thread-local active tape and the RAII scope that switches it.
// Layer: core (vars record on the active tape of their thread).
#pragma once

#include <optional>

#include <etape/core/tape.hpp>

namespace etape {

namespace detail {

/// Each thread starts with its own default tape per value type.
template <class T>
tape<T>& default_tape()
{
    thread_local tape<T> t;
    return t;
}

/// The thread's active tape; null means "the default tape".
template <class T>
inline thread_local tape<T>* active_tape_pointer = nullptr;

} // namespace detail

/// The tape that vars of type T record on in this thread.
template <class T>
[[nodiscard]] tape<T>& active_tape()
{
    tape<T>* t = detail::active_tape_pointer<T>;
    if (t == nullptr) [[unlikely]] {
        t = &detail::default_tape<T>();
        detail::active_tape_pointer<T> = t;
    }
    return *t;
}

/// Makes a tape active for this thread until the scope ends, then restores
/// the previous one. Either uses a tape the caller owns or owns a fresh one.
template <class T>
class tape_scope {
public:
    /// Activates a fresh tape owned by the scope.
    explicit tape_scope(const tape_limits& limits = {})
        : owned_(std::in_place, limits), tape_(&*owned_), previous_(activate(*owned_))
    {
    }

    /// Activates `t`, which must outlive the scope.
    explicit tape_scope(tape<T>& t) : tape_(&t), previous_(activate(t)) {}

    tape_scope(const tape_scope&) = delete;
    tape_scope& operator=(const tape_scope&) = delete;
    ~tape_scope() { detail::active_tape_pointer<T> = previous_; }

    /// The tape this scope activated.
    [[nodiscard]] tape<T>& get() noexcept { return *tape_; }

private:
    static tape<T>* activate(tape<T>& t)
    {
        tape<T>* previous = detail::active_tape_pointer<T>;
        detail::active_tape_pointer<T> = &t;
        return previous;
    }

    std::optional<tape<T>> owned_;
    tape<T>* tape_;
    tape<T>* previous_;
};

} // namespace etape
