// With mixed_modes_unchecked.cpp: one program, two ETAPE_CHECKED modes. It
// must stop before main with a message naming the mismatch (tests/CMakeLists.txt).
#define ETAPE_CHECKED 1
#include <etape/etape.hpp>

double checked_gradient()
{
    etape::var<double> x = 2.0;
    const etape::var<double> y = x * x;
    return etape::gradient(y, x)[0];
}
