// Sacado's Rad (Sacado_trad.hpp, ADvar<double>): the classic operator-
// overloading tape of Gay's RAD. Each run makes the inputs new independent
// ADvars (Rad reuses its memory blocks after a Gradcomp, so every recording
// starts afresh), evaluates the case's template on ADvar, calls
// ADvar::Gradcomp() (which seeds the last operation, the output) and reads
// the inputs' adjoints.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <Sacado_trad.hpp>

#include "gradient_harness.hpp"

namespace etape_bench {

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

} // namespace etape_bench
