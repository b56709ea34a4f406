// Weight initialisers: He (Kaiming), Glorot (Xavier), LeCun normal and
// orthogonal, drawn from the run's seeded generator, so that the same seed
// gives the same weights bit for bit. Layer: nn.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/core/number_text.hpp>
#include <etape/nn/random.hpp>

namespace etape::nn {

/// How a layer draws its weights. Fans: a dense layer's fan-in is its input
/// width and its fan-out its output width; a convolution's multiply both by
/// the kernel's area.
enum class weight_init {
    he_normal,      ///< N(0, 2 / fan_in): ReLU, ELU and their relatives
    he_uniform,     ///< U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))
    glorot_normal,  ///< N(0, 2 / (fan_in + fan_out))
    glorot_uniform, ///< U(-sqrt(6 / (fan_in + fan_out)), +...): linear, tanh, sigmoid
    lecun_normal,   ///< N(0, 1 / fan_in): SELU (self-normalising)
    orthogonal,     ///< rows (or columns) orthonormal: recurrent weights
    zeros,
};

/// The name of `kind`, as a summary prints it.
[[nodiscard]] constexpr const char* name_of(weight_init kind) noexcept
{
    switch (kind) {
    case weight_init::he_normal: return "he_normal";
    case weight_init::he_uniform: return "he_uniform";
    case weight_init::glorot_normal: return "glorot_normal";
    case weight_init::glorot_uniform: return "glorot_uniform";
    case weight_init::lecun_normal: return "lecun_normal";
    case weight_init::orthogonal: return "orthogonal";
    case weight_init::zeros: return "zeros";
    }
    return "?";
}

/// A weight matrix's fans (see weight_init).
struct fans {
    std::size_t in;
    std::size_t out;
};

/// Fills `w` with normal draws of standard deviation `stddev`.
template <class T>
void fill_normal(std::span<T> w, double stddev, random_generator& random)
{
    for (T& x : w)
        x = static_cast<T>(stddev * random.normal<double>());
}

/// Fills `w` with uniform draws in [-limit, limit).
template <class T>
void fill_uniform(std::span<T> w, double limit, random_generator& random)
{
    for (T& x : w)
        x = static_cast<T>(random.uniform<double>(-limit, limit));
}

/// Fills the row-major matrix `w` (rows x cols) with a random orthogonal
/// one times `gain`: orthonormal rows when rows <= cols, orthonormal
/// columns otherwise. Normal draws, then Gram-Schmidt (twice, for accuracy)
/// in double; the sign of each vector follows its draw's first element.
template <class T>
void fill_orthogonal(std::span<T> w, std::size_t rows, std::size_t cols, random_generator& random, double gain = 1.0)
{
    if (rows * cols != w.size())
        throw std::invalid_argument("etape::nn::fill_orthogonal: " + etape::detail::counted(w.size(), "value") +
                                    " for a matrix of " + std::to_string(rows) + " x " + std::to_string(cols));
    // orthonormalise the shorter side's vectors, each of the longer side's length
    const bool by_rows = rows <= cols;
    const std::size_t count = by_rows ? rows : cols, length = by_rows ? cols : rows;
    std::vector<double> q(count * length);
    for (double& x : q)
        x = random.normal<double>();
    for (std::size_t i = 0; i < count; ++i) {
        double* v = q.data() + i * length;
        for (int pass = 0; pass < 2; ++pass)
            for (std::size_t j = 0; j < i; ++j) {
                const double* u = q.data() + j * length;
                double dot = 0;
                for (std::size_t k = 0; k < length; ++k)
                    dot += u[k] * v[k];
                for (std::size_t k = 0; k < length; ++k)
                    v[k] -= dot * u[k];
            }
        double norm = 0;
        for (std::size_t k = 0; k < length; ++k)
            norm += v[k] * v[k];
        norm = std::sqrt(norm);
        for (std::size_t k = 0; k < length; ++k)
            v[k] /= norm;
    }
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            w[r * cols + c] = static_cast<T>(gain * (by_rows ? q[r * length + c] : q[c * length + r]));
}

/// Fills the weights `w` (a matrix of fan.out rows, or a convolution's
/// filters) as `kind` says.
template <class T>
void initialize_weights(std::span<T> w, weight_init kind, fans fan, random_generator& random)
{
    const auto in = static_cast<double>(fan.in), out = static_cast<double>(fan.out);
    switch (kind) {
    case weight_init::he_normal: fill_normal(w, std::sqrt(2.0 / in), random); return;
    case weight_init::he_uniform: fill_uniform(w, std::sqrt(6.0 / in), random); return;
    case weight_init::glorot_normal: fill_normal(w, std::sqrt(2.0 / (in + out)), random); return;
    case weight_init::glorot_uniform: fill_uniform(w, std::sqrt(6.0 / (in + out)), random); return;
    case weight_init::lecun_normal: fill_normal(w, std::sqrt(1.0 / in), random); return;
    case weight_init::orthogonal: fill_orthogonal(w, fan.out, w.size() / (fan.out == 0 ? 1 : fan.out), random); return;
    case weight_init::zeros: std::fill(w.begin(), w.end(), T(0)); return;
    }
}

} // namespace etape::nn
