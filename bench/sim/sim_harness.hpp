// What the implementations of etape_bench_sim share: one implementation of
// one case, and the table main() checks and times. Each engine lives in its
// own translation unit (impl_*.cpp), so that Sacado, where it is installed,
// never meets etape's headers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sim_cases.hpp"

namespace etape_bench_sim {

/// Value and gradient of one case by one implementation: made once per
/// benchmark, then called every iteration.
class gradient_impl {
public:
    gradient_impl() = default;
    gradient_impl(const gradient_impl&) = delete;
    gradient_impl& operator=(const gradient_impl&) = delete;
    virtual ~gradient_impl() = default;

    /// Returns the loss at `in` and writes its gradient into `grad`.
    virtual double run(std::span<const double> in, std::span<double> grad) = 0;

    /// Bytes the last run held for its gradient (a tape's recording,
    /// snapshots), reported as the counter stored_bytes; 0: not measured.
    [[nodiscard]] virtual std::size_t stored_bytes() const { return 0; }
};

struct entry {
    std::string case_name;
    std::string impl; ///< hand, etape, etape_stencil, etape_checkpointed, sacado
    const std::vector<double>* inputs = nullptr;
    std::function<std::unique_ptr<gradient_impl>()> make;
};

using entry_table = std::vector<entry>;

/// Adds `Runner<Case>` for every case of the suite under the name `impl`.
template <template <class> class Runner>
void add_engine(const suite& cases, std::string_view impl, entry_table& table)
{
    cases.for_each([&](const auto& c) {
        using case_type = std::remove_cvref_t<decltype(c)>;
        table.push_back(entry{c.name, std::string(impl), &c.inputs,
                              [&c] { return std::make_unique<Runner<case_type>>(c); }});
    });
}

void add_hand_impl(const suite& cases, entry_table& table);
void add_etape_impls(const suite& cases, entry_table& table); // etape, etape_stencil, etape_checkpointed
#if ETAPE_BENCH_HAVE_SACADO
void add_sacado_impl(const suite& cases, entry_table& table);
#endif

} // namespace etape_bench_sim
