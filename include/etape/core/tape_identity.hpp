// The identity each tape puts in the marks of its vars: a number from 1 to
// 255, distinct among the tapes alive at once while there are at most 255
// of them (beyond that, identities are shared). Layer: core.
//
// Eight bits of a var's 32-bit recording mark name its tape (see
// tape::recording_mark), so that a var used on another tape than its own
// (another thread's, an outer or ended tape_scope's) is told apart from the
// tape's own vars. 0 names no tape: a default-constructed var's mark. A new
// tape takes the next free identity after the last one given, so that an
// ended tape's identity comes back only after the other 254 were given: a
// var that outlived its tape is recognised as foreign until then.
#pragma once

#include <atomic>
#include <cstdint>

namespace etape::detail {

class tape_identity {
public:
    tape_identity() noexcept : value_(acquire()) {}
    tape_identity(const tape_identity&) = delete;
    tape_identity& operator=(const tape_identity&) = delete;
    ~tape_identity() { release(value_); }

    /// 1 to 255.
    [[nodiscard]] std::uint32_t value() const noexcept { return value_; }

private:
    static constexpr std::uint32_t count = 255;
    static constexpr std::uint32_t words = 4; // bits for identities 0 to 255; 0 stays unused

    struct registry {
        std::atomic<std::uint64_t> in_use[words]{};
        std::atomic<std::uint32_t> next{0}; // where the search for a free identity starts
    };
    static registry& identities() noexcept
    {
        static registry r;
        return r;
    }

    /// The first identity no living tape holds, from the one after the last
    /// given; when all are held, the next one round-robin (shared).
    static std::uint32_t acquire() noexcept
    {
        registry& r = identities();
        const std::uint32_t start = r.next.fetch_add(1, std::memory_order_relaxed);
        for (std::uint32_t k = 0; k < count; ++k) {
            const std::uint32_t id = 1 + (start + k) % count;
            std::atomic<std::uint64_t>& word = r.in_use[id / 64];
            const std::uint64_t bit = std::uint64_t{1} << (id % 64);
            if ((word.fetch_or(bit, std::memory_order_relaxed) & bit) == 0) {
                r.next.store(start + k + 1, std::memory_order_relaxed);
                return id;
            }
        }
        return 1 + start % count;
    }

    /// Frees `id`. Where more than 255 tapes lived at once and shared it, a
    /// later tape may share it again: sharing only blunts the check between
    /// the tapes that share.
    static void release(std::uint32_t id) noexcept
    {
        identities().in_use[id / 64].fetch_and(~(std::uint64_t{1} << (id % 64)), std::memory_order_relaxed);
    }

    std::uint32_t value_;
};

} // namespace etape::detail
