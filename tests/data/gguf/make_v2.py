#!/usr/bin/env python3
"""make_v2.py -- writes tests/data/gguf/v2-all-types.gguf: a GGUF *version 2*
file built here with struct (independently of mullama's writer), holding one
kv of every scalar type, a string, arrays of u8/i32/f32/string, the
general.alignment key (64) and three tensors (F32, F16, Q8_0) whose data
starts on a 64-byte boundary.  The values are the ones
tests/test_gguf.c:gguf_reads_v2_file checks.  Run from the repository root:
    python3 tests/data/gguf/make_v2.py"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "v2-all-types.gguf")
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
ALIGN = 64


def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, payload):
    return s(key) + struct.pack("<I", typ) + payload


def arr(elem, items):
    if elem == STR:
        body = b"".join(s(x) for x in items)
    else:
        body = b"".join(struct.pack({U8: "<B", I32: "<i", F32: "<f"}[elem], x) for x in items)
    return struct.pack("<IQ", elem, len(items)) + body


kvs = [
    kv("general.architecture", STR, s("llama")),
    kv("general.alignment", U32, struct.pack("<I", ALIGN)),
    kv("t.u8", U8, struct.pack("<B", 200)),
    kv("t.i8", I8, struct.pack("<b", -100)),
    kv("t.u16", U16, struct.pack("<H", 60000)),
    kv("t.i16", I16, struct.pack("<h", -30000)),
    kv("t.u32", U32, struct.pack("<I", 4000000000)),
    kv("t.i32", I32, struct.pack("<i", -2000000000)),
    kv("t.f32", F32, struct.pack("<f", 1.5)),
    kv("t.bool", BOOL, struct.pack("<B", 1)),
    kv("t.u64", U64, struct.pack("<Q", 1 << 40)),
    kv("t.i64", I64, struct.pack("<q", -(1 << 40))),
    kv("t.f64", F64, struct.pack("<d", -0.125)),
    kv("t.str", STR, s("héllo, v2")),
    kv("t.arr_u8", ARR, arr(U8, [1, 2, 3])),
    kv("t.arr_i32", ARR, arr(I32, [-1, 0, 7])),
    kv("t.arr_f32", ARR, arr(F32, [0.5, -2.0])),
    kv("t.arr_str", ARR, arr(STR, ["a", "", "xyz"])),
]

# tensors: name, dims, ggml type, data
f32 = struct.pack("<6f", *[i * 0.25 for i in range(6)])            # 2x3 F32
f16 = struct.pack("<4e", 1.0, -1.0, 0.5, 2.0)                       # 4 F16
q8 = struct.pack("<e", 0.5) + struct.pack("<32b", *range(-16, 16))  # 32 Q8_0: one block
tensors = [("w.f32", [3, 2], 0, f32), ("w.f16", [4], 1, f16), ("w.q8_0", [32], 8, q8)]

data = b""
infos = b""
for name, dims, typ, blob in tensors:
    data += b"\0" * (-len(data) % ALIGN)
    infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
    infos += struct.pack("<IQ", typ, len(data))
    data += blob

h = b"GGUF" + struct.pack("<IQQ", 2, len(tensors), len(kvs)) + b"".join(kvs) + infos
h += b"\0" * (-len(h) % ALIGN)
with open(OUT, "wb") as f:
    f.write(h + data)
