#!/usr/bin/env python3
"""make_corrupt.py -- writes the hand-made corrupt GGUF cases in
tests/data/gguf/corrupt/ and their expectations in corrupt/EXPECTED
(file, MU_E* code name, substring of the error message; tab-separated).
tests/test_gguf_corrupt.c checks each.  Run from the repository root:
    python3 tests/data/gguf/make_corrupt.py
Each case starts from a small valid file (one kv, one F32 tensor of 8
elements) and breaks one thing, so the error must be about that thing."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corrupt")

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)


def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, payload):
    return s(key) + struct.pack("<I", typ) + payload


def tinfo(name, dims, typ=0, off=0):
    return s(name) + struct.pack("<I", len(dims)) + b"".join(
        struct.pack("<Q", d & 0xFFFFFFFFFFFFFFFF) for d in dims) + struct.pack("<IQ", typ, off)


def gguf(kvs, tinfos, data=b"", version=3, magic=b"GGUF", align=32, n_kv=None,
         n_t=None, pad=True):
    h = magic + struct.pack("<I", version)
    h += struct.pack("<QQ", len(tinfos) if n_t is None else n_t,
                     len(kvs) if n_kv is None else n_kv)
    h += b"".join(kvs) + b"".join(tinfos)
    if pad and tinfos:
        h += b"\0" * (-len(h) % align)
    return h + data


ARCH = kv("general.architecture", STR, s("llama"))
F8 = struct.pack("<8f", *range(8))
GOOD_T = tinfo("w", [8])

cases = []


def case(name, code, substr, blob):
    cases.append((name, code, substr))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


os.makedirs(OUT, exist_ok=True)
case("ok-control.gguf", "OK", "", gguf([ARCH], [GOOD_T], F8))
case("bad-magic.gguf", "MU_EFORMAT", "bad magic", gguf([ARCH], [GOOD_T], F8, magic=b"GGML"))
case("empty.gguf", "MU_EFORMAT", "file is empty", b"")
case("magic-only.gguf", "MU_EFORMAT", "truncated", b"GGUF")
case("version-1.gguf", "MU_EUNSUPPORTED", "version 1", gguf([ARCH], [GOOD_T], F8, version=1))
case("version-99.gguf", "MU_EFORMAT", "unknown version 99", gguf([ARCH], [GOOD_T], F8, version=99))
case("version-0.gguf", "MU_EFORMAT", "unknown version 0", gguf([ARCH], [GOOD_T], F8, version=0))
case("big-endian.gguf", "MU_EUNSUPPORTED", "big-endian",
     gguf([ARCH], [GOOD_T], F8, version=0x03000000))
case("huge-kv-count.gguf", "MU_EFORMAT", "kv count",
     gguf([ARCH], [GOOD_T], F8, n_kv=1 << 62))
case("huge-tensor-count.gguf", "MU_EFORMAT", "tensor count",
     gguf([ARCH], [GOOD_T], F8, n_t=0xFFFFFFFFFFFFFFFF))
case("kv-count-too-high.gguf", "MU_EFORMAT", "key 2 has an empty",
     gguf([ARCH], [GOOD_T], F8, n_kv=3))
case("huge-string-length.gguf", "MU_EFORMAT", "over the limit",
     gguf([struct.pack("<Q", 1 << 40) + b"general.architecture"], [GOOD_T], F8))
case("string-past-eof.gguf", "MU_EFORMAT", "truncated",
     gguf([kv("general.name", STR, struct.pack("<Q", 100000) + b"abc")], [], b""))
case("empty-key.gguf", "MU_EFORMAT", "empty or NUL", gguf([kv("", U32, struct.pack("<I", 1))], []))
case("nul-in-key.gguf", "MU_EFORMAT", "empty or NUL",
     gguf([kv(b"gen\0eral", U32, struct.pack("<I", 1))], []))
case("unknown-kv-type.gguf", "MU_EFORMAT", "unknown type 13", gguf([kv("x", 13, b"\0" * 8)], []))
case("array-count-overflow.gguf", "MU_EFORMAT", "runs past end of file",
     gguf([kv("a", ARR, struct.pack("<IQ", U32, (1 << 62) + 1) + b"\0" * 64)], []))
case("array-u64-count-overflow.gguf", "MU_EFORMAT", "runs past end of file",
     gguf([kv("a", ARR, struct.pack("<IQ", U64, 0x2000000000000001) + b"\0" * 64)], []))
case("string-array-count-overflow.gguf", "MU_EFORMAT", "runs past end of file",
     gguf([kv("a", ARR, struct.pack("<IQ", STR, 1 << 61) + s("x") * 4)], []))
case("nested-array.gguf", "MU_EFORMAT", "array of unsupported type 9",
     gguf([kv("a", ARR, struct.pack("<IQ", ARR, 1) + struct.pack("<IQ", U8, 1) + b"\1")], []))
case("array-bad-elem-type.gguf", "MU_EFORMAT", "array of unsupported type 77",
     gguf([kv("a", ARR, struct.pack("<IQ", 77, 1) + b"\1" * 8)], []))
case("scalar-past-eof.gguf", "MU_EFORMAT", "truncated", gguf([kv("x", U64, b"\1\2\3")], []))
case("duplicate-key.gguf", "MU_EFORMAT", "duplicate key 'general.architecture'",
     gguf([ARCH, kv("general.name", STR, s("n")), ARCH], [GOOD_T], F8))
case("duplicate-tensor.gguf", "MU_EFORMAT", "duplicate tensor 'w'",
     gguf([ARCH], [GOOD_T, tinfo("w", [8], off=32)], F8 + b"\0" * 32))
case("n-dims-0.gguf", "MU_EFORMAT", "has 0 dims", gguf([ARCH], [tinfo("w", [])], F8))
case("n-dims-5.gguf", "MU_EFORMAT", "has 5 dims", gguf([ARCH], [tinfo("w", [8, 1, 1, 1, 1])], F8))
case("negative-dim.gguf", "MU_EFORMAT", "dim 1 is out of range",
     gguf([ARCH], [tinfo("w", [8, -1])], F8))
case("huge-dims.gguf", "MU_EFORMAT", "too many elements",
     gguf([ARCH], [tinfo("w", [1 << 40, 1 << 40])], F8))
case("huge-tensor-bytes.gguf", "MU_EFORMAT", "too large",
     gguf([ARCH], [tinfo("w", [1 << 61, 3])], F8))
case("unknown-tensor-type.gguf", "MU_EFORMAT", "unknown type 99",
     gguf([ARCH], [tinfo("w", [8], typ=99)], F8))
case("removed-tensor-type-4.gguf", "MU_EFORMAT", "unknown type 4",
     gguf([ARCH], [tinfo("w", [32], typ=4)], F8))
case("row-not-block-multiple.gguf", "MU_EFORMAT", "not a multiple of the Q4_0 block size",
     gguf([ARCH], [tinfo("w", [33], typ=2)], b"\0" * 64))
case("empty-tensor-name.gguf", "MU_EFORMAT", "empty or NUL", gguf([ARCH], [tinfo("", [8])], F8))
case("long-tensor-name.gguf", "MU_EFORMAT", "longer than 63",
     gguf([ARCH], [tinfo("x" * 64, [8])], F8))
case("misaligned-offset.gguf", "MU_EFORMAT", "offset 4 is not aligned to 32",
     gguf([ARCH], [tinfo("w", [8], off=4)], F8 + b"\0" * 8))
case("data-past-eof.gguf", "MU_EFORMAT", "'w' data ends past end of file",
     gguf([ARCH], [tinfo("w", [16])], F8))
case("offset-past-eof.gguf", "MU_EFORMAT", "'w' data ends past end of file",
     gguf([ARCH], [tinfo("w", [8], off=1 << 60)], F8))
case("offset-wraps.gguf", "MU_EFORMAT", "'w' data ends past end of file",
     gguf([ARCH], [tinfo("w", [8], off=0xFFFFFFFFFFFFFFE0)], F8))
case("no-data-section.gguf", "MU_EFORMAT", "tensor data would start at",
     gguf([ARCH], [GOOD_T], b"", pad=False))
case("alignment-not-pow2.gguf", "MU_EFORMAT", "general.alignment 48 is not a power of two",
     gguf([ARCH, kv("general.alignment", U32, struct.pack("<I", 48))], [GOOD_T], F8, align=48))
case("alignment-zero.gguf", "MU_EFORMAT", "general.alignment 0 is not a power of two",
     gguf([ARCH, kv("general.alignment", U32, struct.pack("<I", 0))], [GOOD_T], F8))
case("alignment-wrong-type.gguf", "MU_EFORMAT", "general.alignment must be a u32",
     gguf([ARCH, kv("general.alignment", STR, s("32"))], [GOOD_T], F8))
case("truncated-tensor-info.gguf", "MU_EFORMAT", "truncated",
     gguf([ARCH], [GOOD_T], F8, pad=False)[:-len(F8) - 5])

with open(os.path.join(OUT, "EXPECTED"), "w") as f:
    f.write("# file\tcode\terror substring (made by tests/data/gguf/make_corrupt.py)\n")
    for name, code, substr in cases:
        f.write(f"{name}\t{code}\t{substr}\n")
print(len(cases), "cases")
