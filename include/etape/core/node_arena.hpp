// Bump allocator for the payloads of tape nodes (fused kernels, external
// functions) and their scratch memory (tensor values, saved data): a stack
// of blocks that a rewind gives back and the next recording reuses.
// Layer: core (storage under the tape).
//
// Blocks [0, current] hold the live recording; every block after the
// current one is free. An allocation that does not fit the rest of the
// current block takes the smallest free block that holds it, moved to just
// after the current one; it obtains a fresh block from the system when no
// free block is large enough, and when it is small (up to the standard
// block size) and only large blocks are free. So recordings that alternate
// on one tape (a training step and an evaluation pass, each rewinding to
// its own position) settle on the blocks they need, whatever order their
// allocations come in, and touch no fresh memory after that;
// release_unused() gives the free blocks back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace etape::detail {

class node_arena {
public:
    /// Where the next allocation starts; a tape position stores it.
    struct mark {
        std::size_t block = 0;
        std::size_t offset = 0;
        friend bool operator==(const mark&, const mark&) = default;
    };

    [[nodiscard]] mark position() const noexcept { return {current_, offset_}; }

    /// Forgets every allocation made after `m`; the memory is reused.
    void rewind(mark m) noexcept
    {
        current_ = m.block;
        offset_ = m.offset;
    }

    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment)
    {
        if (current_ < blocks_.size())
            if (void* p = take(blocks_[current_], offset_, bytes, alignment))
                return p;
        const std::size_t next = std::min(current_ + 1, blocks_.size()); // the current block may be released
        std::size_t best = free_block_for(bytes, alignment);
        if (best == blocks_.size()) {
            const std::size_t size = std::max(block_size, bytes + alignment);
            blocks_.emplace_back(size);
        }
        std::swap(blocks_[next], blocks_[best]); // free blocks have no order: the chosen one goes next
        current_ = next;
        offset_ = 0;
        return take(blocks_[current_], offset_, bytes, alignment);
    }

    /// The bytes allocate(bytes, alignment) would obtain from the system: 0
    /// when the allocation fits the current block or a free one.
    [[nodiscard]] std::size_t growth_for(std::size_t bytes, std::size_t alignment) const noexcept
    {
        if (fits_current(bytes, alignment) || free_block_for(bytes, alignment) < blocks_.size())
            return 0;
        return std::max(block_size, bytes + alignment);
    }

    /// Frees the blocks that hold nothing: those after the current one, and
    /// the current one when nothing is allocated in it.
    void release_unused() noexcept
    {
        const std::size_t kept = std::min(blocks_.size(), offset_ == 0 ? current_ : current_ + 1);
        blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(kept), blocks_.end());
    }

    /// Bytes held by the arena's blocks.
    [[nodiscard]] std::size_t capacity() const noexcept
    {
        std::size_t total = 0;
        for (const auto& b : blocks_)
            total += b.size;
        return total;
    }

    /// Bytes the live recording takes: the blocks before the current one
    /// (the tail an allocation did not fit in included) and the current
    /// block up to the next allocation.
    [[nodiscard]] std::size_t bytes_in_use() const noexcept
    {
        std::size_t total = current_ < blocks_.size() ? offset_ : 0;
        for (std::size_t k = 0; k < current_ && k < blocks_.size(); ++k)
            total += blocks_[k].size;
        return total;
    }

private:
    static constexpr std::size_t block_size = 64 * 1024;
    /// A block of uninitialised bytes that it owns. Written by hand, not a
    /// std::unique_ptr, so that the scalar engine does not include <memory>
    /// (a fifth of its parse time, docs/compile-time.md).
    struct block {
        explicit block(std::size_t bytes) : data(new std::byte[bytes]), size(bytes) {}
        block(block&& other) noexcept : data(std::exchange(other.data, nullptr)), size(other.size) {}
        block& operator=(block&& other) noexcept
        {
            std::swap(data, other.data);
            std::swap(size, other.size);
            return *this;
        }
        ~block() { delete[] data; }

        std::byte* data;
        std::size_t size;
    };

    [[nodiscard]] bool fits_current(std::size_t bytes, std::size_t alignment) const noexcept
    {
        if (current_ >= blocks_.size())
            return false;
        const block& b = blocks_[current_];
        const std::size_t start = start_in(b, offset_, alignment);
        return start <= b.size && bytes <= b.size - start;
    }

    /// The first offset from `offset` on in `b` at `alignment`.
    [[nodiscard]] static std::size_t start_in(const block& b, std::size_t offset, std::size_t alignment) noexcept
    {
        const auto base = reinterpret_cast<std::uintptr_t>(b.data);
        return (base + offset + alignment - 1) / alignment * alignment - base;
    }

    /// The free block an allocation that does not fit the current one
    /// takes: the smallest that holds it, or blocks_.size() for a fresh
    /// one (none holds it, or it is small and only large ones are free: a
    /// small allocation in a large block would leave the large allocation
    /// that follows it in a later recording without one).
    [[nodiscard]] std::size_t free_block_for(std::size_t bytes, std::size_t alignment) const noexcept
    {
        const std::size_t needed = bytes + alignment; // enough at any alignment of a block's start
        std::size_t best = blocks_.size();
        for (std::size_t i = std::min(current_ + 1, blocks_.size()); i < blocks_.size(); ++i)
            if (blocks_[i].size >= needed && (best == blocks_.size() || blocks_[i].size < blocks_[best].size))
                best = i;
        if (best < blocks_.size() && needed <= block_size && blocks_[best].size > block_size)
            return blocks_.size();
        return best;
    }

    /// `bytes` at `alignment` from `offset` on in `b`, moving `offset` past
    /// them; nullptr when the rest of the block is too small.
    [[nodiscard]] static std::byte* take(block& b, std::size_t& offset, std::size_t bytes,
                                         std::size_t alignment) noexcept
    {
        const std::size_t start = start_in(b, offset, alignment);
        if (start > b.size || bytes > b.size - start)
            return nullptr;
        offset = start + bytes;
        return b.data + start;
    }

    std::vector<block> blocks_;
    std::size_t current_ = 0;
    std::size_t offset_ = 0;
};

} // namespace etape::detail
