#ifndef INFER_LIBFUZZER_DRIVER_H
#define INFER_LIBFUZZER_DRIVER_H

#include <stddef.h>

/// One run of the code under test on one input (libFuzzer's LLVMFuzzerTestOneInput).
typedef int (*infer_fuzz_test_one_input)(const void *data, long size);

/// Runs libFuzzer's driver (its command line, corpus, mutations, reports) with `test` as the
/// target, and returns its exit status. The harnesses are SwiftPM executables, whose `main`
/// is their own: they call this instead of linking libFuzzer's `main`.
int infer_fuzz_run_driver(int argc, char **argv, infer_fuzz_test_one_input test);

#endif
