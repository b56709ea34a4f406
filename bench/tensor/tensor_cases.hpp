// The cases of the tensor benchmark and what its implementations share: the
// case table, the inputs (made once per size and type), and the interface
// of one prepared kernel. Each implementation (hand, etape, torch) lives in
// its own translation unit, so that libtorch's headers never meet etape's.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cases.hpp" // bench/scalar: input_stream and the scalar cases elu_sum, logsumexp, normal_lpdf

namespace etape_tensor_bench {

/// What one benchmark computes.
enum class operation {
    copy,         ///< y = x: the machine's bandwidth, the yardstick of the ELU cases
    copy_memcpy,  ///< y = x by std::memcpy (glibc may use non-temporal stores)
    elu_forward,  ///< y = elu(x)
    elu_backward, ///< dx = dy * elu'(x), read from the saved output y
    elu,          ///< both, forward then backward
    chain,        ///< z = elu(a x + b) c + d, value sum(z) and d sum(z) / dx
    elu_sum,      ///< the scalar benchmark's elu_sum_100000, as a tensor expression
    logsumexp,    ///< the scalar benchmark's logsumexp (n = 1000)
    normal_lpdf,  ///< the scalar benchmark's normal_lpdf (n = 1000)
};

enum class precision { f32, f64 };

struct case_spec {
    operation what;
    precision type;
    std::size_t n;

    [[nodiscard]] std::size_t element_bytes() const { return type == precision::f32 ? 4 : 8; }

    /// The bytes a kernel must move per iteration, at the least: what it
    /// reads and writes once each (write-allocate traffic not counted). The
    /// same for every implementation, so bytes/s compares like with like.
    [[nodiscard]] double bytes() const
    {
        const double b = static_cast<double>(n * element_bytes());
        switch (what) {
        case operation::copy:
        case operation::copy_memcpy:
        case operation::elu_forward: return 2 * b; // x in, y out
        case operation::elu_backward: return 3 * b; // y, dy in, dx out
        case operation::elu: return 5 * b;
        case operation::chain: return 2 * b; // x in, dx out
        default: return 0;
        }
    }

    /// The case part of the benchmark name (tensor/<case>/<impl>); sizes
    /// in M = 2^20 elements where they are powers of two.
    [[nodiscard]] std::string name() const
    {
        const char* base = "";
        switch (what) {
        case operation::copy: base = "copy"; break;
        case operation::copy_memcpy: base = "copy_memcpy"; break;
        case operation::elu_forward: base = "elu_forward"; break;
        case operation::elu_backward: base = "elu_backward"; break;
        case operation::elu: base = "elu"; break;
        case operation::chain: base = "chain"; break;
        case operation::elu_sum: return "elu_sum_100000";
        case operation::logsumexp: return "logsumexp";
        case operation::normal_lpdf: return "normal_lpdf";
        }
        const std::string size = n % (std::size_t{1} << 20) == 0 ? std::to_string(n >> 20) + "M" : std::to_string(n);
        return std::string(base) + "_" + (type == precision::f32 ? "float" : "double") + "_" + size;
    }
};

/// Every case, in the order they are registered.
inline std::vector<case_spec> all_cases()
{
    std::vector<case_spec> cases;
    for (const std::size_t n : {std::size_t{1} << 20, std::size_t{1} << 25})
        for (const precision p : {precision::f32, precision::f64})
            for (const operation o : {operation::copy, operation::copy_memcpy, operation::elu_forward,
                                      operation::elu_backward, operation::elu})
                cases.push_back({o, p, n});
    cases.push_back({operation::chain, precision::f32, std::size_t{1} << 22});
    cases.push_back({operation::elu_sum, precision::f64, 100000});
    cases.push_back({operation::logsumexp, precision::f64, 1000});
    cases.push_back({operation::normal_lpdf, precision::f64, 1000});
    return cases;
}

/// The chain's constants: z = elu(a x + b) c + d (plain numbers, not inputs
/// of the gradient).
struct chain_constants {
    static constexpr float a = 0.7f;
    static constexpr float b = -0.1f;
    static constexpr float c = 1.3f;
    static constexpr float d = 0.2f;
};

/// x (uniform in [-3, 3): half the elements take ELU's exponential branch)
/// and dy (uniform in [-1, 1)), made once per size and type and shared by
/// every implementation.
template <class T>
struct elu_inputs {
    std::vector<T> x;
    std::vector<T> dy;
};

template <class T>
const elu_inputs<T>& inputs_of_size(std::size_t n)
{
    static std::map<std::size_t, std::unique_ptr<elu_inputs<T>>> made;
    auto& slot = made[n];
    if (!slot) {
        slot = std::make_unique<elu_inputs<T>>();
        etape_bench::input_stream rng(11);
        slot->x.resize(n);
        slot->dy.resize(n);
        for (T& v : slot->x)
            v = static_cast<T>(rng.uniform(-3.0, 3.0));
        for (T& v : slot->dy)
            v = static_cast<T>(rng.uniform(-1.0, 1.0));
    }
    return *slot;
}

/// The scalar benchmark's cases, with its inputs.
inline const etape_bench::elu_sum& elu_sum_case()
{
    static const etape_bench::elu_sum c(100000);
    return c;
}
inline const etape_bench::logsumexp& logsumexp_case()
{
    static const etape_bench::logsumexp c(1000);
    return c;
}
inline const etape_bench::normal_lpdf& normal_lpdf_case()
{
    static const etape_bench::normal_lpdf c(1000);
    return c;
}

/// One implementation of one case, prepared (inputs registered, buffers
/// allocated) by its constructor, which is not timed.
class kernel {
public:
    kernel() = default;
    kernel(const kernel&) = delete;
    kernel& operator=(const kernel&) = delete;
    virtual ~kernel() = default;

    /// One timed iteration.
    virtual void run() = 0;

    /// After run(): what the check compares with the hand kernel's (the
    /// output for a forward pass, the gradient, then the value, otherwise).
    [[nodiscard]] virtual std::vector<double> result() = 0;
};

// Each implementation's translation unit: the kernel of a case, or nullptr
// where it has none.
std::unique_ptr<kernel> make_hand(const case_spec& c);
std::unique_ptr<kernel> make_etape(const case_spec& c);
#if ETAPE_BENCH_HAVE_TORCH
std::unique_ptr<kernel> make_torch(const case_spec& c);
void torch_single_thread();
#endif

template <class T>
std::vector<double> as_doubles(const T* values, std::size_t n)
{
    return std::vector<double>(values, values + n);
}

} // namespace etape_tensor_bench
