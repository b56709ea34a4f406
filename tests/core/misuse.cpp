// Misuse of vars is a clear tape_error in every build mode (Release marks,
// the checked build's stamps): a var used after its recording was rewound,
// on another tape than its own, or after its tape ended. The first cases are
// the table of misuses that once gave wrong numbers in Release; the last
// interleaves recordings, rewinds, nested scopes and threads at random and
// asserts that every gradient is either correct or an error.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "support/check.hpp"

namespace {

using var = etape::var<double>;

/// A var made on a thread of its own, which ends before this returns.
var made_on_an_ended_thread(double value)
{
    var made;
    std::thread([&] { made = var(value); }).join();
    return made;
}

} // namespace

TEST_CASE("a var used after its recording was rewound")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    var w = 1.0; // survives: recorded before the position
    const auto start = t.position();
    var x = 2.0;
    const var y = x * w;
    t.rewind(start);
    CHECK_THROWS_WITH_AS(var(3.0 * x), doctest::Contains("after its recording was rewound"), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(y, x), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(w, x), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(y, w), etape::tape_error);
    // even when the slot number has been reused by a new recording
    var reused = 5.0;
    CHECK(reused.slot() == x.slot());
    CHECK_THROWS_AS(var(x + reused), etape::tape_error);
    CHECK_THROWS_AS(var(3.0 * x + 20.0 * reused), etape::tape_error);
    const var z = 20.0 * reused;
    CHECK_THROWS_AS((void)etape::gradient(z, x, reused), etape::tape_error);
    std::vector<double> out(2);
    const std::vector<var> both{x, reused};
    CHECK_THROWS_AS(etape::gradient_into(z, both, out), etape::tape_error);
    CHECK_THROWS_AS((void)etape::jacobian(std::vector<var>{z}, both), etape::tape_error);
    CHECK(etape::gradient(z, w, reused) == std::array{0.0, 20.0});
    CHECK_NOTHROW(var(w * reused));
}

TEST_CASE("a var kept below every rewind stays valid through many rewinds")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    const var a = 3.0;
    const auto outer = t.position();
    for (int i = 0; i < 3; ++i) {
        t.rewind(outer);
        const var b = a * 2.0; // made in this pass, above `outer`
        const auto inner = t.position();
        for (int j = 0; j < 3; ++j) {
            t.rewind(inner);
            const var c = a * b; // b is from an older generation, still held
            CHECK(etape::gradient(c, a)[0] == 12.0);
        }
    }
}

TEST_CASE("a rewound var's += does not extend the statement that took over its slot")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    var x = 2.0;
    const auto start = t.position();
    var stale = x * x; // the only var of its slot, the last statement
    t.rewind(start);
    const var fresh = x * 3.0; // the same slot number, now the last statement
    REQUIRE(fresh.slot() == stale.slot());
    CHECK_THROWS_WITH_AS(stale += x, doctest::Contains("after its recording was rewound"), etape::tape_error);
    CHECK_THROWS_AS(stale -= 1.0, etape::tape_error);
    CHECK(t.stats().operands == 1);
    CHECK(etape::gradient(fresh, x)[0] == 3.0);
}

TEST_CASE("z += a rewound var, or an expression of one, throws and leaves z's statement as it was")
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    var x = 2.0;
    const auto start = t.position();
    const var stale = x * 5.0;
    t.rewind(start);
    var z = x * 3.0; // the only var of its slot, the last statement: += would extend it
    const auto operands = t.stats().operands;
    CHECK_THROWS_WITH_AS(z += stale, doctest::Contains("after its recording was rewound"), etape::tape_error);
    CHECK_THROWS_AS(z -= x * stale, etape::tape_error);
    CHECK_THROWS_AS(z += etape::exp(stale) + x, etape::tape_error);
    CHECK(z.value() == 6.0);
    CHECK(t.stats().operands == operands);
    CHECK(etape::gradient(z, x)[0] == 3.0);
}

TEST_CASE("a var of another thread's tape, the thread alive or ended")
{
    std::promise<var> made;
    std::promise<void> done;
    std::thread other([&] {
        made.set_value(var(3.0));         // on the other thread's default tape
        done.get_future().wait();         // keep that tape alive meanwhile
    });
    const var foreign = made.get_future().get();
    var local = 1.0;
    CHECK_THROWS_WITH_AS(var(foreign * local), doctest::Contains("another tape"), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(local, foreign), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(foreign, local), etape::tape_error);
    done.set_value();
    other.join();
    CHECK_THROWS_AS(var(foreign * local), etape::tape_error); // its tape has ended
    const var orphan = made_on_an_ended_thread(7.0);
    CHECK_THROWS_WITH_AS(var(orphan * local), doctest::Contains("another tape"), etape::tape_error);
    CHECK_THROWS_AS((void)etape::gradient(local, orphan), etape::tape_error);
}

TEST_CASE("vars of an outer scope's tape used inside a nested one, and of an ended scope")
{
    var a = 1.0, b = 2.0;
    var inner;
    {
        etape::tape_scope<double> scope;
        inner = var(2.0);
        CHECK_THROWS_AS(var(2.0 * a + 1.5 * b), etape::tape_error); // a and b are not on the inner tape
        CHECK_THROWS_AS((void)etape::gradient(inner, a), etape::tape_error);
    }
    CHECK_THROWS_AS(var(inner * 2.0), etape::tape_error); // its scope ended
    CHECK_THROWS_AS((void)etape::gradient(inner, a), etape::tape_error);
    const var y = 2.0 * a + 1.5 * b;
    CHECK(etape::gradient(y, a, b) == std::array{2.0, 1.5});
}

TEST_CASE("bound_to rejects slots outside the recording")
{
    etape::tape_scope<double> scope;
    CHECK_THROWS_AS((void)var::bound_to(scope.get(), 42, 1.0), etape::tape_error);
}

// ---- random interleavings -------------------------------------------------
//
// A model of what is valid: a var is held while its tape is the active one
// and no rewind since it was made went down to its slot or below. Each var
// carries its derivatives with respect to every input, in forward mode; a
// gradient must match them or throw, and it throws exactly when the model
// says one of its vars is not held.

namespace {

struct model_tape {
    std::unique_ptr<etape::tape_scope<double>> scope; // null: ended (or another thread's)
    std::vector<etape::tape_position> positions;
};

struct model_var {
    var v;
    std::size_t tape;               // index into the model's tapes
    bool held = true;               // the model's verdict
    int input = -1;                 // its input number, for an input
    std::vector<double> derivative; // d v / d input k, forward mode
};

class interleaving {
public:
    explicit interleaving(unsigned seed) : rng_(seed) { push_scope(); }
    interleaving(const interleaving&) = delete;
    interleaving& operator=(const interleaving&) = delete;
    ~interleaving()
    {
        for (; !active_.empty(); active_.pop_back()) // scopes end innermost first
            tapes_[active()].scope.reset();
    }

    void step()
    {
        const int what = pick(100);
        if (what < 20)
            make_input();
        else if (what < 62)
            make_statement();
        else if (what < 70)
            accumulate();
        else if (what < 76)
            save_position();
        else if (what < 84)
            rewind();
        else if (what < 87)
            push_scope();
        else if (what < 90)
            pop_scope();
        else if (what < 91)
            take_from_another_thread();
        else
            take_gradient();
    }

    int gradients = 0, errors = 0; // of take_gradient, and of every step

private:
    std::size_t active() const { return active_.back(); }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

    /// Index of a random var, or -1 when there is none; most often one of
    /// the newest, which a rewind has dropped less often.
    int any_var()
    {
        const int n = static_cast<int>(vars_.size());
        if (n == 0)
            return -1;
        return pick(4) > 0 ? n - 1 - pick(std::min(n, 12)) : pick(n);
    }

    bool held_here(const model_var& m) const { return m.held && m.tape == active(); }

    void make_input()
    {
        model_var m{var(uniform(-2.0, 2.0)), active(), true, inputs_++, {}};
        m.derivative.assign(static_cast<std::size_t>(inputs_), 0.0);
        m.derivative.back() = 1.0;
        vars_.push_back(std::move(m));
    }

    /// z = c1 * a + c2 * sin(b)
    void make_statement()
    {
        const int ia = any_var(), ib = any_var();
        if (ia < 0)
            return;
        const double c1 = uniform(-1.0, 1.0), c2 = uniform(-1.0, 1.0);
        const model_var& a = vars_[static_cast<std::size_t>(ia)];
        const model_var& b = vars_[static_cast<std::size_t>(ib)];
        const bool valid = held_here(a) && held_here(b);
        if (!valid) {
            CHECK_THROWS_AS(var(c1 * a.v + c2 * sin(b.v)), etape::tape_error);
            ++errors;
            return;
        }
        model_var z{var(c1 * a.v + c2 * sin(b.v)), active(), true, -1, {}};
        z.derivative.assign(static_cast<std::size_t>(inputs_), 0.0);
        const double cos_b = std::cos(b.v.value());
        for (std::size_t k = 0; k < a.derivative.size(); ++k)
            z.derivative[k] += c1 * a.derivative[k];
        for (std::size_t k = 0; k < b.derivative.size(); ++k)
            z.derivative[k] += c2 * cos_b * b.derivative[k];
        vars_.push_back(std::move(z));
    }

    /// z += c * a, in place when the tape can extend z's statement
    void accumulate()
    {
        const int iz = any_var(), ia = any_var();
        if (iz < 0 || iz == ia)
            return;
        model_var& z = vars_[static_cast<std::size_t>(iz)];
        const model_var& a = vars_[static_cast<std::size_t>(ia)];
        const double c = uniform(-1.0, 1.0);
        if (!(held_here(z) && held_here(a))) {
            CHECK_THROWS_AS(z.v += c * a.v, etape::tape_error);
            ++errors;
            return;
        }
        z.v += c * a.v;
        z.input = -1; // no longer an input
        z.derivative.resize(static_cast<std::size_t>(inputs_), 0.0);
        for (std::size_t k = 0; k < a.derivative.size(); ++k)
            z.derivative[k] += c * a.derivative[k];
    }

    void save_position() { tapes_[active()].positions.push_back(tapes_[active()].scope->get().position()); }

    /// To a saved position; one made before a deeper rewind may no longer
    /// be on the recording, and then the tape refuses it.
    void rewind()
    {
        model_tape& mt = tapes_[active()];
        if (mt.positions.empty())
            return;
        const std::size_t k = static_cast<std::size_t>(pick(static_cast<int>(mt.positions.size())));
        const etape::tape_position p = mt.positions[k];
        try {
            mt.scope->get().rewind(p);
        } catch (const etape::tape_error&) {
            mt.positions.erase(mt.positions.begin() + static_cast<std::ptrdiff_t>(k));
            return;
        }
        for (model_var& m : vars_)
            if (m.tape == active() && m.v.slot() >= p.slots)
                m.held = false;
    }

    void push_scope()
    {
        tapes_.push_back({std::make_unique<etape::tape_scope<double>>(), {}});
        active_.push_back(tapes_.size() - 1);
    }

    void pop_scope()
    {
        if (active_.size() == 1)
            return;
        tapes_[active()].scope.reset(); // the tape ends with its scope
        for (model_var& m : vars_)
            if (m.tape == active())
                m.held = false;
        active_.pop_back();
    }

    void take_from_another_thread()
    {
        tapes_.push_back({nullptr, {}});
        model_var m{made_on_an_ended_thread(1.5), tapes_.size() - 1, false, -1, {}};
        vars_.push_back(std::move(m));
    }

    /// The gradient of a random var with respect to a few random inputs.
    void take_gradient()
    {
        const int iy = any_var();
        if (iy < 0)
            return;
        const model_var& y = vars_[static_cast<std::size_t>(iy)];
        std::vector<var> xs;
        std::vector<double> expected;
        bool valid = held_here(y);
        for (int n = pick(4) + 1; n > 0; --n) {
            const int ix = any_var();
            const model_var& x = vars_[static_cast<std::size_t>(ix)];
            if (x.input < 0)
                continue; // the gradient of an intermediate is not the model's
            xs.push_back(x.v);
            valid = valid && held_here(x);
            const auto k = static_cast<std::size_t>(x.input);
            expected.push_back(k < y.derivative.size() ? y.derivative[k] : 0.0);
        }
        std::vector<double> got(xs.size());
        if (!valid) {
            CHECK_THROWS_AS(etape::gradient_into(y.v, xs, got), etape::tape_error);
            ++errors;
            return;
        }
        etape::gradient_into(y.v, xs, got);
        for (std::size_t i = 0; i < xs.size(); ++i)
            CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-12));
        ++gradients;
    }

    std::mt19937 rng_;
    std::vector<model_tape> tapes_;
    std::vector<std::size_t> active_; // the scope stack: indices into tapes_
    std::vector<model_var> vars_;
    int inputs_ = 0;
};

} // namespace

TEST_CASE("random interleavings of recordings, rewinds, scopes and threads: a gradient is correct or an error")
{
    int gradients = 0, errors = 0;
    for (unsigned seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        interleaving run(seed);
        for (int i = 0; i < 1000; ++i)
            run.step();
        gradients += run.gradients;
        errors += run.errors;
    }
    MESSAGE(gradients << " gradients checked, " << errors << " misuses refused");
    // both outcomes were exercised many times
    CHECK(gradients > 100);
    CHECK(errors > 100);
}
