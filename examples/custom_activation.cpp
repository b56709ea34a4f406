// Defining a new activation: ISRLU (inverse square root linear unit),
//   isrlu(x) = x >= 0 ? x : x / sqrt(1 + a x^2),
// as a primitive struct, called on vars like a builtin, its gradient checked
// against finite differences, then used in a tiny model.
#include <cmath>
#include <string_view>
#include <vector>

#include <etape/scalar.hpp>
#include <fmt/format.h>

/// The primitive: its value, its partial, and what the partial reads.
struct isrlu_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    static constexpr std::string_view name = "isrlu";
    double a = 1;

    template <class T>
    T primal(T x) const
    {
        return x >= 0 ? x : x / std::sqrt(1 + T(a) * x * x);
    }
    /// d/dx = (1 + a x^2)^(-3/2) for x < 0
    template <class T>
    T partial(T x, T /*y*/) const
    {
        if (x >= 0)
            return T(1);
        const T r = 1 / std::sqrt(1 + T(a) * x * x);
        return r * r * r;
    }
};

/// The function users call: on vars, expressions, plain numbers and tensor
/// expressions (a fused loop, like the builtins).
template <etape::elementwise_operand X>
auto isrlu(const X& x, double a = 1)
{
    return etape::apply(isrlu_op{a}, x);
}

int main()
{
    // 1. check the gradient at points on both sides of the kink
    bool all_passed = true;
    for (const double x0 : {-3.0, -0.5, -1e-8, 1e-8, 0.5, 3.0}) {
        const auto report = etape::check_gradient([](auto x) { return isrlu(x[0], 0.5); }, std::vector<double>{x0});
        fmt::print("x = {:>6}: {}\n", x0, report);
        all_passed = all_passed && report.passed;
    }

    // 2. use it: one neuron y = isrlu(w x + b), squared error against a target
    etape::var<double> w = 0.8, b = -0.3;
    const double x = -1.2, target = -0.5;
    const etape::var<double> y = isrlu(w * x + b, 0.5);
    const etape::var<double> loss = (y - target) * (y - target);
    const auto [dw, db] = etape::gradient(loss, w, b);
    fmt::print("loss = {:.6f}, dloss/dw = {:.6f}, dloss/db = {:.6f}\n", loss, dw, db);
    fmt::print("tape: {}\n", etape::active_tape<double>().stats());
    return all_passed ? 0 : 1;
}
