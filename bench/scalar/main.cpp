// etape_bench_scalar: scalar reverse-mode gradients, etape against a
// hand-written adjoint, Sacado Rad and ADOL-C, on the same cases.
//
// Benchmark names are  scalar/<case>/<impl>  with
//   case  elu_mlp, elu_sum_1000, elu_sum_100000, logsumexp, normal_lpdf,
//         matmul, advection (a size, where a case has several, is part of
//         the case's name);
//   impl  plain (the value only, on double), hand (hand-written adjoint),
//         etape, sacado, adolc (the last two where they were found at build).
//
// Before the first benchmark of a case is timed, every implementation of the
// case is run once and checked against the hand-written adjoint
// (../common/gradient_main.hpp). scripts/bench_ratios.py turns the JSON
// output into the table of ratios to Sacado.
#include "../common/gradient_main.hpp"
#include "harness.hpp"

int main(int argc, char** argv)
{
    using namespace etape_bench;
    const suite cases;
    entry_table table; // within a case, in this order
    add_reference_impls(cases, table);
    add_etape_impl(cases, table);
#if ETAPE_BENCH_HAVE_SACADO
    add_sacado_impl(cases, table);
#endif
#if ETAPE_BENCH_HAVE_ADOLC
    add_adolc_impl(cases, table);
#endif
    return run_gradient_benchmarks(argc, argv, {"etape_bench_scalar", "scalar"}, cases, table);
}
