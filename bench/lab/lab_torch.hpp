// What the lab benchmark's two translation units share: the digits split as
// plain arrays and the interface of the libtorch side, so that libtorch's
// headers never meet etape's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace etape_lab_bench {

/// The digits split etape's lab trains on (nn::digits: standardised
/// features), copied out of etape's tensors.
struct digits_rows {
    std::size_t features = 0;
    std::size_t classes = 0;
    std::vector<float> train_x, test_x; ///< row-major [rows, features]
    std::vector<std::int64_t> train_y, test_y;
};

enum class activation { elu, relu, selu };

/// How the torch network's parameters start.
enum class start {
    torch_default, ///< torch.nn.Linear's own: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    as_the_lab,    ///< the lab's: He normal (ELU, ReLU) or LeCun normal (SELU), the output layer Glorot
                   ///< uniform, biases 0
};

/// The lab's MLP protocol, in libtorch: dense layers 64-hidden-10 with the
/// activation after each hidden one, softmax cross-entropy, torch::optim::Adam,
/// a new random order of the training rows each epoch, the last short batch kept.
struct torch_protocol {
    std::vector<std::size_t> hidden{128, 128};
    activation act = activation::elu;
    start init = start::torch_default;
    std::size_t epochs = 30;
    std::size_t batch_size = 32;
    float learning_rate = 1e-3f;
    std::uint64_t seed = 1;
};

struct torch_run {
    std::vector<double> epoch_seconds; ///< the training loop of each epoch (wall clock)
    double test_accuracy = 0;          ///< after the last epoch
};

/// Trains in libtorch with one intra-op and one inter-op thread.
torch_run train_torch(const digits_rows& data, const torch_protocol& protocol);

} // namespace etape_lab_bench
