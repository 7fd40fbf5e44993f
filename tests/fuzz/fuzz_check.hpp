#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant of a fuzz target: when it fails, libFuzzer sees the abort as a crash and saves
// the input.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (false)
