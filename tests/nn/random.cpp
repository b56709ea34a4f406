// nn::random_generator: reproducible, and the draws have the ranges and
// moments they claim.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <doctest/doctest.h>

#include <etape/nn/random.hpp>

using etape::nn::random_generator;

TEST_CASE("random_generator: the same seed gives the same stream, another seed another")
{
    random_generator a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a();
        CHECK(x == b());
        differs = differs || x != c();
    }
    CHECK(differs);
}

TEST_CASE_TEMPLATE("random_generator: uniform draws lie in 0 to 1, 1 excluded, with mean 1/2", T, float, double)
{
    random_generator g(7);
    double sum = 0;
    constexpr int n = 100000;
    for (int i = 0; i < n; ++i) {
        const T u = g.uniform<T>();
        REQUIRE(u >= T(0));
        REQUIRE(u < T(1));
        sum += static_cast<double>(u);
    }
    CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("random_generator: normal draws have mean 0 and variance 1")
{
    random_generator g(11);
    constexpr int n = 200000;
    double sum = 0, squares = 0;
    for (int i = 0; i < n; ++i) {
        const double z = g.normal<double>();
        REQUIRE(std::isfinite(z));
        sum += z;
        squares += z * z;
    }
    CHECK(std::abs(sum / n) < 0.01);
    CHECK(squares / n == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("random_generator: below(n) is in range and hits every value, and shuffle permutes")
{
    random_generator g(3);
    std::vector<int> hits(7, 0);
    for (int i = 0; i < 7000; ++i) {
        const std::size_t k = g.below(7);
        REQUIRE(k < 7);
        ++hits[k];
    }
    for (const int h : hits)
        CHECK(h > 800);

    std::vector<int> items(50);
    std::iota(items.begin(), items.end(), 0);
    g.shuffle(std::span<int>(items));
    CHECK_FALSE(std::is_sorted(items.begin(), items.end()));
    std::sort(items.begin(), items.end());
    for (int i = 0; i < 50; ++i)
        CHECK(items[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("random_generator: split streams are reproducible and differ from the parent")
{
    random_generator a(5), b(5);
    random_generator ca = a.split(), cb = b.split();
    CHECK(ca() == cb());
    CHECK(a() == b());
    CHECK(a() != ca());
}
