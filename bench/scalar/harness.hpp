// etape_bench_scalar's table: its cases (cases.hpp), the shared interface
// of an implementation (../common/gradient_harness.hpp), and the function by
// which each implementation's translation unit adds its entries.
#pragma once

#include "../common/gradient_harness.hpp"
#include "cases.hpp"

namespace etape_bench {

void add_reference_impls(const suite& cases, entry_table& table); // plain, hand
void add_etape_impl(const suite& cases, entry_table& table);
#if ETAPE_BENCH_HAVE_SACADO
void add_sacado_impl(const suite& cases, entry_table& table);
#endif
#if ETAPE_BENCH_HAVE_ADOLC
void add_adolc_impl(const suite& cases, entry_table& table);
#endif

} // namespace etape_bench
