// The cases of the network benchmark and what its implementations share: the
// case table, the data of a case (inputs, labels, starting parameters, made
// once), and the interface of one prepared training step. Each
// implementation (hand, etape, torch) lives in its own translation unit, so
// that libtorch's headers never meet etape's.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace etape_nn_bench {

/// The networks. Every case is one full training step on a fixed batch:
/// forward, the mean softmax cross-entropy over random labels, backward, one
/// optimizer update of every parameter.
enum class network {
    mlp_small, ///< dense 64-256-256-10, ELU after both hidden layers, batch 64, SGD
    mlp_large, ///< dense 784-512-512-10, ELU after both hidden layers, batch 128, SGD
    cnn,       ///< conv 1->32 3x3, ELU, 2x2 max pool, conv 32->64 3x3, ELU, 2x2 max pool,
               ///< dense 1600-128 ELU, dense 128-10; batch 64 of 1x28x28; Adam
    lstm,      ///< LSTM 64 inputs, 128 hidden, 32 steps, batch 32; dense 128-10 on the last h; SGD
};

enum class optimizer { sgd, adam };

/// One trainable tensor: its name (etape's dotted name in the model of
/// impl_etape.cpp), its shape and its starting values.
struct parameter {
    std::string name;
    std::vector<std::size_t> shape;
    std::vector<float> values;
};

/// Everything a case's implementations share. Sizes:
///   mlp:  x [batch, widths[0]], layers widths[k] -> widths[k + 1]
///   cnn:  x [batch, 1, image, image]
///   lstm: x [steps, batch, inputs] (time first, as torch.nn.LSTM and nn::unroll take it)
/// Parameters are in the order etape's nn::parameters lists them, each
/// weight in PyTorch's layout (dense [out, in], conv [F, C, KH, KW], LSTM
/// gates i, f, g, o stacked along the rows).
struct case_data {
    network what;
    optimizer update;
    float learning_rate;
    std::size_t batch;
    std::vector<std::size_t> widths = {};          ///< mlp only
    std::size_t image = 0;                         ///< cnn only
    std::size_t steps = 0, inputs = 0, hidden = 0; ///< lstm only
    std::size_t classes = 10;
    std::vector<float> x = {};
    std::vector<std::size_t> labels = {}; ///< one per row of the batch, in [0, classes)
    std::vector<parameter> parameters = {};

    [[nodiscard]] std::string name() const;
    [[nodiscard]] std::size_t parameter_count() const;
};

/// The four cases, in the order they are registered; made on first use.
const std::vector<case_data>& all_cases();

/// Adam's constants (torch.optim.Adam's defaults); the learning rate is the case's.
struct adam_constants {
    static constexpr float beta1 = 0.9f;
    static constexpr float beta2 = 0.999f;
    static constexpr float epsilon = 1e-8f;
};

/// One implementation of one case, prepared (model built, parameters copied
/// from the case, buffers allocated) by its constructor, which is not timed.
class training_step {
public:
    training_step() = default;
    training_step(const training_step&) = delete;
    training_step& operator=(const training_step&) = delete;
    virtual ~training_step() = default;

    /// One timed step: forward, loss, backward, update.
    virtual void run() = 0;

    /// After run(): the loss of the last step, then every parameter's values
    /// after its update, flattened in the case's parameter order.
    [[nodiscard]] virtual std::vector<double> result() = 0;
};

// Each implementation's translation unit.
std::unique_ptr<training_step> make_hand(const case_data& c);
std::unique_ptr<training_step> make_etape(const case_data& c);
#if ETAPE_BENCH_HAVE_TORCH
std::unique_ptr<training_step> make_torch(const case_data& c);
void torch_single_thread();
#endif

} // namespace etape_nn_bench
