// sacado: Sacado's Rad tape (ADvar<double>) on each case's scalar code. Each
// iteration makes the inputs new independent ADvars (Rad reuses its memory
// after a Gradcomp), runs the case on them and calls Gradcomp.
#include <vector>

#include <Sacado_trad.hpp>

#include "sim_harness.hpp"

namespace etape_bench_sim {
namespace {

template <class Case>
class sacado_runner final : public gradient_impl {
public:
    using ad = Sacado::Rad::ADvar<double>;

    explicit sacado_runner(const Case& c) : case_(c), x_(c.inputs.size()) {}

    double run(std::span<const double> in, std::span<double> grad) override
    {
        for (std::size_t i = 0; i < in.size(); ++i)
            x_[i] = in[i];
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

} // namespace etape_bench_sim
