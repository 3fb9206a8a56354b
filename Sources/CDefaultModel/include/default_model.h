// The default model's GGUF, linked into the executable so that `infer chat` works with no
// download and no path.
#ifndef INFER_DEFAULT_MODEL_H
#define INFER_DEFAULT_MODEL_H

#include <stddef.h>

/// The first byte of the embedded GGUF (64-byte aligned, like a mapped file's tensors need).
const unsigned char *infer_default_model_bytes(void);
/// Its size in bytes.
size_t infer_default_model_size(void);
/// Its file name (for messages).
const char *infer_default_model_name(void);

#endif
