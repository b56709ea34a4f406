// Compiles the fused tensor loops and etape::simd's math for AVX-512
// (-march=x86-64-v4, tests/CMakeLists.txt) with the project's warnings as
// errors. g++ 12 reports false "may be used uninitialized" warnings inside
// its own AVX-512 intrinsics wherever xsimd's AVX-512 kernels are inlined
// (GCC bug 105593), which made `-march=native -Werror` builds fail on
// AVX-512 machines until <etape/core/simd.hpp> silenced them. Built, never
// run: the building machine need not have AVX-512.
#include <tuple>
#include <vector>

#include <etape/etape.hpp>

namespace {

template <class T>
T exercise(const std::vector<T>& values)
{
    const etape::active_tensor<T> x(etape::tensor<T>(etape::shape{values.size()}, values));
    const etape::var<T> loss = etape::sum(etape::elu(T(0.5) * x + T(0.25)) * T(1.5) + etape::selu(x) +
                                          etape::celu(x, T(2)) + etape::exp(x) + etape::log(x * x + T(1)) +
                                          etape::tanh(x) + etape::erf(x) + etape::expm1(x) + etape::log1p(x * x));
    const auto [dx] = etape::gradient(loss, x);
    return loss.value() + dx.data()[0];
}

} // namespace

// external linkage, so that the compiler keeps (and compiles) both instantiations
double etape_avx512_build_check(const std::vector<float>& f, const std::vector<double>& d)
{
    return static_cast<double>(exercise(f)) + exercise(d);
}
