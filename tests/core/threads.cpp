// Independent threads record on independent tapes at the same time.
#include <thread>
#include <vector>

#include "support/check.hpp"

namespace {
/// f(x, y) = elu(x y - 1) + sin(x) y, recorded many times over.
template <class T>
std::array<T, 2> gradient_at(T x0, T y0)
{
    etape::var<T> x = x0, y = y0;
    const etape::var<T> f = etape::elu(x * y - 1) + etape::sin(x) * y;
    return etape::gradient(f, x, y);
}

template <class T>
std::array<T, 2> expected_at(T x, T y)
{
    const T u = x * y - 1;
    const T de = u > 0 ? T(1) : std::exp(u);
    return {de * y + std::cos(x) * y, de * x + std::sin(x)};
}
} // namespace

TEST_CASE_TEMPLATE("eight threads differentiate concurrently, each on its own tape", T, ETAPE_TEST_TYPES)
{
    constexpr int threads = 8;
    constexpr int rounds = 2000;
    std::vector<int> failures(threads, 0);
    std::vector<std::thread> pool;
    for (int id = 0; id < threads; ++id)
        pool.emplace_back([id, &failures] {
            auto& t = etape::active_tape<T>();
            const auto start = t.position();
            for (int r = 0; r < rounds; ++r) {
                const T x = T(0.001) * static_cast<T>(r - 1000) + T(0.1) * static_cast<T>(id);
                const T y = T(1.5) - T(0.2) * static_cast<T>(id);
                const auto got = gradient_at(x, y);
                const auto want = expected_at(x, y);
                for (int k = 0; k < 2; ++k)
                    if (std::fabs(got[k] - want[k]) > T(1e-4) * (1 + std::fabs(want[k])))
                        ++failures[id];
                t.rewind(start);
            }
        });
    for (auto& th : pool)
        th.join();
    for (int id = 0; id < threads; ++id) {
        CAPTURE(id);
        CHECK(failures[id] == 0);
    }
}
