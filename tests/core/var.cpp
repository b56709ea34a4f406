// The active scalar: construction, assignment, comparisons.
#include "support/check.hpp"

TEST_CASE_TEMPLATE("construction and assignment", T, ETAPE_TEST_TYPES)
{
    etape::var<T> x = T(2);
    etape::var<T> i = 3; // an integer converts like a constant
    CHECK(x.value() == T(2));
    CHECK(i.value() == T(3));
    CHECK(x.is_active());
    CHECK(x.slot() != i.slot());

    const etape::slot_index old_slot = x.slot();
    x = T(5); // a plain number makes x a new input
    CHECK(x.value() == T(5));
    CHECK(x.slot() != old_slot);

    x.set_value(T(7)); // keeps the slot
    CHECK(x.value() == T(7));

    const etape::var<T> passive;
    CHECK(passive.value() == T(0));
    CHECK_FALSE(passive.is_active());
    const etape::var<T> y = x * x + passive * x;
    CHECK(etape::gradient(y, x, passive) == std::array<T, 2>{T(14), T(0)});
}

TEST_CASE_TEMPLATE("comparisons are passive", T, ETAPE_TEST_TYPES)
{
    etape::var<T> a = T(1), b = T(2);
    const auto slots = etape::active_tape<T>().size();
    CHECK(a < b);
    CHECK(b > a);
    CHECK(a <= 1);
    CHECK(1 >= a);
    CHECK(a == 1);
    CHECK(a != b);
    CHECK(a * 2 == b); // expression against var
    CHECK(etape::exp(a) > 2.7);
    CHECK_FALSE(etape::var<T>(std::numeric_limits<T>::quiet_NaN()) == etape::var<T>(std::numeric_limits<T>::quiet_NaN()));
    CHECK(etape::active_tape<T>().size() == slots + 2); // only the two NaN inputs above
}

TEST_CASE("an expression held in auto stays valid: operands are held by value")
{
    etape::var<double> x = 2.0;
    const auto e = etape::sin(x) * x; // no statement yet
    const auto before = etape::active_tape<double>().stats().statements;
    x = 10.0; // x is a new input now; e still refers to the old one
    const etape::var<double> y = e;
    CHECK(etape::active_tape<double>().stats().statements == before + 1);
    CHECK(y.value() == doctest::Approx(std::sin(2.0) * 2.0));
}
