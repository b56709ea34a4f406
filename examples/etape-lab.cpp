// etape-lab: compares activations on the embedded digits (docs/lab.md).
// Run: ./etape-lab --help
// Built with MPI (CMake found it: ETAPE_LAB_MPI=1), `mpirun -np N etape-lab ...`
// splits every batch over the N processes (docs/distributed.md); started
// without mpirun, it runs alone as ever.
#include <etape/lab/run.hpp>

#if ETAPE_LAB_MPI
#include <cstdlib>

#include <etape/mpi/abort_on_error.hpp>
#include <etape/mpi/lab_ranks.hpp>

namespace {

/// True when mpirun (Open MPI's, or a PMI launcher's such as MPICH's or
/// Slurm's) started this process.
bool launched_by_mpirun()
{
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(name) != nullptr)
            return true;
    return false;
}

} // namespace
#endif

int main(int argc, char** argv)
{
#if ETAPE_LAB_MPI
    if (launched_by_mpirun()) {
        MPI_Init(&argc, &argv);
        const int status = etape::mpi::abort_on_error(MPI_COMM_WORLD, [&] {
            etape::mpi::lab_ranks ranks(MPI_COMM_WORLD);
            return etape::lab::run(argc, argv, etape::lab::registry::builtin(), &ranks);
        });
        if (status != 0) // a process that stops early ends them all: the others may wait for it in a collective
            MPI_Abort(MPI_COMM_WORLD, status);
        MPI_Finalize();
        return 0;
    }
#endif
    return etape::lab::run(argc, argv, etape::lab::registry::builtin());
}
