#!/usr/bin/env python3
"""extract_gguf_template.py GGUF OUT.jinja -- write tokenizer.chat_template of a GGUF file.

Throwaway helper (stdlib only, reads the GGUF key/value header by hand); used once:
  python3 tests/data/templates/extract_gguf_template.py tests/models/SmolLM2-135M-Instruct.Q4_1.gguf tests/data/templates/SmolLM2-135M-Instruct.jinja
  (tests/models/gemma-3-270m-q4_k_m.gguf has no tokenizer.chat_template key: nothing to extract)
  python3 tests/data/templates/extract_gguf_template.py tests/models/vocab/ggml-vocab-phi-3.gguf tests/data/templates/phi-3.jinja
"""
import struct, sys

SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

def main():
    path, out = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"GGUF", "not a GGUF file"
    pos = 8
    n_tensors, n_kv = struct.unpack_from("<QQ", data, pos)
    pos += 16

    def rstr(p):
        (n,) = struct.unpack_from("<Q", data, p)
        return data[p + 8:p + 8 + n], p + 8 + n

    def skip(t, p):
        if t == 8:
            return rstr(p)[1]
        if t == 9:
            et, n = struct.unpack_from("<IQ", data, p)
            p += 12
            for _ in range(n):
                p = skip(et, p)
            return p
        return p + SIZES[t]

    for _ in range(n_kv):
        key, pos = rstr(pos)
        (t,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if key == b"tokenizer.chat_template" and t == 8:
            val, _ = rstr(pos)
            with open(out, "wb") as g:
                g.write(val)
            return 0
        pos = skip(t, pos)
    sys.exit("no tokenizer.chat_template in " + path)

if __name__ == "__main__":
    main()
