/* quant_blocks.h -- the on-disk block layouts of the quantized GGUF types,
 * private to src/kernels/.  These are file formats: field order and sizes
 * must match what GGUF files hold byte for byte (a _Static_assert pins each
 * size).  "half" is an IEEE binary16 stored as uint16_t.
 *
 * 32-element blocks (element i of the block, i < 32):
 *   Q4_0  d; qs[16]        code = i < 16 ? qs[i] & 15 : qs[i-16] >> 4;
 *                          value = d * (code - 8)
 *   Q4_1  d, m; qs[16]     code as Q4_0; value = d * code + m
 *   Q5_0  d; qh[4]; qs[16] code = nibble as Q4_0 | (bit i of qh (LE u32)) << 4;
 *                          value = d * (code - 16)
 *   Q5_1  d, m; qh; qs     code as Q5_0; value = d * code + m
 *   Q8_0  d; qs[32] int8   value = d * qs[i]
 *   Q8_1  d, s; qs[32]     as Q8_0; s = d * sum(qs) (activations only)
 *
 * 256-element super-blocks (QK_K), split into 16 groups of 16 or 8 of 32:
 *   Q2_K  scales[16]: low nibble = 4-bit scale, high nibble = 4-bit min of
 *         group g (16 elems); qs[64]: 2-bit codes; d, dmin (halves).
 *         Element layout: for half h (128 elements, qs[32h .. 32h+32)) and
 *         shift s = 0,2,4,6: elements 128h + 32*(s/2) + l (l < 32) are bits
 *         s..s+1 of qs[32h + l].  value = d*sc*code - dmin*min.
 *   Q3_K  hmask[32]: the third bit, element e uses bit e/32 of hmask[e%32];
 *         qs[64]: low 2 bits, laid out as Q2_K; scales[12]: 16 6-bit scales,
 *         low 4 bits of scale g in scales[g%8] (low nibble for g < 8, high
 *         for g >= 8), high 2 bits in scales[8 + g%4] at bit 2*(g/4);
 *         d (half).  value = d * (scale - 32) * (low2 - (hbit ? 0 : 4)).
 *   Q4_K  d, dmin; scales[12]: 8 6-bit scales and 8 6-bit mins (one per 32
 *         elems): for j < 4 scale = scales[j] & 63, min = scales[j+4] & 63;
 *         for j >= 4 scale = (scales[j+4] & 15) | (scales[j-4] >> 6) << 4,
 *         min = (scales[j+4] >> 4) | (scales[j] >> 6) << 4;  qs[128]: for
 *         chunk c (64 elems, qs[32c .. 32c+32)) the first 32 elements are the
 *         low nibbles, the next 32 the high nibbles.
 *         value = d*scale*code - dmin*min.
 *   Q5_K  as Q4_K plus qh[32]: element 64c + l (l < 32) takes bit 2c of
 *         qh[l] as its fifth bit, element 64c + 32 + l bit 2c+1.
 *   Q6_K  ql[128] low 4 bits, qh[64] high 2 bits, scales[16] int8 (per 16),
 *         d (half).  Per 128-element half h (ql += 64h, qh += 32h), l < 32:
 *         elem l:    ql[l] & 15,     qh[l] bits 0-1
 *         elem l+32: ql[l+32] & 15,  qh[l] bits 2-3
 *         elem l+64: ql[l] >> 4,     qh[l] bits 4-5
 *         elem l+96: ql[l+32] >> 4,  qh[l] bits 6-7
 *         value = d * scale * (code - 32).
 *   Q8_K  d (float32); qs[256] int8; bsums[16] = sums of qs per 16 elems
 *         (activations only). */
#ifndef MULLAMA_QUANT_BLOCKS_H
#define MULLAMA_QUANT_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

struct block_q4_0 {
        uint16_t d;
        uint8_t qs[QK4_0 / 2];
};
_Static_assert(sizeof(struct block_q4_0) == 18, "block_q4_0 size");

struct block_q4_1 {
        uint16_t d;
        uint16_t m;
        uint8_t qs[QK4_1 / 2];
};
_Static_assert(sizeof(struct block_q4_1) == 20, "block_q4_1 size");

struct block_q5_0 {
        uint16_t d;
        uint8_t qh[4];
        uint8_t qs[QK5_0 / 2];
};
_Static_assert(sizeof(struct block_q5_0) == 22, "block_q5_0 size");

struct block_q5_1 {
        uint16_t d;
        uint16_t m;
        uint8_t qh[4];
        uint8_t qs[QK5_1 / 2];
};
_Static_assert(sizeof(struct block_q5_1) == 24, "block_q5_1 size");

struct block_q8_0 {
        uint16_t d;
        int8_t qs[QK8_0];
};
_Static_assert(sizeof(struct block_q8_0) == 34, "block_q8_0 size");

struct block_q8_1 {
        uint16_t d;
        uint16_t s;
        int8_t qs[QK8_1];
};
_Static_assert(sizeof(struct block_q8_1) == 36, "block_q8_1 size");

struct block_q2_k {
        uint8_t scales[QK_K / 16];
        uint8_t qs[QK_K / 4];
        uint16_t d;
        uint16_t dmin;
};
_Static_assert(sizeof(struct block_q2_k) == 84, "block_q2_k size");

struct block_q3_k {
        uint8_t hmask[QK_K / 8];
        uint8_t qs[QK_K / 4];
        uint8_t scales[12];
        uint16_t d;
};
_Static_assert(sizeof(struct block_q3_k) == 110, "block_q3_k size");

struct block_q4_k {
        uint16_t d;
        uint16_t dmin;
        uint8_t scales[K_SCALE_SIZE];
        uint8_t qs[QK_K / 2];
};
_Static_assert(sizeof(struct block_q4_k) == 144, "block_q4_k size");

struct block_q5_k {
        uint16_t d;
        uint16_t dmin;
        uint8_t scales[K_SCALE_SIZE];
        uint8_t qh[QK_K / 8];
        uint8_t qs[QK_K / 2];
};
_Static_assert(sizeof(struct block_q5_k) == 176, "block_q5_k size");

struct block_q6_k {
        uint8_t ql[QK_K / 2];
        uint8_t qh[QK_K / 4];
        int8_t scales[QK_K / 16];
        uint16_t d;
};
_Static_assert(sizeof(struct block_q6_k) == 210, "block_q6_k size");

struct block_q8_k {
        float d;
        int8_t qs[QK_K];
        int16_t bsums[QK_K / 16];
};
_Static_assert(sizeof(struct block_q8_k) == 292, "block_q8_k size");

/* The 6-bit scale and min of 32-element group j (0..7) of a Q4_K/Q5_K
 * block's 12 packed scale bytes. */
static inline void quant_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
        if (j < 4) {
                *sc = q[j] & 63;
                *m = q[j + 4] & 63;
        } else {
                *sc = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
                *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
}

/* The 16 6-bit scales of a Q3_K block (still biased by 32). */
static inline void quant_k3_scales(const uint8_t *s, int8_t out[16])
{
        for (int g = 0; g < 16; g++) {
                int lo = g < 8 ? (s[g] & 0xf) : (s[g - 8] >> 4);
                int hi = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
                out[g] = (int8_t)((lo | (hi << 4)) - 32);
        }
}

/* Internal entry points shared by quant.c, cpu.c and matmul.c. */
struct cpu_kernels;
void quant_fill_missing(struct cpu_kernels *k);
/* The SIMD tables as their files define them (entries may be NULL; the name
 * is NULL when the file was built for another architecture).  cpu.c fills
 * the gaps (avx512 <- avx2 <- scalar) before anyone sees them. */
extern const struct cpu_kernels cpu_kernels_avx2_raw;
extern const struct cpu_kernels cpu_kernels_avx512_raw;
extern const struct cpu_kernels cpu_kernels_neon_raw;
/* matmul.c: the workspace's buffer, grown to n bytes (64-byte aligned). */
struct matmul_ws;
void *matmul_ws_reserve(struct matmul_ws *ws, size_t n);

#endif
