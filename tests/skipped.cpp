// A ctest entry for a test program that cannot run on this platform: says
// why and exits 77, which ctest lists as skipped.
#include <cstdio>

int main(int argc, char** argv) {
    std::printf("skipped on this platform: %s\n", argc > 1 ? argv[1] : "no reason given");
    return 77;
}
