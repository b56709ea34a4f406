// Must not compile, and must say why in one sentence (tests/CMakeLists.txt
// matches it): a statement bound to auto is never recorded, so it has no
// gradient.
#include <etape/etape.hpp>

int main()
{
    etape::var<double> x = 2.0;
    auto y = x * x + etape::elu(x);
    const auto [dx] = etape::gradient(y, x);
    return dx > 0 ? 0 : 1;
}
