// A model's parameters and buffers by name, their count, and the naming of
// its layers: the walk of reflect.hpp collected into lists. Layer: nn.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <etape/nn/random.hpp>
#include <etape/nn/reflect.hpp>

namespace etape::nn {

/// A trainable tensor of a model and its dotted name ("l1.weight"). Points
/// into the model: valid while the model lives and is not moved.
template <class T>
struct named_parameter {
    std::string name;
    active_tensor<T>* tensor;
};

/// A saved, untrained tensor of a model (running statistics) and its name.
template <class T>
struct named_buffer {
    std::string name;
    etape::tensor<T>* tensor;
};

/// Every parameter of `model`, in declaration order.
template <class Model>
[[nodiscard]] std::vector<named_parameter<precision_t<Model>>> parameters(Model& model)
{
    using T = precision_t<Model>;
    static_assert(!std::is_void_v<T>, "etape::nn::parameters: the model holds no tensors");
    struct collect {
        std::vector<named_parameter<T>> list;
        void parameter(std::string_view name, active_tensor<T>& p) { list.push_back({std::string(name), &p}); }
    } visitor;
    walk(model, visitor);
    return std::move(visitor.list);
}

/// Every buffer of `model`, in declaration order.
template <class Model>
[[nodiscard]] std::vector<named_buffer<precision_t<Model>>> buffers(Model& model)
{
    using T = precision_t<Model>;
    struct collect {
        std::vector<named_buffer<T>> list;
        void parameter(std::string_view, const active_tensor<T>&) {}
        void buffer(std::string_view name, etape::tensor<T>& b) { list.push_back({std::string(name), &b}); }
    } visitor;
    walk(model, visitor);
    return std::move(visitor.list);
}

/// The number of trainable values (elements of every parameter).
template <class Model>
[[nodiscard]] std::size_t parameter_count(const Model& model)
{
    using T = precision_t<Model>;
    struct count {
        std::size_t total = 0;
        void parameter(std::string_view, const active_tensor<T>& p) { total += p.size(); }
    } visitor;
    walk(model, visitor);
    return visitor.total;
}

namespace detail {
template <class F>
struct layer_visitor {
    F& f;
    template <class P>
    void parameter(std::string_view, const P&)
    {
    }
    template <class L>
    void layer(std::string_view path, L& l)
    {
        f(path, l);
    }
};
} // namespace detail

/// Calls `f(dotted_name, object)` for the model itself (name "") and every
/// struct, array, tuple and layer in it, parents before their members.
template <class Model, class F>
void for_each_layer(Model& model, F&& f)
{
    detail::layer_visitor<std::remove_reference_t<F>> visitor{f};
    walk(model, visitor);
}

/// Tells every layer with a `set_name(std::string_view)` member its dotted
/// name, which its error messages then give ("etape::nn: l2 (dense) expects
/// an input of width 256 ..."). nn::initialize does it too.
template <class Model>
void name_layers(Model& model)
{
    for_each_layer(model, [](std::string_view path, auto& l) {
        if constexpr (requires { l.set_name(path); })
            l.set_name(path);
    });
}

/// Names every layer (name_layers) and lets each with an
/// `initialize(random_generator&)` member draw its parameters, in
/// declaration order from `random`: the same seed gives the same model bit
/// for bit.
template <class Model>
void initialize(Model& model, random_generator& random)
{
    name_layers(model);
    for_each_layer(model, [&random](std::string_view, auto& l) {
        if constexpr (requires { l.initialize(random); })
            l.initialize(random);
    });
}

/// Switches every layer with a `set_training(bool)` member (dropout, batch
/// normalisation) to training (true) or evaluation (false) mode.
template <class Model>
void set_training(Model& model, bool training)
{
    for_each_layer(model, [training](std::string_view, auto& l) {
        if constexpr (requires { l.set_training(training); })
            l.set_training(training);
    });
}

} // namespace etape::nn
