// Memory that grows without copying what it holds: the storage of a tape's
// arrays. Layer: core (storage under the tape).
//
// A block of at least 2 MiB is mapped from the system on Linux (mmap),
// marked for transparent huge pages (madvise MADV_HUGEPAGE, where the
// system allows them only on request), and grown with mremap, which moves
// page-table entries rather than bytes. So a long first recording neither
// copies its arrays each time they double nor takes a page fault every 4
// KiB. Smaller blocks, and every block elsewhere, come from operator new and
// are copied when they grow.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#define ETAPE_GROW_MAPPED 1
#else
#define ETAPE_GROW_MAPPED 0
#endif

namespace etape::detail {

class growable_memory {
public:
    growable_memory() noexcept = default;
    growable_memory(const growable_memory&) = delete;
    growable_memory& operator=(const growable_memory&) = delete;
    growable_memory(growable_memory&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)),
          mapped_(std::exchange(other.mapped_, false))
    {
    }
    growable_memory& operator=(growable_memory&& other) noexcept
    {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            bytes_ = std::exchange(other.bytes_, 0);
            mapped_ = std::exchange(other.mapped_, false);
        }
        return *this;
    }
    ~growable_memory() { release(); }

    [[nodiscard]] void* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

    /// The bytes a block resized to `bytes` holds: mapped blocks are whole
    /// huge pages.
    [[nodiscard]] static constexpr std::size_t rounded(std::size_t bytes) noexcept
    {
#if ETAPE_GROW_MAPPED
        if (bytes >= mapped_threshold)
            return (bytes + mapped_threshold - 1) / mapped_threshold * mapped_threshold;
#endif
        return bytes;
    }

    /// Makes the block `bytes` long (rounded up), keeping its first `kept`
    /// bytes. Throws std::bad_alloc, leaving the block as it was, when the
    /// system has no memory for it.
    void resize(std::size_t bytes, std::size_t kept)
    {
        kept = std::min({kept, bytes, bytes_});
        if (bytes == 0) {
            release();
            return;
        }
#if ETAPE_GROW_MAPPED
        if (bytes >= mapped_threshold) {
            bytes = rounded(bytes);
            if (mapped_) {
                void* moved = mremap(data_, bytes_, bytes, MREMAP_MAYMOVE);
                if (moved == MAP_FAILED)
                    throw std::bad_alloc();
                data_ = moved;
                bytes_ = bytes;
                advise_huge_pages();
                return;
            }
            void* fresh = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (fresh == MAP_FAILED)
                throw std::bad_alloc();
            if (kept > 0)
                std::memcpy(fresh, data_, kept);
            release();
            data_ = fresh;
            bytes_ = bytes;
            mapped_ = true;
            advise_huge_pages();
            return;
        }
#endif
        void* fresh = ::operator new(bytes);
        if (kept > 0)
            std::memcpy(fresh, data_, kept);
        release();
        data_ = fresh;
        bytes_ = bytes;
    }

private:
    static constexpr std::size_t mapped_threshold = std::size_t{2} << 20; // one huge page on x86-64

    void advise_huge_pages() noexcept
    {
#if ETAPE_GROW_MAPPED && defined(MADV_HUGEPAGE)
        (void)madvise(data_, bytes_, MADV_HUGEPAGE); // a hint: without huge pages it still works
#endif
    }

    void release() noexcept
    {
#if ETAPE_GROW_MAPPED
        if (mapped_)
            (void)munmap(data_, bytes_);
        else
#endif
            ::operator delete(data_);
        data_ = nullptr;
        bytes_ = 0;
        mapped_ = false;
    }

    void* data_ = nullptr;
    std::size_t bytes_ = 0;
    bool mapped_ = false;
};

} // namespace etape::detail
