#!/usr/bin/env python3
"""Writes qgemm-weights.gguf: a few rows of each weight type the integer kernel packs
(Q4_0, Q4_K), as random blocks, each beside its dequantization by the `gguf` package
(tensor "<type>.f32"), the reference the packing is tested against.

    pip install gguf numpy && python3 make_qgemm_fixture.py
"""
import os
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

rng = np.random.default_rng(7)
rows, cols = 5, 512
writer = gguf.GGUFWriter(os.path.join(os.path.dirname(os.path.abspath(__file__)), "qgemm-weights.gguf"), "qgemm")
for qtype in (T.Q4_0, T.Q4_K):
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(rows, cols // block_size, type_size), dtype=np.uint8)
    # Sane fp16 scales: d (and dmin for Q4_K) between 2^-10 and 2^-5, positive.
    scales = rng.uniform(2**-10, 2**-5, size=(rows, cols // block_size, 2)).astype(np.float16).view(np.uint8)
    raw[:, :, 0:4 if qtype == T.Q4_K else 2] = scales.reshape(rows, cols // block_size, 4)[:, :, :4 if qtype == T.Q4_K else 2]
    data = raw.reshape(rows, -1)
    name = qtype.name.lower()
    writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=qtype)
    writer.add_tensor(name + ".f32", quants.dequantize(data, qtype).astype(np.float32))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
