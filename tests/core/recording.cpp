// What a statement leaves on the tape: one record per assignment, operands
// counted at compile time, nothing for passive constants.
#include "support/check.hpp"

TEST_CASE_TEMPLATE("one assignment records one statement with its operands", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> a = T(0.5), x = T(-1), b = T(2), c = T(3), d = T(4);
    const auto before = t.stats();
    CHECK(before.slots == 5);
    CHECK(before.statements == 0);

    const auto e = etape::elu(a * x + b) * c + d;
    static_assert(decltype(e)::operand_count == 5);
    const etape::var<T> y = e;
    const auto after = t.stats();
    CHECK(after.statements == 1);
    CHECK(after.operands == 5);
    CHECK(after.slots == 6);
    // 4 bytes for the statement, 8 (float) or 12 (double) per operand
    CHECK(after.bytes - before.bytes == 4 + 5 * (sizeof(T) + sizeof(etape::slot_index)));
    CHECK(y.value() == etape::elu(T(0.5) * T(-1) + T(2)) * T(3) + T(4));
}

TEST_CASE_TEMPLATE("passive constants record nothing", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(2);
    const auto before = scope.get().stats();
    const etape::var<T> y = etape::exp(x * 3 + 1.5) / 7 - etape::pow(x, 2.0) + etape::atan2(x, 1.0);
    const auto after = scope.get().stats();
    CHECK(after.operands - before.operands == 3); // x three times, no constant
    static_assert(decltype(x * 3 + 1.5)::operand_count == 1);
    (void)y;
}

TEST_CASE_TEMPLATE("copying a var records nothing and shares its slot", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(2);
    const auto before = scope.get().stats();
    const etape::var<T> y = x;
    etape::var<T> z;
    z = y;
    CHECK(scope.get().stats().slots == before.slots);
    CHECK(z.slot() == x.slot());
    CHECK_FALSE(etape::var<T>{}.is_active());
}

TEST_CASE_TEMPLATE("+= and -= extend their var's own last statement, *= and /= record one each", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(2), s = T(0);
    s += x * x; // s is an input: a statement [s, x, x]
    s -= x;     // s is the only var of that statement's slot: it gains [x]
    const auto extended = scope.get().stats();
    CHECK(extended.statements == 1);
    CHECK(extended.operands == 4);
    CHECK(extended.slots == 3);
    s *= x + 1; // [s, x]
    s /= 2;     // [s]
    CHECK(scope.get().stats().statements == 3);
    CHECK(scope.get().stats().operands == 7);
    // s = ((x^2 - x) * (x + 1)) / 2 = (x^3 - x) / 2; ds/dx = (3x^2 - 1) / 2
    CHECK(s.value() == T(3));
    const auto [dx] = etape::gradient(s, x);
    CHECK(dx == T(5.5));
}

TEST_CASE_TEMPLATE("an accumulation loop is one statement with every term's operands", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    std::vector<etape::var<T>> x;
    for (int i = 0; i < 6; ++i)
        x.emplace_back(T(0.25) * static_cast<T>(i) - T(0.5));
    etape::var<T> w = T(1.5);
    const auto before = t.stats();
    etape::var<T> z = w * x[0];
    for (std::size_t i = 1; i < x.size(); ++i)
        z += etape::elu(w * x[i]) - x[i] * x[i - 1];
    z -= 3;
    const auto after = t.stats();
    CHECK(after.statements - before.statements == 1);
    CHECK(after.slots - before.slots == 1);
    CHECK(after.operands - before.operands == 2 + 5 * 4);
    T value = T(1.5) * x[0].value(), dw = x[0].value();
    std::vector<T> dx(x.size(), T(0));
    dx[0] = T(1.5);
    for (std::size_t i = 1; i < x.size(); ++i) {
        const T u = T(1.5) * x[i].value();
        const T slope = u > 0 ? T(1) : std::exp(u);
        value += etape::elu(u) - x[i].value() * x[i - 1].value();
        dw += slope * x[i].value();
        dx[i] += slope * T(1.5) - x[i - 1].value();
        dx[i - 1] -= x[i].value();
    }
    CHECK(z.value() == doctest::Approx(value - 3));
    const std::vector<T> g = etape::gradient(z, x);
    for (std::size_t i = 0; i < x.size(); ++i)
        CHECK(g[i] == doctest::Approx(dx[i]));
    CHECK(etape::gradient(z, w)[0] == doctest::Approx(dw));
}

TEST_CASE_TEMPLATE("compound assignments that extend statements pass the gradient check", T, ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) {
        using S = std::remove_cvref_t<decltype(x[0])>;
        S z = x[0] * x[1];
        for (std::size_t k = 0; k < 4; ++k) {
            z += etape::exp(x[2] * 0.5) * x[k % 3] - etape::elu(x[1] - x[0]); // extends z's statement
            z -= x[2] * x[2] / 3;                                             // and again
        }
        const S copy = z; // shared from here: the next += records a statement
        z += copy * x[0];
        z -= 0.75;
        z += etape::tanh(z * 0.1); // reads z: a statement
        z += etape::sin(x[1]);     // extends that one
        return z;
    };
    for (const std::vector<T>& point : {std::vector<T>{T(0.5), T(-0.25), T(1.5)}, std::vector<T>{T(-1), T(2), T(0.125)}}) {
        const auto report = etape::check_gradient(f, point);
        INFO(fmt::format("{}", report));
        CHECK(report.passed);
    }
}

TEST_CASE_TEMPLATE("+= records a statement of its own when its var's slot may be read elsewhere", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    etape::var<T> x = T(3);
    const auto statements = [&] { return t.stats().statements; };

    SUBCASE("a copy of the var shares the slot")
    {
        etape::var<T> z = x * x;
        const etape::var<T> old = z;
        z += x;
        CHECK(statements() == 2);
        const etape::var<T> y = old * 10 + z;
        CHECK(etape::gradient(y, x)[0] == T(67)); // 10 * 2x through old, 2x + 1 through z
        CHECK(etape::gradient(z, x)[0] == T(7));
        CHECK(etape::gradient(old, x)[0] == T(6));
    }
    SUBCASE("an expression kept in auto holds a copy")
    {
        etape::var<T> z = x * x;
        const auto doubled = z * 2;
        z += x;
        const etape::var<T> d = doubled;
        CHECK(statements() == 3);
        CHECK(d.value() == T(18));
        CHECK(etape::gradient(d, x)[0] == T(12));
    }
    SUBCASE("something was recorded after the statement")
    {
        etape::var<T> z = x * x;
        const etape::var<T> later = x + 1;
        z += later;
        CHECK(statements() == 3);
        CHECK(etape::gradient(z, x)[0] == T(7));
    }
    SUBCASE("a position was taken after the statement, and rewinding to it restores the recording")
    {
        etape::var<T> z = x * x;
        const etape::tape_position p = t.position();
        z += x;
        CHECK(statements() == 2);
        CHECK(etape::gradient(z, x)[0] == T(7));
        t.rewind(p);
        CHECK(t.position() == p);
    }
    SUBCASE("a node was recorded after the statement")
    {
        etape::var<T> z = x * x;
        (void)t.record_node(0, [](T*, etape::slot_index) {});
        z += x;
        CHECK(statements() == 2);
    }
    SUBCASE("the var is an input")
    {
        etape::var<T> z = T(5);
        const etape::slot_index input = z.slot();
        z += x;
        CHECK(statements() == 1);
        CHECK(z.slot() != input);
        CHECK(z.value() == T(8));
    }
    SUBCASE("z += z reads the slot it would extend")
    {
        etape::var<T> z = x * x;
        z += z;
        z -= z * 0.25;
        CHECK(statements() == 3);
        CHECK(z.value() == T(13.5));
        CHECK(etape::gradient(z, x)[0] == T(9));
    }
    SUBCASE("anomaly mode keeps one note per statement")
    {
        t.detect_anomalies();
        etape::var<T> z = x * x;
        z += x;
        CHECK(statements() == 2);
    }
    SUBCASE("a statement recorded before anomaly mode is switched on is not extended after")
    {
        etape::var<T> z = x * x;
        t.detect_anomalies();
        z += x;
        CHECK(statements() == 2);
        t.detect_anomalies(false);
        z += x; // the statement above has a note (and the switch closed it): a new statement
        CHECK(statements() == 3);
        z += x; // recorded without anomaly mode: extended
        CHECK(statements() == 3);
        CHECK(etape::gradient(z, x)[0] == T(2) * x.value() + T(3));
    }
}

TEST_CASE_TEMPLATE("a passive term changes an extendable var's value and records nothing", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(3);
    etape::var<T> z = x * x;
    const auto before = scope.get().stats();
    z += 2;
    z -= T(0.5);
    CHECK(scope.get().stats().operands == before.operands);
    CHECK(scope.get().stats().statements == before.statements);
    CHECK(z.value() == T(10.5));
    CHECK(etape::gradient(z, x)[0] == T(6));
}

TEST_CASE_TEMPLATE("expressions of depth >= 5 with shared sub-expressions and repeated leaves", T, ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) {
        const auto u = x[0] * x[1];          // shared below
        const auto v = etape::sin(u) + u * u; // x*x pattern on an expression
        const auto w = etape::exp(v / (1 + x[2] * x[2])) - (x[0] - x[0]);
        return etape::log1p(w * w) * etape::tanh(u - x[2]) + etape::elu(v - 2.0) * x[1] * x[1];
    };
    const std::vector<T> points{T(0.3), T(-0.7), T(1.1)};
    const auto report = etape::check_gradient(f, points);
    INFO(fmt::format("{}", report));
    CHECK(report.passed);

    // x - x and x * x on plain leaves
    etape::var<T> x = T(1.75);
    const etape::var<T> zero = x - x;
    const etape::var<T> square = x * x;
    CHECK(etape::gradient(zero, x)[0] == T(0));
    CHECK(etape::gradient(square, x)[0] == T(3.5));
}

TEST_CASE_TEMPLATE("NaN and inf propagate without a crash", T, ETAPE_TEST_TYPES)
{
    const T inf = std::numeric_limits<T>::infinity();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    etape::var<T> a = nan, b = T(2), c = inf;
    const etape::var<T> y = a * b + etape::exp(b);
    const auto [da, db] = etape::gradient(y, a, b);
    CHECK(std::isnan(y.value()));
    CHECK(da == T(2));
    CHECK(std::isnan(db));
    const etape::var<T> z = etape::exp(c) + etape::elu(-c) + etape::tanh(c);
    const auto [dc] = etape::gradient(z, c);
    CHECK(z.value() == inf);
    CHECK(dc == inf);
    const etape::var<T> w = etape::elu(a) * etape::sigmoid(a) + etape::gelu(a);
    CHECK(std::isnan(etape::gradient(w, a)[0]));
}
