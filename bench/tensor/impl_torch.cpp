// torch: libtorch (Debian's libtorch-dev), one intra-op thread. The ELU
// forward and backward cases call ATen's kernels into preallocated outputs
// (elu_out; elu_backward_out from the saved output, is_result = true), so
// they time the kernels, not the allocator. The pair and the chain run
// through autograd, as a user would: x.requires_grad, forward, backward,
// read x.grad() (reset before each iteration). Only the optional target
// etape_bench_torch compiles this file.
#include <torch/torch.h>

#include "tensor_cases.hpp"

namespace etape_tensor_bench {
namespace {

template <class T>
at::Tensor from_vector(const std::vector<T>& values)
{
    constexpr auto type = std::is_same_v<T, float> ? at::kFloat : at::kDouble;
    return at::from_blob(const_cast<T*>(values.data()), {static_cast<std::int64_t>(values.size())}, type).clone();
}

std::vector<double> to_doubles(const at::Tensor& t)
{
    const at::Tensor d = t.to(at::kDouble).contiguous();
    return as_doubles(d.data_ptr<double>(), static_cast<std::size_t>(d.numel()));
}

class elu_kernel final : public kernel {
public:
    template <class T>
    elu_kernel(const case_spec& c, const elu_inputs<T>& in)
        : what_(c.what), x_(from_vector(in.x)), dy_(from_vector(in.dy)), y_(at::empty_like(x_)),
          dx_(at::empty_like(x_))
    {
        if (what_ == operation::elu_backward)
            at::elu_out(y_, x_);
        if (what_ == operation::elu)
            x_.set_requires_grad(true);
    }

    void run() override
    {
        switch (what_) {
        case operation::elu_forward: at::elu_out(y_, x_); break;
        case operation::elu_backward: at::elu_backward_out(dx_, dy_, 1, 1, 1, /*is_result=*/true, y_); break;
        default: {
            x_.mutable_grad().reset();
            const at::Tensor y = torch::elu(x_);
            y.backward(dy_);
            dx_ = x_.grad();
            break;
        }
        }
    }

    std::vector<double> result() override { return to_doubles(what_ == operation::elu_forward ? y_ : dx_); }

private:
    operation what_;
    at::Tensor x_;
    at::Tensor dy_;
    at::Tensor y_;
    at::Tensor dx_;
};

class chain_kernel final : public kernel {
public:
    explicit chain_kernel(const case_spec& c) : x_(from_vector(inputs_of_size<float>(c.n).x))
    {
        x_.set_requires_grad(true);
    }

    void run() override
    {
        using k = chain_constants;
        x_.mutable_grad().reset();
        const at::Tensor loss = (torch::elu(x_ * k::a + k::b) * k::c + k::d).sum();
        loss.backward();
        dx_ = x_.grad();
        value_ = loss.item<double>();
    }

    std::vector<double> result() override
    {
        std::vector<double> r = to_doubles(dx_);
        r.push_back(value_);
        return r;
    }

private:
    at::Tensor x_;
    at::Tensor dx_;
    double value_ = 0;
};

} // namespace

void torch_single_thread()
{
    torch::set_num_threads(1);
    torch::set_num_interop_threads(1);
}

std::unique_ptr<kernel> make_torch(const case_spec& c)
{
    switch (c.what) {
    case operation::elu_forward:
    case operation::elu_backward:
    case operation::elu:
        if (c.type == precision::f32)
            return std::make_unique<elu_kernel>(c, inputs_of_size<float>(c.n));
        return std::make_unique<elu_kernel>(c, inputs_of_size<double>(c.n));
    case operation::chain: return std::make_unique<chain_kernel>(c);
    default: return nullptr;
    }
}

} // namespace etape_tensor_bench
