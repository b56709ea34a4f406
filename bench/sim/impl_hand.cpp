// hand: each case's hand-written adjoint (sim_cases.hpp), the baseline.
#include "sim_harness.hpp"

namespace etape_bench::sim {

void add_hand_impl(const suite& cases, entry_table& table) { add_engine<hand_runner>(cases, "hand", table); }

} // namespace etape_bench::sim
