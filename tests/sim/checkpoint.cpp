// Binomial checkpointing: revolve's schedule against a brute-force count
// of its cost, and checkpointed_gradient against the gradient of the whole
// loop taped at once (the state's and the parameters'), its step counts,
// its tape memory and its misuse.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/check.hpp"

#include <etape/sim/checkpointed.hpp>
#include <etape/sim/revolve.hpp>

namespace {

using etape::sim::action;
using etape::sim::action_kind;

/// F(n, s) for n <= max_steps, s <= max_snapshots by the recurrence of
/// revolve.hpp, trying every first advance m.
std::vector<std::vector<std::size_t>> brute_force_costs(std::size_t max_steps, std::size_t max_snapshots)
{
    constexpr std::size_t unreachable = std::numeric_limits<std::size_t>::max();
    std::vector<std::vector<std::size_t>> f(max_steps + 1, std::vector<std::size_t>(max_snapshots + 1, unreachable));
    for (std::size_t s = 0; s <= max_snapshots; ++s)
        f[1][s] = 0;
    for (std::size_t n = 2; n <= max_steps; ++n)
        for (std::size_t s = 1; s <= max_snapshots; ++s)
            for (std::size_t m = 1; m < n; ++m)
                if (f[n - m][s - 1] != unreachable)
                    f[n][s] = std::min(f[n][s], m + f[n - m][s - 1] + f[m][s]);
    return f;
}

/// The least number of steps advanced by any sequence of stores, frees,
/// restores, advances and reversals that reverses n steps holding at most s
/// states: a shortest path (0-1 breadth-first search) over (steps left to
/// reverse r, states held, state in hand), not restricted to revolve's
/// splits. Small n only: the states held are a bit mask.
std::size_t least_cost_of_any_schedule(std::size_t n, std::size_t s)
{
    const std::size_t none = n; // no state in hand
    const std::size_t masks = std::size_t{1} << n;
    const auto key = [&](std::size_t r, std::size_t mask, std::size_t current) {
        return (r * masks + mask) * (n + 1) + current;
    };
    std::vector<std::size_t> cost((n + 1) * masks * (n + 1), std::numeric_limits<std::size_t>::max());
    std::deque<std::array<std::size_t, 3>> queue{{n, 0, 0}}; // x_0 in hand, nothing stored
    cost[key(n, 0, 0)] = 0;
    while (!queue.empty()) {
        const auto [r, mask, current] = queue.front();
        queue.pop_front();
        const std::size_t here = cost[key(r, mask, current)];
        if (r == 0)
            return here;
        const auto reach = [&](std::size_t r2, std::size_t mask2, std::size_t current2, std::size_t step_cost) {
            std::size_t& c = cost[key(r2, mask2, current2)];
            if (here + step_cost < c) {
                c = here + step_cost;
                if (step_cost == 0)
                    queue.push_front({r2, mask2, current2});
                else
                    queue.push_back({r2, mask2, current2});
            }
        };
        for (std::size_t b = 0; b < r; ++b)
            if (mask >> b & 1) {
                reach(r, mask, b, 0);                                 // restore
                reach(r, mask & ~(std::size_t{1} << b), current, 0); // free
            }
        if (current == none)
            continue;
        if (!(mask >> current & 1) && static_cast<std::size_t>(std::popcount(mask)) < s)
            reach(r, mask | std::size_t{1} << current, current, 0); // store
        if (current + 1 < r)
            reach(r, mask, current + 1, 1); // advance (x_r is never needed: step r - 1 is taped from x_r-1)
        if (current + 1 == r)
            reach(r - 1, mask & ((std::size_t{1} << (r - 1)) - 1), none, 0); // reverse step r - 1
    }
    return std::numeric_limits<std::size_t>::max();
}

/// What running a schedule did.
struct schedule_run {
    std::size_t advanced = 0;  // steps advanced
    std::size_t most_held = 0; // snapshots held at once
    std::size_t most_runs = 0; // times one step was advanced
    std::vector<std::size_t> reversed;
};

/// Runs revolve(steps, snapshots) on states that are just their indices,
/// checking each action against what it may do there.
schedule_run run_schedule(std::size_t steps, std::size_t snapshots)
{
    etape::sim::revolve schedule(steps, snapshots);
    schedule_run run;
    std::vector<std::size_t> held; // the state in each snapshot, last in first out
    std::vector<std::size_t> runs(steps);
    std::size_t current = 0;
    while (const auto a = schedule.next()) {
        switch (a->kind) {
        case action_kind::store:
            REQUIRE(a->step == current);
            REQUIRE(a->snapshot == held.size());
            held.push_back(current);
            run.most_held = std::max(run.most_held, held.size());
            break;
        case action_kind::restore:
            REQUIRE(a->snapshot < held.size());
            REQUIRE(held[a->snapshot] == a->step);
            current = a->step;
            break;
        case action_kind::advance:
            REQUIRE(a->step == current);
            REQUIRE(a->target > current);
            REQUIRE(a->target < steps); // x_N is never needed: the last step is taped with the loss
            run.advanced += a->target - current;
            for (std::size_t k = current; k < a->target; ++k)
                run.most_runs = std::max(run.most_runs, ++runs[k]);
            current = a->target;
            break;
        case action_kind::reverse:
            REQUIRE(a->step == current);
            REQUIRE(a->step == steps - 1 - run.reversed.size()); // the last step first, then down
            run.reversed.push_back(a->step);
            break;
        case action_kind::free:
            REQUIRE(a->snapshot + 1 == held.size());
            REQUIRE(held.back() == a->step);
            held.pop_back();
            break;
        }
    }
    CHECK(held.empty());
    return run;
}

/// n values of a smooth profile, scaled.
template <class T>
etape::tensor<T> profile(std::size_t n, double scale, double phase)
{
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<T>(scale * std::sin(0.7 * static_cast<double>(i) + phase));
    return etape::tensor<T>({n}, v);
}

/// A diffusion matrix over a ring of n points (second differences).
template <class T>
etape::tensor<T> ring_laplacian(std::size_t n)
{
    etape::tensor<T> l({n, n});
    for (std::size_t i = 0; i < n; ++i) {
        l(i, i) = T(-2);
        l(i, (i + 1) % n) += T(1);
        l(i, (i + n - 1) % n) += T(1);
    }
    return l;
}

/// A reaction-diffusion loop with parameters recorded before it: a scalar
/// rate a and a forcing tensor w. x_{k+1} = x + h (a elu(x) - x^3 + w + L x),
/// L = c * ring_laplacian; loss = sum(x^2 p) / 2.
template <class T>
struct reaction_diffusion {
    std::size_t n;
    T h;
    etape::var<T> a;
    etape::active_tensor<T> w;
    etape::tensor<T> laplacian;
    etape::tensor<T> weights;
    std::size_t calls = 0;

    reaction_diffusion(std::size_t size, T step_size)
        : n(size), h(step_size), a(T(0.7)), w(profile<T>(size, 0.3, 1.3)),
          laplacian(ring_laplacian<T>(size)), weights(profile<T>(size, 1.0, 0.4))
    {
    }

    etape::active_tensor<T> step(const etape::active_tensor<T>& x, std::size_t)
    {
        ++calls;
        const etape::active_tensor<T> diffusion = etape::matmul(laplacian, x);
        return x + h * (a * etape::elu(x) - x * x * x + w + T(0.5) * diffusion);
    }

    etape::var<T> loss(const etape::active_tensor<T>& x) const { return etape::sum(x * x * weights) * T(0.5); }
};

/// The loss, dL/dx0, dL/da and dL/dw of the whole loop taped at once.
template <class T>
struct taped_gradient {
    T loss;
    std::vector<T> x0, w;
    T a;
    std::size_t tape_bytes; // the recording's growth
};

template <class T>
taped_gradient<T> tape_whole_loop(reaction_diffusion<T>& model, const etape::tensor<T>& initial, std::size_t steps)
{
    etape::tape<T>& t = etape::active_tape<T>();
    const etape::tape_position start = t.position();
    const std::size_t bytes_before = t.stats().bytes;
    const etape::active_tensor<T> x0(initial);
    etape::active_tensor<T> x = x0;
    for (std::size_t k = 0; k < steps; ++k)
        x = model.step(x, k);
    const etape::var<T> loss = model.loss(x);
    const auto [gx, ga, gw] = etape::gradient(loss, x0, model.a, model.w);
    taped_gradient<T> r{loss.value(), {gx.values().begin(), gx.values().end()},
                        {gw.values().begin(), gw.values().end()}, ga, t.stats().bytes - bytes_before};
    t.rewind(start);
    return r;
}

/// max |got - want| <= tolerance * max |want|.
template <class T>
void check_close(std::span<const T> got, std::span<const T> want, double tolerance)
{
    REQUIRE(got.size() == want.size());
    double largest = 0, error = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        largest = std::max(largest, std::abs(static_cast<double>(want[i])));
        error = std::max(error, std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
    }
    CAPTURE(largest);
    CAPTURE(error);
    CHECK(error <= tolerance * largest);
}

template <class T>
double tolerance()
{
    return sizeof(T) == 4 ? 1e-5 : 1e-12;
}

/// checkpointed_gradient(steps, snapshots) against the whole loop taped:
/// the gradients, the parameters' adjoints and the step counts.
template <class T>
void check_against_taped(std::size_t size, std::size_t steps, std::size_t snapshots)
{
    CAPTURE(steps);
    CAPTURE(snapshots);
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    // a step of at most 2 / N: the state moves over the loop but does not settle, so dL/dx0 stays large
    const double h = std::min(0.05, 2.0 / static_cast<double>(std::max<std::size_t>(steps, 1)));
    reaction_diffusion<T> model(size, static_cast<T>(h));
    const etape::tensor<T> initial = profile<T>(size, 0.8, 0.0);
    const std::size_t slots_before = t.size();

    const auto got = etape::sim::checkpointed_gradient(
        initial, steps, [&](const etape::active_tensor<T>& x, std::size_t k) { return model.step(x, k); },
        [&](const etape::active_tensor<T>& x) { return model.loss(x); }, etape::sim::snapshot_count{snapshots});
    CHECK(t.size() == slots_before); // rewound to where it was
    const T got_a = t.adjoint(model.a.slot());
    const std::vector<T> got_w(t.adjoints() + model.w.first_slot(), t.adjoints() + model.w.first_slot() + size);
    const std::size_t calls = model.calls;

    const taped_gradient<T> want = tape_whole_loop(model, initial, steps);
    CHECK(std::abs(static_cast<double>(got.loss - want.loss)) <=
          tolerance<T>() * std::abs(static_cast<double>(want.loss)));
    CHECK(got.gradient.shape() == initial.shape());
    const auto nonzero = [](const std::vector<T>& v) {
        return std::any_of(v.begin(), v.end(), [](T g) { return g != 0; });
    };
    CHECK(nonzero(want.x0)); // no comparison of zeros
    CHECK((steps == 0 || (nonzero(want.w) && want.a != 0))); // the loss does not see the parameters without steps
    check_close<T>(got.gradient.values(), want.x0, tolerance<T>());
    check_close<T>(got_w, want.w, tolerance<T>());
    check_close<T>(std::span<const T>(&got_a, 1), std::span<const T>(&want.a, 1), tolerance<T>());

    const etape::sim::checkpoint_stats& stats = got.stats;
    CHECK(stats.forward_steps == etape::sim::forward_steps(steps, snapshots));
    CHECK(stats.reverse_steps == steps);
    CHECK(calls == stats.forward_steps + stats.reverse_steps); // the step ran just that often
    CHECK(stats.snapshots <= snapshots);
    CHECK(stats.snapshot_bytes == stats.snapshots * size * sizeof(T));
}

} // namespace

TEST_CASE("revolve: the closed form of the forward steps is the brute-force minimum")
{
    constexpr std::size_t max_steps = 80, max_snapshots = 10;
    const auto f = brute_force_costs(max_steps, max_snapshots);
    for (std::size_t n = 1; n <= max_steps; ++n)
        for (std::size_t s = 1; s <= max_snapshots; ++s) {
            CAPTURE(n);
            CAPTURE(s);
            CHECK(etape::sim::forward_steps(n, s) == f[n][s]);
        }
    CHECK(etape::sim::forward_steps(0, 3) == 0);
    // the two ends: one pass storing every state, and x_0 alone
    CHECK(etape::sim::forward_steps(1000, 1000) == 999);
    CHECK(etape::sim::forward_steps(1000, std::numeric_limits<std::size_t>::max()) == 999);
    CHECK(etape::sim::forward_steps(1000, 1) == 1000 * 999 / 2);
    // beta(3, t) = C(3 + t, 3): 4, 10, 20, 35; 35 steps with 3 snapshots run each step at most 4 times
    CHECK(etape::sim::repetition_number(35, 3) == 4);
    CHECK(etape::sim::repetition_number(36, 3) == 5);
    CHECK(etape::sim::forward_steps(35, 3) == 4 * 35 - 35); // beta(4, 3) = C(7, 4) = 35
    CHECK(etape::sim::repetition_number(1, 5) == 0);
}

TEST_CASE("revolve: no schedule at all runs fewer steps, by exhaustive search")
{
    for (std::size_t n = 1; n <= 9; ++n)
        for (std::size_t s = 1; s <= 4; ++s) {
            CAPTURE(n);
            CAPTURE(s);
            CHECK(etape::sim::forward_steps(n, s) == least_cost_of_any_schedule(n, s));
        }
}

TEST_CASE("revolve: a schedule reverses every step once with at most s snapshots and F(N, s) advances")
{
    const auto check_schedule = [](std::size_t n, std::size_t s) {
        CAPTURE(n);
        CAPTURE(s);
        const schedule_run run = run_schedule(n, s);
        CHECK(run.reversed.size() == n);
        CHECK(run.most_held <= s);
        CHECK(run.advanced == etape::sim::forward_steps(n, s));
        CHECK(run.most_runs == etape::sim::repetition_number(n, s));
    };
    for (std::size_t n = 0; n <= 60; ++n)
        for (std::size_t s = 1; s <= 9; ++s)
            check_schedule(n, s);
    check_schedule(10000, 3);
    check_schedule(10000, 1);
    check_schedule(4000, 12);
    check_schedule(777, 5000);
}

TEST_CASE("revolve: the schedule of 4 steps with 2 snapshots")
{
    // F(4, 2) = 4: advance to 1, store it, reverse 3 and 2 from it, then 1 and 0 from x_0
    etape::sim::revolve schedule(4, 2);
    std::vector<action> actions;
    while (const auto a = schedule.next())
        actions.push_back(*a);
    const std::vector<action> want{
        {action_kind::store, 0, 0, 0},   {action_kind::advance, 0, 1, 0}, {action_kind::store, 1, 0, 1},
        {action_kind::advance, 1, 3, 0}, {action_kind::reverse, 3, 0, 0}, {action_kind::restore, 1, 0, 1},
        {action_kind::advance, 1, 2, 0}, {action_kind::reverse, 2, 0, 0}, {action_kind::restore, 1, 0, 1},
        {action_kind::reverse, 1, 0, 0}, {action_kind::free, 1, 0, 1},    {action_kind::restore, 0, 0, 0},
        {action_kind::reverse, 0, 0, 0}, {action_kind::free, 0, 0, 0},
    };
    CHECK(actions == want);
    CHECK(schedule.steps() == 4);
}

TEST_CASE("revolve: 0 snapshots and counts past a size_t are refused")
{
    CHECK_THROWS_AS((void)etape::sim::revolve(5, 0), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::sim::forward_steps(5, 0), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::sim::repetition_number(5, 0), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::sim::forward_steps(std::size_t{1} << 40, 1), std::overflow_error);
}

TEST_CASE_TEMPLATE("checkpointed_gradient: the gradients of the whole loop taped at once", T, ETAPE_TEST_TYPES)
{
    for (const auto& [steps, snapshots] : {std::pair<std::size_t, std::size_t>{1, 1}, {2, 1}, {7, 1}, {7, 2},
                                           {7, 3}, {7, 7}, {7, 50}, {30, 4}, {100, 3}, {100, 1}})
        check_against_taped<T>(12, steps, snapshots);
}

TEST_CASE("checkpointed_gradient: 10,000 steps with 4 snapshots")
{
    check_against_taped<double>(8, 10000, 4);
}

TEST_CASE_TEMPLATE("checkpointed_gradient: no steps is the loss's gradient at x0", T, ETAPE_TEST_TYPES)
{
    check_against_taped<T>(12, 0, 1);
    etape::tape_scope<T> scope;
    reaction_diffusion<T> model(5, T(0.1));
    const etape::tensor<T> initial = profile<T>(5, 0.8, 0.0);
    const auto got = etape::sim::checkpointed_gradient(
        initial, 0, [&](const etape::active_tensor<T>& x, std::size_t k) { return model.step(x, k); },
        [&](const etape::active_tensor<T>& x) { return model.loss(x); }, etape::sim::snapshot_count{1});
    for (std::size_t i = 0; i < 5; ++i) // L = sum(x^2 p) / 2
        CHECK(got.gradient.values()[i] == doctest::Approx(initial.values()[i] * model.weights.values()[i]));
    CHECK(model.calls == 0);
    CHECK(got.stats.snapshots == 0);
}

TEST_CASE("checkpointed_gradient: the tape holds one step, not the loop")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    reaction_diffusion<double> model(16, 0.01);
    const etape::tensor<double> initial = profile<double>(16, 0.8, 0.0);
    const std::size_t steps = 200;
    const std::size_t bytes_before = t.stats().bytes;

    t.reset_peak();
    const auto got = etape::sim::checkpointed_gradient(
        initial, steps, [&](const etape::active_tensor<double>& x, std::size_t k) { return model.step(x, k); },
        [&](const etape::active_tensor<double>& x) { return model.loss(x); }, etape::sim::snapshot_count{4});
    const std::size_t checkpointed_peak = t.stats().peak_bytes - bytes_before;
    CHECK(got.stats.tape_bytes == checkpointed_peak);

    t.reset_peak();
    const taped_gradient<double> whole = tape_whole_loop(model, initial, steps);
    const std::size_t whole_peak = t.stats().peak_bytes - bytes_before;
    CHECK(whole_peak >= whole.tape_bytes);
    CAPTURE(checkpointed_peak);
    CAPTURE(whole_peak);
    CHECK(checkpointed_peak * 50 < whole_peak); // 200 steps against one and the loss
    CHECK(got.stats.snapshot_bytes == got.stats.snapshots * 16 * sizeof(double));
}

TEST_CASE_TEMPLATE("checkpointed_gradient: a memory budget sets the snapshots", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    reaction_diffusion<T> model(10, T(0.05));
    const etape::tensor<T> initial = profile<T>(10, 0.8, 0.0);
    const auto step = [&](const etape::active_tensor<T>& x, std::size_t k) { return model.step(x, k); };
    const auto loss = [&](const etape::active_tensor<T>& x) { return model.loss(x); };
    const std::size_t state_bytes = 10 * sizeof(T);
    const auto by_budget =
        etape::sim::checkpointed_gradient(initial, 40, step, loss, etape::sim::snapshot_memory{3 * state_bytes + 5});
    const auto by_count = etape::sim::checkpointed_gradient(initial, 40, step, loss, etape::sim::snapshot_count{3});
    CHECK(by_budget.stats.forward_steps == etape::sim::forward_steps(40, 3));
    CHECK(by_budget.stats.snapshots == 3);
    CHECK(by_budget.stats.snapshot_bytes <= 3 * state_bytes + 5);
    etape_test::check_same_bits(by_budget.gradient.values(), by_count.gradient.values());
}

TEST_CASE("checkpointed_gradient: a step that returns its input or a parameter")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    const etape::active_tensor<double> target(etape::tensor<double>({3}, {1.0, 2.0, 3.0}));
    const etape::tensor<double> initial({3}, {0.5, -1.0, 2.0});
    const auto loss = [](const etape::active_tensor<double>& x) { return etape::sum(x * x); };

    SUBCASE("the identity: dL/dx0 = dL/dxN")
    {
        const auto got = etape::sim::checkpointed_gradient(
            initial, 6, [](const etape::active_tensor<double>& x, std::size_t) { return x; }, loss,
            etape::sim::snapshot_count{2});
        const std::vector<double> want{1.0, -2.0, 4.0};
        etape_test::check_same_bits(got.gradient.values(), std::span<const double>(want));
    }
    SUBCASE("a parameter from step 3 on: x0 does not matter, the parameter gets dL/dxN")
    {
        const auto got = etape::sim::checkpointed_gradient(
            initial, 6,
            [&](const etape::active_tensor<double>& x, std::size_t k) { return k == 3 ? target : x; }, loss,
            etape::sim::snapshot_count{2});
        const std::vector<double> zeros(3, 0.0);
        etape_test::check_same_bits(got.gradient.values(), std::span<const double>(zeros));
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(t.adjoint(target.first_slot() + static_cast<etape::slot_index>(i)) == 2.0 * target.values()[i]);
        CHECK(got.loss == 14.0);
    }
}

TEST_CASE("checkpointed_gradient: the parameters' adjoints are cleared first")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    reaction_diffusion<double> model(6, 0.05);
    const etape::tensor<double> initial = profile<double>(6, 0.8, 0.0);
    const auto step = [&](const etape::active_tensor<double>& x, std::size_t k) { return model.step(x, k); };
    const auto loss = [&](const etape::active_tensor<double>& x) { return model.loss(x); };
    (void)etape::sim::checkpointed_gradient(initial, 9, step, loss, etape::sim::snapshot_count{2});
    const double first = t.adjoint(model.a.slot());
    (void)etape::sim::checkpointed_gradient(initial, 9, step, loss, etape::sim::snapshot_count{2});
    CHECK(t.adjoint(model.a.slot()) == first);
}

TEST_CASE("checkpointed_gradient: bad input")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    const etape::tensor<double> initial({4}, {0.1, 0.2, 0.3, 0.4});
    const auto step = [](const etape::active_tensor<double>& x, std::size_t) { return x * 0.5; };
    const auto loss = [](const etape::active_tensor<double>& x) { return etape::sum(x); };
    const std::size_t slots = t.size();

    SUBCASE("a budget below one state names both")
    {
        const auto e = etape_test::thrown_by<std::invalid_argument>([&] {
            (void)etape::sim::checkpointed_gradient(initial, 5, step, loss, etape::sim::snapshot_memory{31});
        });
        const std::string what = e.what();
        CHECK(what.find("31 bytes") != std::string::npos);
        CHECK(what.find("32 bytes") != std::string::npos);
    }
    SUBCASE("zero snapshots")
    {
        const auto e = etape_test::thrown_by<std::invalid_argument>([&] {
            (void)etape::sim::checkpointed_gradient(initial, 5, step, loss, etape::sim::snapshot_count{0});
        });
        CHECK(std::string(e.what()).find("0 snapshots") != std::string::npos);
    }
    SUBCASE("a step that changes the shape names both shapes, and the tape is rewound")
    {
        const auto e = etape_test::thrown_by<etape::shape_error>([&] {
            (void)etape::sim::checkpointed_gradient(
                initial, 5,
                [](const etape::active_tensor<double>& x, std::size_t k) {
                    return k < 2 ? x : etape::active_tensor<double>(etape::tensor<double>({2, 2}));
                },
                loss, etape::sim::snapshot_count{2});
        });
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(what.find("[2, 2]") != std::string::npos);
        CHECK(what.find("[4]") != std::string::npos);
        CHECK(what.find("step 2") != std::string::npos);
        CHECK(t.size() == slots);
    }
}
