// Learning-rate schedules: functions of the step count (0 for the first
// step) that an optimizer's set_learning_rate takes each step. Layer: nn.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>

namespace etape::nn {

/// initial * factor^(step / every): torch.optim.lr_scheduler.StepLR.
template <std::floating_point T>
struct step_decay {
    T initial;
    std::size_t every;
    T factor = T(0.1);

    [[nodiscard]] T operator()(std::size_t step) const
    {
        return initial * static_cast<T>(std::pow(static_cast<double>(factor), static_cast<double>(step / every)));
    }
};

/// From initial down to final along half a cosine over `steps`, then
/// final: torch.optim.lr_scheduler.CosineAnnealingLR without restarts.
template <std::floating_point T>
struct cosine_decay {
    T initial;
    std::size_t steps;
    T final = T(0);

    [[nodiscard]] T operator()(std::size_t step) const
    {
        if (step >= steps)
            return final;
        const double phase = std::numbers::pi * static_cast<double>(step) / static_cast<double>(steps);
        return final + static_cast<T>((initial - final) * (1 + std::cos(phase)) / 2);
    }
};

/// A linear warm-up over the first `steps` steps, from after(0) / steps up
/// to after(0), then `after` from its own step 0.
template <class Schedule>
struct warm_up {
    std::size_t steps;
    Schedule after;

    [[nodiscard]] auto operator()(std::size_t step) const
    {
        using T = decltype(after(step));
        if (step < steps)
            return after(0) * static_cast<T>(step + 1) / static_cast<T>(steps);
        return after(step - steps);
    }
};

} // namespace etape::nn
