// Optimizer state files: nn::save_state writes an optimizer's step count,
// learning rate and state arrays (momentum, moments) in the model-file
// format, atomically; nn::load_state checks a whole file against the
// optimizer before it changes anything. With nn::save and nn::load, a run
// stopped and resumed goes on bit for bit as the uninterrupted one.
// Layer: nn. The tensors of the file: docs/nn.md, "Optimizer state".
#pragma once

#include <cmath>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/core.h>

#include <etape/nn/model_file.hpp>

namespace etape::nn {

namespace detail {

/// The step count is held as a float64: exact up to 2^53 steps.
inline constexpr double most_steps_in_a_file = 9007199254740992.0;

/// An optimizer's tensors in file order: "steps" (float64 [1]),
/// "learning_rate" (T [1]), then "<state>.<parameter name>" for each state
/// array, all buffers. `steps` and `rate` hold the first two's values.
template <class Byte, class Optimizer, class T>
std::vector<model_tensor<Byte>> list_state(Optimizer& optimizer, double& steps, T& rate)
{
    std::vector<model_tensor<Byte>> tensors;
    const auto add = [&]<class U>(std::string name, etape::shape shape, std::span<U> values) {
        tensors.push_back({{std::move(name), tensor_kind::buffer, dtype_of<std::remove_const_t<U>>(), shape},
                           std::span<Byte>(reinterpret_cast<Byte*>(values.data()), values.size_bytes())});
    };
    add("steps", etape::shape{1}, std::span<double>(&steps, 1));
    add("learning_rate", etape::shape{1}, std::span<T>(&rate, 1));
    const auto& parameters = optimizer.parameters();
    optimizer.for_each_state([&](std::string_view state, std::size_t i, auto values) {
        add(fmt::format("{}.{}", state, parameters[i].name), parameters[i].tensor->shape(), values);
    });
    return tensors;
}

template <class Optimizer>
using optimizer_precision_t = std::remove_cvref_t<decltype(std::declval<const Optimizer&>().learning_rate())>;

} // namespace detail

/// Writes `optimizer`'s step count, learning rate and every state array
/// ("momentum.l1.weight", "first_moment.l1.weight", ...) to `path` in the
/// model-file format of docs/nn.md, atomically as nn::save does. Throws
/// model_file_error naming `path` and the problem.
template <class Optimizer>
void save_state(const Optimizer& optimizer, const std::filesystem::path& path)
{
    double steps = static_cast<double>(optimizer.steps());
    detail::optimizer_precision_t<Optimizer> rate = optimizer.learning_rate();
    if (steps > detail::most_steps_in_a_file)
        detail::throw_model_file_error("save", path,
                                       fmt::format("{} steps, more than a state file holds (2^53)", optimizer.steps()));
    detail::write_model_file(detail::list_state<const unsigned char>(optimizer, steps, rate), path);
}

/// Reads `path` into `optimizer`: its step count, learning rate and state
/// arrays. The whole file is checked first (as nn::load checks a model
/// file: format, checksum, then each tensor's name, dtype and shape
/// against the optimizer's, so a file of another kind of optimizer, or of
/// one made with other options or over another model, is refused): any
/// problem throws model_file_error naming `path` and the first problem,
/// and leaves the optimizer as it was.
template <class Optimizer>
void load_state(Optimizer& optimizer, const std::filesystem::path& path)
{
    static_assert(!std::is_const_v<Optimizer>, "etape::nn::load_state writes into the optimizer: it cannot be const");
    using T = detail::optimizer_precision_t<Optimizer>;
    const std::vector<unsigned char> file = detail::read_whole_file(path);
    const std::vector<detail::file_tensor> stored = detail::read_model_file(file, path);
    double steps = 0;
    T rate = 0;
    const auto tensors = detail::list_state<unsigned char>(optimizer, steps, rate);
    detail::check_model_matches(stored, tensors, path, "optimizer");

    std::memcpy(&steps, file.data() + stored[0].offset, sizeof steps);
    std::memcpy(&rate, file.data() + stored[1].offset, sizeof rate);
    if (!(steps >= 0 && steps <= detail::most_steps_in_a_file && steps == std::floor(steps)))
        detail::throw_model_file_error("load", path,
                                       fmt::format("'steps' holds {}, not a count of steps", steps));
    if (!(rate >= T(0) && std::isfinite(rate)))
        detail::throw_model_file_error("load", path,
                                       fmt::format("'learning_rate' holds {}, not a learning rate", rate));
    // Nothing below can fail: the optimizer changes only now, and all at once.
    for (std::size_t i = 2; i < tensors.size(); ++i)
        if (!tensors[i].bytes.empty())
            std::memcpy(tensors[i].bytes.data(), file.data() + stored[i].offset, tensors[i].bytes.size());
    optimizer.set_steps(static_cast<std::size_t>(steps));
    optimizer.set_learning_rate(rate);
}

} // namespace etape::nn
