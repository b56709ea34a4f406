// sacado: Sacado's Rad tape on each case's scalar code
// (../common/sacado_runner.hpp).
#include "../common/sacado_runner.hpp"
#include "sim_harness.hpp"

namespace etape_bench::sim {

void add_sacado_impl(const suite& cases, entry_table& table) { add_engine<sacado_runner>(cases, "sacado", table); }

} // namespace etape_bench::sim
