#!/usr/bin/env python3
"""Write quants.gguf: for every weight type infer computes, a small tensor in that type and,
as "<type>.expected", its dequantization by the `gguf` package (gguf.quants.dequantize), the
reference the tests compare infer's decoders with bit for bit.

  pip install gguf numpy
  python3 Tests/InferKitTests/Fixtures/make_quant_fixtures.py

Types the package can quantize (BF16, Q4_0 ... Q8_0) hold quantized random rows; for the
K-quants, which it only decodes, the blocks are random bytes with random (sometimes
subnormal, sometimes negative) fp16 scales, so every bit of the layouts is exercised.
"""
import os
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGML_QUANT_SIZES

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, COLS = 4, 512

QUANTIZED = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
# byte offsets of the fp16 scale fields in one block
K_SCALES = {T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}


def random_k_blocks(rng, qtype):
    block, size = GGML_QUANT_SIZES[qtype]
    nblocks = ROWS * COLS // block
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    for off in K_SCALES[qtype]:
        scale = rng.standard_normal(nblocks) * 0.01
        scale[::7] = rng.uniform(-6e-5, 6e-5, size=scale[::7].shape)  # fp16 subnormals
        raw[:, off:off + 2] = scale.astype(np.float16).view(np.uint8).reshape(nblocks, 2)
    return raw.reshape(ROWS, COLS // block * size)


def main():
    rng = np.random.default_rng(20240611)
    w = gguf.GGUFWriter(os.path.join(HERE, "quants.gguf"), "infer-fixtures")
    for qtype in QUANTIZED + list(K_SCALES):
        if qtype in QUANTIZED:
            x = (rng.standard_normal((ROWS, COLS)) * 0.5).astype(np.float32)
            x[:, ::37] *= 8  # outliers set the block scales
            data = gguf.quants.quantize(x, qtype)
        else:
            data = random_k_blocks(rng, qtype)
        expected = gguf.quants.dequantize(data, qtype).astype(np.float32)
        assert expected.shape == (ROWS, COLS) and np.isfinite(expected).all()
        if qtype == T.F16:
            w.add_tensor(qtype.name, data)
        else:
            w.add_tensor(qtype.name, data, raw_shape=data.shape, raw_dtype=qtype)
        w.add_tensor(qtype.name + ".expected", expected)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()


if __name__ == "__main__":
    main()
