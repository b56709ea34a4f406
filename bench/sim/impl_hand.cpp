// hand: each case's hand-written adjoint (sim_cases.hpp), the baseline.
#include "sim_harness.hpp"

namespace etape_bench_sim {
namespace {

template <class Case>
class hand_runner final : public gradient_impl {
public:
    explicit hand_runner(const Case& c) : case_(c) {}
    double run(std::span<const double> in, std::span<double> grad) override { return case_.hand(in, grad); }

private:
    const Case& case_;
};

} // namespace

void add_hand_impl(const suite& cases, entry_table& table) { add_engine<hand_runner>(cases, "hand", table); }

} // namespace etape_bench_sim
