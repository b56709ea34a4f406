// etape_bench_sim's table: its cases (sim_cases.hpp), the shared interface
// of an implementation (../common/gradient_harness.hpp), and the function by
// which each implementation's translation unit adds its entries.
#pragma once

#include "../common/gradient_harness.hpp"
#include "sim_cases.hpp"

namespace etape_bench::sim {

void add_hand_impl(const suite& cases, entry_table& table);
void add_etape_impls(const suite& cases, entry_table& table); // etape, etape_stencil, etape_checkpointed
#if ETAPE_BENCH_HAVE_SACADO
void add_sacado_impl(const suite& cases, entry_table& table);
#endif

} // namespace etape_bench::sim
