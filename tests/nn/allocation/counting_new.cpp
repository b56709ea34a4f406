// The global operator new of etape_tests_nn_allocation, counting each call
// (see counting_new.hpp).
#include <atomic>
#include <cstdlib>
#include <new>

#include "counting_new.hpp"

namespace {
std::atomic<long> count{0};
}

long etape_test::allocations() noexcept { return count.load(); }

void* operator new(std::size_t size)
{
    ++count;
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
