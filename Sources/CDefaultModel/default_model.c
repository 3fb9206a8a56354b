// Links the default model (Models/<name>, chosen in Package.swift) into the executable with
// the assembler's .incbin: the bytes land in read-only data, mapped lazily from the binary
// like any model file, with no copy and no build-time conversion to source code.
#include "default_model.h"

#ifndef INFER_DEFAULT_MODEL_PATH
#error "Package.swift defines INFER_DEFAULT_MODEL_PATH, the absolute path of the default model"
#endif

#if defined(__APPLE__)
#define SECTION ".const_data"
#define SYMBOL(name) "_" #name
#else
#define SECTION ".section .rodata"
#define SYMBOL(name) #name
#endif

__asm__(SECTION "\n"
        ".balign 64\n"
        SYMBOL(infer_default_model_start) ":\n"
        ".incbin \"" INFER_DEFAULT_MODEL_PATH "\"\n"
        SYMBOL(infer_default_model_end) ":\n"
        ".byte 0\n"
        ".text\n");

extern const unsigned char infer_default_model_start[];
extern const unsigned char infer_default_model_end[];

const unsigned char *infer_default_model_bytes(void) { return infer_default_model_start; }

size_t infer_default_model_size(void) {
    return (size_t)(infer_default_model_end - infer_default_model_start);
}

const char *infer_default_model_name(void) { return INFER_DEFAULT_MODEL_NAME; }
