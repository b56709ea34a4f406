// Random expressions for differential testing: a DAG of etape primitives
// over a few inputs and constants, evaluated on any scalar type (var<T> for
// the reverse pass, long double for finite differences), printable, and
// shrinkable to a minimal failing case.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/etape.hpp>

namespace etape_test {

enum class op : std::uint8_t {
    input, constant,
    // unary
    negate, exp, expm1, log, log1p, log2, log10, sqrt, cbrt, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh,
    asinh, acosh, atanh, abs, erf, erfc, elu, selu, celu, relu, leaky_relu, softplus, sigmoid, gelu, silu,
    // binary
    add, subtract, multiply, divide, pow, atan2, hypot, fmin, fmax, min, max,
};

inline constexpr op first_unary = op::negate;
inline constexpr op first_binary = op::add;
inline constexpr int op_count = static_cast<int>(op::max) + 1;

inline const char* op_name(op o)
{
    static const char* const names[] = {
        "x", "c", "neg", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan",
        "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "abs", "erf", "erfc", "elu",
        "selu", "celu", "relu", "leaky_relu", "softplus", "sigmoid", "gelu", "silu", "+", "-", "*", "/", "pow",
        "atan2", "hypot", "fmin", "fmax", "min", "max"};
    return names[static_cast<int>(o)];
}

/// Node k reads nodes a and b (both < k); the last node is the result.
struct node {
    op kind;
    int a = -1;
    int b = -1;
    double value = 0; ///< the constant, the parameter of elu/celu/leaky_relu, or the input index
};

struct expression_dag {
    std::vector<node> nodes;
    int inputs = 0;

    [[nodiscard]] std::string to_string(int k = -1) const
    {
        if (k < 0)
            k = static_cast<int>(nodes.size()) - 1;
        const node& n = nodes[static_cast<std::size_t>(k)];
        const std::string name = op_name(n.kind);
        if (n.kind == op::input)
            return "x" + std::to_string(static_cast<int>(n.value));
        if (n.kind == op::constant)
            return number(n.value);
        if (n.kind < first_binary) {
            const bool param = n.kind == op::elu || n.kind == op::celu || n.kind == op::leaky_relu;
            return name + "(" + to_string(n.a) + (param ? ", " + number(n.value) : "") + ")";
        }
        if (n.kind <= op::divide)
            return "(" + to_string(n.a) + " " + name + " " + to_string(n.b) + ")";
        return name + "(" + to_string(n.a) + ", " + to_string(n.b) + ")";
    }

    /// The value of every node on type S; `x` holds the inputs and
    /// `constant(c)` makes a constant of type S.
    template <class S, class X, class Constant>
    [[nodiscard]] std::vector<S> values(const X& x, Constant&& constant) const
    {
        std::vector<S> v;
        v.reserve(nodes.size());
        for (const node& n : nodes)
            v.push_back(n.kind == op::constant ? constant(n.value) : evaluate_node<S>(n, v, x));
        return v;
    }

    /// The value of every node on scalar type S.
    template <class S, class X>
    [[nodiscard]] std::vector<S> values(const X& x) const
    {
        return values<S>(x, [](double c) { return S(static_cast<etape::scalar_t<S>>(c)); });
    }

    /// The value of the last node.
    template <class S, class X>
    [[nodiscard]] S evaluate(const X& x) const
    {
        return values<S>(x).back();
    }

private:
    static std::string number(double d)
    {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.17g", d);
        return buffer;
    }

    /// a + b or a - b. On a var, as the statement `r = a * 1` that `r += b`
    /// (or `r -= b`) extends: the same operands and partials as the
    /// statement a + b, so every random expression also runs through
    /// compound assignment's extension of a statement.
    template <bool Add, class S>
    static S add_or_subtract(const S& a, const S& b)
    {
        if constexpr (std::same_as<S, etape::var<etape::scalar_t<S>>>) {
            S r = a * 1;
            if constexpr (Add)
                r += b;
            else
                r -= b;
            return r;
        } else if constexpr (Add) {
            return S(a + b);
        } else {
            return S(a - b);
        }
    }

    template <class S, class X>
    static S evaluate_node(const node& n, const std::vector<S>& v, const X& x)
    {
        using etape::value;
        const auto at = [&](int i) -> const S& { return v[static_cast<std::size_t>(i)]; };
        using P = etape::scalar_t<S>;
        const P param = static_cast<P>(n.value);
        switch (n.kind) {
        case op::input: return S(x[static_cast<std::size_t>(n.value)]);
        case op::constant: break; // made by values()
        case op::negate: return S(-at(n.a));
        case op::exp: return S(etape::exp(at(n.a)));
        case op::expm1: return S(etape::expm1(at(n.a)));
        case op::log: return S(etape::log(at(n.a)));
        case op::log1p: return S(etape::log1p(at(n.a)));
        case op::log2: return S(etape::log2(at(n.a)));
        case op::log10: return S(etape::log10(at(n.a)));
        case op::sqrt: return S(etape::sqrt(at(n.a)));
        case op::cbrt: return S(etape::cbrt(at(n.a)));
        case op::sin: return S(etape::sin(at(n.a)));
        case op::cos: return S(etape::cos(at(n.a)));
        case op::tan: return S(etape::tan(at(n.a)));
        case op::asin: return S(etape::asin(at(n.a)));
        case op::acos: return S(etape::acos(at(n.a)));
        case op::atan: return S(etape::atan(at(n.a)));
        case op::sinh: return S(etape::sinh(at(n.a)));
        case op::cosh: return S(etape::cosh(at(n.a)));
        case op::tanh: return S(etape::tanh(at(n.a)));
        case op::asinh: return S(etape::asinh(at(n.a)));
        case op::acosh: return S(etape::acosh(at(n.a)));
        case op::atanh: return S(etape::atanh(at(n.a)));
        case op::abs: return S(etape::abs(at(n.a)));
        case op::erf: return S(etape::erf(at(n.a)));
        case op::erfc: return S(etape::erfc(at(n.a)));
        case op::elu: return S(etape::elu(at(n.a), param));
        case op::selu: return S(etape::selu(at(n.a)));
        case op::celu: return S(etape::celu(at(n.a), param));
        case op::relu: return S(etape::relu(at(n.a)));
        case op::leaky_relu: return S(etape::leaky_relu(at(n.a), param));
        case op::softplus: return S(etape::softplus(at(n.a)));
        case op::sigmoid: return S(etape::sigmoid(at(n.a)));
        case op::gelu: return S(etape::gelu(at(n.a)));
        case op::silu: return S(etape::silu(at(n.a)));
        case op::add: return add_or_subtract<true>(at(n.a), at(n.b));
        case op::subtract: return add_or_subtract<false>(at(n.a), at(n.b));
        case op::multiply: return S(at(n.a) * at(n.b));
        case op::divide: return S(at(n.a) / at(n.b));
        case op::pow: return S(etape::pow(at(n.a), at(n.b)));
        case op::atan2: return S(etape::atan2(at(n.a), at(n.b)));
        case op::hypot: return S(etape::hypot(at(n.a), at(n.b)));
        case op::fmin: return S(etape::fmin(at(n.a), at(n.b)));
        case op::fmax: return S(etape::fmax(at(n.a), at(n.b)));
        case op::min: return S(etape::min(at(n.a), at(n.b)));
        case op::max: return S(etape::max(at(n.a), at(n.b)));
        }
        throw std::logic_error("random expression: unknown operation");
    }
};

/// Builds random DAGs: up to `max_depth` levels, every primitive, operands
/// drawn from earlier nodes (so sub-expressions are shared and leaves repeat).
class expression_generator {
public:
    explicit expression_generator(std::uint64_t seed) : random_(seed) {}

    [[nodiscard]] expression_dag next(int inputs, int max_depth)
    {
        expression_dag dag;
        dag.inputs = inputs;
        std::vector<int> depth;
        for (int i = 0; i < inputs; ++i) {
            dag.nodes.push_back({op::input, -1, -1, static_cast<double>(i)});
            depth.push_back(0);
        }
        const int count = 1 + uniform_int(0, 3 * max_depth);
        for (int k = 0; k < count; ++k) {
            node n;
            const int pick = uniform_int(static_cast<int>(first_unary) - 1, op_count - 1);
            n.kind = static_cast<op>(pick);
            n.a = operand_index(dag, depth, max_depth);
            int d = depth[static_cast<std::size_t>(n.a)];
            if (n.kind == op::constant) {
                n.value = constant();
                n.a = -1;
                d = 0;
            } else if (n.kind >= first_binary) {
                n.b = uniform_int(0, 4) == 0 ? push_constant(dag, depth) : operand_index(dag, depth, max_depth);
                d = std::max(d, depth[static_cast<std::size_t>(n.b)]);
            } else if (n.kind == op::elu) {
                n.value = uniform_real(0.0, 3.0);
            } else if (n.kind == op::celu) {
                n.value = uniform_int(0, 1) ? uniform_real(0.2, 3.0) : -uniform_real(0.2, 3.0);
            } else if (n.kind == op::leaky_relu) {
                n.value = uniform_real(-0.5, 0.5);
            }
            dag.nodes.push_back(n);
            depth.push_back(d + 1);
        }
        return dag;
    }

    /// Input values: mostly ordinary, sometimes edge values.
    [[nodiscard]] std::vector<double> point(int inputs)
    {
        static constexpr double edges[] = {0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 1.0, -1.0, 30.0, -30.0, 1e6};
        std::vector<double> x;
        for (int i = 0; i < inputs; ++i)
            x.push_back(uniform_int(0, 9) == 0 ? edges[uniform_int(0, static_cast<int>(std::size(edges)) - 1)]
                                               : uniform_real(-3.0, 3.0));
        return x;
    }

private:
    int operand_index(expression_dag& dag, std::vector<int>& depth, int max_depth)
    {
        for (int tries = 0; tries < 8; ++tries) {
            const int i = uniform_int(0, static_cast<int>(dag.nodes.size()) - 1);
            if (depth[static_cast<std::size_t>(i)] < max_depth)
                return i;
        }
        return uniform_int(0, dag.inputs - 1);
    }

    int push_constant(expression_dag& dag, std::vector<int>& depth)
    {
        dag.nodes.push_back({op::constant, -1, -1, constant()});
        depth.push_back(0);
        return static_cast<int>(dag.nodes.size()) - 1;
    }

    double constant() { return uniform_int(0, 4) == 0 ? static_cast<double>(uniform_int(-3, 3)) : uniform_real(-4.0, 4.0); }

    int uniform_int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random_); }
    double uniform_real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(random_); }

    std::mt19937_64 random_;
};

} // namespace etape_test
