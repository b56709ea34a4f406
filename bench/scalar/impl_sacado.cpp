// Sacado's Rad (Sacado_trad.hpp, ADvar<double>): the classic operator-
// overloading tape of Gay's RAD. Each iteration makes the inputs new
// independent ADvars (Rad reuses its memory blocks after a Gradcomp, so
// every recording starts afresh), evaluates the case's template on ADvar,
// calls ADvar::Gradcomp() (which seeds the last operation, the output) and
// reads the inputs' adjoints.
#include <cmath>
#include <vector>

#include <Sacado_trad.hpp>

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
namespace {

template <class Case>
class sacado_runner final : public gradient_impl {
public:
    using ad = Sacado::Rad::ADvar<double>;

    explicit sacado_runner(const Case& c) : case_(c), x_(c.inputs.size()) {}

    double run(std::span<const double> in, std::span<double> grad) override
    {
        for (std::size_t i = 0; i < in.size(); ++i)
            x_[i] = in[i]; // a new independent ADvar
        const ad y = case_.f(std::span<const ad>(x_));
        ad::Gradcomp();
        for (std::size_t i = 0; i < in.size(); ++i)
            grad[i] = x_[i].adj();
        return y.val();
    }

private:
    const Case& case_;
    std::vector<ad> x_;
};

} // namespace

void add_sacado_impl(const suite& cases, entry_table& table) { add_engine<sacado_runner>(cases, "sacado", table); }

} // namespace etape_bench
