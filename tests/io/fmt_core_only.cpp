// Every formatter of etape in a program that includes only <fmt/core.h>
// besides etape: it must compile, link and print the same text as with
// <fmt/format.h>. It links only if etape's formatters write through
// libfmt's compiled functions: a GCC-built libfmt (Debian's) names its
// instantiation of fmt's format_to engine differently from Clang, so a call
// of fmt::format_to here fails to link under Clang (the sanitizer build).
// No doctest: its header includes more of fmt's.
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include <etape/etape.hpp>

namespace {

int failures = 0;

void expect(std::string_view what, const std::string& got, std::string_view expected)
{
    if (got != expected) {
        std::fprintf(stderr, "%.*s: got \"%s\", expected \"%.*s\"\n", static_cast<int>(what.size()), what.data(),
                     got.c_str(), static_cast<int>(expected.size()), expected.data());
        ++failures;
    }
}

} // namespace

int main()
{
    etape::tape_scope<double> scope;
    etape::var<double> x = 0.125;
    expect("var", fmt::format("{:>{}.2f}", x, 6), "  0.12");
    const etape::var<double> y = x * x;
    (void)y;
    expect("tape_stats", fmt::format("{}", scope.get().stats()), "2 slots, 1 statement, 2 operands, 0 nodes, 36 bytes");

    etape::gradient_check_report<double> report;
    report.passed = true;
    expect("gradient_check_report", fmt::format("{}", report), "gradient check passed: no inputs");

    const etape::tensor<double> t(etape::shape{2, 2}, {1, 2, 3, 4});
    expect("shape", fmt::format("{}", t.shape()), "[2, 2]");
    expect("tensor", fmt::format("{:.1f}", t), "tensor<double> [2, 2]\n[[1.0, 2.0],\n [3.0, 4.0]]");

    if (failures == 0)
        std::puts("every formatter links and prints with <fmt/core.h> only");
    return failures == 0 ? 0 : 1;
}
