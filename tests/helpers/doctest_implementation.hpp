// doctest's implementation, for the test programs that hold it (with
// DOCTEST_CONFIG_IMPLEMENT or _WITH_MAIN defined first). doctest 2.4.9 uses
// DBL_EPSILON without including <cfloat>, and with the macOS headers in C++20
// <cfloat> can come too late: <cmath> takes float.h for INFINITY alone and
// float.h's guard then keeps the rest out. The compiler's own macro stands in.
#pragma once

#include <cmath>  // first, for INFINITY, whatever the headers do with float.h

#include <cfloat>
#ifndef DBL_EPSILON
#define DBL_EPSILON __DBL_EPSILON__
#endif

#include <doctest/doctest.h>
