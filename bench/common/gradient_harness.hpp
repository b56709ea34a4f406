// What the gradient benchmarks (etape_bench_scalar, etape_bench_sim) share:
// the interface of one implementation of one case, the table of (case,
// implementation) that main() checks and times, and the two references every
// suite has. A suite is a class with `for_each(f)` over its cases; a case has
// `name`, `inputs`, `f` (a template on the scalar type) and `hand` (its
// hand-written adjoint). Each engine lives in a translation unit of its own,
// so that the optional ones (Sacado, ADOL-C) are built only where they are
// installed and their headers never meet etape's.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace etape_bench {

/// Value and gradient of one case by one implementation. Made once per
/// benchmark (input vectors, tape positions), then called every iteration.
class gradient_impl {
public:
    gradient_impl() = default;
    gradient_impl(const gradient_impl&) = delete;
    gradient_impl& operator=(const gradient_impl&) = delete;
    virtual ~gradient_impl() = default;

    /// Returns f(in) and writes d f / d in into `grad` (same size as `in`).
    virtual double run(std::span<const double> in, std::span<double> grad) = 0;

    /// Bytes the last run held for its gradient (a tape's recording,
    /// snapshots), reported as the counter stored_bytes; 0: not measured.
    [[nodiscard]] virtual std::size_t stored_bytes() const { return 0; }
};

/// One benchmark: a case computed by an implementation.
struct entry {
    std::string case_name;
    std::string impl;              ///< plain, hand, etape, sacado, ...
    bool computes_gradient = true; ///< false for "plain" (the value only)
    const std::vector<double>* inputs = nullptr;
    std::function<std::unique_ptr<gradient_impl>()> make;
};

using entry_table = std::vector<entry>;

/// Adds `Runner<Case>` for every case of the suite under the name `impl`.
template <template <class> class Runner, class Suite>
void add_engine(const Suite& cases, std::string_view impl, entry_table& table, bool computes_gradient = true)
{
    cases.for_each([&](const auto& c) {
        using case_type = std::remove_cvref_t<decltype(c)>;
        table.push_back(entry{c.name, std::string(impl), computes_gradient, &c.inputs,
                              [&c] { return std::make_unique<Runner<case_type>>(c); }});
    });
}

/// "plain": the case's template on double, the value only.
template <class Case>
class plain_runner final : public gradient_impl {
public:
    explicit plain_runner(const Case& c) : case_(c) {}
    double run(std::span<const double> in, std::span<double> /*grad*/) override { return case_.f(in); }

private:
    const Case& case_;
};

/// "hand": the case's hand-written adjoint, value and full gradient; the
/// reference every other implementation is checked against.
template <class Case>
class hand_runner final : public gradient_impl {
public:
    explicit hand_runner(const Case& c) : case_(c) {}
    double run(std::span<const double> in, std::span<double> grad) override { return case_.hand(in, grad); }

private:
    const Case& case_;
};

} // namespace etape_bench
