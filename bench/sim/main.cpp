// etape_bench_sim: gradients through time loops (sim_cases.hpp), etape's
// scalar code and its tensor stencils against a hand-written adjoint and,
// where installed, Sacado Rad, on the same cases.
//
// Benchmark names are  sim/<case>/<impl>  with
//   case  advection_100x100, advection_1000x1000 (points x steps),
//         heat2d_128x128x100 (rows x columns x steps), advection_100x10000;
//   impl  hand, etape, etape_stencil, sacado, and on advection_100x10000
//         etape_checkpointed (etape_stencil's steps under binomial
//         checkpointing with a byte budget of 5 % of etape_stencil's tape).
// The counter stored_bytes is what a run held for its gradient: the tape's
// recording (etape_stencil) or the snapshots and the largest recording
// (etape_checkpointed).
//
// Before a case's first benchmark is timed, each implementation of it runs
// once and is checked against hand (../common/gradient_main.hpp).
// scripts/bench_sim.sh runs it and prints the ratios to hand.
#include "../common/gradient_main.hpp"
#include "sim_harness.hpp"

int main(int argc, char** argv)
{
    using namespace etape_bench;
    using namespace etape_bench::sim;
    const suite cases;
    entry_table table; // within a case, in this order
    add_hand_impl(cases, table);
    add_etape_impls(cases, table);
#if ETAPE_BENCH_HAVE_SACADO
    add_sacado_impl(cases, table);
#endif
    return run_gradient_benchmarks(argc, argv, {"etape_bench_sim", "sim"}, cases, table);
}
