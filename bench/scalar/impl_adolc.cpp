// ADOL-C (adouble, trace_on/trace_off, gradient()). Each iteration re-tapes
// (trace_on, <<= the inputs, the case's template on adouble, >>= the
// output, trace_off), like the other engines, which re-record every
// iteration, and then calls the gradient() driver. gradient() replays the
// tape forward (zos_forward, keeping the values) and runs fos_reverse: that
// replay is part of ADOL-C's cost here, as it is for any ADOL-C user who
// re-tapes. The tape's buffers are sized once, from a first recording, to
// what the tape needs: in memory (ADOL-C writes a tape that outgrows its
// buffers to files; the runner checks that none was written), and no larger
// (trace_on allocates them on every recording, so ADOL-C's defaults, half a
// million entries per buffer, would make it pay for memory it never uses).
#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <adolc/adolc.h>

#include "harness.hpp"

/// ELU (alpha = 1) for adouble, found by argument-dependent lookup (ADOL-C's
/// types live in the global namespace). The tape is re-recorded every
/// iteration, so branching on the value is exact. ADOL-C has no expm1 (and
/// adding an operation takes an external function, far heavier), so this
/// is exp(x) - 1: two operations and libm's exp where etape, Sacado and the
/// plain code call expm1 once.
inline adouble elu(const badouble& x)
{
    adouble y;
    if (x > 0.0)
        y = x;
    else
        y = exp(x) - 1.0;
    return y;
}

namespace etape_bench {
namespace {

/// A fresh tape number: ADOL-C keeps a tape's buffers between trace_on calls
/// on the same number, so every runner (and its sizing run) gets its own.
short fresh_tag()
{
    static short last = 0;
    return ++last;
}

template <class Case>
class adolc_runner final : public gradient_impl {
public:
    explicit adolc_runner(const Case& c) : case_(c), x_(c.inputs.size())
    {
        // A first recording, on a scratch tape with generous buffers, gives
        // the tape's sizes; the runner's own tape gets buffers that hold just
        // that (plus room for ADOL-C's end-of-tape records).
        const short scratch = fresh_tag();
        constexpr unsigned generous = 1U << 23;
        record(scratch, c.inputs, generous, generous, generous, generous);
        std::array<std::size_t, STAT_SIZE> stats{};
        tapestats(scratch, stats.data());
        removeTape(scratch, ADOLC_REMOVE_COMPLETELY);
        const auto room = [](std::size_t needed) { return static_cast<unsigned>(needed + 1024); };
        op_buffer_ = room(stats[NUM_OPERATIONS]);
        loc_buffer_ = room(stats[NUM_LOCATIONS]);
        val_buffer_ = room(stats[NUM_VALUES]);
        taylor_buffer_ = room(stats[TAY_STACK_SIZE]);

        std::vector<double> grad(c.inputs.size());
        run(c.inputs, grad);
        tapestats(tag_, stats.data());
        if (stats[OP_FILE_ACCESS] != 0 || stats[LOC_FILE_ACCESS] != 0 || stats[VAL_FILE_ACCESS] != 0) {
            std::fprintf(stderr, "etape_bench_scalar: ADOL-C wrote the tape of %s to files despite its buffer sizes\n",
                         c.name.c_str());
            std::abort();
        }
    }

    ~adolc_runner() override { removeTape(tag_, ADOLC_REMOVE_COMPLETELY); }

    double run(std::span<const double> in, std::span<double> grad) override
    {
        const double value = record(tag_, in, op_buffer_, loc_buffer_, val_buffer_, taylor_buffer_);
        if (::gradient(tag_, static_cast<int>(in.size()), in.data(), grad.data()) < 0) {
            std::fprintf(stderr, "etape_bench_scalar: ADOL-C gradient() failed on %s\n", case_.name.c_str());
            std::abort();
        }
        return value;
    }

private:
    double record(short tag, std::span<const double> in, unsigned ops, unsigned locs, unsigned vals, unsigned taylors)
    {
        trace_on(tag, 0, ops, locs, vals, taylors);
        for (std::size_t i = 0; i < in.size(); ++i)
            x_[i] <<= in[i];
        adouble y = case_.f(std::span<const adouble>(x_));
        double value = 0;
        y >>= value;
        trace_off();
        return value;
    }

    const Case& case_;
    const short tag_ = fresh_tag();
    std::vector<adouble> x_;
    unsigned op_buffer_ = 0;
    unsigned loc_buffer_ = 0;
    unsigned val_buffer_ = 0;
    unsigned taylor_buffer_ = 0;
};

} // namespace

void add_adolc_impl(const suite& cases, entry_table& table) { add_engine<adolc_runner>(cases, "adolc", table); }

} // namespace etape_bench
