// The activations the lab knows by name, with their parameters, and the
// parsing of a list of them ("elu:alpha=0.5,relu,selu"). A user's own
// primitive joins the builtins with registry::add. Layer: lab (on nn).
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <etape/core/gradient_check.hpp>
#include <etape/nn/activation.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>

namespace etape::lab {

/// A parameter of an activation, by name, and its value.
struct parameter {
    std::string name;
    double value = 0;
};

/// A unary primitive (the struct of docs/primitives.md) as an activation:
/// applies it to a number, a var or a tensor expression.
template <class Primitive>
struct applies {
    Primitive op;
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return etape::apply(op, x);
    }
};

/// An activation chosen for a run: its name and parameter values, the
/// weight initialisation that suits it, and how a layer applies it.
struct activation {
    std::string name;
    std::vector<parameter> parameters;
    nn::weight_init init = nn::weight_init::glorot_uniform;
    /// activation(product + bias) as one fused elementwise node.
    std::function<active_tensor<float>(const active_tensor<float>& product, const active_tensor<float>& bias)> dense;
    /// activation(x), elementwise (after a convolution).
    std::function<active_tensor<float>(const active_tensor<float>& x)> apply;
    /// Its derivative against central differences at points on both sides
    /// of 0 (etape::check_gradient in double).
    std::function<gradient_check_report<double>()> check;

    /// "elu:alpha=0.5", or the bare name when it has no parameters.
    [[nodiscard]] std::string label() const
    {
        std::string text = name;
        for (std::size_t i = 0; i < parameters.size(); ++i)
            text += (i == 0 ? ":" : ";") + parameters[i].name + "=" + fmt::format("{}", parameters[i].value);
        return text;
    }

};

/// Where the lab checks each activation's derivative: both sides of 0,
/// away from the kinks at 0 that ReLU and its relatives have.
inline constexpr double check_points[] = {-4.0, -1.5, -0.75, -0.2, -0.05, 0.05, 0.3, 0.9, 2.0, 5.0};

/// An activation's derivative against central differences at check_points
/// (etape::check_gradient of the sum of its values there, in double). Takes
/// the activation as two functions of one number, so that check_gradient is
/// compiled once for every activation of a program, not once for each.
[[nodiscard]] inline gradient_check_report<double> check_derivative(
    const std::function<var<double>(const var<double>&)>& on_var,
    const std::function<long double(long double)>& on_long_double)
{
    const std::vector<double> at(std::begin(check_points), std::end(check_points));
    gradient_check_options options;
    options.relative_tolerance = 1e-7L;
    options.absolute_tolerance = 1e-9L;
    return check_gradient(
        [&](auto x) {
            using S = std::remove_cvref_t<decltype(x[0])>;
            const auto one = [&](const S& xi) -> S {
                if constexpr (std::same_as<S, long double>)
                    return on_long_double(xi);
                else
                    return on_var(xi);
            };
            S total = one(x[0]);
            for (std::size_t i = 1; i < x.size(); ++i)
                total = total + one(x[i]);
            return total;
        },
        at, options);
}

class registry {
public:
    /// Makes an activation from its parameters' values (in the order of the
    /// defaults given to add).
    using factory = std::function<activation(std::span<const double>)>;

    /// Registers `name`: `make(values)` returns a callable that maps a
    /// number, a var or a tensor expression to its activation (an
    /// nn::activation functor, or applies<YourPrimitive>{...}). A name
    /// registered again replaces the earlier entry.
    template <class Make>
    registry& add(std::string name, std::vector<parameter> defaults, nn::weight_init init, Make make)
    {
        factory build = [name, defaults, init, make](std::span<const double> values) {
            using callable = decltype(make(values));
            const callable f = make(values);
            activation a;
            a.name = name;
            a.parameters = defaults;
            for (std::size_t i = 0; i < values.size(); ++i)
                a.parameters[i].value = values[i];
            a.init = init;
            a.dense = [f](const active_tensor<float>& product, const active_tensor<float>& bias) {
                return active_tensor<float>(f(product + bias));
            };
            a.apply = [f](const active_tensor<float>& x) { return active_tensor<float>(f(x)); };
            a.check = [f] {
                return check_derivative([f](const var<double>& x) { return var<double>(f(x)); },
                                        [f](long double x) { return static_cast<long double>(f(x)); });
            };
            return a;
        };
        for (entry& e : entries_)
            if (e.name == name) {
                e = {std::move(name), std::move(defaults), std::move(build)};
                return *this;
            }
        entries_.push_back({std::move(name), std::move(defaults), std::move(build)});
        return *this;
    }

    /// The registered names, in the order they were added.
    [[nodiscard]] std::vector<std::string> names() const
    {
        std::vector<std::string> list;
        for (const entry& e : entries_)
            list.push_back(e.name);
        return list;
    }

    /// One activation from "name" or "name:param=value;param=value".
    /// Throws std::invalid_argument naming what is wrong: an unknown name
    /// (listing the known ones), an unknown parameter (listing the
    /// activation's), a value that is not a finite number.
    [[nodiscard]] activation make(std::string_view spec) const
    {
        const std::size_t colon = spec.find(':');
        const std::string_view name = trim(spec.substr(0, colon));
        const entry* e = find(name);
        if (e == nullptr)
            throw std::invalid_argument("etape-lab: unknown activation '" + std::string(name) +
                                        "'; known: " + joined(names()));
        std::vector<double> values;
        for (const parameter& p : e->defaults)
            values.push_back(p.value);
        if (colon != std::string_view::npos) {
            std::string_view rest = spec.substr(colon + 1);
            while (!rest.empty()) {
                const std::size_t end = rest.find(';');
                const std::string_view assignment = rest.substr(0, end);
                rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
                const std::size_t equals = assignment.find('=');
                const std::string_view key = trim(assignment.substr(0, equals));
                std::size_t k = 0;
                while (k < e->defaults.size() && e->defaults[k].name != key)
                    ++k;
                if (k == e->defaults.size())
                    throw std::invalid_argument("etape-lab: activation '" + e->name + "' has no parameter '" +
                                                std::string(key) + "'" +
                                                (e->defaults.empty() ? "" : "; its parameters: " + parameter_names(*e)));
                if (equals == std::string_view::npos)
                    throw std::invalid_argument("etape-lab: parameter '" + std::string(key) + "' of '" + e->name +
                                                "' needs a value (" + std::string(key) + "=...)");
                values[k] = number(assignment.substr(equals + 1), key);
            }
        }
        return e->build(values);
    }

    /// Activations from a comma-separated list of make's specs. Throws
    /// std::invalid_argument for an empty list or entry.
    [[nodiscard]] std::vector<activation> parse(std::string_view list) const
    {
        std::vector<activation> chosen;
        while (true) {
            const std::size_t comma = list.find(',');
            const std::string_view spec = trim(list.substr(0, comma));
            if (spec.empty())
                throw std::invalid_argument("etape-lab: an empty entry in the activation list; known: " +
                                            joined(names()));
            chosen.push_back(make(spec));
            if (comma == std::string_view::npos)
                return chosen;
            list = list.substr(comma + 1);
        }
    }

    /// ELU, ReLU, SELU, CELU, leaky ReLU, GELU, SiLU, softplus, tanh and
    /// sigmoid, with nn::activation's parameters and initialisations.
    [[nodiscard]] static registry builtin()
    {
        namespace act = nn::activation;
        using nn::weight_init;
        registry r;
        r.add("elu", {{"alpha", 1.0}}, weight_init::he_normal, [](auto v) { return act::elu{v[0]}; });
        r.add("relu", {}, weight_init::he_normal, [](auto) { return act::relu{}; });
        r.add("selu", {}, weight_init::lecun_normal, [](auto) { return act::selu{}; });
        r.add("celu", {{"alpha", 1.0}}, weight_init::he_normal, [](auto v) { return act::celu{v[0]}; });
        r.add("leaky_relu", {{"slope", 0.01}}, weight_init::he_normal, [](auto v) { return act::leaky_relu{v[0]}; });
        r.add("gelu", {}, weight_init::he_normal, [](auto) { return act::gelu{}; });
        r.add("silu", {}, weight_init::he_normal, [](auto) { return act::silu{}; });
        r.add("softplus", {{"beta", 1.0}, {"threshold", 20.0}}, weight_init::he_normal,
              [](auto v) { return act::softplus{v[0], v[1]}; });
        r.add("tanh", {}, weight_init::glorot_uniform, [](auto) { return act::tanh{}; });
        r.add("sigmoid", {}, weight_init::glorot_uniform, [](auto) { return act::sigmoid{}; });
        return r;
    }

private:
    struct entry {
        std::string name;
        std::vector<parameter> defaults;
        factory build;
    };

    [[nodiscard]] const entry* find(std::string_view name) const
    {
        for (const entry& e : entries_)
            if (e.name == name)
                return &e;
        return nullptr;
    }

    static std::string_view trim(std::string_view s)
    {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        return s;
    }

    static std::string joined(const std::vector<std::string>& names)
    {
        std::string text;
        for (const std::string& n : names)
            text += (text.empty() ? "" : ", ") + n;
        return text;
    }

    static std::string parameter_names(const entry& e)
    {
        std::vector<std::string> names;
        for (const parameter& p : e.defaults)
            names.push_back(p.name);
        return joined(names);
    }

    static double number(std::string_view text, std::string_view key)
    {
        const std::string s(trim(text));
        char* end = nullptr;
        const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
            throw std::invalid_argument("etape-lab: parameter '" + std::string(key) + "' needs a finite number, not '" +
                                        s + "'");
        return v;
    }

    std::vector<entry> entries_;
};

} // namespace etape::lab
