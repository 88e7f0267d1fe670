/* mm_kquant_avx512.c -- AVX-512 VNNI small-batch kernels (quant_fns.mm) for
 * the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K weights against Q8_K
 * activations): prompt batches of 2..63 tokens and decode groups.  Built
 * with cpu_avx512.c's -m flags (Makefile); cpu_avx512.c puts these in its
 * table.
 *
 * Layout: one vector lane per weight row.  The one- and four-token kernels
 * (cpu_avx512.c) hold one row's codes in a vector and must sum its lanes
 * for every float step (Q4_K's 4-token order has four per super-block and
 * token); here 16 rows are repacked (transposed) so that int32 lane i of a
 * vector holds 4 consecutive codes of row i, and the activation's matching
 * 4 bytes are broadcast: vpdpbusd (vpmaddubsw + vpdpwssd for Q6_K) then
 * sums each row's products in its own lane, the sub-block scales are
 * per-lane multiplies (Q2_K: folded into the repacked codes; Q3_K / Q6_K:
 * vpdpwssd's multiplier), and the float steps are per-lane -- no
 * horizontal sum anywhere.  The loop is then bound by vpdpbusd (one per 4
 * values, row and token; port 0 only for 512 bits): ~1.6-1.8 ns per row,
 * token and super-block for Q2_K / Q4_K on the dev VM, 2.0 Q5_K, 2.4-2.6
 * Q3_K / Q6_K (two instructions per 4 values).  A group of 16 rows is
 * repacked once per call (per chunk of super-blocks) into a stack buffer
 * that stays in L1/L2, and then reused by all the call's tokens, a few
 * tokens at a time held in registers (the repack, a 16 x 16 transpose of
 * dwords, costs about what 1-2 tokens do: small batches gain less).  Rows
 * past nr repeat the last row; their lanes are not stored.
 *
 * Bits: each lane does the scalar kernel's (quant.c) integer sums (exact in
 * any order) and then its float steps in its order, so every result has the
 * bits kernels.h asks for: Q4_K tokens in whole groups of 4 those of the
 * scalar vec_dot4 (a step per pair of sub-blocks), the last nt % 4 those of
 * vec_dot (a step per super-block); Q6_K all tokens those of vec_dot (8
 * float lanes per row: lane l takes values 4l..4l+3 of every 32-value run,
 * summed (l + 4), then (0 + 2) + (1 + 3) at the end); Q2_K / Q3_K / Q5_K
 * all those of vec_dot (one float step per super-block, each operation
 * its own statement: no FMA contraction).  Rows of more than
 * MMKQ_CHUNK_* super-blocks are done a chunk at a time, the float
 * accumulators kept in a small array between chunks.
 *
 * The loops over tokens (and the short fixed ones) carry GCC unroll
 * pragmas: the per-token accumulators are arrays, and only fully unrolled
 * do they live in registers (without, GCC kept them on the stack and the
 * Q4_K kernel gained nothing over vec_dot4).  Built with -O3 (Makefile). */
#include "kernels/mm_kquant.h"
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#include <string.h>

#include "kernels/simd_x86.h"

#define AI static inline __attribute__((always_inline))

/* Super-blocks repacked at a time (stack buffer: ~110 KB for Q4_K, ~91 KB
 * for Q6_K, less for the others) and tokens per pass over a chunk (the
 * accumulators kept between chunks: up to MMKQ_TOK x 8 x 16 floats). */
#define MMKQ_CHUNK_Q4K 32
#define MMKQ_CHUNK_Q6K 16
#define MMKQ_TOK 64

/* 16 vectors of 16 int32 (row i = r[i]) -> their transpose (r[j] = dword j
 * of rows 0..15): 64 shuffles. */
AI void tr16_epi32(__m512i r[16])
{
        __m512i t[16], u[16];

        _Pragma("GCC unroll 16")
        for (int i = 0; i < 8; i++) {
                t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        /* u[4g + k], 128-bit lane L: dword 4L + k of rows 4g..4g+3 */
        _Pragma("GCC unroll 16")
        for (int g = 0; g < 4; g++) {
                u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
                u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
                u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
                u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
        }
        _Pragma("GCC unroll 16")
        for (int k = 0; k < 4; k++) {
                __m512i ae = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x88), ao = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xdd);
                __m512i ce = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x88),
                        co = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xdd);
                r[k] = _mm512_shuffle_i32x4(ae, ce, 0x88);
                r[8 + k] = _mm512_shuffle_i32x4(ae, ce, 0xdd);
                r[4 + k] = _mm512_shuffle_i32x4(ao, co, 0x88);
                r[12 + k] = _mm512_shuffle_i32x4(ao, co, 0xdd);
        }
}

/* 16 rows' 16-byte vectors v[i] -> dw[d] = dword d of every row (lane i). */
AI void tr16x4_epi32(const __m128i v[16], __m512i dw[4])
{
        __m512i z[4];

        _Pragma("GCC unroll 16")
        for (int k = 0; k < 4; k++) /* z[k]: rows 4k..4k+3 */
                z[k] = _mm512_inserti32x4(
                        _mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(v[4 * k]), v[4 * k + 1], 1),
                                           v[4 * k + 2], 2),
                        v[4 * k + 3], 3);
        _Pragma("GCC unroll 16")
        for (int d = 0; d < 4; d++) {
                /* lane i < 8: row i = z[i / 4] lane 4 (i % 4) + d, from (z0, z1) */
                const __m512i idx = _mm512_add_epi32(_mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0),
                                                     _mm512_set1_epi32(d));
                __m512i lo = _mm512_permutex2var_epi32(z[0], idx, z[1]), hi = _mm512_permutex2var_epi32(z[2], idx, z[3]);
                dw[d] = _mm512_inserti64x4(lo, _mm512_castsi512_si256(hi), 1);
        }
}

/* the 32-bit value at p, in every lane */
AI __m512i bcast32(const void *p)
{
        int v;

        memcpy(&v, p, 4);
        return _mm512_set1_epi32(v);
}

/* Prefetch of the next group of 16 rows (pf: their starts; past nr too,
 * a prefetch never faults), one super-block (bs bytes at off) per repacked
 * one: the first token tile reads its rows from memory, and without it a
 * decode group of a few tokens waits on every line (TinyLlama Q4_K_M, 2
 * sequences batched: 1.21x one at a time without, 1.32x with). */
AI void mmkq_prefetch(const char *const *pf, size_t off, size_t bs)
{
        if (!pf)
                return;
        _Pragma("GCC unroll 16")
        for (int i = 0; i < 16; i++)
                pf_bytes(pf[i] + off, bs);
}

/* ---- Q3_K ------------------------------------------------------------------ */

/* 16 rows of one super-block: q[p] = the codes + 4 (0..7) of values
 * 4p..4p+3 of each row; sc[g] the signed 6-bit scale of sub-block g (16
 * values) twice as int16 (vpdpwssd's multiplier); scp[k] the scales of
 * sub-blocks 2k, 2k + 1 as two int16 (the -4 bias through the activation's
 * block sums); d as floats. */
struct q3k_rep {
        uint8_t q[64][64];
        int32_t sc[16][16];
        int32_t scp[8][16];
        float d[16];
};

static void q3_k_repack(struct q3k_rep *rep, const char *const *xr, const char *const *pf, int b0, int nbc)
{
        const __m512i m3 = _mm512_set1_epi8(3), one = _mm512_set1_epi8(1), lo16 = _mm512_set1_epi32(0xffff);
        /* low 2 bits as Q2_K; the high bit of value 64k + j is bit
         * 2k + j / 32 of hmask[j % 32] */
        const __m512i s0 = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll, 0, 0, 0, 0);
        const __m512i s1 = _mm512_add_epi16(s0, _mm512_set1_epi16(4));
        const __m512i sh = _mm512_set_epi64(0x0001000100010001ll, 0x0001000100010001ll, 0x0001000100010001ll,
                                            0x0001000100010001ll, 0, 0, 0, 0);

        for (int bi = 0; bi < nbc; bi++) {
                mmkq_prefetch(pf, (size_t)(b0 + bi) * sizeof(struct block_q3_k), sizeof(struct block_q3_k));
                struct q3k_rep *R = &rep[bi];
                __m512i e[4][16], dw[4], sx[16];
                __m128i scb[16];
                uint16_t dh[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        const struct block_q3_k *x = (const struct block_q3_k *)xr[i] + b0 + bi;
                        __m512i hm = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->hmask));
                        _Pragma("GCC unroll 4")
                        for (int k = 0; k < 4; k++) {
                                __m512i w = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * (k / 2))));
                                __m512i c = _mm512_and_si512(_mm512_srlv_epi16(w, k % 2 ? s1 : s0), m3);
                                __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(hm, _mm512_add_epi16(sh, _mm512_set1_epi16((short)(2 * k)))), one);
                                e[k][i] = _mm512_or_si512(c, _mm512_slli_epi16(hb, 2));
                        }
                        /* the 12 scale bytes only: the block may end 2 bytes after them */
                        scb[i] = _mm_maskz_loadu_epi8(0x0fff, x->scales);
                        memcpy(&dh[i], &x->d, 2);
                }
                _Pragma("GCC unroll 4")
                for (int k = 0; k < 4; k++) {
                        tr16_epi32(e[k]);
                        _Pragma("GCC unroll 16")
                        for (int j = 0; j < 16; j++)
                                _mm512_storeu_si512(R->q[16 * k + j], e[k][j]);
                }
                tr16x4_epi32(scb, dw);
                _Pragma("GCC unroll 16")
                for (int g = 0; g < 16; g++) { /* as quant_k3_scales */
                        __m512i lo = _mm512_and_si512(_mm512_srli_epi32(dw[(g / 4) % 2], 8 * (g % 4) + 4 * (g / 8)),
                                                      _mm512_set1_epi32(0x0f));
                        __m512i hi = _mm512_and_si512(_mm512_srli_epi32(dw[2], 8 * (g % 4) + 2 * (g / 4)), _mm512_set1_epi32(3));
                        sx[g] = _mm512_sub_epi32(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)), _mm512_set1_epi32(32));
                        _mm512_storeu_si512(R->sc[g], _mm512_or_si512(_mm512_and_si512(sx[g], lo16), _mm512_slli_epi32(sx[g], 16)));
                }
                _Pragma("GCC unroll 8")
                for (int k = 0; k < 8; k++)
                        _mm512_storeu_si512(R->scp[k],
                                            _mm512_or_si512(_mm512_and_si512(sx[2 * k], lo16), _mm512_slli_epi32(sx[2 * k + 1], 16)));
                _mm512_storeu_ps(R->d, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)dh)));
        }
}

/* nt (1..8) tokens; the scalar vec_dot's float step per super-block:
 * acc + (d * yd) * isum */
AI void q3_k_tile(const struct q3k_rep *rep, int nbc, int b0, const char *y, size_t ys, __m512 *acc, const int nt)
{
        for (int bi = 0; bi < nbc; bi++) {
                const struct q3k_rep *R = &rep[bi];
                const struct block_q8_k *yb[8];
                __m512i v0[8], v1[8], bias[8];
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        yb[t] = (const struct block_q8_k *)(y + (size_t)t * ys) + b0 + bi;
                        v0[t] = v1[t] = bias[t] = _mm512_setzero_si512();
                }
                _Pragma("GCC unroll 8")
                for (int p = 0; p < 64; p += 2) {
                        __m512i w0 = _mm512_loadu_si512(R->q[p]), w1 = _mm512_loadu_si512(R->q[p + 1]);
                        __m512i sc = _mm512_loadu_si512(R->sc[p / 4]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++) {
                                v0[t] = _mm512_dpwssd_epi32(v0[t], _mm512_maddubs_epi16(w0, bcast32(yb[t]->qs + 4 * p)), sc);
                                v1[t] = _mm512_dpwssd_epi32(v1[t], _mm512_maddubs_epi16(w1, bcast32(yb[t]->qs + 4 * p + 4)), sc);
                        }
                }
                _Pragma("GCC unroll 8")
                for (int k = 0; k < 8; k++) {
                        __m512i scp = _mm512_loadu_si512(R->scp[k]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                bias[t] = _mm512_dpwssd_epi32(bias[t], scp, bcast32(yb[t]->bsums + 2 * k));
                }
                __m512 d = _mm512_loadu_ps(R->d);
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        __m512i isum = _mm512_sub_epi32(_mm512_add_epi32(v0[t], v1[t]), _mm512_slli_epi32(bias[t], 2));
                        __m512 dt = _mm512_mul_ps(d, _mm512_set1_ps(yb[t]->d));
                        __m512 u = _mm512_mul_ps(dt, _mm512_cvtepi32_ps(isum));
                        acc[t] = _mm512_add_ps(acc[t], u);
                }
        }
}

/* The tokens function of the K-quants whose tiles keep one 16-float
 * accumulator per token (Q2_K, Q3_K, Q5_K): TY##_tokens runs TY##_tile on nt
 * tokens, its accumulators loaded from st (or zero) before and stored to st
 * (or, after the row's last chunk, to s under rmask) after. */
#define MMKQ_TOKENS16(TY, REP)                                                                                      \
        AI void TY##_tokens(const struct REP *rep, int nbc, int b0, const char *y, size_t ys, float *st, int first, \
                            int last, float *s, size_t ss, __mmask16 rmask, const int nt)                           \
        {                                                                                                           \
                __m512 acc[8];                                                                                      \
                _Pragma("GCC unroll 16") for (int t = 0; t < nt; t++) acc[t] =                                     \
                        first ? _mm512_setzero_ps() : _mm512_loadu_ps(st + 16 * t);                                 \
                TY##_tile(rep, nbc, b0, y, ys, acc, nt);                                                            \
                _Pragma("GCC unroll 16") for (int t = 0; t < nt; t++)                                              \
                {                                                                                                   \
                        if (last)                                                                                   \
                                _mm512_mask_storeu_ps(s + (size_t)t * ss, rmask, acc[t]);                           \
                        else                                                                                        \
                                _mm512_storeu_ps(st + 16 * t, acc[t]);                                              \
                }                                                                                                   \
        }

/* The mm driver of the K-quants but Q4_K (whose tokens function takes its
 * own tails): groups of 16 rows, token tiles of MMKQ_TOK, chunks of
 * MMKQ_CHUNK_Q6K super-blocks (repacked once per chunk for all tokens), NT
 * tokens per TY##_tokens call and the rest one by one; STF floats of kept
 * accumulators per token between chunks. */
#define MMKQ_MM(TY, REP, STF, NT)                                                                                   \
        void TY##_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,   \
                            size_t ys)                                                                              \
        {                                                                                                           \
                struct REP rep[MMKQ_CHUNK_Q6K];                                                                     \
                float st[MMKQ_TOK * (STF)];                                                                         \
                int nb = n / QK_K;                                                                                  \
                for (int r0 = 0; r0 < nr; r0 += 16) {                                                               \
                        const char *xr[16];                                                                         \
                        int nv = nr - r0 < 16 ? nr - r0 : 16;                                                       \
                        __mmask16 rmask = (__mmask16)((1u << nv) - 1);                                              \
                        const char *pf[16];                                                                         \
                        _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) {                                     \
                                xr[i] = (const char *)x + (size_t)(r0 + (i < nv ? i : nv - 1)) * xs;                \
                                pf[i] = (const char *)x + (size_t)(r0 + 16 + i) * xs;                               \
                        }                                                                                           \
                        for (int t0 = 0; t0 < nt; t0 += MMKQ_TOK) {                                                 \
                                int t1 = t0 + MMKQ_TOK < nt ? t0 + MMKQ_TOK : nt;                                   \
                                for (int b0 = 0; b0 < nb; b0 += MMKQ_CHUNK_Q6K) {                                   \
                                        int nbc = nb - b0 < MMKQ_CHUNK_Q6K ? nb - b0 : MMKQ_CHUNK_Q6K;              \
                                        int first = b0 == 0, last = b0 + nbc == nb;                                 \
                                        TY##_repack(rep, xr, t0 ? NULL : pf, b0, nbc);                                          \
                                        int t = t0;                                                                 \
                                        for (; t + (NT) <= t1; t += (NT))                                           \
                                                TY##_tokens(rep, nbc, b0, (const char *)y + (size_t)t * ys, ys,     \
                                                            st + (STF) * (t - t0), first, last,                     \
                                                            s + (size_t)t * ss + r0, ss, rmask, (NT));              \
                                        for (; t < t1; t++)                                                         \
                                                TY##_tokens(rep, nbc, b0, (const char *)y + (size_t)t * ys, ys,     \
                                                            st + (STF) * (t - t0), first, last,                     \
                                                            s + (size_t)t * ss + r0, ss, rmask, 1);                 \
                                }                                                                                   \
                        }                                                                                           \
                }                                                                                                   \
        }

#ifndef MMKQ_Q3K_NT
#define MMKQ_Q3K_NT 4
#endif
MMKQ_TOKENS16(q3_k, q3k_rep)
MMKQ_MM(q3_k, q3k_rep, 16, MMKQ_Q3K_NT)

/* ---- Q4_K ------------------------------------------------------------------ */

/* 16 rows of one super-block: qs[j] = packed dword j of each row (bytes
 * 4j..4j+3 of qs: low nibbles = codes 4(j%8).. of sub-block 2(j/8), high
 * nibbles = the same of sub-block 2(j/8)+1); sc[j] the 6-bit scale of
 * sub-block j; mn[c] the mins of sub-blocks 2c, 2c+1 as two int16 (for
 * vpmaddwd with the activation's two block sums); d, dmin as floats. */
struct q4k_rep {
        uint8_t qs[32][64];
        int32_t sc[8][16];
        float scf[8][16]; /* sc as floats */
        int32_t mn[4][16];
        float d[16], dmin[16];
};

static void q4_k_repack(struct q4k_rep *rep, const char *const *xr, const char *const *pf, int b0, int nbc)
{
        const __m512i lo8 = _mm512_set1_epi32(0xff);

        for (int bi = 0; bi < nbc; bi++) {
                mmkq_prefetch(pf, (size_t)(b0 + bi) * sizeof(struct block_q4_k), sizeof(struct block_q4_k));
                struct q4k_rep *R = &rep[bi];
                __m512i a[16], c[16], dw[4];
                __m128i sm[16];
                uint32_t dd[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        const struct block_q4_k *x = (const struct block_q4_k *)xr[i] + b0 + bi;
                        a[i] = _mm512_loadu_si512(x->qs);
                        c[i] = _mm512_loadu_si512(x->qs + 64);
                        sm[i] = k4_scales_xmm(x->scales);
                        memcpy(&dd[i], &x->d, 4); /* d, dmin */
                }
                tr16_epi32(a);
                tr16_epi32(c);
                _Pragma("GCC unroll 16")
                for (int j = 0; j < 16; j++) {
                        _mm512_storeu_si512(R->qs[j], a[j]);
                        _mm512_storeu_si512(R->qs[16 + j], c[j]);
                }
                /* dwords 0, 1: scales 0-3, 4-7; 2, 3: mins 0-3, 4-7 */
                tr16x4_epi32(sm, dw);
                _Pragma("GCC unroll 16")
                for (int j = 0; j < 8; j++) {
                        __m512i sc = _mm512_and_si512(_mm512_srli_epi32(dw[j / 4], 8 * (j % 4)), lo8);
                        _mm512_storeu_si512(R->sc[j], sc);
                        _mm512_storeu_ps(R->scf[j], _mm512_cvtepi32_ps(sc));
                }
                for (int p = 0; p < 4; p++) {
                        __m512i m = _mm512_srli_epi32(dw[2 + p / 2], 16 * (p % 2)); /* mins 2p, 2p + 1 in bytes 0, 1 */
                        _mm512_storeu_si512(R->mn[p], _mm512_or_si512(_mm512_and_si512(m, lo8),
                                                                      _mm512_slli_epi32(_mm512_and_si512(m, _mm512_set1_epi32(0xff00)), 8)));
                }
                __m512i h = _mm512_loadu_si512(dd);
                _mm512_storeu_ps(R->d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
                _mm512_storeu_ps(R->dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16))));
        }
}

/* nt (1..4) tokens over super-blocks b0 .. b0 + nbc - 1 of 16 repacked rows;
 * acc / accm: the tokens' float accumulators (per row lane), in and out.
 * span2: the scalar vec_dot4's float steps (one per pair of sub-blocks),
 * else vec_dot's (one per super-block). */
AI void q4_k_tile(const struct q4k_rep *rep, int nbc, int b0, const char *y, size_t ys, __m512 *acc, __m512 *accm,
                  const int nt, const int span2)
{
        const __m512i m4 = _mm512_set1_epi8(0x0f);

        for (int bi = 0; bi < nbc; bi++) {
                const struct q4k_rep *R = &rep[bi];
                const struct block_q8_k *yb[4];
                __m512 dd[4], dm[4];
                __m512i isum[4], msum[4];
                int32_t bp[4][4];
                __m512 d = _mm512_loadu_ps(R->d), dmin = _mm512_loadu_ps(R->dmin);
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        yb[t] = (const struct block_q8_k *)(y + (size_t)t * ys) + b0 + bi;
                        __m512 yd = _mm512_set1_ps(yb[t]->d);
                        dd[t] = _mm512_mul_ps(d, yd);
                        dm[t] = _mm512_mul_ps(dmin, yd);
                        /* dword c: the sums of sub-blocks 2c and 2c + 1 (int16) */
                        _mm_storeu_si128((__m128i *)bp[t], _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)yb[t]->bsums),
                                                                          _mm_loadu_si128((const __m128i *)(yb[t]->bsums + 8))));
                        isum[t] = msum[t] = _mm512_setzero_si512();
                }
                _Pragma("GCC unroll 16")
                for (int c = 0; c < 4; c++) {
                        __m512i g0[4], g1[4];
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                g0[t] = g1[t] = _mm512_setzero_si512();
                        _Pragma("GCC unroll 16")
                        for (int q = 0; q < 8; q++) {
                                __m512i p = _mm512_loadu_si512(R->qs[8 * c + q]);
                                __m512i w0 = _mm512_and_si512(p, m4), w1 = _mm512_and_si512(_mm512_srli_epi16(p, 4), m4);
                                _Pragma("GCC unroll 16")
                                for (int t = 0; t < nt; t++) {
                                        const int8_t *q8 = yb[t]->qs + 64 * c + 4 * q;
                                        g0[t] = _mm512_dpbusd_epi32(g0[t], w0, bcast32(q8));
                                        g1[t] = _mm512_dpbusd_epi32(g1[t], w1, bcast32(q8 + 32));
                                }
                        }
                        __m512i mn = _mm512_loadu_si512(R->mn[c]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++) {
                                __m512i mi = _mm512_madd_epi16(mn, _mm512_set1_epi32(bp[t][c]));
                                if (span2) {
                                        /* the pair's isum in floats, exactly: |g| < 2^16,
                                         * sc < 2^6, the sum < 2^23 (vpmulld is 2 uops on
                                         * the port vpdpbusd needs) */
                                        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(g0[t]), _mm512_loadu_ps(R->scf[2 * c]));
                                        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(g1[t]), _mm512_loadu_ps(R->scf[2 * c + 1]), f);
                                        acc[t] = _mm512_fmadd_ps(f, dd[t], acc[t]);
                                        accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mi), dm[t], accm[t]);
                                } else {
                                        __m512i pi = _mm512_add_epi32(_mm512_mullo_epi32(g0[t], _mm512_loadu_si512(R->sc[2 * c])),
                                                                      _mm512_mullo_epi32(g1[t], _mm512_loadu_si512(R->sc[2 * c + 1])));
                                        isum[t] = _mm512_add_epi32(isum[t], pi);
                                        msum[t] = _mm512_add_epi32(msum[t], mi);
                                }
                        }
                }
                if (!span2)
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++) {
                                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), dd[t], acc[t]);
                                accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum[t]), dm[t], accm[t]);
                        }
        }
}

/* st: per token, acc then accm (32 floats), kept between chunks */
AI void q4_k_tokens(const struct q4k_rep *rep, int nbc, int b0, const char *y, size_t ys, float *st, int first,
                    int last, float *s, size_t ss, __mmask16 rmask, const int nt, const int span2)
{
        __m512 acc[4], accm[4];

        _Pragma("GCC unroll 16")
        for (int t = 0; t < nt; t++) {
                acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(st + 32 * t);
                accm[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(st + 32 * t + 16);
        }
        q4_k_tile(rep, nbc, b0, y, ys, acc, accm, nt, span2);
        _Pragma("GCC unroll 16")
        for (int t = 0; t < nt; t++) {
                if (last) {
                        _mm512_mask_storeu_ps(s + (size_t)t * ss, rmask, _mm512_sub_ps(acc[t], accm[t]));
                } else {
                        _mm512_storeu_ps(st + 32 * t, acc[t]);
                        _mm512_storeu_ps(st + 32 * t + 16, accm[t]);
                }
        }
}

void q4_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys)
{
        struct q4k_rep rep[MMKQ_CHUNK_Q4K];
        float st[MMKQ_TOK * 32];
        int nb = n / QK_K;

        for (int r0 = 0; r0 < nr; r0 += 16) {
                const char *xr[16];
                int nv = nr - r0 < 16 ? nr - r0 : 16;
                __mmask16 rmask = (__mmask16)((1u << nv) - 1);
                const char *pf[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        xr[i] = (const char *)x + (size_t)(r0 + (i < nv ? i : nv - 1)) * xs;
                        pf[i] = (const char *)x + (size_t)(r0 + 16 + i) * xs;
                }
                for (int t0 = 0; t0 < nt; t0 += MMKQ_TOK) {
                        int t1 = t0 + MMKQ_TOK < nt ? t0 + MMKQ_TOK : nt;
                        for (int b0 = 0; b0 < nb; b0 += MMKQ_CHUNK_Q4K) {
                                int nbc = nb - b0 < MMKQ_CHUNK_Q4K ? nb - b0 : MMKQ_CHUNK_Q4K;
                                int first = b0 == 0, last = b0 + nbc == nb;
                                q4_k_repack(rep, xr, t0 ? NULL : pf, b0, nbc);
                                int t = t0;
                                for (; t + 4 <= t1; t += 4) /* vec_dot4's order */
                                        q4_k_tokens(rep, nbc, b0, (const char *)y + (size_t)t * ys, ys, st + 32 * (t - t0),
                                                    first, last, s + (size_t)t * ss + r0, ss, rmask, 4, 1);
                                const char *yt = (const char *)y + (size_t)t * ys;
                                float *so = s + (size_t)t * ss + r0, *stt = st + 32 * (t - t0);
                                switch (t1 - t) { /* vec_dot's */
                                case 3:
                                        q4_k_tokens(rep, nbc, b0, yt, ys, stt, first, last, so, ss, rmask, 3, 0);
                                        break;
                                case 2:
                                        q4_k_tokens(rep, nbc, b0, yt, ys, stt, first, last, so, ss, rmask, 2, 0);
                                        break;
                                case 1:
                                        q4_k_tokens(rep, nbc, b0, yt, ys, stt, first, last, so, ss, rmask, 1, 0);
                                        break;
                                }
                        }
                }
        }
}

/* ---- Q2_K ------------------------------------------------------------------ */

/* 16 rows of one super-block: q[p] = code x scale (0..3 x 0..15: a byte)
 * of values 4p..4p+3 of each row, so the sub-block scales cost nothing in
 * the loop; mn[k] the mins of sub-blocks 2k, 2k + 1 as two int16 (for
 * vpdpwssd with the activation's block sums); d, dmin as floats. */
struct q2k_rep {
        uint8_t q[64][64];
        int32_t mn[8][16];
        float d[16], dmin[16];
};

static void q2_k_repack(struct q2k_rep *rep, const char *const *xr, const char *const *pf, int b0, int nbc)
{
        const __m512i m3 = _mm512_set1_epi8(3), m4 = _mm512_set1_epi8(0x0f);
        const __m512i one = _mm512_set1_epi8(1), two = _mm512_set1_epi8(2);
        /* values 64k..64k+63: the 2-bit fields 2 (k % 2) (low 256 bits) and
         * 2 (k % 2) + 1 (high) of qs[32 (k / 2) ..] */
        const __m512i s0 = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll, 0, 0, 0, 0);
        const __m512i s1 = _mm512_add_epi16(s0, _mm512_set1_epi16(4));
        /* byte lane L of 128-bit lane L of values 64k..: sub-block 4k + L */
        const __m512i gi = _mm512_set_epi32(0x03030303, 0x03030303, 0x03030303, 0x03030303, 0x02020202, 0x02020202,
                                            0x02020202, 0x02020202, 0x01010101, 0x01010101, 0x01010101, 0x01010101, 0, 0,
                                            0, 0);

        for (int bi = 0; bi < nbc; bi++) {
                mmkq_prefetch(pf, (size_t)(b0 + bi) * sizeof(struct block_q2_k), sizeof(struct block_q2_k));
                struct q2k_rep *R = &rep[bi];
                __m512i e[4][16], dw[4];
                __m128i scb[16];
                uint32_t dd[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        const struct block_q2_k *x = (const struct block_q2_k *)xr[i] + b0 + bi;
                        scb[i] = _mm_loadu_si128((const __m128i *)x->scales);
                        __m512i sc = _mm512_and_si512(_mm512_broadcast_i32x4(scb[i]), m4);
                        _Pragma("GCC unroll 4")
                        for (int k = 0; k < 4; k++) {
                                __m512i w = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * (k / 2))));
                                __m512i c = _mm512_and_si512(_mm512_srlv_epi16(w, k % 2 ? s1 : s0), m3);
                                __m512i sv = _mm512_shuffle_epi8(sc, _mm512_add_epi8(gi, _mm512_set1_epi8((char)(4 * k))));
                                /* c x sv for c in 0..3 */
                                e[k][i] = _mm512_add_epi8(_mm512_maskz_mov_epi8(_mm512_test_epi8_mask(c, one), sv),
                                                          _mm512_maskz_mov_epi8(_mm512_test_epi8_mask(c, two), _mm512_add_epi8(sv, sv)));
                        }
                        memcpy(&dd[i], &x->d, 4); /* d, dmin */
                }
                _Pragma("GCC unroll 4")
                for (int k = 0; k < 4; k++) {
                        tr16_epi32(e[k]);
                        _Pragma("GCC unroll 16")
                        for (int j = 0; j < 16; j++)
                                _mm512_storeu_si512(R->q[16 * k + j], e[k][j]);
                }
                tr16x4_epi32(scb, dw);
                _Pragma("GCC unroll 8")
                for (int k = 0; k < 8; k++) { /* mins (high nibbles) of bytes 2k, 2k + 1 */
                        __m512i m = _mm512_srli_epi32(dw[k / 2], 16 * (k % 2) + 4);
                        _mm512_storeu_si512(R->mn[k], _mm512_or_si512(_mm512_and_si512(m, _mm512_set1_epi32(0x0f)),
                                                                      _mm512_slli_epi32(_mm512_and_si512(m, _mm512_set1_epi32(0x0f00)), 8)));
                }
                __m512i h = _mm512_loadu_si512(dd);
                _mm512_storeu_ps(R->d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
                _mm512_storeu_ps(R->dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16))));
        }
}

/* nt (1..8) tokens; the scalar vec_dot's float step per super-block (as
 * Q5_K); two integer chains per token (vpdpbusd's latency) */
AI void q2_k_tile(const struct q2k_rep *rep, int nbc, int b0, const char *y, size_t ys, __m512 *acc, const int nt)
{
        for (int bi = 0; bi < nbc; bi++) {
                const struct q2k_rep *R = &rep[bi];
                const struct block_q8_k *yb[8];
                __m512i i0[8], i1[8], msum[8];
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        yb[t] = (const struct block_q8_k *)(y + (size_t)t * ys) + b0 + bi;
                        i0[t] = i1[t] = msum[t] = _mm512_setzero_si512();
                }
                _Pragma("GCC unroll 8")
                for (int p = 0; p < 64; p += 2) {
                        __m512i w0 = _mm512_loadu_si512(R->q[p]), w1 = _mm512_loadu_si512(R->q[p + 1]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++) {
                                i0[t] = _mm512_dpbusd_epi32(i0[t], w0, bcast32(yb[t]->qs + 4 * p));
                                i1[t] = _mm512_dpbusd_epi32(i1[t], w1, bcast32(yb[t]->qs + 4 * p + 4));
                        }
                }
                _Pragma("GCC unroll 8")
                for (int k = 0; k < 8; k++) {
                        __m512i mn = _mm512_loadu_si512(R->mn[k]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                msum[t] = _mm512_dpwssd_epi32(msum[t], mn, bcast32(yb[t]->bsums + 2 * k));
                }
                __m512 d = _mm512_loadu_ps(R->d), dmin = _mm512_loadu_ps(R->dmin);
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        __m512 a = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_add_epi32(i0[t], i1[t])));
                        __m512 m = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(msum[t]));
                        __m512 u = _mm512_mul_ps(_mm512_set1_ps(yb[t]->d), _mm512_sub_ps(a, m));
                        acc[t] = _mm512_add_ps(acc[t], u);
                }
        }
}

#ifndef MMKQ_Q2K_NT
#define MMKQ_Q2K_NT 4
#endif
MMKQ_TOKENS16(q2_k, q2k_rep)
MMKQ_MM(q2_k, q2k_rep, 16, MMKQ_Q2K_NT)

/* ---- Q5_K ------------------------------------------------------------------ */

/* 16 rows of one super-block: q[p] = the 5-bit codes of values 4p..4p+3 of
 * each row; sc, mn, d, dmin as struct q4k_rep. */
struct q5k_rep {
        uint8_t q[64][64];
        int32_t sc[8][16];
        int32_t mn[4][16];
        float d[16], dmin[16];
};

static void q5_k_repack(struct q5k_rep *rep, const char *const *xr, const char *const *pf, int b0, int nbc)
{
        const __m512i m4 = _mm512_set1_epi8(0x0f), one = _mm512_set1_epi8(1), lo8 = _mm512_set1_epi32(0xff);
        /* low 256 bits: values 64k..64k+31 (low nibbles, qh bit 2k);
         * high: 64k+32.. (high nibbles, qh bit 2k + 1) */
        const __m512i sq = _mm512_set_epi64(4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll,
                                            4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll, 0, 0, 0, 0);
        const __m512i sh = _mm512_set_epi64(0x0001000100010001ll, 0x0001000100010001ll, 0x0001000100010001ll,
                                            0x0001000100010001ll, 0, 0, 0, 0);

        for (int bi = 0; bi < nbc; bi++) {
                mmkq_prefetch(pf, (size_t)(b0 + bi) * sizeof(struct block_q5_k), sizeof(struct block_q5_k));
                struct q5k_rep *R = &rep[bi];
                __m512i e[4][16], dw[4];
                __m128i sm[16];
                uint32_t dd[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        const struct block_q5_k *x = (const struct block_q5_k *)xr[i] + b0 + bi;
                        __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->qh));
                        _Pragma("GCC unroll 4")
                        for (int k = 0; k < 4; k++) {
                                __m512i w = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * k)));
                                __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(qh, _mm512_add_epi16(sh, _mm512_set1_epi16((short)(2 * k)))), one);
                                e[k][i] = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi16(w, sq), m4), _mm512_slli_epi16(hb, 4));
                        }
                        sm[i] = k4_scales_xmm(x->scales);
                        memcpy(&dd[i], &x->d, 4); /* d, dmin */
                }
                _Pragma("GCC unroll 4")
                for (int k = 0; k < 4; k++) {
                        tr16_epi32(e[k]);
                        _Pragma("GCC unroll 16")
                        for (int j = 0; j < 16; j++)
                                _mm512_storeu_si512(R->q[16 * k + j], e[k][j]);
                }
                tr16x4_epi32(sm, dw);
                _Pragma("GCC unroll 8")
                for (int j = 0; j < 8; j++)
                        _mm512_storeu_si512(R->sc[j], _mm512_and_si512(_mm512_srli_epi32(dw[j / 4], 8 * (j % 4)), lo8));
                _Pragma("GCC unroll 4")
                for (int p = 0; p < 4; p++) {
                        __m512i m = _mm512_srli_epi32(dw[2 + p / 2], 16 * (p % 2));
                        _mm512_storeu_si512(R->mn[p], _mm512_or_si512(_mm512_and_si512(m, lo8),
                                                                      _mm512_slli_epi32(_mm512_and_si512(m, _mm512_set1_epi32(0xff00)), 8)));
                }
                __m512i h = _mm512_loadu_si512(dd);
                _mm512_storeu_ps(R->d, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
                _mm512_storeu_ps(R->dmin, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16))));
        }
}

/* nt (1..MMKQ_Q5K_NT) tokens; the scalar vec_dot's float step per
 * super-block: acc + yd * (d * isum - dmin * msum), each op rounded */
AI void q5_k_tile(const struct q5k_rep *rep, int nbc, int b0, const char *y, size_t ys, __m512 *acc, const int nt)
{
        for (int bi = 0; bi < nbc; bi++) {
                const struct q5k_rep *R = &rep[bi];
                const struct block_q8_k *yb[8];
                __m512i isum[8], msum[8];
                int32_t bp[8][4];
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        yb[t] = (const struct block_q8_k *)(y + (size_t)t * ys) + b0 + bi;
                        _mm_storeu_si128((__m128i *)bp[t], _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)yb[t]->bsums),
                                                                          _mm_loadu_si128((const __m128i *)(yb[t]->bsums + 8))));
                        isum[t] = _mm512_setzero_si512();
                }
                _Pragma("GCC unroll 8")
                for (int j = 0; j < 8; j++) {
                        __m512i g[8];
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                g[t] = _mm512_setzero_si512();
                        _Pragma("GCC unroll 8")
                        for (int q = 0; q < 8; q++) {
                                __m512i w = _mm512_loadu_si512(R->q[8 * j + q]);
                                _Pragma("GCC unroll 16")
                                for (int t = 0; t < nt; t++)
                                        g[t] = _mm512_dpbusd_epi32(g[t], w, bcast32(yb[t]->qs + 32 * j + 4 * q));
                        }
                        __m512i sc = _mm512_loadu_si512(R->sc[j]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(g[t], sc));
                }
                __m512 d = _mm512_loadu_ps(R->d), dmin = _mm512_loadu_ps(R->dmin);
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        msum[t] = _mm512_madd_epi16(_mm512_loadu_si512(R->mn[0]), _mm512_set1_epi32(bp[t][0]));
                        _Pragma("GCC unroll 3")
                        for (int c = 1; c < 4; c++)
                                msum[t] = _mm512_add_epi32(msum[t], _mm512_madd_epi16(_mm512_loadu_si512(R->mn[c]),
                                                                                      _mm512_set1_epi32(bp[t][c])));
                        __m512 a = _mm512_mul_ps(d, _mm512_cvtepi32_ps(isum[t]));
                        __m512 m = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(msum[t]));
                        __m512 u = _mm512_mul_ps(_mm512_set1_ps(yb[t]->d), _mm512_sub_ps(a, m));
                        acc[t] = _mm512_add_ps(acc[t], u);
                }
        }
}

#ifndef MMKQ_Q5K_NT
#define MMKQ_Q5K_NT 4
#endif
MMKQ_TOKENS16(q5_k, q5k_rep)
MMKQ_MM(q5_k, q5k_rep, 16, MMKQ_Q5K_NT)

/* ---- Q6_K ------------------------------------------------------------------ */

/* 16 rows of one super-block: q[p] = the unsigned 6-bit codes of values
 * 4p..4p+3 of each row; sc[j] the int8 scale of sub-block j (16 values)
 * twice as int16 (vpdpwssd's multiplier for both halves of a row's lane);
 * scp[l] the scales of sub-blocks 2l, 2l + 1 as two int16 (for the -32
 * bias with the activation's block sums); d as floats. */
struct q6k_rep {
        uint8_t q[64][64];
        int32_t sc[16][16];
        int32_t scp[8][16];
        float d[16];
};

static void q6_k_repack(struct q6k_rep *rep, const char *const *xr, const char *const *pf, int b0, int nbc)
{
        const __m512i m4 = _mm512_set1_epi8(0x0f), m3 = _mm512_set1_epi8(0x30), lo16 = _mm512_set1_epi32(0xffff);
        /* high bits for values 0..31 / 32..63 of a half: qh << 4 / << 2;
         * for 64..95 / 96..127: qh / qh >> 2 (as q6_k_gemv4) */
        const __m512i sl = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll,
                                            4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll);
        const __m512i sr = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll, 0, 0, 0, 0);

        for (int bi = 0; bi < nbc; bi++) {
                mmkq_prefetch(pf, (size_t)(b0 + bi) * sizeof(struct block_q6_k), sizeof(struct block_q6_k));
                struct q6k_rep *R = &rep[bi];
                __m512i e[4][16], dw[4], sx[16];
                __m128i scb[16];
                uint16_t dh[16];
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++) {
                        const struct block_q6_k *x = (const struct block_q6_k *)xr[i] + b0 + bi;
                        _Pragma("GCC unroll 16")
                        for (int h = 0; h < 2; h++) {
                                __m512i l = _mm512_loadu_si512(x->ql + 64 * h);
                                __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qh + 32 * h)));
                                e[2 * h][i] = _mm512_ternarylogic_epi32(l, _mm512_and_si512(_mm512_sllv_epi16(hb, sl), m3), m4, 0xe4);
                                e[2 * h + 1][i] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(l, 4),
                                                                            _mm512_and_si512(_mm512_srlv_epi16(hb, sr), m3), m4, 0xe4);
                        }
                        scb[i] = _mm_loadu_si128((const __m128i *)x->scales);
                        memcpy(&dh[i], &x->d, 2);
                }
                _Pragma("GCC unroll 16")
                for (int k = 0; k < 4; k++) {
                        tr16_epi32(e[k]);
                        _Pragma("GCC unroll 16")
                        for (int j = 0; j < 16; j++)
                                _mm512_storeu_si512(R->q[16 * k + j], e[k][j]);
                }
                tr16x4_epi32(scb, dw);
                _Pragma("GCC unroll 16")
                for (int j = 0; j < 16; j++) { /* sign-extended scale j */
                        sx[j] = _mm512_srai_epi32(_mm512_slli_epi32(dw[j / 4], 24 - 8 * (j % 4)), 24);
                        _mm512_storeu_si512(R->sc[j], _mm512_or_si512(_mm512_and_si512(sx[j], lo16), _mm512_slli_epi32(sx[j], 16)));
                }
                _Pragma("GCC unroll 16")
                for (int l = 0; l < 8; l++)
                        _mm512_storeu_si512(R->scp[l],
                                            _mm512_or_si512(_mm512_and_si512(sx[2 * l], lo16), _mm512_slli_epi32(sx[2 * l + 1], 16)));
                _mm512_storeu_ps(R->d, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)dh)));
        }
}

/* nt (1..4) tokens, the 8 float lanes of each in acc[8 * t + l] */
AI void q6_k_tile(const struct q6k_rep *rep, int nbc, int b0, const char *y, size_t ys, __m512 *acc, const int nt)
{
        for (int bi = 0; bi < nbc; bi++) {
                const struct q6k_rep *R = &rep[bi];
                const struct block_q8_k *yb[4];
                __m512 dt[4];
                __m512 d = _mm512_loadu_ps(R->d);
                _Pragma("GCC unroll 16")
                for (int t = 0; t < nt; t++) {
                        yb[t] = (const struct block_q8_k *)(y + (size_t)t * ys) + b0 + bi;
                        dt[t] = _mm512_mul_ps(_mm512_set1_ps(yb[t]->d), d);
                }
                _Pragma("GCC unroll 16")
                for (int l = 0; l < 8; l++) {
                        __m512i v[4];
                        __m512i scp = _mm512_loadu_si512(R->scp[l]);
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++) /* -32 (sc . bsum) of sub-blocks 2l, 2l + 1 */
                                v[t] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                                        _mm512_slli_epi32(_mm512_madd_epi16(scp, bcast32(yb[t]->bsums + 2 * l)), 5));
                        _Pragma("GCC unroll 16")
                        for (int r = 0; r < 8; r++) {
                                const int p = 8 * r + l;
                                __m512i w = _mm512_loadu_si512(R->q[p]), sc = _mm512_loadu_si512(R->sc[2 * r + l / 4]);
                                _Pragma("GCC unroll 16")
                                for (int t = 0; t < nt; t++)
                                        v[t] = _mm512_dpwssd_epi32(v[t], _mm512_maddubs_epi16(w, bcast32(yb[t]->qs + 4 * p)), sc);
                        }
                        _Pragma("GCC unroll 16")
                        for (int t = 0; t < nt; t++)
                                acc[8 * t + l] = _mm512_fmadd_ps(dt[t], _mm512_cvtepi32_ps(v[t]), acc[8 * t + l]);
                }
        }
}

/* st: per token its 8 lanes' accumulators (128 floats), kept between chunks */
AI void q6_k_tokens(const struct q6k_rep *rep, int nbc, int b0, const char *y, size_t ys, float *st, int first,
                    int last, float *s, size_t ss, __mmask16 rmask, const int nt)
{
        __m512 acc[32];

        _Pragma("GCC unroll 16")
        for (int i = 0; i < 8 * nt; i++)
                acc[i] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(st + 16 * i);
        q6_k_tile(rep, nbc, b0, y, ys, acc, nt);
        _Pragma("GCC unroll 16")
        for (int t = 0; t < nt; t++) {
                if (last) { /* as quant.c lanes8_sum */
                        const __m512 *a = acc + 8 * t;
                        __m512 r0 = _mm512_add_ps(a[4], a[0]), r1 = _mm512_add_ps(a[5], a[1]);
                        __m512 r2 = _mm512_add_ps(a[6], a[2]), r3 = _mm512_add_ps(a[7], a[3]);
                        _mm512_mask_storeu_ps(s + (size_t)t * ss, rmask, _mm512_add_ps(_mm512_add_ps(r0, r2), _mm512_add_ps(r1, r3)));
                } else {
                        _Pragma("GCC unroll 16")
                        for (int l = 0; l < 8; l++)
                                _mm512_storeu_ps(st + 16 * (8 * t + l), acc[8 * t + l]);
                }
        }
}

#ifndef MMKQ_Q6K_NT
#define MMKQ_Q6K_NT 4
#endif

MMKQ_MM(q6_k, q6k_rep, 128, MMKQ_Q6K_NT)

#endif
