// Optimizers against their formulas written out by hand (PyTorch's), over
// several steps on a loss with a known gradient; clipping by global norm;
// schedules; parameters keep their slots; losses against hand computations
// and central differences.
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/schedule.hpp>

#include "support/tensor_check.hpp"

namespace nn = etape::nn;

namespace {

struct two_tensors {
    BOOST_HANA_DEFINE_STRUCT(two_tensors, (etape::active_tensor<double>, a), (etape::active_tensor<double>, b));
};

const std::vector<double> start_a{0.5, -1.5, 2.0};
const std::vector<double> start_b{-0.25, 3.0};
const std::vector<double> curvature{1.0, 2.0, 0.5, 4.0, 0.25}; // a's three, then b's two

/// loss = sum_i c_i w_i^3 / 3 + sum_i w_i (its gradient c_i w_i^2 + 1 changes with w)
etape::var<double> loss_of(const two_tensors& m)
{
    const etape::tensor<double> ca({3}, {curvature[0], curvature[1], curvature[2]});
    const etape::tensor<double> cb({2}, {curvature[3], curvature[4]});
    return etape::sum(m.a * m.a * m.a * ca / 3.0 + m.a) + etape::sum(m.b * m.b * m.b * cb / 3.0 + m.b);
}

std::vector<double> gradient_at(const std::vector<double>& w)
{
    std::vector<double> g(w.size());
    for (std::size_t i = 0; i < w.size(); ++i)
        g[i] = curvature[i] * w[i] * w[i] + 1;
    return g;
}

/// Runs `steps` steps of an optimizer made by `make` and returns the
/// parameters after each (a's then b's values).
template <class Make>
std::vector<std::vector<double>> run_optimizer(Make make, int steps)
{
    etape::tape_scope<double> scope;
    two_tensors m{etape::active_tensor<double>(etape::tensor<double>({3}, {start_a[0], start_a[1], start_a[2]})),
                  etape::active_tensor<double>(etape::tensor<double>({2}, {start_b[0], start_b[1]}))};
    const auto slots = std::pair(m.a.first_slot(), m.b.first_slot());
    auto optimizer = make(m);
    const auto start = scope.get().position();
    std::vector<std::vector<double>> after;
    for (int s = 0; s < steps; ++s) {
        optimizer.step(loss_of(m));
        scope.get().rewind(start);
        std::vector<double> w(m.a.values().begin(), m.a.values().end());
        w.insert(w.end(), m.b.values().begin(), m.b.values().end());
        after.push_back(w);
    }
    CHECK(std::pair(m.a.first_slot(), m.b.first_slot()) == slots); // updated in place
    return after;
}

/// The same steps by hand: `update(w, g, step)` changes w in place.
std::vector<std::vector<double>> run_by_hand(const std::function<void(std::vector<double>&, std::vector<double>, int)>& update,
                                             int steps)
{
    std::vector<double> w = start_a;
    w.insert(w.end(), start_b.begin(), start_b.end());
    std::vector<std::vector<double>> after;
    for (int s = 1; s <= steps; ++s) {
        update(w, gradient_at(w), s);
        after.push_back(w);
    }
    return after;
}

void check_same(const std::vector<std::vector<double>>& got, const std::vector<std::vector<double>>& expected)
{
    REQUIRE(got.size() == expected.size());
    for (std::size_t s = 0; s < got.size(); ++s)
        for (std::size_t i = 0; i < got[s].size(); ++i) {
            CAPTURE(s);
            CAPTURE(i);
            CHECK(got[s][i] == doctest::Approx(expected[s][i]).epsilon(1e-12));
        }
}

} // namespace

TEST_CASE("sgd: plain, with momentum, with Nesterov momentum and weight decay, as PyTorch's formulas")
{
    const int steps = 4;
    check_same(run_optimizer([](two_tensors& m) { return nn::sgd<double>(m, {.learning_rate = 0.1}); }, steps),
               run_by_hand(
                   [](std::vector<double>& w, std::vector<double> g, int) {
                       for (std::size_t i = 0; i < w.size(); ++i)
                           w[i] -= 0.1 * g[i];
                   },
                   steps));
    std::vector<double> b(5, 0.0);
    check_same(run_optimizer([](two_tensors& m) { return nn::sgd<double>(m, {.learning_rate = 0.05, .momentum = 0.9}); },
                             steps),
               run_by_hand(
                   [&](std::vector<double>& w, std::vector<double> g, int) {
                       for (std::size_t i = 0; i < w.size(); ++i) {
                           b[i] = 0.9 * b[i] + g[i];
                           w[i] -= 0.05 * b[i];
                       }
                   },
                   steps));
    std::fill(b.begin(), b.end(), 0.0);
    check_same(run_optimizer(
                   [](two_tensors& m) {
                       return nn::sgd<double>(m, {.learning_rate = 0.05, .momentum = 0.8, .nesterov = true,
                                                  .weight_decay = 0.01});
                   },
                   steps),
               run_by_hand(
                   [&](std::vector<double>& w, std::vector<double> g, int) {
                       for (std::size_t i = 0; i < w.size(); ++i) {
                           const double d = g[i] + 0.01 * w[i];
                           b[i] = 0.8 * b[i] + d;
                           w[i] -= 0.05 * (d + 0.8 * b[i]);
                       }
                   },
                   steps));
}

TEST_CASE("adam and adamw: bias-corrected moments, L2 against decoupled weight decay, as PyTorch's formulas")
{
    const int steps = 5;
    for (const bool decoupled : {false, true}) {
        CAPTURE(decoupled);
        std::vector<double> m1(5, 0.0), m2(5, 0.0);
        const double rate = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, decay = 0.1;
        const auto got = decoupled
                             ? run_optimizer([&](two_tensors& m) { return nn::adamw<double>(m, {.learning_rate = rate, .weight_decay = decay}); },
                                             steps)
                             : run_optimizer([&](two_tensors& m) { return nn::adam<double>(m, {.learning_rate = rate, .weight_decay = decay}); },
                                             steps);
        check_same(got, run_by_hand(
                            [&](std::vector<double>& w, std::vector<double> g, int t) {
                                for (std::size_t i = 0; i < w.size(); ++i) {
                                    if (decoupled)
                                        w[i] *= 1 - rate * decay;
                                    else
                                        g[i] += decay * w[i];
                                    m1[i] = b1 * m1[i] + (1 - b1) * g[i];
                                    m2[i] = b2 * m2[i] + (1 - b2) * g[i] * g[i];
                                    const double m_hat = m1[i] / (1 - std::pow(b1, t));
                                    const double v_hat = m2[i] / (1 - std::pow(b2, t));
                                    w[i] -= rate * m_hat / (std::sqrt(v_hat) + eps);
                                }
                            },
                            steps));
    }
}

TEST_CASE("rmsprop: with and without momentum, as PyTorch's formulas")
{
    const int steps = 4;
    for (const double momentum : {0.0, 0.5}) {
        CAPTURE(momentum);
        std::vector<double> v(5, 0.0), b(5, 0.0);
        check_same(run_optimizer(
                       [&](two_tensors& m) {
                           return nn::rmsprop<double>(m, {.learning_rate = 0.01, .momentum = momentum});
                       },
                       steps),
                   run_by_hand(
                       [&](std::vector<double>& w, std::vector<double> g, int) {
                           for (std::size_t i = 0; i < w.size(); ++i) {
                               v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
                               b[i] = momentum * b[i] + g[i] / (std::sqrt(v[i]) + 1e-8);
                               w[i] -= 0.01 * b[i];
                           }
                       },
                       steps));
    }
}

TEST_CASE("clipping: gradients above the global norm are scaled to it, below it left alone")
{
    for (const double clip : {1.0, 1e6}) {
        CAPTURE(clip);
        check_same(
            run_optimizer([&](two_tensors& m) { return nn::sgd<double>(m, {.learning_rate = 0.1, .clip_norm = clip}); }, 3),
            run_by_hand(
                [&](std::vector<double>& w, std::vector<double> g, int) {
                    double norm = 0;
                    for (const double x : g)
                        norm += x * x;
                    norm = std::sqrt(norm);
                    const double scale = norm > clip ? clip / norm : 1.0;
                    for (std::size_t i = 0; i < w.size(); ++i)
                        w[i] -= 0.1 * g[i] * scale;
                },
                3));
    }
    etape::tape_scope<double> scope;
    two_tensors m{etape::active_tensor<double>(etape::tensor<double>({3}, 1.0)),
                  etape::active_tensor<double>(etape::tensor<double>({2}, 1.0))};
    nn::sgd<double> optimizer(m, {.learning_rate = 0.1, .clip_norm = 1.0});
    optimizer.step(loss_of(m));
    double norm = 0;
    for (std::size_t i = 0; i < 5; ++i)
        norm += (curvature[i] + 1) * (curvature[i] + 1);
    CHECK(optimizer.last_gradient_norm() == doctest::Approx(std::sqrt(norm)));
    CHECK_THROWS_AS(nn::sgd<double>(m, {.clip_norm = -1}), std::invalid_argument);
    CHECK_THROWS_AS(nn::sgd<double>(m, {.learning_rate = std::nan("")}), std::invalid_argument);
    CHECK_THROWS_AS(nn::sgd<double>(m, {.nesterov = true}), std::invalid_argument);
    CHECK_THROWS_AS(nn::adam<double>(m, {.beta1 = 1.0}), std::invalid_argument);
}

TEST_CASE("schedules: step decay, cosine decay and a linear warm-up")
{
    const nn::step_decay<double> step{0.1, 10, 0.5};
    CHECK(step(0) == 0.1);
    CHECK(step(9) == 0.1);
    CHECK(step(10) == doctest::Approx(0.05));
    CHECK(step(25) == doctest::Approx(0.025));
    const nn::cosine_decay<double> cosine{1.0, 100, 0.1};
    CHECK(cosine(0) == doctest::Approx(1.0));
    CHECK(cosine(50) == doctest::Approx(0.55));
    CHECK(cosine(100) == 0.1);
    CHECK(cosine(1000) == 0.1);
    const nn::warm_up<nn::cosine_decay<double>> warm{4, cosine};
    CHECK(warm(0) == doctest::Approx(0.25));
    CHECK(warm(3) == doctest::Approx(1.0));
    CHECK(warm(4) == doctest::Approx(1.0));
    CHECK(warm(54) == doctest::Approx(0.55));
}

TEST_CASE_TEMPLATE("losses: MSE, BCE with logits and Huber against hand computations", T, float, double)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> p(etape::tensor<T>({2, 2}, {T(0.5), T(-1), T(3), T(-40)}));
    const etape::tensor<T> y({2, 2}, {T(1), T(0), T(1), T(0.5)});
    long double mse = 0, bce = 0, huber = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const long double z = p.values()[i], t = y.values()[i], d = z - t;
        mse += d * d / 4;
        bce += (std::max(z, 0.0L) - z * t + std::log1p(std::exp(-std::fabs(z)))) / 4;
        huber += (std::fabs(d) <= 1.5L ? d * d / 2 : 1.5L * (std::fabs(d) - 0.75L)) / 4;
    }
    CHECK(nn::mse(p, y).value() == doctest::Approx(static_cast<double>(mse)));
    CHECK(nn::binary_cross_entropy_with_logits(p, y).value() == doctest::Approx(static_cast<double>(bce)));
    CHECK(nn::huber(p, y, T(1.5)).value() == doctest::Approx(static_cast<double>(huber)));
    CHECK_THROWS_WITH_AS((void)nn::mse(p, etape::tensor<T>({4})),
                         "etape::nn::mse: the prediction [2, 2] and the target [4] differ in shape", etape::shape_error);
    CHECK_THROWS_AS((void)nn::huber(p, y, T(0)), std::invalid_argument);
}

TEST_CASE("losses: gradients against central differences")
{
    const auto at = etape_test::spread<double>({6}, 3.0);
    const etape::tensor<double> y({6}, {0.0, 1.0, 0.25, 0.75, 1.0, 0.0});
    const auto numbers = [&](auto f) {
        return [&, f](std::span<const long double> x) {
            long double s = 0;
            for (std::size_t i = 0; i < 6; ++i)
                s += f(x[i], static_cast<long double>(y.values()[i])) / 6;
            return s;
        };
    };
    etape_test::check_tensor_gradient<double>([&](const etape::active_tensor<double>& x) { return nn::mse(x, y); },
                                              numbers([](long double z, long double t) { return (z - t) * (z - t); }),
                                              at);
    etape_test::check_tensor_gradient<double>(
        [&](const etape::active_tensor<double>& x) { return nn::binary_cross_entropy_with_logits(x, y); },
        numbers([](long double z, long double t) { return std::log1p(std::exp(z)) - z * t; }), at);
    etape_test::check_tensor_gradient<double>(
        [&](const etape::active_tensor<double>& x) { return nn::huber(x, y, 0.5); },
        numbers([](long double z, long double t) {
            const long double d = std::fabs(z - t);
            return d <= 0.5L ? d * d / 2 : 0.5L * (d - 0.25L);
        }),
        at);
}
