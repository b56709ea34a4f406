// data_parallel on 2 and 3 ranks: k steps with a batch of b rows per rank
// end with the parameters of k steps on one process with the ranks' rows
// together (N b), to 1e-6 in float and 1e-12 in double, whatever the
// buckets; models that differ are refused on every rank, naming the first
// parameter that differs.
#include <doctest/doctest.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "training.hpp"

namespace nn = etape::nn;
using namespace etape_test;

namespace {

/// k steps of `Optimizer` both ways; returns the relative difference.
template <class T, class Optimizer>
double data_parallel_against_one_process(typename Optimizer::options options, std::size_t bucket_bytes,
                                         std::size_t steps = 5, std::size_t rows_per_rank = 8)
{
    etape::tape_scope<T> scope;
    const int rank = world_rank(), ranks = world_size();
    mlp<T> replica = make_mlp<T>(static_cast<std::size_t>(rank) + 1); // replaced by rank 0's
    mlp<T> whole = make_mlp<T>(1);
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, replica, {.bucket_bytes = bucket_bytes});
    Optimizer parallel(replica, options), single(whole, options);
    dp.attach(parallel);
    const std::size_t global = rows_per_rank * static_cast<std::size_t>(ranks);
    const data<T> d = make_data<T>(global * steps);
    for (std::size_t k = 0; k < steps; ++k) {
        const nn::batch<T> batch = rows_of(d, k * global, global);
        (void)train_step(replica, parallel, nn::shard(batch, rank, ranks));
        (void)train_step(whole, single, batch);
    }
    CHECK(dp.last_exchange().bytes == (ranks == 1 ? 0 : nn::parameter_count(replica) * sizeof(T)));
    return relative_difference(replica, whole);
}

} // namespace

TEST_CASE("data-parallel SGD with momentum ends where one process with the whole batches does")
{
    for (const std::size_t bucket_bytes : {std::size_t{1}, std::size_t{256}, std::size_t{1} << 20}) {
        CAPTURE(bucket_bytes);
        CHECK(data_parallel_against_one_process<float, nn::sgd<float>>({.learning_rate = 0.1f, .momentum = 0.9f},
                                                                       bucket_bytes) < 1e-6);
        CHECK(data_parallel_against_one_process<double, nn::sgd<double>>({.learning_rate = 0.1, .momentum = 0.9},
                                                                         bucket_bytes) < 1e-12);
    }
}

TEST_CASE("data-parallel Adam with clipping ends where one process with the whole batches does")
{
    CHECK(data_parallel_against_one_process<float, nn::adam<float>>({.learning_rate = 0.01f, .clip_norm = 0.5f},
                                                                    512) < 1e-6);
    CHECK(data_parallel_against_one_process<double, nn::adam<double>>({.learning_rate = 0.01, .clip_norm = 0.5},
                                                                      512) < 1e-12);
}

TEST_CASE("buckets are sent in the order the sweep completes them, the output layer's first")
{
    etape::tape_scope<double> scope;
    mlp<double> model = make_mlp<double>();
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, model, {.bucket_bytes = 1});
    nn::sgd<double> optimizer(model, {.learning_rate = 0.1});
    dp.attach(optimizer);
    const data<double> d = make_data<double>(8);
    (void)train_step(model, optimizer, rows_of(d, 0, 8));
    CHECK(dp.last_exchange().buckets == (world_size() == 1 ? 0u : 6u));
}

TEST_CASE("parameters that do not lie side by side are packed, summed and unpacked")
{
    etape::tape_scope<double> scope;
    const int rank = world_rank(), ranks = world_size();
    mlp<double> split = make_mlp<double>(), whole = make_mlp<double>();
    const etape::active_tensor<double> between(etape::tensor<double>(etape::shape{5}, 1.0));
    split.l2 = nn::dense<double, nn::activation::elu>(12, 10); // slots above `between`: l1 and l3 are not adjacent
    whole.l2 = nn::dense<double, nn::activation::elu>(12, 10);
    nn::random_generator random(3);
    nn::initialize(split, random);
    nn::random_generator same(3);
    nn::initialize(whole, same);
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, split, {.bucket_bytes = std::size_t{1} << 20});
    nn::sgd<double> parallel(split, {.learning_rate = 0.2}), single(whole, {.learning_rate = 0.2});
    dp.attach(parallel);
    const std::size_t global = 4 * static_cast<std::size_t>(ranks);
    const data<double> d = make_data<double>(global * 3);
    for (std::size_t k = 0; k < 3; ++k) {
        const nn::batch<double> batch = rows_of(d, k * global, global);
        (void)train_step(split, parallel, nn::shard(batch, rank, ranks));
        (void)train_step(whole, single, batch);
    }
    CHECK(relative_difference(split, whole) < 1e-12);
}

TEST_CASE("average_gradients after a sweep of one's own")
{
    etape::tape_scope<double> scope;
    const int rank = world_rank(), ranks = world_size();
    mlp<double> replica = make_mlp<double>(), whole = make_mlp<double>();
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, replica);
    const std::size_t global = 4 * static_cast<std::size_t>(ranks);
    const data<double> d = make_data<double>(global);
    const nn::batch<double> batch = rows_of(d, 0, global), mine = nn::shard(batch, rank, ranks);
    etape::tape<double>& t = scope.get();
    const etape::var<double> parallel_loss = nn::softmax_cross_entropy(replica(mine.features), mine.labels);
    const etape::var<double> whole_loss = nn::softmax_cross_entropy(whole(batch.features), batch.labels);
    const auto gradients_of = [&](const etape::var<double>& loss, mlp<double>& model) {
        std::vector<double> g;
        for (const auto& p : nn::parameters(model)) {
            const auto view = etape::gradient_view(loss, *p.tensor);
            g.insert(g.end(), view.begin(), view.end());
        }
        return g;
    };
    const std::vector<double> expected = gradients_of(whole_loss, whole);
    (void)gradients_of(parallel_loss, replica); // sweeps from the shard's loss
    dp.average_gradients(t);
    std::size_t k = 0;
    for (const auto& p : nn::parameters(replica))
        for (std::size_t i = 0; i < p.tensor->size(); ++i, ++k)
            CHECK(t.adjoints()[p.tensor->first_slot() + i] == doctest::Approx(expected[k]).epsilon(1e-12));
}

TEST_CASE("ranks whose models differ are refused on every rank, naming the first parameter that differs")
{
    etape::tape_scope<float> scope;
    const int rank = world_rank();
    mlp<float> model{{6, 12}, {12, rank == 0 ? 10u : 11u}, {rank == 0 ? 10u : 11u, 3}};
    if (world_size() == 1)
        return;
    try {
        etape::mpi::data_parallel dp(MPI_COMM_WORLD, model);
        FAIL("no mismatch found");
    } catch (const etape::mpi::model_mismatch& e) {
        const std::string message = e.what();
        CHECK(message.find("rank 1's model differs from rank 0's at parameter 2") != std::string::npos);
        CHECK(message.find("'l2.weight' of shape [11, 12] on rank 1") != std::string::npos);
        CHECK(message.find("'l2.weight' of shape [10, 12] on rank 0") != std::string::npos);
    }
}

TEST_CASE("a bucket of 0 bytes is refused")
{
    etape::tape_scope<float> scope;
    mlp<float> model = make_mlp<float>();
    CHECK_THROWS_WITH_AS(etape::mpi::data_parallel(MPI_COMM_WORLD, model, {.bucket_bytes = 0}),
                         doctest::Contains("a bucket size of 0 bytes"), std::invalid_argument);
}
