// etape: the public tensor API on the thread's active tape. The inputs are
// registered once (as model parameters are), the tape position after them
// is saved, and every iteration rewinds to it before recording, so the
// tape's memory is reused. What one iteration does:
//   elu_forward   y = elu(x)                       one node, values only
//   elu_backward  etape::vjp_view(y, dy, x) over the node recorded in the
//                 constructor: dy is read in place (no copy onto the tape),
//                 and the node, the first writer of x's adjoints, stores
//                 adj_x = dy * (y > 0 ? 1 : y + 1) there (they are not cleared)
//   elu           y = elu(x), then the same etape::vjp_view (torch: backward(dy))
//   chain         sum(elu(a * x + b) * c + d), one fused node, then
//                 etape::gradient_view w.r.t. x: the sum's stored partials,
//                 which are the gradient, with no sweep (nothing else reads
//                 x; tape::gradient_held_by_node), not copied (torch's
//                 x.grad() is not copied either)
//   elu_sum, logsumexp, normal_lpdf: the scalar cases as tensor
//                 expressions, then etape::gradient.
#include <algorithm>
#include <span>
#include <tuple>

#include <etape/etape.hpp>

#include "tensor_cases.hpp"

namespace etape_tensor_bench {
namespace {

/// Registers the inputs in the constructor; `start` rewinds everything on
/// destruction, `recording` is where each iteration's recording begins.
template <class T>
class on_tape : public kernel {
protected:
    on_tape() : tape_(etape::active_tape<T>()), start_(tape_.position()) {}
    ~on_tape() override { tape_.rewind(start_); }
    void mark_recording() { recording_ = tape_.position(); }
    void rewind() { tape_.rewind(recording_); }

    etape::tape<T>& tape_;
    etape::tape_position start_;
    etape::tape_position recording_;
};

template <class T>
etape::tensor<T> vector_tensor(const std::vector<T>& values)
{
    return etape::tensor<T>(etape::shape{values.size()}, values);
}

template <class T>
class elu_kernel final : public on_tape<T> {
public:
    explicit elu_kernel(const case_spec& c)
        : what_(c.what), dy_(inputs_of_size<T>(c.n).dy), x_(vector_tensor(inputs_of_size<T>(c.n).x))
    {
        this->mark_recording();
        if (what_ == operation::elu_backward)
            y_ = etape::elu(x_);
    }

    void run() override
    {
        if (what_ != operation::elu_backward) {
            this->rewind();
            y_ = etape::elu(x_);
        }
        if (what_ != operation::elu_forward)
            dx_ = etape::vjp_view(y_, dy_, x_);
    }

    std::vector<double> result() override
    {
        if (what_ == operation::elu_forward)
            return as_doubles(y_.data(), y_.size());
        return as_doubles(dx_.data(), dx_.size());
    }

private:
    operation what_;
    const std::vector<T>& dy_;
    etape::active_tensor<T> x_;
    etape::active_tensor<T> y_;
    std::span<const T> dx_;
};

class chain_kernel final : public on_tape<float> {
public:
    explicit chain_kernel(const case_spec& c) : x_(vector_tensor(inputs_of_size<float>(c.n).x)) { mark_recording(); }

    void run() override
    {
        using k = chain_constants;
        rewind();
        const etape::var<float> loss = etape::sum(etape::elu(k::a * x_ + k::b) * k::c + k::d);
        dx_ = etape::gradient_view(loss, x_); // no copy: the tape's adjoints, valid until the next sweep
        value_ = loss.value();
    }

    std::vector<double> result() override
    {
        std::vector<double> r = as_doubles(dx_.data(), dx_.size());
        r.push_back(value_);
        return r;
    }

private:
    etape::active_tensor<float> x_;
    std::span<const float> dx_;
    double value_ = 0;
};

/// sum_i elu(a x_i + b); inputs x_0 .. x_{n-1}, a, b.
class elu_sum_kernel final : public on_tape<double> {
public:
    explicit elu_sum_kernel(const etape_bench::elu_sum& c)
        : x_(etape::tensor<double>(etape::shape{c.inputs.size() - 2},
                                   std::span<const double>(c.inputs).first(c.inputs.size() - 2))),
          a_(c.inputs[c.inputs.size() - 2]), b_(c.inputs.back())
    {
        mark_recording();
    }

    void run() override
    {
        rewind();
        const etape::var<double> s = etape::sum(etape::elu(a_ * x_ + b_));
        std::tie(dx_, da_, db_) = etape::gradient(s, x_, a_, b_);
        value_ = s.value();
    }

    std::vector<double> result() override
    {
        std::vector<double> r(dx_.values().begin(), dx_.values().end());
        r.insert(r.end(), {da_, db_, value_});
        return r;
    }

private:
    etape::active_tensor<double> x_;
    etape::var<double> a_;
    etape::var<double> b_;
    etape::tensor<double> dx_;
    double da_ = 0;
    double db_ = 0;
    double value_ = 0;
};

/// m + log sum_i e^{x_i - m}, m = max_i x_i.
class logsumexp_kernel final : public on_tape<double> {
public:
    explicit logsumexp_kernel(const etape_bench::logsumexp& c) : x_(vector_tensor(c.inputs)) { mark_recording(); }

    void run() override
    {
        rewind();
        const etape::var<double> m = etape::amax(x_);
        const etape::var<double> y = m + etape::log(etape::sum(etape::exp(x_ - m)));
        std::tie(dx_) = etape::gradient(y, x_);
        value_ = y.value();
    }

    std::vector<double> result() override
    {
        std::vector<double> r(dx_.values().begin(), dx_.values().end());
        r.push_back(value_);
        return r;
    }

private:
    etape::active_tensor<double> x_;
    etape::tensor<double> dx_;
    double value_ = 0;
};

/// sum_i -(1/2) ((y_i - mu) / sigma)^2 - log sigma. The observations y are
/// a value tensor (data): the node's leaves are the scalars mu and sigma.
class normal_lpdf_kernel final : public on_tape<double> {
public:
    explicit normal_lpdf_kernel(const etape_bench::normal_lpdf& c)
        : y_(vector_tensor(c.y)), mu_(c.inputs[0]), sigma_(c.inputs[1])
    {
        mark_recording();
    }

    void run() override
    {
        rewind();
        const auto z = (y_ - mu_) / sigma_;
        const etape::var<double> lp = etape::sum(-0.5 * z * z - etape::log(sigma_));
        const auto [dmu, dsigma] = etape::gradient(lp, mu_, sigma_);
        gradient_ = {dmu, dsigma};
        value_ = lp.value();
    }

    std::vector<double> result() override { return {gradient_[0], gradient_[1], value_}; }

private:
    etape::tensor<double> y_;
    etape::var<double> mu_;
    etape::var<double> sigma_;
    std::array<double, 2> gradient_{};
    double value_ = 0;
};

} // namespace

std::unique_ptr<kernel> make_etape(const case_spec& c)
{
    switch (c.what) {
    case operation::copy:
    case operation::copy_memcpy: return nullptr;
    case operation::elu_forward:
    case operation::elu_backward:
    case operation::elu:
        if (c.type == precision::f32)
            return std::make_unique<elu_kernel<float>>(c);
        return std::make_unique<elu_kernel<double>>(c);
    case operation::chain: return std::make_unique<chain_kernel>(c);
    case operation::elu_sum: return std::make_unique<elu_sum_kernel>(elu_sum_case());
    case operation::logsumexp: return std::make_unique<logsumexp_kernel>(logsumexp_case());
    case operation::normal_lpdf: return std::make_unique<normal_lpdf_kernel>(normal_lpdf_case());
    }
    return nullptr;
}

} // namespace etape_tensor_bench
