// etape: the case's plain scalar code on var<double>, recorded, its
// gradient read and the tape rewound each iteration
// (../common/etape_scalar_runner.hpp).
#include "../common/etape_scalar_runner.hpp"
#include "harness.hpp"

namespace etape_bench {

void add_etape_impl(const suite& cases, entry_table& table) { add_engine<etape_scalar_runner>(cases, "etape", table); }

} // namespace etape_bench
