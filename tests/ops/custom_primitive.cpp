// A user-defined primitive is called like a builtin and records the same.
#include <cmath>

#include "support/check.hpp"

namespace {
/// ISRLU: x >= 0 ? x : x / sqrt(1 + a x^2); derivative (1 + a x^2)^(-3/2) below 0.
struct isrlu_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    static constexpr std::string_view name = "isrlu";
    double a = 1;
    template <class T> T primal(T x) const { return x >= 0 ? x : x / std::sqrt(1 + T(a) * x * x); }
    template <class T> T partial(T x, T) const
    {
        if (x >= 0)
            return T(1);
        const T r = 1 / std::sqrt(1 + T(a) * x * x);
        return r * r * r;
    }
};

template <etape::operand X>
auto isrlu(const X& x, double a = 1)
{
    return etape::apply(isrlu_op{a}, x);
}
} // namespace

static_assert(etape::unary_primitive<isrlu_op, double>);
static_assert(etape::unary_primitive<isrlu_op, float>);
static_assert(!etape::unary_primitive<int, double>);
static_assert(etape::primitive_name<isrlu_op>() == "isrlu");

TEST_CASE_TEMPLATE("a user-defined activation is checked like a builtin", T, ETAPE_TEST_TYPES)
{
    etape_test::check_unary_at<T>([](auto x) { return isrlu(x[0], 0.5); }, {1e-30L, -1e-30L, 0.5L, -0.5L, 4, -4, -100},
                                  etape_test::relative_step<T>());
    CHECK(isrlu(T(-1), 3.0) == T(-0.5)); // plain numbers too
}

TEST_CASE_TEMPLATE("a user-defined activation records like a builtin", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::var<T> x = T(-0.5), w = T(2);
    const auto before = scope.get().stats();
    const etape::var<T> builtin = etape::elu(w * x + 1);
    const auto mid = scope.get().stats();
    const etape::var<T> custom = isrlu(w * x + 1);
    const auto after = scope.get().stats();
    CHECK(after.operands - mid.operands == mid.operands - before.operands);
    CHECK(after.bytes - mid.bytes == mid.bytes - before.bytes);
    CHECK(sizeof(etape::unary_expr<isrlu_op, etape::var<T>>) <= 2 * sizeof(etape::var<T>) + sizeof(double) + sizeof(T));
    (void)builtin;
    (void)custom;
}
