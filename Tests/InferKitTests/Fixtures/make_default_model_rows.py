#!/usr/bin/env python3
"""Write default-model-rows.gguf: rows of the real trained default model (Models/README.md)
in every weight type infer computes, as the project's exporter writes them (its own K-quant
packer included), each with "<type>.<tensor>.expected", its dequantization by the `gguf`
package. The kernel tests decode and multiply these real rows (as well as random ones).

  pip install gguf numpy
  cd Models/train && for t in F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K; do
      python3 export_gguf.py --type $t --out /tmp/horatio-$t.gguf; done     # needs work/model.pt
  python3 Tests/InferKitTests/Fixtures/make_default_model_rows.py --variants /tmp
"""
import argparse
import os

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# (tensor, rows): a feed-forward down projection (rows of 768) and an attention query (rows of 256).
ROWS = [("blk.0.ffn_down.weight", 2), ("blk.2.attn_q.weight", 2)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", required=True, help="directory holding horatio-<TYPE>.gguf for every type")
    args = parser.parse_args()
    w = gguf.GGUFWriter(os.path.join(HERE, "default-model-rows.gguf"), "infer-fixtures")
    for type_name in TYPES:
        reader = gguf.GGUFReader(os.path.join(args.variants, f"horatio-{type_name}.gguf"))
        tensors = {t.name: t for t in reader.tensors}
        for name, rows in ROWS:
            t = tensors[name]
            qtype = t.tensor_type
            assert qtype.name == type_name, f"{name} is {qtype.name} in the {type_name} file"
            data = np.array(t.data[:rows])
            expected = gguf.quants.dequantize(data, qtype).astype(np.float32)
            label = f"{type_name}.{name}"
            if qtype in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
                w.add_tensor(label, data)
            else:
                w.add_tensor(label, data, raw_shape=data.shape, raw_dtype=qtype)
            w.add_tensor(label + ".expected", expected)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()


if __name__ == "__main__":
    main()
