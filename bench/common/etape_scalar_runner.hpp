// etape on a case's plain scalar code: each run registers the inputs on the
// thread's active tape (etape::register_inputs, one batch), records the
// case's template on var<double>, writes the gradient into the caller's
// buffer with etape::gradient_into, and rewinds the tape to the position
// saved before the inputs, so the next run reuses the tape's memory.
#pragma once

#include <span>
#include <vector>

#include <etape/etape.hpp>

#include "gradient_harness.hpp"

namespace etape_bench {

template <class Case>
class etape_scalar_runner final : public gradient_impl {
public:
    using var = etape::var<double>;

    explicit etape_scalar_runner(const Case& c)
        : case_(c), tape_(etape::active_tape<double>()), start_(tape_.position()), x_(c.inputs.size())
    {
    }

    double run(std::span<const double> in, std::span<double> grad) override
    {
        etape::register_inputs(std::span<var>(x_), in); // new independent inputs, at once
        const std::span<const var> x(x_);
        const var y = case_.f(x);
        etape::gradient_into(y, x, grad);
        tape_.rewind(start_);
        return y.value();
    }

private:
    const Case& case_;
    etape::tape<double>& tape_;
    etape::tape_position start_;
    std::vector<var> x_;
};

} // namespace etape_bench
