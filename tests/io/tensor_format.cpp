// fmt formatters for shape, tensor and active_tensor: exact strings, as a
// change of layout is a change that users see.
#include "support/check.hpp"

#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <etape/io/tensor_format.hpp>

namespace {

/// 0, 1, 2, ... n - 1: every element says where it sits.
std::vector<double> counting(std::size_t n)
{
    std::vector<double> v(n);
    std::iota(v.begin(), v.end(), 0.0);
    return v;
}

} // namespace

TEST_CASE("a shape formats as its extents in brackets")
{
    CHECK(fmt::format("{}", etape::shape{}) == "[]");
    CHECK(fmt::format("{}", etape::shape{7}) == "[7]");
    CHECK(fmt::format("{}", etape::shape{2, 3}) == "[2, 3]");
    CHECK(fmt::format("{}", etape::shape{2, 3, 4}) == "[2, 3, 4]");
    CHECK(fmt::format("{}", etape::shape{1, 0, 3, 4}) == "[1, 0, 3, 4]");
}

TEST_CASE("a matrix prints one row a line, under a header")
{
    const etape::tensor<double> t(etape::shape{2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(fmt::format("{}", t) == "tensor<double> [2, 3]\n"
                                  "[[1, 2, 3],\n"
                                  " [4, 5, 6]]");
}

TEST_CASE("a rank-0 tensor prints its value without brackets")
{
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{}, {2.5})) == "tensor<double> []\n2.5");
}

TEST_CASE("a vector prints on one line")
{
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{3}, {0.5, 10, 2})) == "tensor<double> [3]\n"
                                                                                     "[0.5,  10,   2]");
}

TEST_CASE("the matrices of a rank-3 tensor are separated by a blank line, rank-4 blocks by two")
{
    const std::vector<double> v = counting(12);
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{2, 2, 3}, v)) == "tensor<double> [2, 2, 3]\n"
                                                                                "[[[ 0,  1,  2],\n"
                                                                                "  [ 3,  4,  5]],\n"
                                                                                "\n"
                                                                                " [[ 6,  7,  8],\n"
                                                                                "  [ 9, 10, 11]]]");
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{2, 1, 2, 3}, v)) == "tensor<double> [2, 1, 2, 3]\n"
                                                                                   "[[[[ 0,  1,  2],\n"
                                                                                   "   [ 3,  4,  5]]],\n"
                                                                                   "\n"
                                                                                   "\n"
                                                                                   " [[[ 6,  7,  8],\n"
                                                                                   "   [ 9, 10, 11]]]]");
}

TEST_CASE("an empty tensor prints empty brackets")
{
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{2, 0})) == "tensor<double> [2, 0]\n[]");
    CHECK(fmt::format("{}", etape::tensor<double>()) == "tensor<double> [0]\n[]");
}

TEST_CASE("a long vector prints its first and last three elements")
{
    const etape::tensor<double> t(etape::shape{2000}, counting(2000));
    CHECK(fmt::format("{}", t) == "tensor<double> [2000]\n"
                                  "[   0,    1,    2, ..., 1997, 1998, 1999]");
}

TEST_CASE("a large matrix prints the corners of its rows and columns")
{
    const etape::tensor<double> t(etape::shape{50, 50}, counting(2500));
    CHECK(fmt::format("{}", t) == "tensor<double> [50, 50]\n"
                                  "[[   0,    1,    2, ...,   47,   48,   49],\n"
                                  " [  50,   51,   52, ...,   97,   98,   99],\n"
                                  " [ 100,  101,  102, ...,  147,  148,  149],\n"
                                  " ...,\n"
                                  " [2350, 2351, 2352, ..., 2397, 2398, 2399],\n"
                                  " [2400, 2401, 2402, ..., 2447, 2448, 2449],\n"
                                  " [2450, 2451, 2452, ..., 2497, 2498, 2499]]");
}

TEST_CASE("1000 elements are printed in full")
{
    const std::string text = fmt::format("{}", etape::tensor<double>(etape::shape{1000}, counting(1000)));
    CHECK(text.find("...") == std::string::npos);
    CHECK(text.ends_with(" 997, 998, 999]"));
}

TEST_CASE("the format spec applies to every element")
{
    const etape::tensor<double> t(etape::shape{2, 2}, {1, -2, 3.14159, 400});
    CHECK(fmt::format("{:.3f}", t) == "tensor<double> [2, 2]\n"
                                      "[[  1.000,  -2.000],\n"
                                      " [  3.142, 400.000]]");
    CHECK(fmt::format("{:>8.2e}", t) == "tensor<double> [2, 2]\n"
                                        "[[ 1.00e+00, -2.00e+00],\n"
                                        " [ 3.14e+00,  4.00e+02]]");
    CHECK(fmt::format("{:>10.2e}", etape::tensor<double>(etape::shape{2}, {1, -2})) == "tensor<double> [2]\n"
                                                                                       "[  1.00e+00,  -2.00e+00]");
    CHECK(fmt::format("{:{}.{}f}", t, 6, 1) == "tensor<double> [2, 2]\n"
                                               "[[   1.0,   -2.0],\n"
                                               " [   3.1,  400.0]]");
}

TEST_CASE("a fill character of several bytes takes one column")
{
    CHECK(fmt::format("{:→>4}", etape::tensor<double>(etape::shape{2}, {1, -2.5})) == "tensor<double> [2]\n"
                                                                                      "[→→→1, -2.5]");
}

TEST_CASE("negative numbers line up with positive ones")
{
    const etape::tensor<double> t(etape::shape{2, 2}, {-1.5, 2, 30, -400});
    CHECK(fmt::format("{}", t) == "tensor<double> [2, 2]\n"
                                  "[[-1.5,    2],\n"
                                  " [  30, -400]]");
}

TEST_CASE("NaN and infinities print as fmt prints them")
{
    const double inf = std::numeric_limits<double>::infinity();
    const etape::tensor<double> t(etape::shape{4}, {std::numeric_limits<double>::quiet_NaN(), inf, -inf, 1});
    CHECK(fmt::format("{}", t) == "tensor<double> [4]\n"
                                  "[ nan,  inf, -inf,    1]");
}

TEST_CASE("the header names the element type")
{
    CHECK(fmt::format("{}", etape::tensor<float>(etape::shape{2}, {0.1f, 2})) == "tensor<float> [2]\n[0.1,   2]");
    CHECK(fmt::format("{}", etape::tensor<double>(etape::shape{2}, {0.1, 2})) == "tensor<double> [2]\n[0.1,   2]");
    CHECK(fmt::format("{}", etape::tensor<long double>(etape::shape{1}, {2})) == "tensor<long double> [1]\n[2]");
}

TEST_CASE("an active tensor prints its slots and its values")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> a(etape::tensor<double>(etape::shape{2, 2}, std::vector<double>{1, 2, 3, 4}));
    const std::size_t first = a.first_slot();
    CHECK(fmt::format("{}", a) == fmt::format("active_tensor<double> [2, 2], slots {}..{}\n"
                                              "[[1, 2],\n"
                                              " [3, 4]]",
                                              first, first + 3));
    const etape::active_tensor<double> b(etape::tensor<double>(etape::shape{3}, std::vector<double>{5, 6, 7}));
    CHECK(b.first_slot() == first + 4);
    CHECK(fmt::format("{:.1f}", b) ==
          fmt::format("active_tensor<double> [3], slots {}..{}\n[5.0, 6.0, 7.0]", first + 4, first + 6));
    CHECK(fmt::format("{}", etape::active_tensor<double>()) == "active_tensor<double> [0], no slots\n[]");
}
