// nn::sequential: a stack of layers, each fed the previous one's output,
// held in a hana::tuple so that the forward is unrolled at compile time and
// the walk names the layers by position ("0.weight", "1.weight"). Layer: nn.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>

namespace etape::nn {

template <class... L>
class sequential {
    static_assert(sizeof...(L) > 0, "etape::nn::sequential needs at least one layer");

public:
    sequential(L... layers) : layers_(std::move(layers)...) {} // NOLINT: sequential s = {dense(...), ...}

    /// The last layer's output for x fed through every layer in order.
    template <class X>
    [[nodiscard]] auto operator()(const X& x) const
    {
        return forward_from<0>(x);
    }

    /// The layers, for the walk and for reading one (`layer<0>()`).
    [[nodiscard]] boost::hana::tuple<L...>& layers() noexcept { return layers_; }
    [[nodiscard]] const boost::hana::tuple<L...>& layers() const noexcept { return layers_; }

    template <std::size_t I>
    [[nodiscard]] auto& layer() noexcept
    {
        return boost::hana::at_c<I>(layers_);
    }
    template <std::size_t I>
    [[nodiscard]] const auto& layer() const noexcept
    {
        return boost::hana::at_c<I>(layers_);
    }

    static constexpr std::size_t size() noexcept { return sizeof...(L); }

private:
    template <std::size_t I, class X>
    [[nodiscard]] auto forward_from(const X& x) const
    {
        auto y = boost::hana::at_c<I>(layers_)(x);
        if constexpr (I + 1 == sizeof...(L))
            return y;
        else
            return forward_from<I + 1>(y);
    }

    boost::hana::tuple<L...> layers_;
};

} // namespace etape::nn
