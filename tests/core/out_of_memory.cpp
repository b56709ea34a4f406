// A recording that runs out of memory throws std::bad_alloc before writing
// anything partial, and the tape stays usable: a gradient of what was
// recorded before, and new recordings after a rewind. This binary lowers
// its own address-space limit (setrlimit RLIMIT_AS, as `ulimit -v` does),
// so it stands alone, and the sanitizer build leaves it out (its shadow
// memory needs terabytes of address space).
#include <sys/resource.h>

#include <cstddef>
#include <fstream>
#include <new>

#include "support/check.hpp"

namespace {

/// The address space this process maps now, in bytes (/proc/self/statm).
std::size_t mapped_bytes()
{
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    REQUIRE(pages > 0);
    return pages * 4096;
}

/// Lowers this process's address-space limit to `bytes` more than it maps.
void limit_address_space_to(std::size_t more)
{
    rlimit limit{};
    REQUIRE(getrlimit(RLIMIT_AS, &limit) == 0);
    limit.rlim_cur = mapped_bytes() + more;
    REQUIRE(setrlimit(RLIMIT_AS, &limit) == 0);
}

} // namespace

TEST_CASE("out of memory while recording: bad_alloc, nothing partial, and the tape still gives gradients")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& tape = scope.get();
    etape::var<double> a = 0.5, b = -0.25;
    const etape::var<double> base = etape::elu(a * b + b) * a;
    const auto [da, db] = etape::gradient(base, a, b);
    const etape::tape_position start = tape.position();

    limit_address_space_to(std::size_t{256} << 20);
    etape::var<double> y = 0.75;
    std::size_t recorded = 0;
    bool ran_out = false;
    try {
        for (;;) { // 40 bytes a statement: a few million statements reach the limit
            const etape::tape_stats before = tape.stats();
            try {
                y = etape::elu(a * y + b);
            } catch (const std::bad_alloc&) {
                // nothing of the failed statement was written
                CHECK(tape.stats().statements == before.statements);
                CHECK(tape.stats().operands == before.operands);
                CHECK(tape.stats().slots == before.slots);
                throw;
            }
            ++recorded;
        }
    } catch (const std::bad_alloc&) {
        ran_out = true;
    }
    REQUIRE(ran_out);
    CHECK(recorded > 100000);
    CHECK(tape.stats().statements == 1 + recorded); // base's statement and every one that completed

    tape.rewind(start);
    const auto [da_after, db_after] = etape::gradient(base, a, b);
    CHECK(da_after == da);
    CHECK(db_after == db);

    // Recording goes on on the memory the tape kept.
    etape::var<double> z = 0.75;
    for (int i = 0; i < 1000; ++i)
        z = etape::elu(a * z + b);
    const auto [dz_da] = etape::gradient(z, a);
    CHECK(std::isfinite(dz_da));
    CHECK(dz_da != 0.0);
}
