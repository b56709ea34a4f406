// libFuzzer target: bytes become a random expression DAG and a point (the
// scalar and fused tensor paths differentiate it), then tensor nodes with
// shapes, axes, indices and labels taken from the bytes. Any input may be
// invalid; etape must answer with an exception or an IEEE value, never a
// crash, a sanitizer report or a hang.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DETAPE_BUILD_FUZZERS=ON
//   cmake --build build-fuzz --target etape_fuzz_expression
//   ./build-fuzz/fuzz/etape_fuzz_expression fuzz/corpus -max_total_time=600
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <span>
#include <vector>

#include "support/random_expression.hpp"

namespace {

/// Reads the fuzzer's bytes; past the end it reads zeros.
class byte_reader {
public:
    byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    [[nodiscard]] std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    [[nodiscard]] std::size_t below(std::size_t n) { return n == 0 ? 0 : byte() % n; }
    [[nodiscard]] double number()
    {
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i)
            bits = (bits << 8) | byte();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }
    [[nodiscard]] bool empty() const { return at_ >= size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

using etape_test::expression_dag;
using etape_test::op;

expression_dag decode_dag(byte_reader& in)
{
    expression_dag dag;
    dag.inputs = 1 + static_cast<int>(in.below(3));
    for (int i = 0; i < dag.inputs; ++i)
        dag.nodes.push_back({op::input, -1, -1, static_cast<double>(i)});
    const std::size_t count = in.below(24);
    for (std::size_t k = 0; k < count; ++k) {
        etape_test::node n;
        n.kind = static_cast<op>(1 + in.below(etape_test::op_count - 1));
        n.a = static_cast<int>(in.below(dag.nodes.size()));
        n.b = static_cast<int>(in.below(dag.nodes.size()));
        n.value = in.number();
        if (n.kind == op::constant)
            n.a = n.b = -1;
        else if (n.kind < etape_test::first_binary)
            n.b = -1;
        dag.nodes.push_back(n);
    }
    return dag;
}

template <class F>
void expecting_anything(F&& f)
{
    try {
        f();
    } catch (const std::exception&) {
        // a clear error is a valid answer to a bad input
    }
}

etape::shape decode_shape(byte_reader& in, std::size_t max_rank = 4)
{
    std::vector<std::size_t> extents(in.below(max_rank + 1));
    for (auto& e : extents)
        e = in.below(5);
    return etape::shape(std::span<const std::size_t>(extents));
}

etape::tensor<double> decode_tensor(byte_reader& in)
{
    etape::tensor<double> t(decode_shape(in));
    for (double& v : t.values())
        v = in.byte() % 7 == 0 ? in.number() : static_cast<double>(in.byte()) / 32 - 4;
    return t;
}

void tensor_nodes(byte_reader& in, bool anomalies)
{
    etape::tape_scope<double> scope;
    scope.get().detect_anomalies(anomalies);
    const etape::active_tensor<double> a(decode_tensor(in));
    const etape::active_tensor<double> b(decode_tensor(in));
    const std::size_t axis = in.below(5);
    std::vector<std::size_t> indices(in.below(6));
    for (auto& i : indices)
        i = in.below(8);
    std::vector<etape::var<double>> results;
    const auto keep = [&](const auto& f) { expecting_anything([&] { results.push_back(f()); }); };
    keep([&] { return etape::sum(etape::matmul(a, b, etape::transpose(in.byte() & 1), etape::transpose(in.byte() & 1))); });
    keep([&] { return etape::sum(etape::elu(a * b + 1.0) * a); });
    keep([&] { return etape::sum(etape::sum(a, axis)); });
    keep([&] { return etape::amax(a); });
    keep([&] { return etape::sum(etape::amax(a, axis)); });
    keep([&] { return etape::sum(etape::softmax(a) * etape::log_softmax(b)); });
    keep([&] { return etape::softmax_cross_entropy(a, indices); });
    keep([&] { return etape::sum(etape::gather_rows(a, indices)); });
    keep([&] { return etape::sum(etape::concat({a, b}, axis)); });
    keep([&] { return etape::sum(a.reshape(decode_shape(in))); });
    keep([&] { return a.at(in.below(8)); });
    keep([&] {
        return etape::sum(etape::conv2d(a, b, etape::conv2d_options{.stride = in.below(3), .padding = in.below(3)}));
    });
    keep([&] { return etape::sum(etape::max_pool2d(a, etape::pool2d_options{.size = in.below(3), .stride = in.below(3)})); });
    keep([&] { return etape::sum(etape::avg_pool2d(a, etape::pool2d_options{.size = in.below(3), .stride = in.below(3)})); });
    for (const auto& r : results)
        expecting_anything([&] { (void)etape::gradient(r, a, b); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // half of the inputs run in anomaly mode (an anomaly_error is a valid
    // answer); the flag reads the first byte without consuming it
    const bool anomalies = size > 0 && (data[0] & 0x80) != 0;
    byte_reader in(data, size);
    const expression_dag dag = decode_dag(in);
    std::vector<double> x(static_cast<std::size_t>(dag.inputs));
    for (double& v : x)
        v = in.number();

    etape::tape_scope<double> scope;
    scope.get().detect_anomalies(anomalies);
    expecting_anything([&] {
        const auto on_vars = [&](std::span<const etape::var<double>> v) { return dag.evaluate<etape::var<double>>(v); };
        (void)etape::value_and_gradient(on_vars, x);
    });
    expecting_anything([&] {
        std::vector<etape::active_tensor<double>> columns;
        for (const double v : x)
            columns.emplace_back(etape::tensor<double>({2}, {v, -v}));
        const auto values = dag.values<etape::active_tensor<double>>(
            columns, [](double c) { return etape::active_tensor<double>(etape::tensor<double>({2}, c)); });
        (void)etape::gradient(etape::sum(values.back() * 1.0), columns.front());
    });
    tensor_nodes(in, anomalies);
    return 0;
}
