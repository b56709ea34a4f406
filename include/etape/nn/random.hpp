// The one seeded random generator of a training run: initialisers,
// shuffling and dropout all draw from it (or from generators split off it),
// so the same seed gives bit-identical runs. Layer: nn.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <utility>

namespace etape::nn {

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64. Every
/// draw is specified here, bit for bit: no std distribution is used, since
/// those differ between standard libraries.
class random_generator {
public:
    using result_type = std::uint64_t;

    explicit random_generator(std::uint64_t seed = 0) noexcept
    {
        for (auto& word : state_) {
            seed += 0x9e3779b97f4a7c15ULL; // splitmix64
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    /// The next 64 random bits.
    result_type operator()() noexcept
    {
        const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
        const std::uint64_t shifted = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= shifted;
        state_[3] = rotate_left(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1), on the grid of T's mantissa (2^-24 for float,
    /// 2^-53 for double and long double).
    template <std::floating_point T>
    T uniform() noexcept
    {
        constexpr int bits = std::numeric_limits<T>::digits < 53 ? std::numeric_limits<T>::digits : 53;
        return static_cast<T>((*this)() >> (64 - bits)) * std::ldexp(T(1), -bits);
    }

    /// Uniform in [low, high).
    template <std::floating_point T>
    T uniform(T low, T high) noexcept
    {
        return low + (high - low) * uniform<T>();
    }

    /// Standard normal, by the Box-Muller transform (one draw per call).
    template <std::floating_point T>
    T normal() noexcept
    {
        const double u1 = 1.0 - uniform<double>(); // in (0, 1]: the log is finite
        const double u2 = uniform<double>();
        return static_cast<T>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
    }

    /// Uniform in [0, n), unbiased (n > 0).
    std::size_t below(std::size_t n) noexcept
    {
        const std::uint64_t bound = n;
        const std::uint64_t threshold = (0 - bound) % bound; // 2^64 mod n: draws below it are rejected
        std::uint64_t x = (*this)();
        while (x < threshold)
            x = (*this)();
        return static_cast<std::size_t>(x % bound);
    }

    /// A random permutation of `items` (Fisher-Yates).
    template <class U>
    void shuffle(std::span<U> items) noexcept
    {
        for (std::size_t i = items.size(); i > 1; --i)
            std::swap(items[i - 1], items[below(i)]);
    }

    /// A new generator seeded from this one's next draw: an independent
    /// stream (a layer's dropout, a loader's shuffling) that stays
    /// reproducible from the run's one seed.
    random_generator split() noexcept { return random_generator((*this)()); }

private:
    static constexpr std::uint64_t rotate_left(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

    std::uint64_t state_[4]{};
};

} // namespace etape::nn
