// Must not compile, and must say why in one sentence (tests/CMakeLists.txt
// matches it): vars of two precisions record on two tapes.
#include <etape/etape.hpp>

int main()
{
    const etape::var<double> x = 2.0;
    const etape::var<float> f = 1.0f;
    const etape::var<double> y = x * f;
    return y.value() > 0 ? 0 : 1;
}
