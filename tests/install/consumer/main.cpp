#include <etape/etape.hpp>
#include <fmt/core.h>

int main()
{
    etape::var<double> x = 0.25;
    const etape::var<double> y = x * x + etape::elu(x);
    const auto [dx] = etape::gradient(y, x);
    fmt::print("d/dx = {}\n", dx);
}
