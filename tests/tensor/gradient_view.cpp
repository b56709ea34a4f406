// etape::gradient_view: the gradient of an active tensor as a view of the
// tape's adjoints, equal to etape::gradient's copy, and its documented
// lifetime and errors.
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::spread;

TEST_CASE_TEMPLATE("gradient_view holds what gradient copies", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({3, 4}));
    etape::var<T> a = T(0.5), b = T(-0.25);
    const etape::active_tensor<T> z = etape::elu(a * x + b) * x;           // a node
    const etape::var<T> loss = etape::sum(z * z) + z(1, 2) * T(3) + x(0, 1); // a node and statements
    const auto [copied] = etape::gradient(loss, x);
    const std::span<const T> view = etape::gradient_view(loss, x);
    REQUIRE(view.size() == x.size());
    CHECK(view.data() == scope.get().adjoints() + x.first_slot()); // no copy
    for (std::size_t i = 0; i < x.size(); ++i) {
        CAPTURE(i);
        CHECK(view[i] == copied.values()[i]); // the same sweep: the same bits
    }
    CHECK(view[1] != T(0)); // x(0, 1) reached it through the statement too
}

TEST_CASE_TEMPLATE("gradient_view shows the latest gradient: read it before the next one", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({5}));
    const etape::var<T> twice = etape::sum(x * T(2));
    const etape::var<T> thrice = etape::sum(x * T(3));
    const std::span<const T> view = etape::gradient_view(twice, x);
    CHECK(view[4] == T(2));
    const std::vector<T> kept(view.begin(), view.end());
    (void)etape::gradient_view(thrice, x);
    CHECK(view[4] == T(3)); // the same adjoints, swept again
    CHECK(kept[4] == T(2));
}

TEST_CASE_TEMPLATE("gradient_view: empty tensors, passive outputs, tensors off the recording", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> empty(etape::tensor<T>(etape::shape{0}));
    const etape::active_tensor<T> x(spread<T>({4}));
    const etape::var<T> loss = etape::sum(x * x);
    CHECK(etape::gradient_view(loss, empty).empty());
    for (const T g : etape::gradient_view(etape::var<T>(), x))
        CHECK(g == T(0)); // a passive output depends on nothing

    const auto start = scope.get().position();
    const etape::active_tensor<T> late(spread<T>({4}));
    const etape::var<T> late_loss = etape::sum(late);
    scope.get().rewind(start);
    CHECK_THROWS_AS((void)etape::gradient_view(loss, late), etape::tape_error);
    (void)late_loss;
}
