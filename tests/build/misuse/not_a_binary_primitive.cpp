// Must not compile, and must say why in one sentence (tests/CMakeLists.txt
// matches it): a struct passed to etape::apply as a binary primitive lacks
// partial_right.
#include <etape/etape.hpp>

struct mean_op {
    template <class T>
    T primal(T a, T b) const
    {
        return (a + b) / 2;
    }
    template <class T>
    T partial_left(T, T, T) const
    {
        return T(0.5);
    }
};

int main()
{
    const etape::var<double> a = 2.0, b = 4.0;
    const etape::var<double> y = etape::apply(mean_op{}, a, b);
    return y.value() > 0 ? 0 : 1;
}
