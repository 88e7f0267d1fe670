#!/usr/bin/env python3
"""count_params.py -- independent GGUF header reader (Python stdlib only)
that prints, per file: tensor count, parameter count (sum of the product
of each tensor's dims), tensor bytes and vocabulary size.  Used once to
make tests/data/show/expected.txt, which tests/cli/show.sh compares with
`mullama show --json`:
    python3 tests/data/show/count_params.py tests/models/*.gguf \
        tests/models/vocab/*.gguf > tests/data/show/expected.txt
"""
import os
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
          10: "<Q", 11: "<q", 12: "<d"}
# ggml type id -> (block size, bytes per block)
TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
         8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144),
         13: (256, 176), 14: (256, 210), 15: (256, 292), 30: (1, 2)}


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            buf = f.read(64 << 20)  # headers of the test models are far smaller
        off = 0

        def take(fmt):
            nonlocal off
            v = struct.unpack_from(fmt, buf, off)
            off += struct.calcsize(fmt)
            return v[0]

        def string():
            n = take("<Q")
            nonlocal off
            s = buf[off:off + n]
            off += n
            return s

        def value(t):
            if t == 8:
                return string()
            if t == 9:
                et, n = take("<I"), take("<Q")
                return [value(et) for _ in range(n)]
            return take(SCALAR[t])

        assert buf[:4] == b"GGUF"
        off = 4
        take("<I")
        n_t, n_kv = take("<Q"), take("<Q")
        kv = {}
        for _ in range(n_kv):
            k = string().decode()
            kv[k] = value(take("<I"))
        params = nbytes = 0
        for _ in range(n_t):
            string()
            nd = take("<I")
            ne = [take("<Q") for _ in range(nd)]
            t = take("<I")
            take("<Q")
            n = 1
            for d in ne:
                n *= d
            params += n
            bs, ts = TYPES[t]
            nbytes += n // bs * ts
        vocab = len(kv.get("tokenizer.ggml.tokens", []))
        print(f"{os.path.basename(path)} tensors={n_t} params={params} "
              f"bytes={nbytes} vocab={vocab}")


main()
