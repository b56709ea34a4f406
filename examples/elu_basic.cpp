// The request that started etape: an ELU with a custom alpha that activates
// values and measures the gradient from an activated value and the incoming
// error, without any tape. Then the same gradient from the tape, to compare.
#include <vector>

#include <etape/scalar.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

int main()
{
    const etape::elu_activation<double> elu(0.5);
    const std::vector<double> inputs{1, 0, -1, -2};
    const double error = 0.5;

    const std::vector<double> activated = elu.activate(inputs);
    const std::vector<double> gradients = elu.measure(activated, error);

    fmt::print("alpha     = {}\n", elu.alpha());
    fmt::print("inputs    = {}\n", inputs);
    fmt::print("activated = [{:.6f}]\n", fmt::join(activated, ", "));
    fmt::print("error     = {}\n", error);
    fmt::print("gradients = [{:.6f}]\n", fmt::join(gradients, ", "));

    // The tape agrees: d(error * elu(x))/dx for each input.
    std::vector<double> from_tape;
    for (const double x0 : inputs) {
        etape::var<double> x = x0;
        const etape::var<double> y = error * etape::elu(x, 0.5);
        from_tape.push_back(etape::gradient(y, x)[0]);
    }
    fmt::print("from tape = [{:.6f}]\n", fmt::join(from_tape, ", "));
    return from_tape == gradients ? 0 : 1;
}
