// fmt formatters for var, tape_stats and the gradient checker's report.
#include "support/check.hpp"

TEST_CASE("a var formats as its value, with the value's format spec")
{
    const etape::var<double> x = 0.125;
    CHECK(fmt::format("{}", x) == "0.125");
    CHECK(fmt::format("{:.2f}", x) == "0.12");
    CHECK(fmt::format("{:>8.3f}", etape::var<float>(2.5f)) == "   2.500");
}

TEST_CASE("tape statistics format as a line")
{
    etape::tape_scope<double> scope;
    etape::var<double> x = 1.0;
    const etape::var<double> y = x * x + 1;
    (void)y;
    CHECK(fmt::format("{}", scope.get().stats()) == "2 slots, 1 statements, 2 operands, 0 nodes, 36 bytes");
}
