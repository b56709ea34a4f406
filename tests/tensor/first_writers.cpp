// First writers (tape::clear_and_sweep, docs/tape.md): a node that is the
// first in a sweep to write an input's adjoints stores into them, and they
// are not cleared. These tests check which nodes the plan lets store (a
// probe node reports the mask it gets), and that every adjoint ends up
// bit for bit what clear_adjoints() + seed + sweep() gives, with the
// adjoint memory filled with garbage before each sweep (a slot neither
// cleared nor stored would show it).
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "support/check.hpp"

namespace {

template <class T>
std::vector<T> sample(std::size_t n, double scale = 1.0)
{
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<T>(scale * std::sin(1.7 * static_cast<double>(i) + 0.3));
    return v;
}

template <class T>
etape::active_tensor<T> input(const etape::shape& s, double scale = 1.0)
{
    return etape::active_tensor<T>(etape::tensor<T>(s, sample<T>(s.size(), scale)));
}

/// n copies of `value`, but `other` at `index`.
template <class T>
std::vector<T> all_but_one(std::size_t n, T value, std::size_t index, T other)
{
    std::vector<T> v(n, value);
    v[index] = other;
    return v;
}

/// Every adjoint set to `garbage`: what a slot neither cleared nor stored keeps.
template <class T>
void poison(etape::tape<T>& t, T garbage)
{
    (void)t.adjoint(t.size() - 1); // sizes the adjoints to the recording
    std::fill_n(t.adjoints(), t.size(), garbage);
}

template <class T>
std::vector<T> all_adjoints(etape::tape<T>& t)
{
    return std::vector<T>(t.adjoints(), t.adjoints() + t.size());
}

/// The adjoints of a sweep of `y` down to `bottom`: by clear_and_sweep over
/// poisoned memory (NaN, then a finite garbage) and by the plain clear, seed
/// and sweep; all three must agree bit for bit.
template <class T>
void check_against_plain_sweep(etape::tape<T>& t, const etape::var<T>& y, etape::slot_index bottom)
{
    const etape::slot_index top = y.slot();
    const etape::slot_range seed{top, 1};
    std::vector<std::vector<T>> results;
    for (const T garbage : {std::numeric_limits<T>::quiet_NaN(), T(12345)}) {
        poison(t, garbage);
        t.clear_and_sweep(top + 1, bottom, std::span(&seed, 1), [top](T* adjoints) { adjoints[top] = T(1); });
        results.push_back(all_adjoints(t));
    }
    poison(t, T(-7));
    t.clear_adjoints();
    t.adjoint(top) = T(1);
    t.sweep(top + 1, bottom);
    const std::vector<T> plain = all_adjoints(t);
    for (const std::vector<T>& r : results) // slot 0 is the passive sink: never read
        etape_test::check_same_bits(std::span(r).subspan(1), std::span(plain).subspan(1));
}

/// A node y = 2 x over a range of slots that reports the first_writes mask
/// its reverse got, and stores or adds as told.
template <class T>
struct probe {
    std::vector<etape::first_writes>* seen;
    etape::slot_index input;
    etape::slot_index count;

    void operator()(T* adjoints, etape::slot_index output, etape::first_writes stores) const
    {
        seen->push_back(stores);
        for (etape::slot_index i = 0; i < count; ++i) {
            const T d = T(2) * adjoints[output + i];
            adjoints[input + i] = (stores & 1U) != 0 ? d + T(0) : adjoints[input + i] + d;
        }
    }
};

/// Records a probe over x; returns its output as an active tensor.
template <class T>
etape::active_tensor<T> record_probe(etape::tape<T>& t, const etape::active_tensor<T>& x,
                                     std::vector<etape::first_writes>& seen)
{
    const auto count = static_cast<etape::slot_index>(x.size());
    T* values = t.template allocate_scratch<T>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        values[i] = T(2) * x.values()[i];
    const etape::node_input_slots in{x.first_slot(), count, true};
    const etape::slot_index first = t.record_node(x.size(), probe<T>{&seen, x.first_slot(), count}, {"probe"},
                                                  std::span(&in, 1));
    return etape::active_tensor<T>(values, x.shape(), first, t);
}

/// The gradient of `loss` with respect to x, over poisoned adjoints, and the
/// mask that the one probe on its path got.
template <class T>
std::pair<std::vector<T>, etape::first_writes> probed_gradient(etape::tape<T>& t, const etape::var<T>& loss,
                                                               const etape::active_tensor<T>& x,
                                                               const std::vector<etape::first_writes>& seen)
{
    poison(t, T(99));
    const auto [dx] = etape::gradient(loss, x);
    REQUIRE(seen.size() == 1);
    return {std::vector<T>(dx.values().begin(), dx.values().end()), seen[0]};
}

} // namespace

TEST_CASE_TEMPLATE("first writers: which node stores into its input's adjoints", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    // the smallest input that may be stored into (smaller ones are cleared and added)
    constexpr std::size_t n = etape::tape<T>::min_stored_slots;
    const etape::active_tensor<T> x = input<T>({n});
    const etape::tape_position start = t.position();
    std::vector<etape::first_writes> seen;

    SUBCASE("alone: it stores")
    {
        const auto [dx, stores] = probed_gradient(t, etape::sum(record_probe(t, x, seen)), x, seen);
        CHECK(stores == 1U);
        for (const T g : dx)
            CHECK(g == T(2));
    }
    SUBCASE("a statement recorded after it reads x: it adds")
    {
        const etape::var<T> loss = etape::sum(record_probe(t, x, seen)) + x(2) * T(3);
        const auto [dx, stores] = probed_gradient(t, loss, x, seen);
        CHECK(stores == 0U);
        CHECK(dx == all_but_one(n, T(2), 2, T(5)));
    }
    SUBCASE("a node recorded after it reads x: that one stores, it adds")
    {
        const etape::active_tensor<T> y = record_probe(t, x, seen);
        const etape::active_tensor<T> z = record_probe(t, x, seen);
        const etape::var<T> loss = etape::sum(y) + etape::sum(z);
        poison(t, T(99));
        const auto [dx] = etape::gradient(loss, x);
        REQUIRE(seen.size() == 2); // z's reverse first, then y's
        CHECK(seen[0] == 1U);
        CHECK(seen[1] == 0U);
        for (const T g : dx.values())
            CHECK(g == T(4));
    }
    SUBCASE("declared nodes above it read other slots (softmax, matmul): it stores")
    {
        const etape::active_tensor<T> y = record_probe(t, x, seen).reshape({n / 8, 8});
        const etape::active_tensor<T> w = input<T>({8, 3});
        const etape::tensor<T> weights({n / 8, 3}, sample<T>(n / 8 * 3));
        const etape::var<T> loss = etape::sum(etape::softmax(etape::matmul(y, w)) * weights);
        CHECK(probed_gradient(t, loss, x, seen).second == 1U);
    }
    SUBCASE("a node that declares nothing above it: it adds")
    {
        const etape::active_tensor<T> y = record_probe(t, x, seen);
        const etape::slot_index in = y.first_slot();
        const etape::slot_index first = t.record_node(1, [in](T* adj, etape::slot_index out) { adj[in] += adj[out]; });
        const etape::var<T> loss = etape::var<T>::bound_to(t, first, y.values()[0]) * T(1);
        const auto [dx, stores] = probed_gradient(t, loss, x, seen);
        CHECK(stores == 0U);
        CHECK(dx == all_but_one(n, T(0), 0, T(2)));
    }
    SUBCASE("a seeded range is written before it: it adds")
    {
        const etape::active_tensor<T> y = record_probe(t, x, seen);
        const etape::slot_range seeds[] = {{y.first_slot(), static_cast<etape::slot_index>(n)}, {x.first_slot() + 1, 1}};
        poison(t, T(99));
        t.clear_and_sweep(y.first_slot() + static_cast<etape::slot_index>(n), x.first_slot(), seeds, [&](T* adjoints) {
            std::fill_n(adjoints + y.first_slot(), n, T(1));
            adjoints[x.first_slot() + 1] = T(10);
        });
        REQUIRE(seen.size() == 1);
        CHECK(seen[0] == 0U);
        CHECK(t.adjoint(x.first_slot()) == T(2));
        CHECK(t.adjoint(x.first_slot() + 1) == T(12));
    }
    SUBCASE("its output's adjoint is zero: its input is cleared, not left as it was")
    {
        const etape::var<T> s = etape::sum(record_probe(t, x, seen));
        const etape::var<T> loss = s * T(0) + T(1);
        poison(t, T(99));
        const auto [dx] = etape::gradient(loss, x);
        CHECK(seen.empty()); // the sum's adjoint is zero: neither node ran
        for (const T g : dx.values())
            CHECK(g == T(0));
    }
    SUBCASE("anomaly mode sweeps the plain way")
    {
        t.detect_anomalies(true);
        const auto [dx, stores] = probed_gradient(t, etape::sum(record_probe(t, x, seen)), x, seen);
        t.detect_anomalies(false);
        CHECK(stores == 0U);
        CHECK(dx[0] == T(2));
    }
    // the next sweep starts unplanned: a plain sweep after a planned one adds
    seen.clear();
    const etape::var<T> loss = etape::sum(record_probe(t, x, seen));
    (void)etape::gradient(loss, x);
    t.clear_adjoints();
    t.adjoint(loss.slot()) = T(1);
    t.sweep(loss.slot() + 1, x.first_slot());
    REQUIRE(seen.size() == 2);
    CHECK(seen[1] == 0U);
    t.rewind(start);
}

TEST_CASE_TEMPLATE("first writers: fused nodes give the plain sweep's adjoints bit for bit", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> x = input<T>({32, 36}, 3.0); // 1,152 elements: storable
    const etape::active_tensor<T> bias = input<T>({36});
    const etape::var<T> a = T(0.75);
    const etape::slot_index bottom = x.first_slot();
    const etape::tape_position start = t.position();

    SUBCASE("the benchmark's chain, with a scalar and a row leaf")
    {
        const etape::var<T> loss = etape::sum(etape::elu(a * x + bias) * T(2) + T(1));
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("x twice in one fused node")
    {
        const etape::var<T> loss = etape::sum(x * x + etape::exp(x));
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("x in two nodes, and in a node of their outputs")
    {
        const etape::active_tensor<T> y1 = etape::elu(x);
        const etape::active_tensor<T> y2 = etape::tanh(x * T(0.5));
        const etape::var<T> loss = etape::sum(y1 * y2) + etape::sum(x);
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("elements of x read by statements after the nodes")
    {
        const etape::var<T> loss = etape::sum(etape::elu(x)) + x(1, 2) * x(3, 4) - etape::sin(x(0, 0));
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("a reshaped view of x beside x")
    {
        const etape::var<T> loss = etape::sum(etape::elu(x.reshape({36, 32}))) * T(3) + etape::mean(etape::exp(x));
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("a chain of nodes, each the first writer of the one below")
    {
        const etape::active_tensor<T> h1 = etape::elu(x * T(0.5) + bias);
        const etape::active_tensor<T> h2 = etape::selu(h1);
        const etape::active_tensor<T> h3 = etape::sigmoid(h2 * T(2));
        const etape::var<T> loss = etape::sum(h3 * h3);
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("a node that declares nothing (matmul) between fused nodes")
    {
        const etape::active_tensor<T> w = input<T>({36, 40}); // e, 32 x 36, and h, 32 x 40, both storable
        const etape::active_tensor<T> e = etape::elu(x);
        const etape::active_tensor<T> h = etape::elu(etape::matmul(e, w));
        const etape::var<T> loss = etape::sum(h * T(0.5));
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("an output whose adjoint is zero")
    {
        const etape::var<T> s = etape::sum(etape::elu(x));
        const etape::var<T> loss = s * T(0) + etape::sum(bias);
        check_against_plain_sweep(t, loss, bottom);
    }
    SUBCASE("a sweep down to a position above the inputs")
    {
        const etape::tape_position mark = t.position();
        const etape::var<T> loss = etape::sum(etape::elu(x) * bias) + a * a;
        check_against_plain_sweep(t, loss, mark.slots);
    }
    t.rewind(start);
}

TEST_CASE_TEMPLATE("first writers: NaN and inf flow as in the plain sweep", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    std::vector<T> v = sample<T>(2000, 2.0);
    v[3] = std::numeric_limits<T>::quiet_NaN();
    v[7] = std::numeric_limits<T>::infinity();
    v[8] = -std::numeric_limits<T>::infinity();
    v[9] = -T(0);
    const etape::active_tensor<T> x(etape::tensor<T>({2000}, v));
    const etape::var<T> loss = etape::sum(etape::elu(x) * T(-1)) + etape::sum(etape::log(x * x + T(1)));
    check_against_plain_sweep(t, loss, x.first_slot());
}

TEST_CASE_TEMPLATE("first writers: every tensor node declares what it writes", T, ETAPE_TEST_TYPES)
{
    // e = elu(x) is recorded first: its node may store into x's adjoints
    // only if nothing above it writes them. Each node under test then reads
    // x itself (or a view of it), so if it wrote x's adjoints without
    // declaring them, the ELU node would store over its contribution and
    // the adjoints would differ from the plain sweep's.
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    const etape::active_tensor<T> x = input<T>({32, 36}, 2.0); // 1,152 elements: storable
    const etape::active_tensor<T> other = input<T>({32, 36}, 0.7);
    const etape::tensor<T> weights({32, 36}, sample<T>(32 * 36, 1.3));
    const etape::slot_index bottom = x.first_slot();
    const etape::tape_position start = t.position();
    const etape::active_tensor<T> e = etape::elu(x);
    const etape::active_tensor<T> x4 = x.reshape({1, 1, 32, 36});
    const auto with_e = [&](const etape::var<T>& above) -> etape::var<T> { return above + etape::sum(e * weights); };

    SUBCASE("softmax") { check_against_plain_sweep(t, with_e(etape::sum(etape::softmax(x) * weights)), bottom); }
    SUBCASE("log_softmax")
    {
        check_against_plain_sweep(t, with_e(etape::sum(etape::log_softmax(x) * weights)), bottom);
    }
    SUBCASE("softmax_cross_entropy")
    {
        std::vector<std::size_t> labels(32);
        for (std::size_t r = 0; r < labels.size(); ++r)
            labels[r] = (7 * r) % 36;
        check_against_plain_sweep(t, with_e(etape::softmax_cross_entropy(x, labels)), bottom);
    }
    SUBCASE("sum over an axis")
    {
        const etape::active_tensor<T> s = etape::sum(x, 0);
        check_against_plain_sweep(t, with_e(etape::sum(s * s)), bottom);
    }
    SUBCASE("amax over an axis") { check_against_plain_sweep(t, with_e(etape::sum(etape::amax(x, 1))), bottom); }
    SUBCASE("amax of all") { check_against_plain_sweep(t, with_e(etape::amax(x) * T(3)), bottom); }
    SUBCASE("matmul, x on the left")
    {
        const etape::active_tensor<T> w = input<T>({36, 5}, 0.4);
        const etape::active_tensor<T> p = etape::matmul(x, w);
        check_against_plain_sweep(t, with_e(etape::sum(p * p)), bottom);
    }
    SUBCASE("matmul, x on the right")
    {
        const etape::active_tensor<T> a = input<T>({3, 32}, 0.9);
        const etape::active_tensor<T> q = etape::matmul(a, x);
        check_against_plain_sweep(t, with_e(etape::sum(q * q)), bottom);
    }
    SUBCASE("gather_rows")
    {
        const std::vector<std::size_t> rows{2, 0, 2};
        check_against_plain_sweep(t, with_e(etape::sum(etape::exp(etape::gather_rows(x, rows)))), bottom);
    }
    SUBCASE("concat")
    {
        const etape::active_tensor<T> c = etape::concat({other, x, e});
        check_against_plain_sweep(t, with_e(etape::sum(c * c)), bottom);
    }
    SUBCASE("conv2d of a view of x, with a bias")
    {
        const etape::active_tensor<T> w = input<T>({2, 1, 2, 3}, 0.6);
        const etape::active_tensor<T> bias = input<T>({2}, 0.2);
        const etape::active_tensor<T> y = etape::conv2d(x4, w, bias, {.stride = 1, .padding = 1});
        check_against_plain_sweep(t, with_e(etape::sum(y * y)), bottom);
    }
    SUBCASE("max pooling of a view of x") { check_against_plain_sweep(t, with_e(etape::sum(etape::max_pool2d(x4))), bottom); }
    SUBCASE("average pooling of a view of x")
    {
        const etape::active_tensor<T> v = etape::avg_pool2d(x4, {.size = 3, .stride = 1});
        check_against_plain_sweep(t, with_e(etape::sum(v * v)), bottom);
    }
    t.rewind(start);
}
