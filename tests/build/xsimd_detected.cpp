// Compiled, not run, by two tests of tests/CMakeLists.txt, without CMake's
// definitions: the way a user builds with `g++ -I include app.cpp -lfmt`.
// Left undefined, ETAPE_HAS_XSIMD is found from the include path (core/simd.hpp:
// xsimd 8 or later there turns batches on); defined 0, it keeps them off.
// EXPECTED_SIMD is what the test expects.
#include <etape/core/simd.hpp>

static_assert(etape::simd::available == (EXPECTED_SIMD != 0),
              "etape/core/simd.hpp did not find xsimd the way the test expected");
static_assert(etape::simd::enabled_for<double> == (EXPECTED_SIMD != 0));
