// Second derivatives by reverse over forward: Hessian-vector products and
// small dense Hessians. Layer: sim (on core's gradient and sim/dual).
//
// f runs once on dual<var<T>> numbers: x_i with tangent v_i. The tangent it
// returns, grad f(x) . v, is recorded on the tape as a function of x, so one
// reverse sweep from it gives grad (grad f . v) = H v, exact to rounding,
// for a constant multiple of f's cost: each dual operation records two
// statements where var's expression templates fuse a whole line into one
// (Rosenbrock's recording is 4.5 times as long; H v takes about 13 times as
// long as etape::gradient, in double at n = 100000). The tape's scalar must
// be a floating-point type, so the other order (a dual as the tape's scalar,
// forward over reverse) is not available; this one needs only f written
// once as a template over its scalar:
//
//     template <class S> S rosenbrock(std::span<const S> x);
//     const auto hv = etape::sim::hessian_vector_product(
//         [](auto x) { return rosenbrock(x); }, x, v);     // x, v: std::vector<double>
//     const etape::tensor<double> h = etape::sim::hessian([](auto x) { return rosenbrock(x); }, x);
//
// f is called with std::span<const dual<var<T>>> and returns a
// dual<var<T>>; it may read vars recorded before the call (parameters), as
// constants. Each function records on the active tape and rewinds it to
// where it was before returning (also when f throws), like
// etape::value_and_gradient: what f recorded is gone, what was there before
// is kept. An empty x gives empty results, as etape::gradient does.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/gradient.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/var.hpp>
#include <etape/sim/dual.hpp>
#include <etape/sim/dual_functions.hpp> // what f calls beyond + - * /: exp, elu, ... on duals
#include <etape/tensor/tensor.hpp>

namespace etape::sim {

/// What the functions of this header differentiate twice: a callable that,
/// given std::span<const dual<var<T>>>, returns a dual<var<T>>.
template <class F, class T>
concept twice_differentiable =
    std::floating_point<T> && std::invocable<F&, std::span<const dual<var<T>>>> &&
    std::convertible_to<std::invoke_result_t<F&, std::span<const dual<var<T>>>>, dual<var<T>>>;

/// f(x), grad f(x) and H v.
template <std::floating_point T>
struct hessian_vector_result {
    T value = 0;
    std::vector<T> gradient;
    std::vector<T> hessian_vector;
};

/// f(x), grad f(x) and the n x n Hessian, hessian(i, j) = d^2 f / dx_i dx_j.
template <std::floating_point T>
struct hessian_result {
    T value = 0;
    std::vector<T> gradient;
    tensor<T> hessian;
};

namespace detail {

/// `who`: the public function, named in the message.
inline void require_direction_size(const char* who, std::size_t inputs, std::size_t direction)
{
    if (direction != inputs)
        throw std::invalid_argument(std::string("etape::sim::") + who + ": the direction v has " +
                                    etape::detail::counted(direction, "element") + " for " +
                                    etape::detail::counted(inputs, "input") + " x");
}

/// Records f at x along v on the active tape, rewound before returning:
/// writes H v into `hv` and, unless `gradient` is empty, grad f into it;
/// returns f(x). Two sweeps when the gradient is wanted, one otherwise.
template <class T, class F>
T second_order_pass(F& f, std::span<const T> x, std::span<const T> v, std::span<T> gradient, std::span<T> hv)
{
    tape<T>& t = active_tape<T>();
    const etape::detail::rewind_guard<T> rewind(t);
    const std::size_t n = x.size();
    // x then v, on consecutive slots: the gradients over x are then copies
    // of the adjoints. v are inputs too, only because a var holding a
    // nonzero constant must be one; their adjoints are not read.
    std::vector<T> seeds(x.begin(), x.end());
    seeds.insert(seeds.end(), v.begin(), v.end());
    std::vector<var<T>> inputs(2 * n);
    etape::register_inputs(std::span<var<T>>(inputs), std::span<const T>(seeds));
    std::vector<dual<var<T>>> point;
    point.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        point.emplace_back(inputs[i], inputs[n + i]);
    const dual<var<T>> y = f(std::span<const dual<var<T>>>(point));
    const auto xs = std::span<const var<T>>(inputs).first(n);
    if (!gradient.empty())
        etape::gradient_into(y.value(), xs, gradient);
    etape::gradient_into(y.tangent(), xs, hv);
    return y.value().value();
}

/// Column j of the Hessian is H e_j: n passes, the first also giving the
/// gradient when `gradient` is not empty. Returns f(x) (f is called once
/// even for an empty x, for its value).
template <class T, class F>
T fill_hessian(F& f, std::span<const T> x, std::span<T> gradient, tensor<T>& h)
{
    const std::size_t n = x.size();
    if (n == 0)
        return second_order_pass(f, x, std::span<const T>(), std::span<T>(), std::span<T>());
    std::vector<T> unit(n), column(n);
    T value = 0;
    for (std::size_t j = 0; j < n; ++j) {
        unit[j] = T(1);
        value = second_order_pass(f, x, std::span<const T>(unit), j == 0 ? gradient : std::span<T>(),
                                  std::span<T>(column));
        unit[j] = T(0);
        for (std::size_t i = 0; i < n; ++i)
            h(i, j) = column[i];
    }
    return value;
}

} // namespace detail

/// H v, the Hessian of f at x times v: one recording of f on duals and one
/// reverse sweep. v must have x.size() elements (std::invalid_argument,
/// naming both sizes, otherwise).
template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] std::vector<T> hessian_vector_product(F&& f, std::span<const T> x,
                                                    std::type_identity_t<std::span<const T>> v)
{
    detail::require_direction_size("hessian_vector_product", x.size(), v.size());
    std::vector<T> hv(x.size());
    detail::second_order_pass(f, x, v, std::span<T>(), std::span<T>(hv));
    return hv;
}

template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] std::vector<T> hessian_vector_product(F&& f, const std::vector<T>& x,
                                                    std::type_identity_t<std::span<const T>> v)
{
    return hessian_vector_product(f, std::span<const T>(x), v);
}

/// f(x), grad f(x) and H v from the same recording: one more sweep than
/// hessian_vector_product.
template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] hessian_vector_result<T> gradient_and_hessian_vector_product(F&& f, std::span<const T> x,
                                                                           std::type_identity_t<std::span<const T>> v)
{
    detail::require_direction_size("gradient_and_hessian_vector_product", x.size(), v.size());
    hessian_vector_result<T> r{T(0), std::vector<T>(x.size()), std::vector<T>(x.size())};
    r.value = detail::second_order_pass(f, x, v, std::span<T>(r.gradient), std::span<T>(r.hessian_vector));
    return r;
}

template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] hessian_vector_result<T> gradient_and_hessian_vector_product(F&& f, const std::vector<T>& x,
                                                                           std::type_identity_t<std::span<const T>> v)
{
    return gradient_and_hessian_vector_product(f, std::span<const T>(x), v);
}

/// The n x n Hessian of f at x, column j being H e_j: n recordings of f,
/// so n times the cost of hessian_vector_product; meant for small n (a
/// Newton step, a curvature check). H(i, j) and H(j, i) come from
/// different products and agree to rounding; average them where a solver
/// needs exact symmetry.
template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] tensor<T> hessian(F&& f, std::span<const T> x)
{
    tensor<T> h(shape{x.size(), x.size()});
    if (!x.empty())
        detail::fill_hessian(f, x, std::span<T>(), h);
    return h;
}

template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] tensor<T> hessian(F&& f, const std::vector<T>& x)
{
    return hessian(f, std::span<const T>(x));
}

/// f(x), grad f(x) and the Hessian: the gradient comes with the first of
/// the n products, for one more sweep.
template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] hessian_result<T> gradient_and_hessian(F&& f, std::span<const T> x)
{
    hessian_result<T> r{T(0), std::vector<T>(x.size()), tensor<T>(shape{x.size(), x.size()})};
    r.value = detail::fill_hessian(f, x, std::span<T>(r.gradient), r.hessian);
    return r;
}

template <class F, class T>
    requires twice_differentiable<F, T>
[[nodiscard]] hessian_result<T> gradient_and_hessian(F&& f, const std::vector<T>& x)
{
    return gradient_and_hessian(f, std::span<const T>(x));
}

} // namespace etape::sim
