// Built and run by tests of tests/CMakeLists.txt without CMake's
// definitions, the way a user builds with `g++ -I include app.cpp -lfmt`:
// left undefined, ETAPE_HAS_CBLAS is found from <cblas.h> and CBLAS is used
// exactly when the program links one (tensor/matmul.hpp). EXPECTED_BLAS is
// what the test expects; the product is checked either way.
#include <cstdio>

#include <etape/tensor.hpp>

int main()
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> a(etape::tensor<double>(etape::shape{2, 3}, {1, 2, 3, 4, 5, 6}));
    const etape::tensor<double> b(etape::shape{3, 2}, {7, 8, 9, 10, 11, 12});
    const etape::active_tensor<double> c = etape::matmul(a, b);
    const bool right = c.values()[0] == 58 && c.values()[1] == 64 && c.values()[2] == 139 && c.values()[3] == 154;
    std::printf("matrix products on %s: %s\n", etape::blas_in_use() ? "CBLAS" : "the blocked loop",
                right ? "right" : "WRONG");
    return right && etape::blas_in_use() == (EXPECTED_BLAS != 0) ? 0 : 1;
}
