// Run by mpirun in a ctest: rank 1 fails (an exception, or with
// `anomaly`, a NaN feature that anomaly mode stops in the sweep) while
// rank 0 waits in a collective; abort_on_error must end the whole job with
// a message naming rank 1 instead of leaving rank 0 waiting.
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "training.hpp"

int main(int argc, char** argv)
{
    MPI_Init(&argc, &argv);
    const bool anomaly = argc > 1 && std::strcmp(argv[1], "anomaly") == 0;
    etape::mpi::abort_on_error(MPI_COMM_WORLD, [&] {
        using namespace etape_test;
        etape::tape_scope<double> scope;
        scope.get().detect_anomalies(anomaly);
        mlp<double> model = make_mlp<double>();
        etape::mpi::data_parallel dp(MPI_COMM_WORLD, model);
        etape::nn::sgd<double> optimizer(model, {.learning_rate = 0.1});
        dp.attach(optimizer);
        data<double> d = make_data<double>(4);
        if (world_rank() == 1) {
            if (!anomaly)
                throw std::runtime_error("bad data file: shard-1.csv");
            d.features.values()[0] = std::numeric_limits<double>::quiet_NaN();
        }
        for (int k = 0; k < 3; ++k)
            (void)train_step(model, optimizer, rows_of(d, 0, 4));
    });
    MPI_Finalize();
    return 0;
}
