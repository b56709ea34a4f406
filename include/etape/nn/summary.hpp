// A model's summary table: each parameter's dotted name, shape and count,
// then each buffer's, then the total. Layer: nn.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include <etape/nn/reflect.hpp>

namespace etape::nn {

/// The table, one line per tensor:
///
///     name        shape          count
///     l1.weight   [256, 64]      16384
///     l1.bias     [256]            256
///     ...
///     total trainable           85002
template <class Model>
[[nodiscard]] std::string summary(const Model& model)
{
    using T = precision_t<Model>;
    struct row {
        std::string name, shape;
        std::size_t count;
        bool trainable;
    };
    struct collect {
        std::vector<row> rows;
        void parameter(std::string_view name, const active_tensor<T>& p)
        {
            rows.push_back({std::string(name), p.shape().to_string(), p.size(), true});
        }
        void buffer(std::string_view name, const etape::tensor<T>& b)
        {
            rows.push_back({std::string(name) + " (buffer)", b.shape().to_string(), b.size(), false});
        }
    } visitor;
    walk(model, visitor);

    std::size_t name_width = std::string_view("total trainable").size(), shape_width = 5, trainable = 0, saved = 0;
    for (const row& r : visitor.rows) {
        name_width = std::max(name_width, r.name.size());
        shape_width = std::max(shape_width, r.shape.size());
        (r.trainable ? trainable : saved) += r.count;
    }
    const std::string total = fmt::format("{}", trainable);
    const std::size_t count_width = std::max<std::size_t>(5, total.size());
    std::string out;
    out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "name", name_width, "shape", shape_width, "count", count_width);
    for (const row& r : visitor.rows)
        out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", r.name, name_width, r.shape, shape_width, r.count,
                       count_width);
    out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "total trainable", name_width, "", shape_width, trainable,
                   count_width);
    if (saved > 0)
        out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", "total buffers", name_width, "", shape_width, saved,
                       count_width);
    return out;
}

} // namespace etape::nn
