// What the implementations of the scalar benchmark share: the interface of
// one implementation of one case, and the table main() checks and times.
// Each engine lives in its own translation unit (impl_*.cpp), so that the
// optional ones (Sacado, ADOL-C) are built only where they are installed and
// their headers never meet etape's.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cases.hpp"

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
};

/// One benchmark: a case computed by an implementation.
struct entry {
    std::string case_name;
    std::string impl;                 ///< plain, hand, etape, sacado, adolc
    bool computes_gradient = true;    ///< false for "plain" (the value only)
    const std::vector<double>* inputs = nullptr;
    std::function<std::unique_ptr<gradient_impl>()> make;
};

using entry_table = std::vector<entry>;

/// Adds `Runner<Case>` for every case of the suite under the name `impl`.
template <template <class> class Runner>
void add_engine(const suite& cases, std::string_view impl, entry_table& table, bool computes_gradient = true)
{
    cases.for_each([&](const auto& c) {
        using case_type = std::remove_cvref_t<decltype(c)>;
        table.push_back(entry{c.name, std::string(impl), computes_gradient, &c.inputs,
                              [&c] { return std::make_unique<Runner<case_type>>(c); }});
    });
}

// Each implementation's translation unit adds its entries.
void add_reference_impls(const suite& cases, entry_table& table); // plain, hand
void add_etape_impl(const suite& cases, entry_table& table);
#if ETAPE_BENCH_HAVE_SACADO
void add_sacado_impl(const suite& cases, entry_table& table);
#endif
#if ETAPE_BENCH_HAVE_ADOLC
void add_adolc_impl(const suite& cases, entry_table& table);
#endif

} // namespace etape_bench
