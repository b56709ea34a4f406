// The binomial checkpointing schedule ("revolve", after Griewank & Walther):
// the order in which to store, restore, advance and reverse the steps of a
// time loop so that its N steps are reversed holding at most s states.
// Layer: sim (no tape: checkpointed.hpp runs a schedule on one).
//
// The cost. Reversing steps 0 .. N-1 with x_0 held in one of s snapshots
// takes F(N, s) steps run untaped (the first pass included), at least:
//     F(1, s) = 0                          (x_0 in hand: tape step 0 and sweep)
//     F(N, s) = min over 0 < m < N of  m + F(N - m, s - 1) + F(m, s)
// (advance to x_m and store it, reverse the steps after m with the other
// s - 1 snapshots, then those before m with all s), and F(N, 0) is out of
// reach for N > 1 (a lone last step needs no snapshot: F(1, 0) = 0). With
// beta(s, t) = C(s + t, s), the most steps s snapshots reverse advancing no
// step more than t times, and t the repetition number, the least t with
// N <= beta(s, t), its closed form is
//     F(N, s) = t N - beta(s + 1, t - 1).
// So F(., s) is convex and piecewise linear: F(N, s) - F(N - 1, s) = t(N, s),
// each step past beta(s, t - 1) costing t more, and no step runs untaped
// more than t times. tests/sim/checkpoint.cpp checks the closed form
// against the recurrence for every N <= 80 and s <= 10, and against an
// exhaustive search over all schedules (not only these splits) for N <= 9.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace etape::sim {

/// What a schedule asks for next. The driver holds one state in hand, the
/// current state, besides the snapshots.
enum class action_kind : unsigned char {
    store,   ///< copy the current state, x_step, into snapshot `snapshot`
    restore, ///< make x_step, which snapshot `snapshot` holds, the current state
    advance, ///< run steps step .. target - 1 untaped: the current state goes from x_step to x_target
    reverse, ///< tape step `step` from the current state x_step and sweep it: the adjoint of x_step+1
             ///< (for the last step, of the loss) becomes that of x_step. The current state stays x_step.
    free,    ///< snapshot `snapshot` (of x_step) is needed no more
};

struct action {
    action_kind kind = action_kind::reverse;
    std::size_t step = 0;
    std::size_t target = 0;   ///< advance: the state reached
    std::size_t snapshot = 0; ///< store, restore, free

    friend bool operator==(const action&, const action&) = default;
};

namespace detail {

inline constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

/// a * b / c where c divides a * b, without overflowing on the way when
/// the quotient fits; size_max when it does not (a binomial past every
/// step count). After dividing out gcd(a, c), c is prime to a, so it divides b.
[[nodiscard]] constexpr std::size_t exact_quotient(std::size_t a, std::size_t b, std::size_t c) noexcept
{
    const std::size_t g = std::gcd(a, c);
    a /= g;
    b /= c / g;
    return a != 0 && b > size_max / a ? size_max : a * b;
}

/// The repetition number t of N steps with s snapshots, with beta(s, t - 1)
/// (0 for t = 0), for N >= 1 and 1 <= s <= N (more snapshots than steps
/// change nothing: a schedule stores at most one per step).
struct repetition {
    std::size_t t;
    std::size_t beta_below;
};

[[nodiscard]] constexpr repetition repetition_of(std::size_t steps, std::size_t snapshots) noexcept
{
    if (steps <= 1)
        return {0, 0};
    if (snapshots == 1) // beta(1, t) = t + 1: a loop of t up to N would take as long as N
        return {steps - 1, steps - 1};
    std::size_t t = 0, beta = 1, below = 0;
    while (beta < steps) {
        below = beta;
        ++t;
        beta = exact_quotient(beta, snapshots + t, t); // C(s + t, t) = C(s + t - 1, t - 1) (s + t) / t
    }
    return {t, below};
}

[[noreturn]] inline void throw_no_snapshot(const char* who)
{
    throw std::invalid_argument(std::string("etape::sim::") + who +
                                ": 0 snapshots; a schedule needs at least 1, for the initial state");
}

} // namespace detail

/// The repetition number of `steps` steps with `snapshots` snapshots: the
/// most times an optimal schedule runs one step untaped (each also runs
/// once taped). 0 for up to 1 step; std::invalid_argument for 0 snapshots.
[[nodiscard]] inline std::size_t repetition_number(std::size_t steps, std::size_t snapshots)
{
    if (snapshots == 0)
        detail::throw_no_snapshot("repetition_number");
    return detail::repetition_of(steps, std::min(snapshots, steps)).t;
}

/// F(steps, snapshots): the steps that reversing `steps` steps with that
/// many snapshots (the initial state's included) runs untaped, the first
/// pass included: the least any schedule runs, and what revolve runs.
/// s >= N gives N - 1 (one pass, storing every state); s = 1 gives
/// N (N - 1) / 2. std::invalid_argument for 0 snapshots,
/// std::overflow_error when the count does not fit in a size_t.
[[nodiscard]] inline std::size_t forward_steps(std::size_t steps, std::size_t snapshots)
{
    if (snapshots == 0)
        detail::throw_no_snapshot("forward_steps");
    const std::size_t s = std::min(snapshots, steps);
    const auto [t, beta_below] = detail::repetition_of(steps, s);
    if (t == 0)
        return 0;
    if (t > detail::size_max / steps)
        throw std::overflow_error("etape::sim::forward_steps: " + std::to_string(steps) + " steps with " +
                                  std::to_string(snapshots) + " snapshots run more steps than a size_t counts");
    // beta(s + 1, t - 1) = C(s + t, t - 1) = beta(s, t - 1) (s + t) / (s + 1)
    return t * steps - detail::exact_quotient(beta_below, s + t, s + 1);
}

/// The schedule itself, one action at a time: `while (auto a = r.next())`.
/// It stores x_0 first (when N > 1) into snapshot 0, which holds it to the
/// end; snapshots are taken and freed last in, first out, so snapshot k is
/// the k-th held, and at most `snapshots` are held at once. The first step
/// reversed is the last, N - 1, then N - 2, ..., 0. Memory: O(s), however
/// long the loop.
class revolve {
public:
    /// std::invalid_argument for 0 snapshots. 0 steps: an empty schedule.
    revolve(std::size_t steps, std::size_t snapshots) : steps_(steps)
    {
        if (snapshots == 0)
            detail::throw_no_snapshot("revolve");
        parts_.reserve(std::min(snapshots, steps) + 1);
        parts_.push_back({0, steps, snapshots, false});
    }

    [[nodiscard]] std::size_t steps() const noexcept { return steps_; }

    /// The next action, or none once step 0 is reversed (and x_0 freed).
    [[nodiscard]] std::optional<action> next()
    {
        while (!parts_.empty()) {
            part& p = parts_.back();
            const std::size_t n = p.last - p.first;
            if (!p.stored && n > 1) { // x_first was just reached: later steps of the part start over from it
                p.stored = true;
                return action{action_kind::store, p.first, 0, held_++};
            }
            if (n == 0) {
                const part done = p;
                parts_.pop_back();
                if (done.stored)
                    return action{action_kind::free, done.first, 0, --held_};
                continue;
            }
            if (current_ != p.first) { // only a stored part is left with its first state gone
                current_ = p.first;
                return action{action_kind::restore, p.first, 0, held_ - 1};
            }
            if (n == 1) {
                p.last = p.first;
                return action{action_kind::reverse, p.first};
            }
            const std::size_t first = p.first;
            const std::size_t m = split(n, p.snapshots);
            const part right{first + m, p.last, p.snapshots - 1, false};
            p.last = first + m;
            parts_.push_back(right); // p dangles from here
            current_ = first + m;
            return action{action_kind::advance, first, first + m};
        }
        return std::nullopt;
    }

private:
    /// Steps [first, last) to reverse, from x_first, with `snapshots` of
    /// which x_first takes one once stored.
    struct part {
        std::size_t first;
        std::size_t last;
        std::size_t snapshots;
        bool stored;
    };

    /// The m of an optimal first advance of n >= 2 steps with s snapshots.
    /// G(m) = m + F(m, s) + F(n - m, s - 1) rises by
    /// 1 + t(m + 1, s) - t(n - m, s - 1) from m to m + 1, which grows with
    /// m (F(., s) is convex): G is least at the first m where that is >= 0,
    /// found by bisection (m = n - 1 when G falls all the way). With s = 1,
    /// no snapshot is left for a right part of more than one step.
    [[nodiscard]] static std::size_t split(std::size_t n, std::size_t s) noexcept
    {
        if (s == 1)
            return n - 1;
        const auto t = [](std::size_t k, std::size_t snapshots) {
            return detail::repetition_of(k, std::min(snapshots, k)).t;
        };
        std::size_t low = 1, high = n - 1;
        while (low < high) {
            const std::size_t m = low + (high - low) / 2;
            if (t(n - m, s - 1) <= t(m + 1, s) + 1)
                high = m;
            else
                low = m + 1;
        }
        return low;
    }

    std::size_t steps_;
    std::vector<part> parts_; // nested: each part's right part above it
    std::size_t current_ = 0; // the state in hand
    std::size_t held_ = 0;    // snapshots held
};

} // namespace etape::sim
