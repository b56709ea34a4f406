// The references: "plain" (the case's template on double: the value only)
// and "hand" (the hand-written adjoint: value and full gradient).
#include "harness.hpp"

namespace etape_bench {

void add_reference_impls(const suite& cases, entry_table& table)
{
    add_engine<plain_runner>(cases, "plain", table, /*computes_gradient=*/false);
    add_engine<hand_runner>(cases, "hand", table);
}

} // namespace etape_bench
