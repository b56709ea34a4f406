// The references: "plain" (the case's template on double: the value only)
// and "hand" (the hand-written adjoint: value and full gradient).
#include "harness.hpp"

namespace etape_bench {
namespace {

template <class Case>
class plain_runner final : public gradient_impl {
public:
    explicit plain_runner(const Case& c) : case_(c) {}
    double run(std::span<const double> in, std::span<double> /*grad*/) override { return case_.f(in); }

private:
    const Case& case_;
};

template <class Case>
class hand_runner final : public gradient_impl {
public:
    explicit hand_runner(const Case& c) : case_(c) {}
    double run(std::span<const double> in, std::span<double> grad) override { return case_.hand(in, grad); }

private:
    const Case& case_;
};

} // namespace

void add_reference_impls(const suite& cases, entry_table& table)
{
    add_engine<plain_runner>(cases, "plain", table, /*computes_gradient=*/false);
    add_engine<hand_runner>(cases, "hand", table);
}

} // namespace etape_bench
