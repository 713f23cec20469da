#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "helpers/doctest_implementation.hpp"
