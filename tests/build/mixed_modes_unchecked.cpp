// With mixed_modes_checked.cpp: see there.
#define ETAPE_CHECKED 0
#include <cstdio>

#include <etape/etape.hpp>

double checked_gradient();

int main()
{
    etape::var<double> x = 3.0;
    const etape::var<double> y = x * x;
    std::printf("reached main: %g and %g\n", etape::gradient(y, x)[0], checked_gradient());
    return 0;
}
