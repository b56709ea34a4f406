// hand: the baseline a performance engineer would write. Fused loops over
// raw arrays, vectorized with xsimd (its expm1; GCC vectorizes neither
// std::expm1 without -ffast-math nor ELU's select, see elu_backward), the
// batch width that -march=native gives. ELU's backward reads the saved output,
// dy * (y > 0 ? 1 : y + 1), as etape's does. The scalar-benchmark cases use
// that benchmark's own hand-written adjoints (bench/scalar/cases.hpp).
#include <algorithm>
#include <cstring>
#include <span>

#include <etape/core/simd.hpp> // first: it brings in xsimd past g++ 12's false AVX-512 warnings (see there)
#include <xsimd/xsimd.hpp>

#include "tensor_cases.hpp"

namespace etape_tensor_bench {
namespace {

template <class T>
using batch = xsimd::batch<T>;

template <class T>
T elu_scalar(T x)
{
    return x > T(0) ? x : std::expm1(x);
}

/// y = x with the plain stores every other kernel here makes (a loop the
/// compiler cannot turn into a memcpy call: it is written in batches).
template <class T>
void copy(const T* __restrict x, T* __restrict y, std::size_t n)
{
    constexpr std::size_t w = batch<T>::size;
    std::size_t i = 0;
    for (; i + w <= n; i += w)
        xsimd::load_unaligned(x + i).store_unaligned(y + i);
    for (; i < n; ++i)
        y[i] = x[i];
}

template <class T>
void elu_forward(const T* __restrict x, T* __restrict y, std::size_t n)
{
    constexpr std::size_t w = batch<T>::size;
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
        const batch<T> v = xsimd::load_unaligned(x + i);
        xsimd::select(v > batch<T>(T(0)), v, xsimd::expm1(v)).store_unaligned(y + i);
    }
    for (; i < n; ++i)
        y[i] = elu_scalar(x[i]);
}

/// d elu / dx = 1 for y > 0, y + 1 otherwise. In xsimd too: GCC leaves the
/// plain loop `dy[i] * (y[i] > 0 ? 1 : y[i] + 1)` unvectorized, with a branch
/// that the random signs mispredict half the time (it does not speculate a
/// floating-point operation the source computes on one branch only).
template <class T>
void elu_backward(const T* __restrict y, const T* __restrict dy, T* __restrict dx, std::size_t n)
{
    constexpr std::size_t w = batch<T>::size;
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
        const batch<T> v = xsimd::load_unaligned(y + i);
        const batch<T> slope = xsimd::select(v > batch<T>(T(0)), batch<T>(T(1)), v + batch<T>(T(1)));
        (xsimd::load_unaligned(dy + i) * slope).store_unaligned(dx + i);
    }
    for (; i < n; ++i)
        dx[i] = dy[i] * (y[i] > T(0) ? T(1) : y[i] + T(1));
}

class copy_kernel final : public kernel {
public:
    copy_kernel(const case_spec& c, bool use_memcpy) : spec_(c), memcpy_(use_memcpy)
    {
        if (c.type == precision::f32)
            prepare(inputs_of_size<float>(c.n).x);
        else
            prepare(inputs_of_size<double>(c.n).x);
    }
    void run() override
    {
        if (memcpy_)
            std::memcpy(out_.data(), in_, spec_.n * spec_.element_bytes());
        else if (spec_.type == precision::f32)
            copy(static_cast<const float*>(in_), reinterpret_cast<float*>(out_.data()), spec_.n);
        else
            copy(static_cast<const double*>(in_), reinterpret_cast<double*>(out_.data()), spec_.n);
    }
    std::vector<double> result() override { return {}; }

private:
    template <class T>
    void prepare(const std::vector<T>& x)
    {
        in_ = x.data();
        out_.assign(x.size(), 0.0); // doubles: room for either type, touched once before timing
    }
    case_spec spec_;
    bool memcpy_;
    const void* in_ = nullptr;
    std::vector<double> out_;
};

template <class T>
class elu_kernel final : public kernel {
public:
    explicit elu_kernel(const case_spec& c)
        : what_(c.what), in_(inputs_of_size<T>(c.n)), y_(c.n), dx_(c.n)
    {
        if (what_ == operation::elu_backward)
            elu_forward(in_.x.data(), y_.data(), y_.size()); // the saved output
    }
    void run() override
    {
        const std::size_t n = y_.size();
        if (what_ != operation::elu_backward)
            elu_forward(in_.x.data(), y_.data(), n);
        if (what_ != operation::elu_forward)
            elu_backward(y_.data(), in_.dy.data(), dx_.data(), n);
    }
    std::vector<double> result() override
    {
        return what_ == operation::elu_forward ? as_doubles(y_.data(), y_.size()) : as_doubles(dx_.data(), dx_.size());
    }

private:
    operation what_;
    const elu_inputs<T>& in_;
    std::vector<T> y_;
    std::vector<T> dx_;
};

/// One pass: value sum(z) and dx = a c elu'(a x + b). Sums go by blocks of
/// float batches into a double, as accurate as etape's double accumulator.
class chain_kernel final : public kernel {
public:
    explicit chain_kernel(const case_spec& c) : x_(inputs_of_size<float>(c.n).x), dx_(c.n) {}
    void run() override
    {
        using k = chain_constants;
        using b = batch<float>;
        constexpr std::size_t w = b::size;
        constexpr std::size_t block = 256 * w;
        const float* __restrict x = x_.data();
        float* __restrict dx = dx_.data();
        const std::size_t n = x_.size();
        double total = 0;
        std::size_t i = 0;
        while (i + w <= n) {
            b sum(0.0f);
            const std::size_t end = std::min(n - (n - i) % w, i + block);
            for (; i < end; i += w) {
                const b t = b(k::a) * xsimd::load_unaligned(x + i) + b(k::b);
                const b y = xsimd::select(t > b(0.0f), t, xsimd::expm1(t));
                sum += y * b(k::c) + b(k::d);
                (b(k::a * k::c) * xsimd::select(y > b(0.0f), b(1.0f), y + b(1.0f))).store_unaligned(dx + i);
            }
            total += static_cast<double>(xsimd::hadd(sum));
        }
        for (; i < n; ++i) {
            const float y = elu_scalar(k::a * x[i] + k::b);
            total += static_cast<double>(y * k::c + k::d);
            dx[i] = k::a * k::c * (y > 0.0f ? 1.0f : y + 1.0f);
        }
        value_ = total;
    }
    std::vector<double> result() override
    {
        std::vector<double> r = as_doubles(dx_.data(), dx_.size());
        r.push_back(value_);
        return r;
    }

private:
    const std::vector<float>& x_;
    std::vector<float> dx_;
    double value_ = 0;
};

/// A case of the scalar benchmark through its hand-written adjoint.
template <class Case>
class scalar_case_kernel final : public kernel {
public:
    explicit scalar_case_kernel(const Case& c) : case_(c), in_(c.inputs), grad_(in_.size()) {}
    void run() override { value_ = case_.hand(in_, grad_); }
    std::vector<double> result() override
    {
        std::vector<double> r = grad_;
        r.push_back(value_);
        return r;
    }

private:
    const Case& case_;
    const std::vector<double>& in_;
    std::vector<double> grad_;
    double value_ = 0;
};

} // namespace

std::unique_ptr<kernel> make_hand(const case_spec& c)
{
    switch (c.what) {
    case operation::copy: return std::make_unique<copy_kernel>(c, false);
    case operation::copy_memcpy: return std::make_unique<copy_kernel>(c, true);
    case operation::elu_forward:
    case operation::elu_backward:
    case operation::elu:
        if (c.type == precision::f32)
            return std::make_unique<elu_kernel<float>>(c);
        return std::make_unique<elu_kernel<double>>(c);
    case operation::chain: return std::make_unique<chain_kernel>(c);
    case operation::elu_sum: return std::make_unique<scalar_case_kernel<etape_bench::elu_sum>>(elu_sum_case());
    case operation::logsumexp: return std::make_unique<scalar_case_kernel<etape_bench::logsumexp>>(logsumexp_case());
    case operation::normal_lpdf:
        return std::make_unique<scalar_case_kernel<etape_bench::normal_lpdf>>(normal_lpdf_case());
    }
    return nullptr;
}

} // namespace etape_tensor_bench
