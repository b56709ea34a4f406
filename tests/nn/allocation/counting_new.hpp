// The count of heap allocations so far, for the networks' no-allocation
// tests: counting_new.cpp replaces the global operator new of this binary.
#pragma once

namespace etape_test {

/// Calls of the global operator new since the program started.
long allocations() noexcept;

} // namespace etape_test
