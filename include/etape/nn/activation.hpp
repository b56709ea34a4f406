// The activations a layer takes as a template parameter: small function
// objects that apply an etape primitive to a tensor expression, so that the
// activation fuses into the layer's elementwise node (`elu(x W^T + b)` is
// one node after the matmul). Any callable that maps a tensor expression to
// a tensor expression serves too, a user's own primitive included; these
// also say which weight initialisation suits them. Layer: nn.
#pragma once

#include <etape/nn/init.hpp>
#include <etape/ops/elu.hpp>
#include <etape/ops/gelu.hpp>
#include <etape/ops/hyperbolic.hpp>
#include <etape/ops/logistic.hpp>
#include <etape/ops/relu.hpp>

namespace etape::nn {

/// The initialisation of the weights that feed activation A: its
/// `recommended_init` when it declares one, Glorot uniform otherwise (the
/// choice for a linear output or a user's callable of unknown gain).
template <class A>
inline constexpr weight_init recommended_init = weight_init::glorot_uniform;
template <class A>
    requires requires { A::recommended_init; }
inline constexpr weight_init recommended_init<A> = A::recommended_init;

namespace activation {

/// The identity: a linear layer.
struct none {
    static constexpr weight_init recommended_init = weight_init::glorot_uniform;
    template <class X>
    [[nodiscard]] X operator()(const X& x) const
    {
        return x;
    }
};

/// ELU with its alpha; its derivative reuses the forward output.
struct elu {
    double alpha = 1.0;
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::elu(x, static_cast<scalar_t<X>>(alpha));
    }
};

/// SELU with its fixed alpha and scale; LeCun normal keeps it self-normalising.
struct selu {
    static constexpr weight_init recommended_init = weight_init::lecun_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::selu(x);
    }
};

/// CELU with its alpha.
struct celu {
    double alpha = 1.0;
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::celu(x, static_cast<scalar_t<X>>(alpha));
    }
};

struct relu {
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::relu(x);
    }
};

/// Leaky ReLU with its negative slope (PyTorch's default 0.01).
struct leaky_relu {
    double slope = 0.01;
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::leaky_relu(x, static_cast<scalar_t<X>>(slope));
    }
};

/// GELU, exact (erf) or with PyTorch's tanh approximation.
struct gelu {
    approximate form = approximate::none;
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::gelu(x, form);
    }
};

/// SiLU (swish with beta 1): x sigmoid(x).
struct silu {
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::silu(x);
    }
};

struct sigmoid {
    static constexpr weight_init recommended_init = weight_init::glorot_uniform;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::sigmoid(x);
    }
};

struct tanh {
    static constexpr weight_init recommended_init = weight_init::glorot_uniform;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::tanh(x);
    }
};

/// Softplus with PyTorch's beta and threshold (defaults 1 and 20).
struct softplus {
    double beta = 1.0;
    double threshold = 20.0;
    static constexpr weight_init recommended_init = weight_init::he_normal;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::softplus(x, static_cast<scalar_t<X>>(beta), static_cast<scalar_t<X>>(threshold));
    }
};

} // namespace activation
} // namespace etape::nn
