// The unit tests' main: first the process pool's worker mode, since on
// Windows the pool starts its workers as copies of this program.
#define DOCTEST_CONFIG_IMPLEMENT
#include "gpusum/gpusum.hpp"
#include "helpers/doctest_implementation.hpp"

int main(int argc, char** argv) {
    gpusum::serve_process_pool_worker(argc, argv);
    return doctest::Context(argc, argv).run();
}
