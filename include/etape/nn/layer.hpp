// What every layer shares: its dotted name in the model, which its error
// messages give, and the check of its input's shape. Layer: nn.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <etape/core/anomaly.hpp>
#include <etape/core/number_text.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>

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

    /// Anomaly mode (tape::detect_anomalies): throws anomaly_error when the
    /// layer's output holds a NaN or inf although its input is finite,
    /// naming the layer, the element and its value. An input given as an
    /// expression is not checked (the sweep's checks still see it). Off,
    /// one branch.
    template <class T, class X>
    void check_forward(const X& input, const active_tensor<T>& output) const
    {
        if (!active_tape<T>().detecting_anomalies()) [[likely]]
            return;
        if constexpr (requires { input.values(); }) {
            for (const T v : input.values())
                if (!std::isfinite(v))
                    return; // not this layer's doing
        } else {
            return;
        }
        const std::span<const T> y = output.values();
        for (std::size_t i = 0; i < y.size(); ++i)
            if (!std::isfinite(y[i])) [[unlikely]]
                throw anomaly_error("etape::nn anomaly: " + name_ + (name_ != kind_ ? " (" + kind_ + ")" : "") +
                                        " produced " + (std::isnan(y[i]) ? std::string("NaN") : etape::detail::number_text(y[i])) +
                                        " at element " + std::to_string(i) + " of its output " +
                                        output.shape().to_string() + " from a finite input",
                                    kind_, {}, i, output.first_slot() + static_cast<slot_index>(i));
    }

private:
    std::string kind_;
    std::string name_;
};

} // namespace etape::nn
