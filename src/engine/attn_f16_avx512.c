/* attn_f16_avx512.c -- the AVX-512 variant of attn_f16() / attn_f16_heads()
 * (attn_f16.c): the same roundings, the same bits, 2.5x faster than the
 * AVX2 variant at head dim 64.  Only this file in src/engine/ is built with
 * the AVX-512 -m flags; attn_f16.c calls it only when the kernel table is
 * "avx512" (cpuid has it).
 *
 * The reference walks the positions one at a time: a 64-lane dot product, a
 * horizontal sum, one expf() through libm, then one pass over the f16
 * accumulator in memory.  Here the positions go 16 at a time:
 *   - scores: each position's four 16-lane accumulators are summed
 *     (0+2)+(1+3) as in the reference, then the 16 lane trees (l + 8,
 *     l + 4, l + 2, l + 1) are done together by shuffling the 16 vectors
 *     against each other: 15 vector adds instead of 16 x 4 scalar ones, each
 *     addition the same pair of operands as in the reference (float addition
 *     is commutative, so only the pairing matters);
 *   - softmax: the reference's running maximum ("s > m": a new maximum) is,
 *     at each position, the max of the maximum so far and the earlier scores
 *     of the block: an exclusive prefix max in four log steps.  Each position
 *     needs one exponential, of -(|s - m|), and the 16 are done by exp16(), a
 *     vector copy of glibc's expf (__expf_fma: the 32-entry 2^(i/32) table,
 *     the cubic in double precision and glibc's FMA contractions), which
 *     gives libm's bits for every float (checked over all 2^32 inputs when it
 *     was written; tests/test_attn.c samples them against expf());
 *   - V: the f16 accumulator stays in registers as f32 values that are
 *     always f16-representable: each step is fma then vcvtps2ph/vcvtph2ps
 *     (round to nearest even), which is the reference's rounding.  That
 *     chain is latency-bound for one head of 64, so the query heads of one
 *     KV head go together (heads_body: 4 at hd 64, 2 at 128), sharing the
 *     K block's widening, each V row's widening and the cache reads.
 * rows_body (attn_f16_rows) does the same for up to 32 rows of several
 * tokens, each with its own positions, in one walk over K and V.
 * A different libm expf would break the bit equality with the reference
 * (and the reference's with llama.cpp would follow that libm); the test
 * catches it.  Tried and dropped: widening the V block to f32 once for
 * several hd-256 heads that then take turns (34 ns per position-head
 * against 26: the 512-bit stores of the widened blocks cost more than the
 * conversions they save). */
#include "engine/attn_f16.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__F16C__) && defined(__FMA__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AI static inline __attribute__((always_inline))
#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define MAXC 32 /* 16-lane chunks kept in registers: head dims up to 512 */

/* glibc's __exp2f_data: tab[i] = bits(2^(i/32)) - (i << 47) */
static const uint64_t exp_tab[32] = {
        0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
        0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
        0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
        0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
        0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
        0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
        0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
        0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

/* expf of 8 floats (as doubles), glibc's main path:
 *   kd = fma(32/ln2, x, 0x1.8p52), ki = bits(kd), kd -= 0x1.8p52,
 *   r = fma(32/ln2, x, -kd), s = double(tab[ki % 32] + (ki << 47)),
 *   y = fma(fma(C0, r, C1), r * r, fma(C2, r, 1)) * s, rounded to float. */
AI __m256 exp8(__m512d x)
{
        const __m512d inv = _mm512_set1_pd(0x1.71547652b82fep+5), shift = _mm512_set1_pd(0x1.8p+52);
        const __m512i t0 = _mm512_loadu_si512(exp_tab), t1 = _mm512_loadu_si512(exp_tab + 8);
        const __m512i t2 = _mm512_loadu_si512(exp_tab + 16), t3 = _mm512_loadu_si512(exp_tab + 24);
        __m512d kd = _mm512_fmadd_pd(inv, x, shift);
        __m512i ki = _mm512_castpd_si512(kd);
        kd = _mm512_sub_pd(kd, shift);
        __m512d r = _mm512_fmsub_pd(inv, x, kd);
        __m512i lo = _mm512_permutex2var_epi64(t0, ki, t1); /* entries 0-15 by ki & 15 */
        __m512i hi = _mm512_permutex2var_epi64(t2, ki, t3); /* 16-31 */
        __mmask8 up = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
        __m512i t = _mm512_add_epi64(_mm512_mask_blend_epi64(up, lo, hi), _mm512_slli_epi64(ki, 47));
        __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(0x1.c6af84b912394p-20), r,
                                    _mm512_set1_pd(0x1.ebfce50fac4f3p-13));
        __m512d r2 = _mm512_mul_pd(r, r);
        __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(0x1.62e42ff0c52d6p-6), r, _mm512_set1_pd(1.0));
        y = _mm512_fmadd_pd(z, r2, y);
        return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}

/* expf() of 16 floats with libm's bits.  glibc's special cases: below
 * log(2^-150) (and -inf) the result is 0, above log(2^128) +inf, NaN
 * propagates; the rest (|x| >= 88 included) takes the main path. */
AI __m512 exp16(__m512 x)
{
        __m256 lo = exp8(_mm512_cvtps_pd(_mm512_castps512_ps256(x)));
        __m256 hi = exp8(_mm512_cvtps_pd(_mm512_extractf32x8_ps(x, 1)));
        __m512 y = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
        __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ);
        __mmask16 over = _mm512_cmp_ps_mask(x, _mm512_set1_ps(0x1.62e42ep6f), _CMP_GT_OQ);
        __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        y = _mm512_mask_mov_ps(y, under, _mm512_setzero_ps());
        y = _mm512_mask_mov_ps(y, over, _mm512_set1_ps(INFINITY));
        return _mm512_mask_add_ps(y, nan, x, x);
}

void attn_f16_exp16(const float *x, float *y)
{
        _mm512_storeu_ps(y, exp16(_mm512_loadu_ps(x)));
}

AI __m512 ld16(const uint16_t *p)
{
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

AI __m512 round16(__m512 v)
{
        return _mm512_cvtph_ps(_mm512_cvtps_ph(v, RNE));
}

/* The lane trees of 16 vectors at once.  Level 1 pairs lane l with l + 8,
 * two positions per result vector; level 2 pairs l with l + 4 (four
 * positions, one per 128-bit lane); levels 3 and 4 work inside 128-bit lanes.
 * Result element 4q + j holds position q + 4j; the final permute puts
 * position p in element p. */
AI __m512 hsum16x16(const __m512 *v)
{
        __m512 a[8], b[4], c[2], d;

        for (int i = 0; i < 8; i++)
                a[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                                     _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xee));
        for (int i = 0; i < 4; i++)
                b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x88),
                                     _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xdd));
        for (int i = 0; i < 2; i++)
                c[i] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * i], b[2 * i + 1], 0x44),
                                     _mm512_shuffle_ps(b[2 * i], b[2 * i + 1], 0xee));
        d = _mm512_add_ps(_mm512_shuffle_ps(c[0], c[1], 0x88), _mm512_shuffle_ps(c[0], c[1], 0xdd));
        return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), d);
}

/* scores of positions p0 .. p0 + n - 1 (n <= 16; the rest are 0) against
 * one head's q (hdk / 16 vectors): from the f16 cache, or (kf != NULL) from
 * the block already widened to f32, kf[j * hdk + i] */
AI __m512 scores16(const struct attn_f16_row *r, const float *kf, const __m512 *q, int p0, int n,
                   const int hdk)
{
        __m512 v[16];

#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) {
                if (j >= n) {
                        v[j] = _mm512_setzero_ps();
                        continue;
                }
                const uint16_t *k = (const uint16_t *)(r->k + (size_t)(p0 + j) * r->k_stride);
                const float *f = kf ? kf + (size_t)j * hdk : NULL;
#define KLD(i) (kf ? _mm512_loadu_ps(f + (i)) : ld16(k + (i)))
                __m512 a0 = _mm512_mul_ps(KLD(0), q[0]), a1 = _mm512_mul_ps(KLD(16), q[1]);
                __m512 a2 = _mm512_mul_ps(KLD(32), q[2]), a3 = _mm512_mul_ps(KLD(48), q[3]);
#pragma GCC unroll 8
                for (int i = 64; i < hdk; i += 64) { /* products of f16 values are exact */
                        a0 = _mm512_fmadd_ps(KLD(i), q[i / 16], a0);
                        a1 = _mm512_fmadd_ps(KLD(i + 16), q[i / 16 + 1], a1);
                        a2 = _mm512_fmadd_ps(KLD(i + 32), q[i / 16 + 2], a2);
                        a3 = _mm512_fmadd_ps(KLD(i + 48), q[i / 16 + 3], a3);
                }
#undef KLD
                v[j] = _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
        }
        return hsum16x16(v);
}

/* G query heads (G <= GMAX) over one KV head, 16 positions per step.  Each
 * head has its own scores, maximum, sum and accumulator; they share the K
 * block (widened to f32 once when G > 1) and each V chunk's widening, and
 * the G accumulators' rounding chains interleave, which is what keeps the
 * converters busy: one head's chain (fma, cvtps2ph, cvtph2ps) is latency-
 * bound when hdv is 64. */
#define GMAX 4
/* acc[g][c] for c >= hdv / 16 is never read, which gcc cannot see in the
 * generic (run-time hdv) instance */
/* The reference's walk over 16 scores sv (lanes outside valid ignored),
 * "if (s > m) new maximum": the m a position sees is the max of the running
 * *m and the scores before it (an exclusive prefix max, log steps).  Sets
 * *nm to the lanes that raise the maximum, updates *m, and returns the
 * exponent's argument per lane: m - s at a new maximum, else s - m (0
 * outside valid). */
AI __m512 walk_max16(__m512 sv, __mmask16 valid, float *m, __mmask16 *nm)
{
        const __m512 ninf = _mm512_set1_ps(-INFINITY);
        const __m512i sh1 = _mm512_setr_epi32(15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        const __m512i sh2 = _mm512_setr_epi32(14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        const __m512i sh4 = _mm512_setr_epi32(12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        const __m512i sh8 = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);

        sv = _mm512_mask_mov_ps(ninf, valid, sv);
        __m512 mb = _mm512_mask_permutexvar_ps(_mm512_set1_ps(*m), 0xfffe, sh1, sv);
        mb = _mm512_max_ps(mb, _mm512_mask_permutexvar_ps(ninf, 0xfffe, sh1, mb));
        mb = _mm512_max_ps(mb, _mm512_mask_permutexvar_ps(ninf, 0xfffc, sh2, mb));
        mb = _mm512_max_ps(mb, _mm512_mask_permutexvar_ps(ninf, 0xfff0, sh4, mb));
        mb = _mm512_max_ps(mb, _mm512_mask_permutexvar_ps(ninf, 0xff00, sh8, mb));
        *nm = _mm512_mask_cmp_ps_mask(valid, sv, mb, _CMP_GT_OQ);
        __m512 x = _mm512_mask_sub_ps(_mm512_sub_ps(sv, mb), *nm, mb, sv);
        *m = _mm512_reduce_max_ps(_mm512_max_ps(sv, _mm512_set1_ps(*m)));
        return _mm512_maskz_mov_ps(valid, x);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
AI void heads_body(const struct attn_f16_row *r, const float *qin, size_t q_stride, float qmul,
                   int lo, int hi, float *out, size_t out_stride, const int G, const int hdk,
                   const int hdv)
{
        const float cap = r->cap, scale = cap > 0 ? r->scale / cap : r->scale;
        float m[GMAX], l[GMAX], kf[G > 1 ? 16 * 16 * MAXC : 1];
        __m512 acc[GMAX][MAXC];

        for (int g = 0; g < G; g++) {
                m[g] = -INFINITY, l[g] = 0;
#pragma GCC unroll 32
                for (int c = 0; c < hdv / 16; c++)
                        acc[g][c] = _mm512_setzero_ps();
        }
        for (int p0 = lo; p0 <= hi; p0 += 16) {
                const int n = hi - p0 + 1 < 16 ? hi - p0 + 1 : 16;
                float e[GMAX][16];
                __mmask16 nm[GMAX]; /* positions that set a new maximum */
                const __mmask16 valid = (__mmask16)(n == 16 ? 0xffff : (1u << n) - 1);

                /* the next block's rows (at depth the cache is far bigger than L2);
                 * worth its load slots only when shared by several heads */
                for (int j = 16; G > 1 && j < 32 && p0 + j <= hi; j++) {
                        const char *k = r->k + (size_t)(p0 + j) * r->k_stride;
                        const char *v = r->v + (size_t)(p0 + j) * r->v_stride;
                        for (int i = 0; i < 2 * hdk; i += 64)
                                _mm_prefetch(k + i, _MM_HINT_T0);
                        for (int i = 0; i < 2 * hdv; i += 64)
                                _mm_prefetch(v + i, _MM_HINT_T0);
                }
                if (G > 1)
                        for (int j = 0; j < n; j++) {
                                const uint16_t *k = (const uint16_t *)(r->k + (size_t)(p0 + j) * r->k_stride);
#pragma GCC unroll 32
                                for (int i = 0; i < hdk; i += 16)
                                        _mm512_storeu_ps(kf + (size_t)j * hdk + i, ld16(k + i));
                        }
                for (int g = 0; g < G; g++) {
                        __m512 q[MAXC];
                        float s[16];
#pragma GCC unroll 32
                        for (int i = 0; i < hdk; i += 16) /* q (times qmul) rounded to f16 */
                                q[i / 16] = round16(_mm512_mul_ps(_mm512_loadu_ps(qin + g * q_stride + i),
                                                                  _mm512_set1_ps(qmul)));
                        __m512 sv = _mm512_mul_ps(scores16(r, G > 1 ? kf : NULL, q, p0, n, hdk),
                                                  _mm512_set1_ps(scale));
                        if (cap > 0) {
                                _mm512_storeu_ps(s, sv);
                                for (int j = 0; j < n; j++)
                                        s[j] = cap * tanhf(s[j]);
                                sv = _mm512_loadu_ps(s);
                        }
                        _mm512_storeu_ps(e[g], exp16(walk_max16(sv, valid, &m[g], &nm[g])));
                }
                for (int j = 0; j < n; j++) {
                        const uint16_t *v = (const uint16_t *)(r->v + (size_t)(p0 + j) * r->v_stride);
                        __m512 w[GMAX];
                        for (int g = 0; g < G; g++) {
                                float ms = 1.0f, vs = e[g][j];
                                if (nm[g] >> j & 1) {
                                        ms = e[g][j];
                                        vs = 1.0f;
                                        const __m512 f = _mm512_set1_ps(ms);
#pragma GCC unroll 32
                                        for (int c = 0; c < hdv / 16; c++)
                                                acc[g][c] = round16(_mm512_mul_ps(acc[g][c], f));
                                }
                                w[g] = _mm512_set1_ps(vs);
                                /* two statements: the reference's l * ms + vs is not
                                 * one FMA, and clang would contract one expression */
                                const float lm = l[g] * ms;
                                l[g] = lm + vs;
                        }
#pragma GCC unroll 32
                        for (int c = 0; c < hdv / 16; c++) {
                                const __m512 vc = ld16(v + 16 * c);
#pragma GCC unroll 4
                                for (int g = 0; g < G; g++)
                                        acc[g][c] = round16(_mm512_fmadd_ps(vc, w[g], acc[g][c]));
                        }
                }
        }
        for (int g = 0; g < G; g++) {
                const __m512 inv = _mm512_set1_ps(l[g] == 0.0f ? 0.0f : 1.0f / l[g]);
#pragma GCC unroll 32
                for (int c = 0; c < hdv / 16; c++)
                        _mm512_storeu_ps(out + g * out_stride + 16 * c, _mm512_mul_ps(acc[g][c], inv));
        }
}

/* ---- several tokens per pass: rows_body ---------------------------------
 * Up to RMAX query rows (tokens x query heads of one KV head), each with its
 * own positions lo..hi, in one walk over the union of their positions, 16 at
 * a time.  Per row it does heads_body's operations in heads_body's order:
 * the same scores (from the block widened once for all rows), the same
 * prefix max, exp16, rescale and f16-rounded multiply-add; a row simply
 * skips the positions outside its own lo..hi (a masked lane in the scores,
 * no step in the V walk), which is what not visiting them does.  Blocks
 * start at the union's lo, not the row's: the walk's results do not depend
 * on where the 16-position blocks start (the prefix max gives each position
 * the running maximum the one-at-a-time walk has there).
 *
 * The accumulators live in L1 as f16 (hdv halves per row) instead of
 * registers: a row's step is vcvtph2ps from memory, fma, vcvtps2ph to
 * memory, which is heads_body's round16(fma) with the widening folded into
 * the load, and with many rows the rounding chains are independent, so
 * nothing waits on latency.  What the rows share: the cache reads (at depth
 * the KV cache is far beyond L2, and a 16-token batch read it once per
 * token and head group before), the K block's widening to f32 and each V
 * row's widening.  What they cannot share is most of the work: every row
 * still has its own dot products and its own f16-rounded multiply-add per
 * position (fma + two conversions per 16 lanes, on the two 512-bit ports),
 * so the gain is bounded: 16 tokens x 8 heads at depth 1024, CPU time
 * against per-token attn_f16_heads: -13% at hd 64 (4 heads per pass
 * before), -28% at hd 256 (1 head per pass before).  32 rows per pass: 16
 * and 64 measured the same within noise. */
#define RMAX 32

struct rows_state {
        float m[RMAX], l[RMAX];
        uint16_t q16[RMAX * 16 * MAXC]; /* q (times qmul) rounded to f16, hdk per row */
        uint16_t acc[RMAX * 16 * MAXC]; /* the f16 accumulators, hdv per row */
        float kf[16 * 16 * MAXC];       /* the K block widened, kf[j * hdk + i] */
};

AI void rows_body(const struct attn_f16_row *r, const struct attn_f16_q *rows, int nr, float qmul,
                  struct rows_state *st, const int hdk, const int hdv)
{
        const float cap = r->cap, scale = cap > 0 ? r->scale / cap : r->scale;
        int lo = rows[0].lo, hi = rows[0].hi;

        for (int i = 0; i < nr; i++) {
                lo = rows[i].lo < lo ? rows[i].lo : lo;
                hi = rows[i].hi > hi ? rows[i].hi : hi;
                st->m[i] = -INFINITY, st->l[i] = 0;
#pragma GCC unroll 32
                for (int c = 0; c < hdk; c += 16)
                        _mm256_storeu_si256((__m256i *)(st->q16 + i * hdk + c),
                                            _mm512_cvtps_ph(_mm512_mul_ps(_mm512_loadu_ps(rows[i].q + c),
                                                                          _mm512_set1_ps(qmul)), RNE));
                memset(st->acc + i * hdv, 0, (size_t)hdv * sizeof(uint16_t));
        }
        for (int p0 = lo; p0 <= hi; p0 += 16) {
                const int n = hi - p0 + 1 < 16 ? hi - p0 + 1 : 16;
                float e[RMAX][16];
                __mmask16 nm[RMAX], vm[RMAX]; /* new maximum; the row's positions */

                for (int j = 16; j < 32 && p0 + j <= hi; j++) {
                        const char *k = r->k + (size_t)(p0 + j) * r->k_stride;
                        const char *v = r->v + (size_t)(p0 + j) * r->v_stride;
                        for (int i = 0; i < 2 * hdk; i += 64)
                                _mm_prefetch(k + i, _MM_HINT_T0);
                        for (int i = 0; i < 2 * hdv; i += 64)
                                _mm_prefetch(v + i, _MM_HINT_T0);
                }
                for (int j = 0; j < n; j++) {
                        const uint16_t *k = (const uint16_t *)(r->k + (size_t)(p0 + j) * r->k_stride);
#pragma GCC unroll 32
                        for (int i = 0; i < hdk; i += 16)
                                _mm512_storeu_ps(st->kf + (size_t)j * hdk + i, ld16(k + i));
                }
                for (int g = 0; g < nr; g++) {
                        const int a = rows[g].lo > p0 ? rows[g].lo - p0 : 0;
                        const int b = rows[g].hi < p0 + n - 1 ? rows[g].hi - p0 : n - 1;
                        __m512 q[MAXC];
                        float s[16];

                        if (a > b) {
                                vm[g] = 0;
                                continue;
                        }
                        const __mmask16 valid = (__mmask16)(((2u << b) - 1) & ~((1u << a) - 1));
                        vm[g] = valid;
#pragma GCC unroll 32
                        for (int i = 0; i < hdk; i += 16)
                                q[i / 16] = ld16(st->q16 + g * hdk + i);
                        __m512 sv = _mm512_mul_ps(scores16(r, st->kf, q, p0, n, hdk), _mm512_set1_ps(scale));
                        if (cap > 0) {
                                _mm512_storeu_ps(s, sv);
                                for (int j = a; j <= b; j++)
                                        s[j] = cap * tanhf(s[j]);
                                sv = _mm512_loadu_ps(s);
                        }
                        /* with this row's lanes only */
                        _mm512_storeu_ps(e[g], exp16(walk_max16(sv, valid, &st->m[g], &nm[g])));
                }
                for (int j = 0; j < n; j++) {
                        const uint16_t *v = (const uint16_t *)(r->v + (size_t)(p0 + j) * r->v_stride);
                        __m512 vc[MAXC];

#pragma GCC unroll 32
                        for (int c = 0; c < hdv / 16; c++)
                                vc[c] = ld16(v + 16 * c);
                        for (int g = 0; g < nr; g++) {
                                if (!(vm[g] >> j & 1))
                                        continue;
                                uint16_t *acc = st->acc + g * hdv;
                                float ms = 1.0f, vs = e[g][j];
                                if (nm[g] >> j & 1) {
                                        ms = e[g][j];
                                        vs = 1.0f;
                                        const __m512 f = _mm512_set1_ps(ms);
#pragma GCC unroll 32
                                        for (int c = 0; c < hdv / 16; c++)
                                                _mm256_storeu_si256((__m256i *)(acc + 16 * c),
                                                                    _mm512_cvtps_ph(_mm512_mul_ps(ld16(acc + 16 * c), f), RNE));
                                }
                                const float lm = st->l[g] * ms; /* not one FMA: see heads_body */
                                st->l[g] = lm + vs;
                                const __m512 w = _mm512_set1_ps(vs);
#pragma GCC unroll 32
                                for (int c = 0; c < hdv / 16; c++)
                                        _mm256_storeu_si256((__m256i *)(acc + 16 * c),
                                                            _mm512_cvtps_ph(_mm512_fmadd_ps(vc[c], w, ld16(acc + 16 * c)), RNE));
                        }
                }
        }
        for (int g = 0; g < nr; g++) {
                const __m512 inv = _mm512_set1_ps(st->l[g] == 0.0f ? 0.0f : 1.0f / st->l[g]);
#pragma GCC unroll 32
                for (int c = 0; c < hdv / 16; c++)
                        _mm512_storeu_ps(rows[g].out + 16 * c, _mm512_mul_ps(ld16(st->acc + g * hdv + 16 * c), inv));
        }
}

int attn_f16_rows_avx512(const struct attn_f16_row *r, const struct attn_f16_q *rows, int n, float qmul)
{
        const int hdk = r->hdk, hdv = r->hdv;
        struct rows_state st;

        if (hdk > 16 * MAXC || hdv > 16 * MAXC)
                return -1;
        for (int i = 0; i < n; i += RMAX) {
                const int nr = n - i < RMAX ? n - i : RMAX;
                if (hdk == 64 && hdv == 64)
                        rows_body(r, rows + i, nr, qmul, &st, 64, 64);
                else if (hdk == 128 && hdv == 128)
                        rows_body(r, rows + i, nr, qmul, &st, 128, 128);
                else if (hdk == 256 && hdv == 256)
                        rows_body(r, rows + i, nr, qmul, &st, 256, 256);
                else
                        rows_body(r, rows + i, nr, qmul, &st, hdk, hdv);
        }
        return 0;
}

/* heads_body for G = 1 .. GMAX with the head dims constant where they are
 * common (64: four heads at a time, 128: two, 256: one) */
#define HEADS(G, K, V) heads_body(r, q, q_stride, qmul, lo, hi, out, out_stride, G, K, V)
int attn_f16_avx512(const struct attn_f16_row *r, const float *q, size_t q_stride, float qmul,
                    int nq, int lo, int hi, float *out, size_t out_stride)
{
        const int hdk = r->hdk, hdv = r->hdv;

        if (hdk > 16 * MAXC || hdv > 16 * MAXC)
                return -1;
        while (nq > 0) {
                int g;
                if (hdk == 64 && hdv == 64) {
                        g = nq < 4 ? nq : 4;
                        if (g == 4)
                                HEADS(4, 64, 64);
                        else if (g == 3)
                                HEADS(3, 64, 64);
                        else if (g == 2)
                                HEADS(2, 64, 64);
                        else
                                HEADS(1, 64, 64);
                } else if (hdk == 128 && hdv == 128) {
                        g = nq < 2 ? nq : 2;
                        if (g == 2)
                                HEADS(2, 128, 128);
                        else
                                HEADS(1, 128, 128);
                } else if (hdk == 256 && hdv == 256) {
                        g = 1;
                        HEADS(1, 256, 256);
                } else {
                        g = 1;
                        HEADS(1, hdk, hdv);
                }
                q += (size_t)g * q_stride;
                out += (size_t)g * out_stride;
                nq -= g;
        }
        return 0;
}
#endif
