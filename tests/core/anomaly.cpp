// Anomaly mode on scalar statements: the sweep stops at the first adjoint
// that becomes NaN or inf and names the statement, its operands and values.
#include <cmath>
#include <limits>
#include <string>

#include "support/check.hpp"

TEST_CASE_TEMPLATE("anomaly mode names the statement whose reverse made an adjoint infinite", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::var<T> x = T(0), w = T(3);
    const etape::var<T> y = etape::sqrt(x) * w + 1; // d sqrt / dx = inf at 0
    const etape::var<T> z = y * 2;
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(z, x, w); });
    CHECK(e.operation() == "(sqrt(a0) * a1) + c");
    REQUIRE(e.operand_values().size() == 2);
    CHECK(e.operand_values()[0] == 0);
    CHECK(e.operand_values()[1] == 3);
    CHECK(e.slot() == x.slot());
    CHECK(!e.element().has_value());
    const std::string what = e.what();
    CHECK(what.find("became inf") != std::string::npos);
    CHECK(what.find("`(sqrt(a0) * a1) + c`") != std::string::npos);
    CHECK(what.find("a0 = 0, a1 = 3") != std::string::npos);
    CHECK(what.find("has partial inf") != std::string::npos);
}

TEST_CASE_TEMPLATE("without anomaly mode the same gradient is inf, silently (IEEE)", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::var<T> x = T(0);
    const etape::var<T> z = etape::sqrt(x) * 2;
    const auto [dx] = etape::gradient(z, x);
    CHECK(std::isinf(dx));
}

TEST_CASE_TEMPLATE("anomaly mode reports NaN from a NaN operand, with the primitive's name", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::var<T> x = T(2), w = std::numeric_limits<T>::quiet_NaN();
    const etape::var<T> y = etape::elu(x * w, T(0.5));
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(y, x); });
    CHECK(e.operation() == "elu(a0 * a1)");
    CHECK(e.slot() == x.slot());
    CHECK(std::isnan(static_cast<double>(e.operand_values()[1])));
    CHECK(std::string(e.what()).find("became NaN") != std::string::npos);
}

TEST_CASE_TEMPLATE("anomaly mode stops at the first anomaly in sweep order", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::var<T> a = T(0), b = T(0);
    const etape::var<T> ya = etape::log(a); // d/da = 1/0 = inf
    const etape::var<T> yb = etape::sqrt(b);
    const etape::var<T> z = ya * 0.5 + yb;
    // the sweep runs from the last statement down: yb's reverse comes first
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(z, a, b); });
    CHECK(e.slot() == b.slot());
    CHECK(e.operation() == "sqrt(a0)");
}

TEST_CASE_TEMPLATE("anomaly mode: statements recorded before it was on are reported without text", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::var<T> x = T(0);
    const etape::var<T> y = etape::sqrt(x);
    scope.get().detect_anomalies();
    const etape::var<T> z = y * 3;
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(z, x); });
    CHECK(e.operation().empty());
    CHECK(e.operand_values().empty());
    CHECK(std::string(e.what()).find("recorded before anomaly mode was on") != std::string::npos);
}

TEST_CASE_TEMPLATE("anomaly mode checks the seed, and can be switched off again", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    t.detect_anomalies();
    CHECK(t.detecting_anomalies());
    const etape::var<T> x = T(1);
    const etape::var<T> y = x * 2;
    t.clear_adjoints();
    t.adjoint(y.slot()) = std::numeric_limits<T>::infinity();
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { t.sweep(y.slot() + 1); });
    CHECK(e.slot() == y.slot());
    CHECK(std::string(e.what()).find("before the sweep began") != std::string::npos);

    t.detect_anomalies(false);
    t.clear_adjoints();
    t.adjoint(y.slot()) = std::numeric_limits<T>::infinity();
    t.sweep(y.slot() + 1);
    CHECK(std::isinf(t.adjoint(x.slot())));
}

TEST_CASE_TEMPLATE("anomaly notes follow rewinds", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    t.detect_anomalies();
    const etape::var<T> x = T(0);
    const auto start = t.position();
    {
        const etape::var<T> y = etape::sqrt(x) * 5;
        CHECK_THROWS_AS((void)etape::gradient(y, x), etape::anomaly_error);
    }
    t.rewind(start);
    const etape::var<T> y = etape::log(x) - x; // a new statement in the same slots
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(y, x); });
    CHECK(e.operation() == "log(a0) - a1");
    CHECK(e.operand_values().size() == 2);
    t.clear();
    CHECK(t.stats().statements == 0);
}

TEST_CASE("anomaly mode: finite gradients are unchanged and nothing is thrown")
{
    etape::tape_scope<double> scope;
    scope.get().detect_anomalies();
    const etape::var<double> x = 0.5, w = -1.5;
    const etape::var<double> y = etape::elu(x * w + 0.25) * etape::tanh(x) + etape::exp(w) / x;
    const auto [dx, dw] = etape::gradient(y, x, w);
    scope.get().detect_anomalies(false);
    etape::tape_scope<double> plain;
    const etape::var<double> px = 0.5, pw = -1.5;
    const etape::var<double> py = etape::elu(px * pw + 0.25) * etape::tanh(px) + etape::exp(pw) / px;
    const auto [pdx, pdw] = etape::gradient(py, px, pw);
    CHECK(dx == pdx);
    CHECK(dw == pdw);
}

namespace {

/// A primitive whose name is known only when the program runs: its
/// statements' text is written then, as the others' is at compile time.
struct named_late_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    static inline const std::string name = "named_late";

    template <class T>
    T primal(T x) const
    {
        return 2 * x;
    }
    template <class T>
    T partial(T, T) const
    {
        return T(2);
    }
};

template <class E>
std::string text_of(const E&)
{
    std::string text = "[";
    etape::detail::describe_expression<E>(text); // appends
    return text;
}

} // namespace

TEST_CASE("an expression's text: symbols, constants, binary primitives, operands past ten, a name known at run time")
{
    etape::tape_scope<double> scope;
    const etape::var<double> a = 1, b = 2, c = 3;
    CHECK(text_of(-(a * 2.0) + etape::pow(b, c) / etape::atan2(a, 0.5)) ==
          "[-(a0 * c) + (pow(a1, a2) / atan2(a3, c))");
    CHECK(text_of(a + b + c + a + b + c + a + b + c + a + b + c) ==
          "[((((((((((a0 + a1) + a2) + a3) + a4) + a5) + a6) + a7) + a8) + a9) + a10) + a11");
    static_assert(etape::detail::text_is_constant<decltype(etape::exp(a) * b)>);
    static_assert(!etape::detail::text_is_constant<decltype(etape::apply(named_late_op{}, a) * b)>);
    CHECK(text_of(etape::apply(named_late_op{}, a) * b) == "[named_late(a0) * a1");
}
