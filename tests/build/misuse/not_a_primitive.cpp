// Must not compile, and must say why in one sentence (tests/CMakeLists.txt
// matches it): a struct passed to etape::apply as a primitive lacks what a
// unary primitive has (here `partial`, and `source`).
#include <etape/etape.hpp>

struct half_op {
    template <class T>
    T primal(T x) const
    {
        return x / 2;
    }
};

int main()
{
    const etape::var<double> x = 2.0;
    const etape::var<double> y = etape::apply(half_op{}, x);
    return y.value() > 0 ? 0 : 1;
}
