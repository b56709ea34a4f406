// Bump allocator for the payloads of tape nodes (fused kernels, external
// functions): blocks are kept and reused after a rewind.
// Layer: core (storage under the tape).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
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
        for (;;) {
            if (current_ < blocks_.size()) {
                const std::size_t start = (offset_ + alignment - 1) / alignment * alignment;
                if (start + bytes <= blocks_[current_].size) {
                    offset_ = start + bytes;
                    return blocks_[current_].data.get() + start;
                }
                if (current_ + 1 < blocks_.size() && blocks_[current_ + 1].size >= bytes + alignment) {
                    ++current_;
                    offset_ = 0;
                    continue;
                }
            }
            // No block after the current one fits: insert a fresh block here.
            const std::size_t size = std::max(block_size, bytes + alignment);
            const std::size_t at = blocks_.empty() ? 0 : current_ + 1;
            blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(at),
                           block{std::make_unique_for_overwrite<std::byte[]>(size), size});
            current_ = at;
            offset_ = 0;
        }
    }

    /// Bytes held by the arena's blocks.
    [[nodiscard]] std::size_t capacity() const noexcept
    {
        std::size_t total = 0;
        for (const auto& b : blocks_)
            total += b.size;
        return total;
    }

private:
    static constexpr std::size_t block_size = 64 * 1024;
    struct block {
        std::unique_ptr<std::byte[]> data;
        std::size_t size;
    };
    std::vector<block> blocks_;
    std::size_t current_ = 0;
    std::size_t offset_ = 0;
};

} // namespace etape::detail
