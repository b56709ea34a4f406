// Anomaly mode on tensor nodes: the report names the node and the element.
#include <cmath>
#include <limits>
#include <string>

#include "support/tensor_check.hpp"

TEST_CASE_TEMPLATE("anomaly mode names a fused node, its expression and the element", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::active_tensor<T> x(etape::tensor<T>(etape::shape{5}, {T(1), T(4), T(0), T(9), T(2)}));
    etape::var<T> w = T(3);
    const etape::active_tensor<T> y = etape::sqrt(x) * w + T(1); // inf partial at element 2
    const etape::var<T> loss = etape::sum(y);
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(loss, x); });
    CHECK(e.operation() == "elementwise (sqrt(a0) * a1) + c");
    REQUIRE(e.element().has_value());
    CHECK(*e.element() == 2);
    CHECK(e.slot() == x.first_slot() + 2);
    REQUIRE(e.operand_values().size() == 2);
    CHECK(e.operand_values()[0] == 0); // x at element 2
    CHECK(e.operand_values()[1] == 3); // the broadcast scalar w
    CHECK(std::string(e.what()).find("element 2 of input a0") != std::string::npos);
}

TEST_CASE_TEMPLATE("anomaly mode names a primitive applied to an active tensor", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::active_tensor<T> x(etape::tensor<T>(etape::shape{2, 2}, {T(1), T(2), T(3), T(0)}));
    const etape::active_tensor<T> y = etape::log(x);
    const etape::var<T> loss = etape::sum(y);
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(loss, x); });
    CHECK(e.operation() == "log");
    CHECK(e.element() == std::optional<std::size_t>(3));
}

TEST_CASE_TEMPLATE("anomaly mode names matmul and the input element", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    scope.get().detect_anomalies();
    const etape::active_tensor<T> a(etape::tensor<T>(etape::shape{2, 3}, {T(1), T(2), T(3), T(4), T(5), T(6)}));
    etape::tensor<T> b(etape::shape{3, 2}, T(1));
    b.data()[2] = std::numeric_limits<T>::infinity(); // b(1, 0): dA(i, 1) = dC(i, 0) * inf
    const etape::var<T> loss = etape::sum(etape::matmul(a, b));
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(loss, a); });
    CHECK(e.operation() == "matmul");
    CHECK(e.element() == std::optional<std::size_t>(1));
    CHECK(e.slot() == a.first_slot() + 1);
    REQUIRE(e.operand_values().size() == 1);
    CHECK(e.operand_values()[0] == 2);
}

TEST_CASE_TEMPLATE("anomaly mode sees through a node without a label", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    t.detect_anomalies();
    const etape::var<T> x = T(1);
    const etape::slot_index input = x.slot();
    // a user's node that writes inf into its input, without a node_label
    const etape::slot_index out = t.record_node(1, [input](T* adjoints, etape::slot_index) {
        adjoints[input] += std::numeric_limits<T>::infinity();
    });
    const etape::var<T> y = etape::var<T>::bound_to(t, out, T(1)) * 2;
    const auto e = etape_test::thrown_by<etape::anomaly_error>([&] { (void)etape::gradient(y, x); });
    CHECK(e.slot() == x.slot());
    CHECK(std::string(e.what()).find("without a label") != std::string::npos);
}
