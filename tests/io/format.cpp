// fmt formatters for var, tape_stats and the gradient checker's report.
#include "support/check.hpp"

TEST_CASE("a var formats as its value, with the value's format spec")
{
    const etape::var<double> x = 0.125;
    CHECK(fmt::format("{}", x) == "0.125");
    CHECK(fmt::format("{:.2f}", x) == "0.12");
    CHECK(fmt::format("{:>8.3f}", etape::var<float>(2.5f)) == "   2.500");
    CHECK(fmt::format("{:+.3e}", etape::var<long double>(-1.5L)) == "-1.500e+00");
    CHECK(fmt::format("{:*^9}|{}", x, 7) == "**0.125**|7"); // the next field gets the next argument
}

TEST_CASE("a var takes its width and precision from other arguments, by position or in order")
{
    const etape::var<double> x = 0.125;
    CHECK(fmt::format("{:{}}", x, 8) == "   0.125");
    CHECK(fmt::format("{:.{}f}", x, 1) == "0.1");
    CHECK(fmt::format("{:>{}.{}f}|{}", x, 7, 2, 5) == "   0.12|5");
    CHECK(fmt::format("{1:{0}.{2}f}|{0}", 6, x, 3) == " 0.125|6");
    CHECK(fmt::format("{:{}}{:{}}", x, 6, etape::var<float>(1.0f), 2) == " 0.125 1");
}

TEST_CASE("a var's format spec that cannot apply is a format_error")
{
    const etape::var<double> x = 0.125;
    const auto message = [&](std::string_view spec, auto... arguments) { // the error's, or the text
        try {
            return fmt::format(fmt::runtime(spec), x, arguments...);
        } catch (const fmt::format_error& e) {
            return std::string(e.what());
        }
    };
    CHECK(message("{:q}") == "invalid type specifier");
    CHECK(message("{:{}}", -3) == "etape: a width or precision is negative");
    CHECK(message("{:{}}", 2.5) == "etape: a width or precision is not an integer");
    CHECK(message("{:{w}}", fmt::arg("w", 3)) == "etape: a width or precision must name its argument by number");
    CHECK(message("{:>{}.{}}", 1, 2) == "0.12"); // the same spec with valid arguments
}

TEST_CASE("tape statistics format as a line")
{
    etape::tape_scope<double> scope;
    etape::var<double> x = 1.0;
    const etape::var<double> y = x * x + 1;
    (void)y;
    CHECK(fmt::format("{}", scope.get().stats()) == "2 slots, 1 statement, 2 operands, 0 nodes, 36 bytes");
}
