// etape-lab: compares activations on the embedded digits (docs/lab.md).
// Run: ./etape-lab --help
#include <etape/lab/run.hpp>

int main(int argc, char** argv)
{
    return etape::lab::run(argc, argv, etape::lab::registry::builtin());
}
