// count_gradients: runs etape's implementation of one case of
// etape_bench_scalar a given number of times, with no timing around it, so
// that an instruction counter (valgrind --tool=callgrind) can take the
// difference between two counts as the cost of that many gradients.
// scripts/mark-cost.sh builds and runs it. Usage:
//   count_gradients <case> <times>      (case as in scalar/<case>/etape)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: count_gradients <case> <times>\n");
        return 2;
    }
    const std::string name = argv[1];
    const long times = std::strtol(argv[2], nullptr, 10);
    static const etape_bench::suite cases;
    etape_bench::entry_table table;
    etape_bench::add_etape_impl(cases, table);
    for (const etape_bench::entry& e : table) {
        if (e.case_name != name)
            continue;
        const auto impl = e.make();
        std::vector<double> gradient(e.inputs->size());
        double sum = 0;
        for (long i = 0; i < times; ++i)
            sum += impl->run(*e.inputs, gradient);
        std::printf("%s: %ld gradients, sum of values %.17g\n", name.c_str(), times, sum);
        return 0;
    }
    std::fprintf(stderr, "count_gradients: no case '%s'\n", name.c_str());
    return 2;
}
