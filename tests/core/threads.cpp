// Independent threads record on independent tapes at the same time.
#include <cstring>
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

/// A small model with a scalar and a tensor part (fused elementwise, a
/// reduction over an axis, softmax cross-entropy); every gradient, flat.
template <class T>
std::vector<T> model_gradient(int variant)
{
    auto& t = etape::active_tape<T>();
    const auto start = t.position();
    etape::tensor<T> values(etape::shape{4, 5});
    for (std::size_t i = 0; i < values.size(); ++i)
        values.data()[i] = T(0.1) * static_cast<T>((i * 7 + static_cast<std::size_t>(variant)) % 11) - T(0.5);
    const etape::active_tensor<T> x(values);
    etape::var<T> a = T(0.5) + T(0.01) * static_cast<T>(variant), b = T(-0.2);
    const etape::active_tensor<T> h = etape::elu(a * x + b) * etape::tanh(x);
    const std::vector<std::size_t> labels{0, 2, 4, 1};
    const etape::var<T> loss =
        etape::softmax_cross_entropy(h, labels) + etape::sum(etape::sum(h, 1)) * a * a + etape::exp(b) / a;
    const auto [gx, ga, gb] = etape::gradient(loss, x, a, b);
    std::vector<T> flat(gx.values().begin(), gx.values().end());
    flat.push_back(ga);
    flat.push_back(gb);
    t.rewind(start);
    return flat;
}
} // namespace

TEST_CASE_TEMPLATE("threads differentiating their own models give the serial run's gradients, bit for bit", T,
                   ETAPE_TEST_TYPES)
{
    constexpr int threads = 6;
    constexpr int rounds = 200;
    std::vector<std::vector<T>> serial;
    for (int id = 0; id < threads; ++id)
        serial.push_back(model_gradient<T>(id));
    std::vector<int> differences(threads, 0);
    std::vector<std::thread> pool;
    for (int id = 0; id < threads; ++id)
        pool.emplace_back([id, &serial, &differences] {
            for (int r = 0; r < rounds; ++r) {
                const std::vector<T> got = model_gradient<T>(id);
                if (got.size() != serial[id].size() ||
                    std::memcmp(got.data(), serial[id].data(), got.size() * sizeof(T)) != 0)
                    ++differences[id];
            }
        });
    for (auto& th : pool)
        th.join();
    for (int id = 0; id < threads; ++id) {
        CAPTURE(id);
        CHECK(differences[id] == 0);
    }
    CHECK(serial[0] != serial[1]); // the models differ, so a mix-up would show
}

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
