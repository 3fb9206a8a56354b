#include "libfuzzer_driver.h"

#include <stdint.h>

// libFuzzer's entry point for programs that have a main of their own (LLVM 12 and later).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

static infer_fuzz_test_one_input target;

static int test_one_input(const uint8_t *data, size_t size) {
    return target(data, (long)size);
}

int infer_fuzz_run_driver(int argc, char **argv, infer_fuzz_test_one_input test) {
    target = test;
    return LLVMFuzzerRunDriver(&argc, &argv, test_one_input);
}
