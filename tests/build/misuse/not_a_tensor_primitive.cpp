// Must not compile, and must say why in one sentence (tests/CMakeLists.txt
// matches it): the struct that not_a_primitive.cpp passes to a var, passed
// to a tensor expression.
#include <etape/etape.hpp>
#include <etape/tensor.hpp>

struct half_op {
    template <class T>
    T primal(T x) const
    {
        return x / 2;
    }
};

int main()
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>(etape::shape{2}, {1.0, 2.0}));
    const etape::active_tensor<double> y = etape::apply(half_op{}, x * 2.0);
    return y.size() == 2 ? 0 : 1;
}
