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

TEST_CASE_TEMPLATE("compound assignment records one statement each", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(2), s = T(0);
    s += x * x;
    s -= x;
    s *= x + 1;
    s /= 2;
    CHECK(scope.get().stats().statements == 4);
    // s = ((x^2 - x) * (x + 1)) / 2 = (x^3 - x) / 2; ds/dx = (3x^2 - 1) / 2
    CHECK(s.value() == T(3));
    const auto [dx] = etape::gradient(s, x);
    CHECK(dx == T(5.5));
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
