#!/usr/bin/env python3
"""Write stories260K-q8_0.gguf and stories260K-q4_0.gguf: the shared stories260K.gguf (all F32)
with its matrices quantized by the `gguf` package, for the model-level tests.

  pip install gguf numpy
  python3 Tests/InferKitTests/Fixtures/make_quantized_stories.py [path/to/shared]

As llama.cpp does, a matrix whose rows do not fill whole 32-element blocks stays F32
(stories260K's ffn_down: rows of 172), and so do the 1-D norm weights.
"""
import os
import sys
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def convert(reader, qtype, out):
    w = gguf.GGUFWriter(out, reader.fields["general.architecture"].contents())
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vtype = field.types[0]
        sub = field.types[1] if vtype == V.ARRAY else None
        w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        assert t.tensor_type == T.F32, f"{t.name} is {t.tensor_type.name}"
        data = np.asarray(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)])
        if data.ndim == 2 and data.shape[1] % 32 == 0:
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=qtype)
        else:
            w.add_tensor(t.name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(REPO), "shared")
    reader = gguf.GGUFReader(os.path.join(shared, "models", "stories260K.gguf"))
    for qtype in (T.Q8_0, T.Q4_0):
        convert(reader, qtype, os.path.join(HERE, f"stories260K-{qtype.name.lower()}.gguf"))


if __name__ == "__main__":
    main()
