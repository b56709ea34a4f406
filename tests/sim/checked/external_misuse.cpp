// The checked build (ETAPE_CHECKED=1) finds an external function's reverse
// callback writing outside its declared inputs' adjoints, and names the
// function and the input; the tape's other adjoints are untouched.
#include <stdexcept>

#include <etape/etape.hpp>
#include <etape/sim/external_function.hpp>

#include <doctest/doctest.h>

static_assert(etape::checked_build, "this file belongs to the checked test program");

TEST_CASE("a reverse callback writing past an input's adjoints is reported, naming the function and the input")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({4}, {1.0, 2.0, 3.0, 4.0}));
    const etape::var<double> s = 3.0;
    for (const int overrun : {1, 5, -1}) {
        CAPTURE(overrun);
        const etape::active_tensor<double> y = etape::sim::external<double>(
            "leaky block", {s, x}, etape::tensor<double>({4}),
            [overrun](const etape::sim::external_adjoints<double>& a) {
                double* xbar = a.input(1).data();
                xbar[overrun < 0 ? overrun : 4 + overrun - 1] = 1.0; // outside [0, 4)
            });
        const etape::var<double> loss = etape::sum(y);
        const std::string expected =
            overrun < 0 ? "etape::sim::external: the reverse of 'leaky block' wrote 1 element before the adjoints "
                          "of its input 1 (4 elements): outside what it declared"
                        : "etape::sim::external: the reverse of 'leaky block' wrote " + std::to_string(overrun) +
                              (overrun == 1 ? " element" : " elements") +
                              " past the end of the adjoints of its input 1 (4 elements): outside what it declared";
        CHECK_THROWS_WITH_AS((void)etape::gradient(loss, x), expected.c_str(), etape::sim::external_function_error);
    }
}

TEST_CASE("a reverse callback that stays inside its inputs adds its adjoints in the checked build")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({2}, {1.0, 2.0}));
    const etape::active_tensor<double> y = etape::sim::external<double>(
        "copy", {x}, x.value(), [](const etape::sim::external_adjoints<double>& a) {
            for (std::size_t i = 0; i < 2; ++i)
                a.input(0)[i] += a.output()[i];
        });
    const auto [g] = etape::gradient(etape::sum(y * x), x); // x twice: y's path and the direct one
    CHECK(g.values()[0] == 2.0);
    CHECK(g.values()[1] == 4.0);
}
