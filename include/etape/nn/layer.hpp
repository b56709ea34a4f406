// What every layer shares: its dotted name in the model, which its error
// messages give, and the check of its input's shape. Layer: nn.
#pragma once

#include <string>
#include <string_view>

#include <etape/tensor/shape.hpp>

namespace etape::nn {

/// A layer's name: its kind ("dense") until nn::initialize or
/// nn::name_layers gives it its dotted name in the model ("encoder.l2").
class layer_name {
public:
    explicit layer_name(std::string_view kind) : kind_(kind), name_(kind) {}

    void set_name(std::string_view name) { name_ = name.empty() ? kind_ : std::string(name); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& kind() const noexcept { return kind_; }

    /// Throws shape_error: "etape::nn: l2 (dense) expects <expected>, got <actual>".
    [[noreturn]] void throw_bad_input(std::string_view expected, const shape& actual) const
    {
        std::string message = "etape::nn: " + name_;
        if (name_ != kind_)
            message += " (" + kind_ + ")";
        throw shape_error(message + " expects " + std::string(expected) + ", got " + actual.to_string());
    }

private:
    std::string kind_;
    std::string name_;
};

} // namespace etape::nn
