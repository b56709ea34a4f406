// Checkpoints of a data-parallel run: rank 0 writes the model and Adam's
// state, every rank resumes from what rank 0 reads, and the resumed run
// goes on bit for bit as the uninterrupted one; a file rank 0 cannot read
// fails on every rank.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "training.hpp"

namespace nn = etape::nn;
using namespace etape_test;

namespace {

/// Steps [first, last) of a data-parallel Adam run over `d` (4 rows a rank a step).
void steps(mlp<float>& model, nn::adam<float>& optimizer, const data<float>& d, std::size_t first, std::size_t last)
{
    const int rank = world_rank(), ranks = world_size();
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, model);
    dp.attach(optimizer);
    const std::size_t global = 4 * static_cast<std::size_t>(ranks);
    for (std::size_t k = first; k < last; ++k)
        (void)train_step(model, optimizer, nn::shard(rows_of(d, k * global, global), rank, ranks));
}

std::filesystem::path shared_path(const char* name)
{
    // rank 0 alone touches the file; the name only has to be rank 0's
    return std::filesystem::temp_directory_path() / (std::string(name) + "." + std::to_string(::getpid()));
}

} // namespace

TEST_CASE("a run resumed from rank 0's checkpoint goes on bit for bit as the uninterrupted one")
{
    etape::tape_scope<float> scope;
    const data<float> d = make_data<float>(8 * 4 * static_cast<std::size_t>(world_size()));
    const nn::adam<float>::options options{.learning_rate = 0.01f};
    mlp<float> uninterrupted = make_mlp<float>();
    nn::adam<float> uninterrupted_optimizer(uninterrupted, options);
    steps(uninterrupted, uninterrupted_optimizer, d, 0, 8);

    std::string path = shared_path("etape-mpi-checkpoint"), state_path = shared_path("etape-mpi-optimizer");
    etape::mpi::detail::broadcast(MPI_COMM_WORLD, path, 0);
    etape::mpi::detail::broadcast(MPI_COMM_WORLD, state_path, 0);
    {
        mlp<float> first_half = make_mlp<float>();
        nn::adam<float> optimizer(first_half, options);
        steps(first_half, optimizer, d, 0, 4);
        etape::mpi::save(MPI_COMM_WORLD, first_half, path);
        etape::mpi::save_state(MPI_COMM_WORLD, optimizer, state_path);
    }
    mlp<float> resumed = make_mlp<float>(static_cast<std::size_t>(world_rank()) + 11); // whatever it holds is replaced
    nn::adam<float> optimizer(resumed, options);
    etape::mpi::load(MPI_COMM_WORLD, resumed, path);
    etape::mpi::load_state(MPI_COMM_WORLD, optimizer, state_path);
    CHECK(optimizer.steps() == 4);
    steps(resumed, optimizer, d, 4, 8);
    if (world_rank() == 0) {
        std::filesystem::remove(path);
        std::filesystem::remove(state_path);
    }

    const auto a = nn::parameters(uninterrupted), b = nn::parameters(resumed);
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(a[i].name);
        CHECK(std::memcmp(a[i].tensor->values().data(), b[i].tensor->values().data(),
                          a[i].tensor->size() * sizeof(float)) == 0);
    }
}

TEST_CASE("a checkpoint rank 0 cannot read fails on every rank, naming the file")
{
    etape::tape_scope<float> scope;
    mlp<float> model = make_mlp<float>();
    const std::string path = "/nonexistent-etape-folder/model.etape";
    CHECK_THROWS_WITH_AS(etape::mpi::load(MPI_COMM_WORLD, model, path), doctest::Contains(path.c_str()),
                         nn::model_file_error);
    CHECK_THROWS_WITH_AS(etape::mpi::save(MPI_COMM_WORLD, model, path), doctest::Contains(path.c_str()),
                         nn::model_file_error);
    nn::adam<float> optimizer(model, {});
    CHECK_THROWS_WITH_AS(etape::mpi::load_state(MPI_COMM_WORLD, optimizer, path), doctest::Contains(path.c_str()),
                         nn::model_file_error);
    CHECK(optimizer.steps() == 0);
}
