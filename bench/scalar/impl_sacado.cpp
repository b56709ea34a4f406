// Sacado's Rad on the scalar cases (../common/sacado_runner.hpp), with
// the ELU the cases call.
#include <cmath>

#include <Sacado_trad.hpp>

#include "../common/sacado_runner.hpp"
#include "harness.hpp"

namespace Sacado::Rad {

/// ELU (alpha = 1) for Rad's expressions, found by argument-dependent
/// lookup from the cases. Written the way Rad adds a function (ADf1: one
/// node with its value and partial), with the same libm call as etape's
/// elu and the plain code (expm1) and the derivative from the output
/// (y + 1), so that the engines compare on equal arithmetic: Rad has no
/// expm1, and exp(x) - 1 would record two nodes and call a cheaper libm
/// function. It returns Rad's node itself, as Rad's own functions do, so
/// no copy node is recorded.
inline const ADvari<double>& elu(const ADvari<double>& x)
{
    if (x.Val > 0)
        return x;
    const double y = std::expm1(x.Val);
    return ADf1(y, y + 1.0, x);
}

} // namespace Sacado::Rad

namespace etape_bench {

void add_sacado_impl(const suite& cases, entry_table& table) { add_engine<sacado_runner>(cases, "sacado", table); }

} // namespace etape_bench
