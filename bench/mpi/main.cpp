// etape_bench_mpi: a data-parallel training step of mlp_large (784-512-512-10,
// ELU, SGD, batch 128 per rank, float), run by mpirun on 1 and on N ranks
// (scripts/bench_mpi.sh runs both and prints the table). Benchmarks:
//   mpi_step/local          each rank steps its own replica, no exchange:
//                           the compute, under the load of N ranks (baseline)
//   mpi_step/data_parallel/K  the same step with data_parallel attached, its
//                           buckets of K KiB sent during the sweep (MPI_Iallreduce)
//   mpi_step/blocking       the sweep first, then average_gradients: the
//                           exchange with no overlap
//   mpi_allreduce           average_gradients alone: the exchange's time
// Each reports the counter vs_local (its time over mpi_step/local's, the
// last measured in the same process) and data_parallel its wait_ms (time
// in MPI_Waitall after the sweep: the exchange overlap did not hide).
// Every rank runs every benchmark for a fixed number of iterations, so
// their collectives pair up; rank 0 alone reports.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/hana/define_struct.hpp>
#include <cblas.h>
#include <mpi.h>

#include <etape/mpi.hpp>
#include <etape/nn.hpp>

namespace nn = etape::nn;

namespace {

struct mlp_large {
    BOOST_HANA_DEFINE_STRUCT(mlp_large, (nn::dense<float, nn::activation::elu>, l1),
                             (nn::dense<float, nn::activation::elu>, l2), (nn::dense<float>, l3));

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& x) const
    {
        return l3(l2(l1(x)));
    }
};

constexpr std::size_t batch_rows = 128;
constexpr int iterations = 40;

/// A rank's replica, optimizer, and a batch of its own.
struct rank_state {
    etape::tape_scope<float> scope;
    mlp_large model{{784, 512}, {512, 512}, {512, 10}};
    etape::tensor<float> features{etape::shape{batch_rows, 784}};
    std::vector<std::size_t> labels = std::vector<std::size_t>(batch_rows);

    rank_state()
    {
        nn::random_generator random(1);
        nn::initialize(model, random);
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        nn::random_generator data(static_cast<std::uint64_t>(rank) + 100);
        for (float& v : features.values())
            v = data.uniform<float>();
        for (std::size_t& l : labels)
            l = data.below(10);
    }

    template <class Optimizer>
    void step(Optimizer& optimizer)
    {
        const etape::tape_position start = scope.get().position();
        optimizer.step(nn::softmax_cross_entropy(model(features), labels));
        scope.get().rewind(start);
    }
};

std::map<std::string, double> seconds_per_iteration; // of the last run of each benchmark in this process

void report(benchmark::State& state, const std::string& name, double seconds)
{
    int ranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    state.counters["ranks"] = ranks;
    const double per_step = seconds / static_cast<double>(state.iterations());
    seconds_per_iteration[name] = per_step;
    if (seconds_per_iteration.contains("local"))
        state.counters["vs_local"] = per_step / seconds_per_iteration.at("local");
}

/// Times `body` per iteration in wall-clock seconds, the ranks starting together.
template <class Body>
double timed(benchmark::State& state, Body&& body)
{
    MPI_Barrier(MPI_COMM_WORLD);
    const double began = MPI_Wtime();
    for (auto _ : state)
        body();
    return MPI_Wtime() - began;
}

void local_step(benchmark::State& state)
{
    rank_state s;
    nn::sgd<float> optimizer(s.model, {.learning_rate = 0.01f});
    report(state, "local", timed(state, [&] { s.step(optimizer); }));
}

void data_parallel_step(benchmark::State& state)
{
    rank_state s;
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, s.model,
                                 {.bucket_bytes = static_cast<std::size_t>(state.range(0)) << 10});
    nn::sgd<float> optimizer(s.model, {.learning_rate = 0.01f});
    dp.attach(optimizer);
    double waited = 0;
    report(state, "data_parallel", timed(state, [&] {
               s.step(optimizer);
               waited += dp.last_exchange().wait_seconds;
           }));
    state.counters["wait_ms"] = 1e3 * waited / static_cast<double>(state.iterations());
    state.counters["buckets"] = static_cast<double>(dp.last_exchange().buckets);
}

void blocking_step(benchmark::State& state)
{
    rank_state s;
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, s.model);
    etape::tape<float>& t = s.scope.get();
    const auto parameters = nn::parameters(s.model);
    report(state, "blocking", timed(state, [&] {
               const etape::tape_position start = t.position();
               const etape::var<float> loss = nn::softmax_cross_entropy(s.model(s.features), s.labels);
               (void)etape::gradient_view(loss, *parameters.front().tensor); // one sweep, every parameter
               dp.average_gradients(t);
               for (const auto& p : parameters) // SGD by hand: the optimizer would sweep again
                   for (std::size_t k = 0; k < p.tensor->size(); ++k)
                       p.tensor->values()[k] -= 0.01f * t.adjoints()[p.tensor->first_slot() + k];
               t.rewind(start);
           }));
}

void allreduce_alone(benchmark::State& state)
{
    rank_state s;
    etape::mpi::data_parallel dp(MPI_COMM_WORLD, s.model);
    etape::tape<float>& t = s.scope.get();
    t.clear_adjoints();
    report(state, "allreduce", timed(state, [&] { dp.average_gradients(t); }));
    state.counters["MB"] = static_cast<double>(dp.last_exchange().bytes) / 1e6;
}

/// Reports nothing: the ranks other than 0.
class silent_reporter : public benchmark::BenchmarkReporter {
public:
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>&) override {}
};

} // namespace

int main(int argc, char** argv)
{
    MPI_Init(&argc, &argv);
    openblas_set_num_threads(1); // OpenBLAS read OPENBLAS_NUM_THREADS before main: set it here too
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const auto add = [](const char* name, void (*f)(benchmark::State&)) {
        return benchmark::RegisterBenchmark(name, f)
            ->Iterations(iterations)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    };
    // the baseline first: each ratio divides by the last local step measured before it
    add("mpi_step/local", local_step);
    for (const int kib : {256, 1024, 4096}) // bucket sizes; 1024 is data_parallel's default
        add("mpi_step/data_parallel", data_parallel_step)->Arg(kib);
    add("mpi_step/blocking", blocking_step);
    add("mpi_allreduce", allreduce_alone);
    if (rank != 0) // rank 0 alone writes --benchmark_out's file too
        argc = static_cast<int>(std::remove_if(argv + 1, argv + argc, [](const char* a) {
                                    return std::string_view(a).starts_with("--benchmark_out");
                                }) -
                                argv);
    benchmark::Initialize(&argc, argv);
    silent_reporter silent;
    if (rank == 0)
        benchmark::RunSpecifiedBenchmarks();
    else
        benchmark::RunSpecifiedBenchmarks(&silent);
    benchmark::Shutdown();
    MPI_Finalize();
    return 0;
}
