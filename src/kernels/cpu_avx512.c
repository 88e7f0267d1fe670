/* cpu_avx512.c -- AVX-512 (F/BW/VL/DQ) + VNNI kernels; only this file is
 * built with those -m flags, and cpu.c calls it only when cpuid has them.
 * (avx512bf16 is in the build flags but not used: many VNNI CPUs lack it.)
 *
 * Each kernel is written once for NT activation rows (1 or 4) and
 * instantiated twice: vec_dot (NT = 1, token generation) and vec_dot4
 * (NT = 4, prompt processing: the weight block is decoded once for 4
 * tokens; Q4_K has two functions, its 4-token sum being another order).
 * Products of u8 x s8 go through vpdpbusd; the K-quants multiply pairs with
 * maddubs and apply their 16-bit sub-block scales with vpdpwssd, so a whole
 * super-block (Q4_K for 4 tokens: a pair of sub-blocks) is summed in int32
 * before the float steps, which are the scalar kernel's (quant.c), bit for
 * bit.  Entries left NULL come from the AVX2 table.  Small batches (2..63
 * tokens) go to the mm kernels (quant_fns.mm): the 32-element block types'
 * are here (q32_mm: 4 rows x up to 8 tokens in registers, q32_step's
 * arithmetic per row, token and lane), the K-quants' in mm_kquant_avx512.c. */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels/mm_kquant.h"
#include "kernels/simd_x86.h"

#define AI static inline __attribute__((always_inline))

static inline const void *row_k(const void *y, size_t stride, int k)
{
        return (const char *)y + (size_t)k * stride;
}

static inline float hsum_f32x16(__m512 v)
{
        return _mm512_reduce_add_ps(v);
}

/* ---- Q8_0 / Q4_0 ----------------------------------------------------------- */

AI void q8_0_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q8_0 *x = xv;
        __m256 acc[4];

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK8_0; b++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)x[b].qs);
                __m256i aq = _mm256_sign_epi8(q, q);
                float dx = h2f(x[b].d);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_0 *y = (const struct block_q8_0 *)row_k(yv, ys, k) + b;
                        __m256i yy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), q);
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq, yy);
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]);
}

AI void q4_0_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q4_0 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
        __m256 acc[4];

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK4_0; b++) {
                __m128i t = _mm_loadu_si128((const __m128i *)x[b].qs);
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4);
                q = _mm256_sub_epi8(q, eight);
                __m256i aq = _mm256_sign_epi8(q, q);
                float dx = h2f(x[b].d);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_0 *y = (const struct block_q8_0 *)row_k(yv, ys, k) + b;
                        __m256i yy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), q);
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq, yy);
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]);
}

/* Q4_1 x Q8_1: unsigned nibbles straight into vpdpbusd; min term via s. */
AI void q4_1_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q4_1 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        __m256 acc[4];
        float ms[4] = {0, 0, 0, 0};

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK4_1; b++) {
                __m128i t = _mm_loadu_si128((const __m128i *)x[b].qs);
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4);
                float dx = h2f(x[b].d), mx = h2f(x[b].m);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_1 *y = (const struct block_q8_1 *)row_k(yv, ys, k) + b;
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q,
                                                        _mm256_loadu_si256((const __m256i *)y->qs));
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                        float mp = mx * h2f(y->s); /* rounded, then added: no FMA */
                        ms[k] += mp;
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]) + ms[k];
}

/* Q5_0 x Q8_0 and Q5_1 x Q8_1: Q4_0 / Q4_1 with the fifth bits added
 * under a byte mask (qh bit j = element j). */
AI void q5_0_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q5_0 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), c16 = _mm256_set1_epi8(16);
        __m256 acc[4];

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK5_0; b++) {
                __m128i t = _mm_loadu_si128((const __m128i *)x[b].qs);
                uint32_t qh;
                memcpy(&qh, x[b].qh, 4);
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4);
                q = _mm256_sub_epi8(_mm256_mask_add_epi8(q, _cvtu32_mask32(qh), q, c16), c16);
                __m256i aq = _mm256_sign_epi8(q, q);
                float dx = h2f(x[b].d);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_0 *y = (const struct block_q8_0 *)row_k(yv, ys, k) + b;
                        __m256i yy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), q);
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq, yy);
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]);
}

AI void q5_1_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q5_1 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), c16 = _mm256_set1_epi8(16);
        __m256 acc[4];
        float ms[4] = {0, 0, 0, 0};

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK5_1; b++) {
                __m128i t = _mm_loadu_si128((const __m128i *)x[b].qs);
                uint32_t qh;
                memcpy(&qh, x[b].qh, 4);
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4);
                q = _mm256_mask_add_epi8(q, _cvtu32_mask32(qh), q, c16);
                float dx = h2f(x[b].d), mx = h2f(x[b].m);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_1 *y = (const struct block_q8_1 *)row_k(yv, ys, k) + b;
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q,
                                                        _mm256_loadu_si256((const __m256i *)y->qs));
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                        float mp = mx * h2f(y->s); /* rounded, then added: no FMA */
                        ms[k] += mp;
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]) + ms[k];
}

/* ---- K-quants ------------------------------------------------------------ */

/* The totals of four int32 vectors a, b, c, d as [a, b, c, d] (integer
 * sums: exact in any order). */
static inline __m128i kq_isum4_512(__m512i a, __m512i b, __m512i c, __m512i d)
{
        __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
        __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
        __m512i v = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
        __m256i t = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
        return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* Q4_K x Q8_K with the scalar kernels' bits (quant.c q4_k_dot_span, which
 * follows llama.cpp's repacked x86 kernels): per super-block the integer
 * sums isum = sum_j sc_j * (q . y)_j and msum = sum_j m_j * bsum_j over a
 * span of sub-blocks are each added with an FMA into their own f32
 * accumulator, scaled by d * d8 and dmin * d8 (products rounded to float
 * first); the result is the difference.  One token (vec_dot): a span of the
 * whole super-block; four (vec_dot4): spans of 2 sub-blocks (one 64-byte
 * step c of the codes), the 4 tokens' accumulators in the lanes of one
 * vector.  The integer part: codes broadcast as nibbles, maddubs with the
 * activation, vpdpwssd with the sub-blocks' 6-bit scales. */
static const short q4k_idx[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

/* step c of a Q4_K block: the 64 codes (low nibbles of qs[32c..] first, as
 * the activation) and, per int16 lane, the scale of its sub-block */
AI __m512i q4_k_codes_step(const struct block_q4_k *x, __m512i sc16, int c, __m512i *scv)
{
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        const __m512i shift = _mm512_set_epi64(4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll,
                                               4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll, 0, 0, 0, 0);
        __m512i w = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * c)));
        *scv = _mm512_permutexvar_epi16(_mm512_add_epi16(_mm512_loadu_si512(q4k_idx), _mm512_set1_epi16((short)(2 * c))),
                                        sc16);
        return _mm512_and_si512(_mm512_srlv_epi16(w, shift), m4);
}

static void q4_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_k *x = xv;
        const struct block_q8_k *y = yv;
        float acc = 0, accm = 0;

        for (int b = 0; b < n / QK_K; b++) {
                __m128i sm = k4_scales_xmm(x[b].scales);
                __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)), scv;
                __m512i sumi = _mm512_setzero_si512(), sumi2 = _mm512_setzero_si512();
                for (int c = 0; c < 4; c += 2) {
                        __m512i w0 = q4_k_codes_step(&x[b], sc16, c, &scv);
                        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(w0, _mm512_loadu_si512(y[b].qs + 64 * c)), scv);
                        __m512i w1 = q4_k_codes_step(&x[b], sc16, c + 1, &scv);
                        sumi2 = _mm512_dpwssd_epi32(sumi2, _mm512_maddubs_epi16(w1, _mm512_loadu_si512(y[b].qs + 64 * c + 64)),
                                                    scv);
                }
                int isum = _mm512_reduce_add_epi32(_mm512_add_epi32(sumi, sumi2));
                int msum = k4_min_dot_vec(sm, y[b].bsums);
                float dd = h2f(x[b].d) * y[b].d, dm = h2f(x[b].dmin) * y[b].d;
                acc = fmaf((float)isum, dd, acc);
                accm = fmaf((float)msum, dm, accm);
        }
        *s = acc - accm;
}

static void q4_k_vec_dot4(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys)
{
        const struct block_q4_k *x = xv;
        __m128 acc = _mm_setzero_ps(), accm = _mm_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                const struct block_q8_k *y[4];
                __m128i mp[4];
                for (int k = 0; k < 4; k++)
                        y[k] = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                __m128i sm = k4_scales_xmm(x[b].scales);
                __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)), scv;
                __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
                /* per token: the min sums of the 4 sub-block pairs */
                for (int k = 0; k < 4; k++)
                        mp[k] = _mm_madd_epi16(mins, _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[k]->bsums),
                                                                    _mm_loadu_si128((const __m128i *)(y[k]->bsums + 8))));
                /* transposed: mp[c] = pair c of tokens 0..3 */
                __m128i t0 = _mm_unpacklo_epi32(mp[0], mp[1]), t1 = _mm_unpackhi_epi32(mp[0], mp[1]);
                __m128i t2 = _mm_unpacklo_epi32(mp[2], mp[3]), t3 = _mm_unpackhi_epi32(mp[2], mp[3]);
                mp[0] = _mm_unpacklo_epi64(t0, t2);
                mp[1] = _mm_unpackhi_epi64(t0, t2);
                mp[2] = _mm_unpacklo_epi64(t1, t3);
                mp[3] = _mm_unpackhi_epi64(t1, t3);
                __m128 yd = _mm_set_ps(y[3]->d, y[2]->d, y[1]->d, y[0]->d);
                __m128 dd = _mm_mul_ps(_mm_set1_ps(h2f(x[b].d)), yd), dm = _mm_mul_ps(_mm_set1_ps(h2f(x[b].dmin)), yd);
                for (int c = 0; c < 4; c++) {
                        __m512i w = q4_k_codes_step(&x[b], sc16, c, &scv), p[4];
                        for (int k = 0; k < 4; k++)
                                p[k] = _mm512_dpwssd_epi32(_mm512_setzero_si512(),
                                                           _mm512_maddubs_epi16(w, _mm512_loadu_si512(y[k]->qs + 64 * c)), scv);
                        acc = _mm_fmadd_ps(_mm_cvtepi32_ps(kq_isum4_512(p[0], p[1], p[2], p[3])), dd, acc);
                        accm = _mm_fmadd_ps(_mm_cvtepi32_ps(mp[c]), dm, accm);
                }
        }
        float r[4];
        _mm_storeu_ps(r, _mm_sub_ps(acc, accm));
        for (int k = 0; k < 4; k++)
                s[k * ss] = r[k];
}

/* Q5_K with the scalar kernel's bits (quant.c k4_dot, the same for one
 * token and four): per super-block the integer totals isum and msum, then
 * y.d * (d * isum - dmin * msum) added in order. */
AI void q5_k_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q5_k *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
        float acc[4] = {0, 0, 0, 0};

        const __m512i idx = _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (int b = 0; b < n / QK_K; b++) {
                __m128i sm = k4_scales_xmm(x[b].scales);
                __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm));
                __m512i sumi[4], sumi2[4];
                __m256i qh = _mm256_loadu_si256((const __m256i *)x[b].qh);
                for (int k = 0; k < nt; k++)
                        sumi[k] = sumi2[k] = _mm512_setzero_si512();
                for (int c = 0; c < 4; c++) {
                        __m256i v = _mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * c));
                        __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, one), 4);
                        __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4);
                        qh = _mm256_srli_epi16(qh, 2);
                        __m512i w = _mm512_inserti64x4(
                                _mm512_castsi256_si512(_mm256_or_si256(_mm256_and_si256(v, m4), h0)),
                                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), h1), 1);
                        __m512i scv = _mm512_permutexvar_epi16(
                                _mm512_add_epi16(idx, _mm512_set1_epi16((short)(2 * c))), sc16);
                        for (int k = 0; k < nt; k++) {
                                const struct block_q8_k *y = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                                __m512i p = _mm512_maddubs_epi16(w, _mm512_loadu_si512(y->qs + 64 * c));
                                if (c & 1)
                                        sumi2[k] = _mm512_dpwssd_epi32(sumi2[k], p, scv);
                                else
                                        sumi[k] = _mm512_dpwssd_epi32(sumi[k], p, scv);
                        }
                }
                float dx = h2f(x[b].d), dmx = h2f(x[b].dmin);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_k *y = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                        float isum = (float)_mm512_reduce_add_epi32(_mm512_add_epi32(sumi[k], sumi2[k]));
                        float msum = (float)k4_min_dot_vec(sm, y->bsums);
                        acc[k] = kq_dmin_add(acc[k], y->d, dx, isum, dmx, msum);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = acc[k];
}

/* Q6_K x Q8_K with the scalar kernel's bits (quant.c q6_k_vec_dot, as
 * llama.cpp's x86 one): 8 int32 lanes per super-block, lane l summing the
 * values 4l..4l+3 of every 32-value run and minus 32 * (sc . bsum) of
 * groups 2l, 2l+1; an FMA per lane and super-block scaled by d * d8, the
 * lanes summed (l + 4), (l + 2), (l + 1) (hsum_f32x8).  A 64-value step
 * holds two runs: its int32 lanes l and l + 8 are both lane l, added
 * (exactly) before the FMA. */
AI void q6_k_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q6_k *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);
        /* int16 lane i of a 64-element step takes scale 4*step + i/8 */
        const __m512i idx0 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
                                              1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        __m256 acc[4];

        for (int k = 0; k < nt; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK_K; b++) {
                __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[b].scales));
                __m512i sc512 = _mm512_castsi256_si512(sc16);
                __m512i sumi[4], sumi2[4];
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_k *y = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                        sumi2[k] = _mm512_setzero_si512();
                        __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y->bsums));
                        sumi[k] = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(),
                                                                          _mm256_slli_epi32(bias, 5)));
                }
                for (int h = 0; h < 2; h++) {
                        const uint8_t *ql = x[b].ql + 64 * h;
                        __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                        __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                        __m256i hb = _mm256_loadu_si256((const __m256i *)(x[b].qh + 32 * h));
                        __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m3));
                        __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m3));
                        __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m3));
                        __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                     _mm256_and_si256(_mm256_srli_epi16(hb, 2), m3));
                        __m512i w0 = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
                        __m512i w1 = _mm512_inserti64x4(_mm512_castsi256_si512(q2), q3, 1);
                        __m512i s0 = _mm512_permutexvar_epi16(
                                _mm512_add_epi16(idx0, _mm512_set1_epi16((short)(8 * h))), sc512);
                        __m512i s1 = _mm512_permutexvar_epi16(
                                _mm512_add_epi16(idx0, _mm512_set1_epi16((short)(8 * h + 4))), sc512);
                        for (int k = 0; k < nt; k++) {
                                const struct block_q8_k *y = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                                const int8_t *q8 = y->qs + 128 * h;
                                __m512i p0 = _mm512_maddubs_epi16(w0, _mm512_loadu_si512(q8));
                                __m512i p1 = _mm512_maddubs_epi16(w1, _mm512_loadu_si512(q8 + 64));
                                sumi[k] = _mm512_dpwssd_epi32(sumi[k], p0, s0);
                                sumi2[k] = _mm512_dpwssd_epi32(sumi2[k], p1, s1);
                        }
                }
                float dx = h2f(x[b].d);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_k *y = (const struct block_q8_k *)row_k(yv, ys, k) + b;
                        __m512i t = _mm512_add_epi32(sumi[k], sumi2[k]);
                        __m256i l = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * y->d), _mm256_cvtepi32_ps(l), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(acc[k]);
}

/* ---- floats ---------------------------------------------------------------- */

AI void f16_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const uint16_t *x = xv;
        __m512 acc[4];
        int i = 0;

        for (int k = 0; k < nt; k++)
                acc[k] = _mm512_setzero_ps();
        for (; i + 16 <= n; i += 16) {
                __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i)));
                for (int k = 0; k < nt; k++)
                        acc[k] = _mm512_fmadd_ps(w, _mm512_loadu_ps((const float *)row_k(yv, ys, k) + i), acc[k]);
        }
        for (int k = 0; k < nt; k++) {
                const float *y = row_k(yv, ys, k);
                float t = hsum_f32x16(acc[k]);
                for (int j = i; j < n; j++)
                        t += h2f(x[j]) * y[j];
                s[k * ss] = t;
        }
}

AI void f32_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const float *x = xv;
        __m512 acc[4];
        int i = 0;

        for (int k = 0; k < nt; k++)
                acc[k] = _mm512_setzero_ps();
        for (; i + 16 <= n; i += 16) {
                __m512 w = _mm512_loadu_ps(x + i);
                for (int k = 0; k < nt; k++)
                        acc[k] = _mm512_fmadd_ps(w, _mm512_loadu_ps((const float *)row_k(yv, ys, k) + i), acc[k]);
        }
        for (int k = 0; k < nt; k++) {
                const float *y = row_k(yv, ys, k);
                float t = hsum_f32x16(acc[k]);
                for (int j = i; j < n; j++)
                        t += x[j] * y[j];
                s[k * ss] = t;
        }
}

/* ---- gemv: 4 weight rows against one activation row ----------------------
 *
 * Token generation streams every weight byte once per token, so these
 * kernels aim to keep up with memory: 4 rows share each activation load,
 * independent float accumulators hide the FMA latency, the 32-element
 * block types put two rows' blocks in a 512-bit vector (see q32_step),
 * and each row group
 * prefetches the next group's rows (pf) as it goes, so the loads of one
 * group overlap the arithmetic of the one before (without it a row's first
 * touch waited on memory: tg ran at about half of llama.cpp's on Zen 5).
 * A row's arithmetic is the same whatever rows it is called with: the
 * driver runs the 4-row kernel on every group, a short tail repeating its
 * last row (results discarded), so a row's bits never depend on nr.
 *
 * Block scales are read in the loop, four blocks at a time: the halves
 * at the start of the blocks (d, or d and m) go through one vcvtph2ps,
 * are multiplied by the activation's (d, or d and s) read the same way,
 * and a permute spreads them over the lanes of their blocks.  (An earlier
 * version gathered the halves of 16 blocks with vpgatherdd in a pre-pass;
 * on Zen 5 that gather, the first touch of the row, took ~75% of the
 * time.) */

/* The 32-element block types, 4 rows, two per zmm: rows 2p (low 256 bits)
 * and 2p + 1 (high) share accumulator acc[p], so a row has 8 float lanes,
 * as the scalar vec_dot (quant.c): lane l of a block takes the products of
 * elements 4l..4l+3 (the block's 32 codes in element order in one 256-bit
 * half, one vpdpbusd against the activation's 32 bytes broadcast to both
 * halves; unsigned codes, the bias subtracted in int32 through the
 * activation's sums), then one FMA per block and lane with dx * dy rounded
 * to float first; the lanes are summed (l + 4), (l + 2), (l + 1)
 * (hsum_f32x8) and Q4_1 / Q5_1 add m * s summed block by block in order.
 * So each row gets the scalar kernel's bits, which are llama.cpp's
 * (tests/data/engine/README.md).  Steps of 4 blocks: their halves (d, or d
 * and m) are gathered with scalar loads into one vcvtph2ps per row pair and
 * multiplied by the activation's (d, or d and s); a permute puts a block's
 * scale on its row's 8 lanes.  nbk < 4: the last blocks of a row. */

/* the halves at p + k * st, k < nbk, as halves k of a u64 (zeros above) */
AI uint64_t halves_u64(const uint8_t *p, size_t st, const int nbk)
{
        uint64_t v = 0;

        for (int k = 0; k < nbk; k++) {
                uint16_t h;
                memcpy(&h, p + (size_t)k * st, 2);
                v |= (uint64_t)h << (16 * k);
        }
        __asm__("" : "+r"(v)); /* built in a GPR: GCC's vectorized version costs ~4x the vector uops */
        return v;
}

/* the 4 bytes (two halves) at p + k * st, k = k0, k0 + 1 (< nbk), as a u64 */
AI uint64_t dwords_u64(const uint8_t *p, size_t st, const int k0, const int nbk)
{
        uint32_t a = 0, c = 0;

        if (k0 < nbk)
                memcpy(&a, p + (size_t)k0 * st, 4);
        if (k0 + 1 < nbk)
                memcpy(&c, p + (size_t)(k0 + 1) * st, 4);
        uint64_t v = (uint64_t)a | (uint64_t)c << 32;
        __asm__("" : "+r"(v));
        return v;
}

/* A row pair's 32 codes of one block as u8, element order, x0's in the
 * low 256 bits and x1's in the high: nibbles (low nibbles = elements
 * 0-15, high = 16-31) plus 16 where the qh bit is set (qh_off >= 0), or
 * Q8_0's codes + 128 (q8).  Q4_0 / Q4_1 (no qh) leave elements 16-31 as
 * 16 x code (the high nibble masked in place, one instruction less); the
 * caller divides their scale by 16. */
#define LO4 0x0f0f0f0f0f0f0f0fll
#define HI4 ((long long)0xf0f0f0f0f0f0f0f0ull)
AI __m512i q32_codes(const uint8_t *x0, const uint8_t *x1, const int qs_off, const int qh_off, const int q8)
{
        if (q8) {
                __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x0 + qs_off))),
                                               _mm256_loadu_si256((const __m256i *)(x1 + qs_off)), 1);
                return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
        }
        __m512i w = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(x0 + qs_off))),
                                                0xff00, _mm_loadu_si128((const __m128i *)(x1 + qs_off)));
        if (qh_off < 0) /* Q4: the high nibbles stay in place (16 x code, see q32_step) */
                return _mm512_and_si512(w, _mm512_set_epi64(HI4, HI4, LO4, LO4, HI4, HI4, LO4, LO4));
        uint32_t h0, h1;
        memcpy(&h0, x0 + qh_off, 4);
        memcpy(&h1, x1 + qh_off, 4);
        w = _mm512_and_si512(_mm512_mask_srli_epi16(w, 0xff00ff00u, w, 4), _mm512_set1_epi8(0x0f));
        return _mm512_mask_add_epi8(w, _cvtu64_mask64((uint64_t)h0 | (uint64_t)h1 << 32), w, _mm512_set1_epi8(0x10));
}

/* The activation's int32 correction per block and lane, -bias * (sum of
 * its 4 codes), for the unsigned weight codes (lanes 4-7 shifted left by
 * hi16 = 4 for Q4_0, whose codes there are 16 x code): computed once per
 * gemv call (blocks of up to Q32_NC_MAX; longer rows compute it per
 * block). */
#define Q32_NC_MAX 512
AI void q32_bias_sums(__m256i *nc, const uint8_t *y, int nb, const size_t ys, const int yq, const int bias,
                      const int hi16)
{
        const __m256i sh = _mm256_set_epi32(hi16, hi16, hi16, hi16, 0, 0, 0, 0);

        for (int b = 0; b < nb; b++) {
                __m256i yy = _mm256_loadu_si256((const __m256i *)(y + (size_t)b * ys + yq));
                nc[b] = _mm256_sllv_epi32(_mm256_sub_epi32(_mm256_setzero_si256(),
                                                           _mm256_dpbusd_epi32(_mm256_setzero_si256(),
                                                                               _mm256_set1_epi8((char)bias), yy)),
                                          sh);
        }
}

/* One step of nbk (1..4) blocks for 4 rows: xb[r] the rows' first block,
 * yb the activation's (ys bytes per block, codes at yq), nc its
 * corrections (NULL: computed here).  bias: subtracted from the u8 codes
 * (8, 16, 128 for Q8_0; 0: Q4_1 / Q5_1); one: d and m (and the
 * activation's d and s), macc lane r gets row r's min terms. */
AI void q32_step(__m512 *acc, __m512 *macc, const uint8_t *const *xb, const char *const *pfb, const size_t bs,
                 const uint8_t *yb, const size_t ys, const int yq, const __m256i *nc, const int qs_off,
                 const int qh_off, const int bias, const int one, const int q8, const int nbk)
{
        __m512 sc[2];

        if (one && bs % 4 == 0 && 3 * bs + 4 <= 64 && ys % 4 == 0 && 3 * ys + 4 <= 128) {
                /* Q4_1: the 4 blocks' (d, m) are dwords 0, bs/4, .. of one
                 * 64-byte load per row, the activation's (d, s) dwords 0,
                 * ys/4, .. of two (ys = 36: 144 bytes in the step); a
                 * permute lines them up as the scalar loads below do */
                const int sx = (int)bs / 4, sy = (int)ys / 4;
                /* a step of nbk < 4 blocks (a row's last) loads only its
                 * own bytes (masked lanes read as 0, as dwords_u64's) */
                const int nx = nbk * sx, ny = nbk * sy;
                const __mmask16 mx = nx >= 16 ? 0xffff : (__mmask16)((1u << nx) - 1);
                const __mmask16 my0 = ny >= 16 ? 0xffff : (__mmask16)((1u << ny) - 1);
                const __mmask16 my1 = ny >= 32 ? 0xffff : ny > 16 ? (__mmask16)((1u << (ny - 16)) - 1) : 0;
                const __m512i iy = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 3 * sy, 2 * sy, sy, 0, 3 * sy, 2 * sy, sy, 0);
                __m512 ds = _mm512_cvtph_ps(_mm512_castsi512_si256(
                        _mm512_permutex2var_epi32(nbk == 4 ? _mm512_loadu_si512(yb) : _mm512_maskz_loadu_epi32(my0, yb), iy,
                                                  nbk == 4 ? _mm512_loadu_si512(yb + 64) : _mm512_maskz_loadu_epi32(my1, yb + 64))));
                const __m512i ix = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 16 + 3 * sx, 16 + 2 * sx, 16 + sx, 16,
                                                    3 * sx, 2 * sx, sx, 0);
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        __m256i h = _mm512_castsi512_si256(_mm512_permutex2var_epi32(
                                nbk == 4 ? _mm512_loadu_si512(xb[2 * p]) : _mm512_maskz_loadu_epi32(mx, xb[2 * p]), ix,
                                nbk == 4 ? _mm512_loadu_si512(xb[2 * p + 1]) : _mm512_maskz_loadu_epi32(mx, xb[2 * p + 1])));
                        sc[p] = _mm512_mul_ps(_mm512_cvtph_ps(h), ds); /* dx*dy, mx*sy per block and row */
                }
        } else if (one) {
                uint64_t y01 = dwords_u64(yb, ys, 0, nbk), y23 = dwords_u64(yb, ys, 2, nbk);
                __m512 ds = _mm512_cvtph_ps(_mm256_set_epi64x((long long)y23, (long long)y01, (long long)y23,
                                                              (long long)y01)); /* dy0 sy0 .. dy3 sy3, twice */
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        const uint8_t *x0 = xb[2 * p], *x1 = xb[2 * p + 1];
                        __m256i h = _mm256_set_epi64x((long long)dwords_u64(x1, bs, 2, nbk), (long long)dwords_u64(x1, bs, 0, nbk),
                                                      (long long)dwords_u64(x0, bs, 2, nbk), (long long)dwords_u64(x0, bs, 0, nbk));
                        sc[p] = _mm512_mul_ps(_mm512_cvtph_ps(h), ds); /* dx*dy, mx*sy per block and row */
                }
        } else {
                __m256 dy = _mm256_cvtph_ps(_mm_set1_epi64x((long long)halves_u64(yb, ys, nbk)));
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        __m128i h = _mm_set_epi64x((long long)halves_u64(xb[2 * p + 1], bs, nbk),
                                                   (long long)halves_u64(xb[2 * p], bs, nbk));
                        sc[p] = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_cvtph_ps(h), dy));
                }
        }
        /* Q4_0 / Q4_1: lanes 4-7 hold 16 x the sums, their scale is
         * (dx*dy) / 16: exact (a power of two; products of two halves are
         * zero or above 2^-48, far from float's subnormals), and so is
         * the FMA's product of the two, so the bits are the same */
        const int hi16 = qh_off < 0 && !q8;
        __m512 sc16[2];
        for (int p = 0; p < 2; p++)
                sc16[p] = hi16 ? _mm512_mul_ps(sc[p], _mm512_set1_ps(0.0625f)) : sc[p];
        _Pragma("GCC unroll 4")
        for (int k = 0; k < nbk; k++) {
                /* float e of the row pair's products: one ? 2k, 8 + 2k : k, 4 + k;
                 * + 16: from sc16 */
                const int e0 = one ? 2 * k : k, e1 = one ? 8 + 2 * k : 4 + k;
                const int h0 = e0 + 16 * hi16, h1 = e1 + 16 * hi16;
                const __m512i idx = _mm512_set_epi32(h1, h1, h1, h1, e1, e1, e1, e1, h0, h0, h0, h0, e0, e0, e0, e0);
                /* 128 bytes of the rows pd ahead per 2 (Q8_0) or 4 blocks,
                 * spread over the step */
                if (pfb && k % (q8 ? 2 : 4) == 0) {
                        _Pragma("GCC unroll 4")
                        for (int r = 0; r < 4; r++) {
                                _mm_prefetch(pfb[r] + (size_t)k * bs, _MM_HINT_T0);
                                _mm_prefetch(pfb[r] + (size_t)k * bs + 64, _MM_HINT_T0);
                        }
                }
                __m512i yy = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(yb + (size_t)k * ys + yq)));
                __m512i ncv = _mm512_setzero_si512();
                if (bias)
                        ncv = nc ? _mm512_broadcast_i64x4(_mm256_loadu_si256(nc + k))
                                 : _mm512_sllv_epi32(_mm512_sub_epi32(ncv, _mm512_dpbusd_epi32(ncv, _mm512_set1_epi8((char)bias), yy)),
                                                     _mm512_set_epi32(4 * hi16, 4 * hi16, 4 * hi16, 4 * hi16, 0, 0, 0, 0,
                                                                      4 * hi16, 4 * hi16, 4 * hi16, 4 * hi16, 0, 0, 0, 0));
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        __m512i w = q32_codes(xb[2 * p] + (size_t)k * bs, xb[2 * p + 1] + (size_t)k * bs, qs_off, qh_off, q8);
                        __m512 pf = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(ncv, w, yy));
                        __m512 sv = hi16 ? _mm512_permutex2var_ps(sc[p], idx, sc16[p]) : _mm512_permutexvar_ps(idx, sc[p]);
                        acc[p] = _mm512_fmadd_ps(sv, pf, acc[p]);
                }
                if (one) { /* rows 0..3's m*s of block k in lanes 0..3 */
                        const __m512i mi = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25 + 2 * k, 17 + 2 * k,
                                                            9 + 2 * k, 1 + 2 * k);
                        *macc = _mm512_add_ps(*macc, _mm512_permutex2var_ps(sc[0], mi, sc[1]));
                }
        }
}

AI void q32_gemv4(int n, float *s, const char *const *xr, const char *const *pf, const void *yv, const __m256i *nc,
                  const size_t bs, const int qs_off, const int qh_off, const int bias, const int one, const int q8)
{
        const size_t ys = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yq = one ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        const uint8_t *y = yv;
        int nb = n / QK8_0, b = 0;
        __m512 acc[2], macc = _mm512_setzero_ps();
        const uint8_t *xb[4];

        acc[0] = acc[1] = _mm512_setzero_ps();
        for (; b + 4 <= nb; b += 4) {
                const char *pfb[4];
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        xb[r] = (const uint8_t *)xr[r] + (size_t)b * bs;
                        pfb[r] = pf[r] + (size_t)b * bs;
                }
                q32_step(acc, &macc, xb, pfb, bs, y + (size_t)b * ys, ys, yq, nc ? nc + b : NULL, qs_off, qh_off,
                         bias, one, q8, 4);
        }
        if (b < nb) {
                const __m256i *ncb = nc ? nc + b : NULL;
                for (int r = 0; r < 4; r++)
                        xb[r] = (const uint8_t *)xr[r] + (size_t)b * bs;
                switch (nb - b) {
                case 1:
                        q32_step(acc, &macc, xb, NULL, bs, y + (size_t)b * ys, ys, yq, ncb, qs_off, qh_off, bias, one, q8, 1);
                        break;
                case 2:
                        q32_step(acc, &macc, xb, NULL, bs, y + (size_t)b * ys, ys, yq, ncb, qs_off, qh_off, bias, one, q8, 2);
                        break;
                default:
                        q32_step(acc, &macc, xb, NULL, bs, y + (size_t)b * ys, ys, yq, ncb, qs_off, qh_off, bias, one, q8, 3);
                        break;
                }
        }
        float m[16];
        _mm512_storeu_ps(m, macc);
        _Pragma("GCC unroll 2")
        for (int p = 0; p < 2; p++) {
                s[2 * p] = hsum_f32x8(_mm512_castps512_ps256(acc[p]));
                s[2 * p + 1] = hsum_f32x8(_mm512_extractf32x8_ps(acc[p], 1));
                if (one) {
                        s[2 * p] += m[2 * p];
                        s[2 * p + 1] += m[2 * p + 1];
                }
        }
}

/* Q4_0 / Q5_0 (bias 8 / 16; d, [qh], qs), Q4_1 / Q5_1 (one; d, m, [qh],
 * qs) and Q8_0 (x + 128 as u8 into vpdpbusd, bias 128) */
#define Q32_KERNEL(t, T, qh, bias, one, q8)                                                                   \
        AI void t##_gemv4(int n, float *s, const char *const *xr, const char *const *pf, const void *yv,       \
                          const __m256i *nc)                                                                  \
        {                                                                                                     \
                q32_gemv4(n, s, xr, pf, yv, nc, sizeof(struct T), offsetof(struct T, qs), qh, bias, one, q8); \
        }
Q32_KERNEL(q4_0, block_q4_0, -1, 8, 0, 0)
Q32_KERNEL(q5_0, block_q5_0, offsetof(struct block_q5_0, qh), 16, 0, 0)
Q32_KERNEL(q4_1, block_q4_1, -1, 0, 1, 0)
Q32_KERNEL(q5_1, block_q5_1, offsetof(struct block_q5_1, qh), 0, 1, 0)
Q32_KERNEL(q8_0, block_q8_0, -1, 128, 0, 1)

/* ---- mm: small batches, 4 rows x up to 8 tokens ----------------------------
 *
 * Prompt batches of 2..63 tokens and serve's decode groups (matmul.c's mm
 * path).  Per (row, token, lane) the arithmetic is q32_step's, so the scalar
 * vec_dot's bit for bit: the row pair's u8 codes of a block in the two
 * 256-bit halves, one vpdpbusd against the token's 32 bytes broadcast to
 * both halves, started from the activation's bias correction; converted,
 * then one FMA per lane with dx * dy rounded to float first (dx / 16 on Q4's
 * 16 x code lanes, exact as in q32_step); Q4_1 / Q5_1's m * s products
 * rounded and added block by block; the lanes summed as lanes8_sum.
 *
 * What the tile buys: a block's codes and scales are decoded once for 4 rows
 * and used against up to 8 tokens, so each (row pair, token, block) costs
 * four vector ops (vpdpbusd, convert, the scale product, the FMA) plus a
 * share of the decode.  The parts that depend only on the token (dy and sy
 * as floats, the bias correction -bias * sum of 4 codes per lane) are
 * computed once per 8 tokens for all the rows of the call (q32_mm_prep) and
 * read back as broadcasts, for rows of up to Q32_MM_NB_MAX blocks; longer
 * rows compute them in the loop, 4 tokens at a time (stack space).
 *
 * Row groups past nr repeat the last row (results not stored); a chunk of
 * fewer than 8 tokens runs a 1-, 2-, 4- or 8-token tile, the tokens past
 * its end repeating the last one with dy = 0 (not stored either).  So every
 * result's bits are the same whatever nr, nt and its place in the call.
 *
 * 8 tokens: 16 accumulators, and GCC keeps most of the rest in registers
 * (a few spills).  Measured 1 thread, n = 576 and 2048 (noisy, best of
 * 300): 4 tokens ~10% slower than 8, 6 tokens within the noise of 8.
 *
 * Where the time goes (Q4_0, n = 2048, 256 rows x 8 tokens, ~80 GMAC/s
 * on the dev VM, ~3 cycles per row pair, token and block): leaving out
 * the scale product would gain ~17%, the code decode ~6%, the scale loads
 * ~4%, the bias start ~2%.  The four ops are the floor for these bits
 * (dx * dy differs per row, token and block, and each lane needs its FMA),
 * and mixes of them issue at ~1.5-2 per cycle here.  Tried and dropped
 * (no gain or slower): fresh zeroing idioms / reloaded bias starts for
 * each vpdpbusd (GCC copies one register otherwise: eliminated moves),
 * zero-masked loads of the row pair plus one ternlog in q32_codes. */
#ifndef Q32_MM_NT
#define Q32_MM_NT 8
#endif
/* bytes of rows the mm kernels prefetch ahead (the first token chunk) */
#ifndef MM_PF_BYTES
#define MM_PF_BYTES 4096
#endif
#define Q32_MM_NS ((Q32_MM_NT + 3) & ~3) /* entries per block in q32_mm_prep's arrays */
#define Q32_MM_NB_MAX 256

/* The 4 rows' halves of a step of nbk blocks as floats, row pair p in
 * hx[p]: one: (d, m) of block k in lanes 2k, 2k + 1 (row 2p) and 8 + 2k,
 * 9 + 2k (row 2p + 1); else d of block k in lane k and 4 + k (a ymm).
 * Loads as q32_step's (Q4_1: one 64-byte load per row; a row's last step
 * masked to its own bytes). */
AI void q32_x_halves(__m512 *hx, const uint8_t *const *xb, const size_t bs, const int one, const int nbk)
{
        if (one && bs % 4 == 0 && 3 * bs + 4 <= 64) {
                const int sx = (int)bs / 4, nx = nbk * sx;
                const __mmask16 mx = nx >= 16 ? 0xffff : (__mmask16)((1u << nx) - 1);
                const __m512i ix = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 16 + 3 * sx, 16 + 2 * sx, 16 + sx, 16,
                                                    3 * sx, 2 * sx, sx, 0);
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        __m512i a = nbk == 4 ? _mm512_loadu_si512(xb[2 * p]) : _mm512_maskz_loadu_epi32(mx, xb[2 * p]);
                        __m512i c = nbk == 4 ? _mm512_loadu_si512(xb[2 * p + 1])
                                             : _mm512_maskz_loadu_epi32(mx, xb[2 * p + 1]);
                        hx[p] = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi32(a, ix, c)));
                }
        } else if (one) {
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        const uint8_t *x0 = xb[2 * p], *x1 = xb[2 * p + 1];
                        __m256i h = _mm256_set_epi64x((long long)dwords_u64(x1, bs, 2, nbk), (long long)dwords_u64(x1, bs, 0, nbk),
                                                      (long long)dwords_u64(x0, bs, 2, nbk), (long long)dwords_u64(x0, bs, 0, nbk));
                        hx[p] = _mm512_cvtph_ps(h);
                }
        } else {
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        __m128i h = _mm_set_epi64x((long long)halves_u64(xb[2 * p + 1], bs, nbk),
                                                   (long long)halves_u64(xb[2 * p], bs, nbk));
                        hx[p] = _mm512_castps256_ps512(_mm256_cvtph_ps(h));
                }
        }
}

/* The per-token terms of a chunk of tokens yt[0..tc) (yt[t] the token's
 * first block), block-major: dy[b][t], sy[b][t] (one), nc[b][t] (bias: the
 * int32 start of vpdpbusd, lanes 4-7 times 16 for Q4_0 as q32_bias_sums).
 * Tokens tc.. get zeros: a padded tile's extra tokens add 0 * p. */
AI void q32_mm_prep(int nb, int tc, const uint8_t *const *yt, const size_t ys, const int yq, const int bias,
                    const int one, const int hi16, float *dy, float *sy, __m256i *nc)
{
        const __m256i sh = _mm256_set_epi32(4 * hi16, 4 * hi16, 4 * hi16, 4 * hi16, 0, 0, 0, 0);

        for (int b = 0; b < nb; b++) {
                for (int t = 0; t < Q32_MM_NS; t++) {
                        const uint8_t *p = yt[t] + (size_t)b * ys;
                        const int i = b * Q32_MM_NS + t;
                        uint16_t h[2];
                        if (t >= tc) {
                                dy[i] = 0;
                                if (one)
                                        sy[i] = 0;
                                if (bias)
                                        nc[i] = _mm256_setzero_si256();
                                continue;
                        }
                        memcpy(h, p, 4);
                        dy[i] = h2f(h[0]);
                        if (one)
                                sy[i] = h2f(h[1]);
                        if (bias) {
                                __m256i yy = _mm256_loadu_si256((const __m256i *)(p + yq));
                                __m256i c = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8((char)bias), yy);
                                nc[i] = _mm256_sllv_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), c), sh);
                        }
                }
        }
}

/* One step of nbk (1..4) blocks (from block b) for 4 rows (xb: their block
 * b) and NT tokens (yt: their first blocks); pre: the token terms come from
 * q32_mm_prep's arrays (entries b * Q32_MM_NS + t), else they are computed
 * here.  acc[p * Q32_MM_NT + t]: row pair p, token t; macc[g] lane 4r + j: row r's min
 * terms for token 4g + j. */
AI void q32_mm_step(__m512 *acc, __m512 *macc, const uint8_t *const *xb, const char *const *pfb, const size_t bs,
                    const uint8_t *const *yt, const int b, const size_t ys, const int yq, const float *dy,
                    const float *sy, const __m256i *nc, const int qs_off, const int qh_off, const int bias,
                    const int one, const int q8, const int NT, const int nbk, const int pre)
{
        const int hi16 = qh_off < 0 && !q8;
        __m512 hx[2], hx16[2];

        q32_x_halves(hx, xb, bs, one, nbk);
        _Pragma("GCC unroll 2")
        for (int p = 0; p < 2; p++)
                hx16[p] = hi16 ? _mm512_mul_ps(hx[p], _mm512_set1_ps(0.0625f)) : hx[p];
        _Pragma("GCC unroll 4")
        for (int k = 0; k < nbk; k++) {
                const int e0 = one ? 2 * k : k, e1 = one ? 8 + 2 * k : 4 + k;
                const int h0 = e0 + 16 * hi16, h1 = e1 + 16 * hi16;
                const __m512i idx = _mm512_set_epi32(h1, h1, h1, h1, e1, e1, e1, e1, h0, h0, h0, h0, e0, e0, e0, e0);
                const size_t yo = (size_t)(b + k) * ys;
                const int pi = (b + k) * Q32_MM_NS;
                __m512 dxv[2];
                if (pfb && k % (q8 ? 2 : 4) == 0) { /* as q32_step */
                        _Pragma("GCC unroll 4")
                        for (int r = 0; r < 4; r++) {
                                _mm_prefetch(pfb[r] + (size_t)k * bs, _MM_HINT_T0);
                                _mm_prefetch(pfb[r] + (size_t)k * bs + 64, _MM_HINT_T0);
                        }
                }
                __m512i w[2];
                _Pragma("GCC unroll 2")
                for (int p = 0; p < 2; p++) {
                        dxv[p] = hi16 ? _mm512_permutex2var_ps(hx[p], idx, hx16[p]) : _mm512_permutexvar_ps(idx, hx[p]);
                        w[p] = q32_codes(xb[2 * p] + (size_t)k * bs, xb[2 * p + 1] + (size_t)k * bs, qs_off, qh_off, q8);
                }
                if (one) { /* lane 4r + j: row r's m of block k */
                        const __m512i mi = _mm512_set_epi32(25 + 2 * k, 25 + 2 * k, 25 + 2 * k, 25 + 2 * k, 17 + 2 * k,
                                                            17 + 2 * k, 17 + 2 * k, 17 + 2 * k, 9 + 2 * k, 9 + 2 * k,
                                                            9 + 2 * k, 9 + 2 * k, 1 + 2 * k, 1 + 2 * k, 1 + 2 * k, 1 + 2 * k);
                        __m512 mx = _mm512_permutex2var_ps(hx[0], mi, hx[1]);
                        _Pragma("GCC unroll 2")
                        for (int g = 0; g < (NT + 3) / 4; g++) {
                                __m128 s4;
                                if (pre) {
                                        s4 = _mm_loadu_ps(sy + pi + 4 * g);
                                } else {
                                        float f[4];
                                        for (int j = 0; j < 4; j++) {
                                                uint16_t h;
                                                memcpy(&h, yt[4 * g + j] + yo + 2, 2);
                                                f[j] = 4 * g + j < NT ? h2f(h) : 0.0f;
                                        }
                                        s4 = _mm_loadu_ps(f);
                                }
                                macc[g] = _mm512_add_ps(macc[g], _mm512_mul_ps(mx, _mm512_broadcast_f32x4(s4)));
                        }
                }
                _Pragma("GCC unroll 8")
                for (int t = 0; t < NT; t++) {
                        __m512i yy = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(yt[t] + yo + yq)));
                        __m512i ncv = _mm512_setzero_si512();
                        __m512 dyv;
                        if (pre) {
                                if (bias)
                                        ncv = _mm512_broadcast_i64x4(_mm256_load_si256(nc + pi + t));
                                dyv = _mm512_set1_ps(dy[pi + t]);
                        } else {
                                uint16_t h;
                                memcpy(&h, yt[t] + yo, 2);
                                dyv = _mm512_set1_ps(h2f(h));
                                if (bias)
                                        ncv = _mm512_sllv_epi32(
                                                _mm512_sub_epi32(ncv, _mm512_dpbusd_epi32(ncv, _mm512_set1_epi8((char)bias), yy)),
                                                _mm512_set_epi32(4 * hi16, 4 * hi16, 4 * hi16, 4 * hi16, 0, 0, 0, 0,
                                                                 4 * hi16, 4 * hi16, 4 * hi16, 4 * hi16, 0, 0, 0, 0));
                        }
                        _Pragma("GCC unroll 2")
                        for (int p = 0; p < 2; p++) {
                                __m512 pf = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(ncv, w[p], yy));
                                acc[p * Q32_MM_NT + t] = _mm512_fmadd_ps(_mm512_mul_ps(dxv[p], dyv), pf, acc[p * Q32_MM_NT + t]);
                        }
                }
        }
}

/* s[t * ss + r] for r < nrv, t < ntv from a tile's accumulators: per 4
 * tokens, the 16 lane sums in lanes8_sum's order (l + 4, then (0 + 2) +
 * (1 + 3)) in one tree, row r token j in lane 4r + j, then transposed. */
AI void q32_mm_store(float *s, size_t ss, const __m512 *acc, const __m512 *macc, const int nrv, const int ntv,
                     const int one, const int NT)
{
        const __m512i tr = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
        const __mmask8 m = (__mmask8)((1u << nrv) - 1);

        _Pragma("GCC unroll 2")
        for (int g = 0; g < (NT + 3) / 4; g++) {
                __m512 v[4];
                _Pragma("GCC unroll 4")
                for (int j = 0; j < 4; j++) {
                        const int t = 4 * g + j;
                        if (t >= NT) {
                                v[j] = _mm512_setzero_ps();
                                continue;
                        }
                        /* quarter r: row r's lanes l + (l + 4), l < 4 */
                        __m512 a = acc[t], c = acc[Q32_MM_NT + t];
                        v[j] = _mm512_add_ps(_mm512_shuffle_f32x4(a, c, 0x88), _mm512_shuffle_f32x4(a, c, 0xdd));
                }
                /* per quarter: [t: 0+2, t: 1+3, u: 0+2, u: 1+3] */
                __m512 w01 = _mm512_add_ps(_mm512_shuffle_ps(v[0], v[1], 0x44), _mm512_shuffle_ps(v[0], v[1], 0xee));
                __m512 w23 = _mm512_add_ps(_mm512_shuffle_ps(v[2], v[3], 0x44), _mm512_shuffle_ps(v[2], v[3], 0xee));
                __m512 z = _mm512_add_ps(_mm512_shuffle_ps(w01, w23, 0x88), _mm512_shuffle_ps(w01, w23, 0xdd));
                if (one)
                        z = _mm512_add_ps(z, macc[g]);
                z = _mm512_permutexvar_ps(tr, z); /* lane 4j + r */
                _Pragma("GCC unroll 4")
                for (int j = 0; j < 4; j++) {
                        const int t = 4 * g + j;
                        if (t >= NT || t >= ntv)
                                continue;
                        __m128 q = j == 0 ? _mm512_castps512_ps128(z)
                                 : j == 1 ? _mm512_extractf32x4_ps(z, 1)
                                 : j == 2 ? _mm512_extractf32x4_ps(z, 2)
                                          : _mm512_extractf32x4_ps(z, 3);
                        if (nrv == 4)
                                _mm_storeu_ps(s + (size_t)t * ss, q);
                        else
                                _mm_mask_storeu_ps(s + (size_t)t * ss, m, q);
                }
        }
}

/* 4 rows (xr) x NT tokens (yt) over the whole row */
AI void q32_mm_tile(int nb, float *s, size_t ss, const int nrv, const int ntv, const uint8_t *const *xr,
                    const char *const *pf, const uint8_t *const *yt, const float *dy, const float *sy, const __m256i *nc, const size_t bs,
                    const int qs_off, const int qh_off, const int bias, const int one, const int q8, const int NT,
                    const int pre)
{
        const size_t ys = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yq = one ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        __m512 acc[2 * Q32_MM_NT], macc[2];
        const uint8_t *xb[4];
        int b = 0;

        _Pragma("GCC unroll 8")
        for (int t = 0; t < NT; t++)
                acc[t] = acc[Q32_MM_NT + t] = _mm512_setzero_ps();
        macc[0] = macc[1] = _mm512_setzero_ps();
        for (; b + 4 <= nb; b += 4) {
                const char *pfb[4];
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        xb[r] = xr[r] + (size_t)b * bs;
                        pfb[r] = pf ? pf[r] + (size_t)b * bs : NULL;
                }
                q32_mm_step(acc, macc, xb, pf ? pfb : NULL, bs, yt, b, ys, yq, dy, sy, nc, qs_off, qh_off, bias, one,
                            q8, NT, 4, pre);
        }
        if (b < nb) {
                for (int r = 0; r < 4; r++)
                        xb[r] = xr[r] + (size_t)b * bs;
                switch (nb - b) {
                case 1:
                        q32_mm_step(acc, macc, xb, NULL, bs, yt, b, ys, yq, dy, sy, nc, qs_off, qh_off, bias, one, q8, NT, 1,
                                    pre);
                        break;
                case 2:
                        q32_mm_step(acc, macc, xb, NULL, bs, yt, b, ys, yq, dy, sy, nc, qs_off, qh_off, bias, one, q8, NT, 2,
                                    pre);
                        break;
                default:
                        q32_mm_step(acc, macc, xb, NULL, bs, yt, b, ys, yq, dy, sy, nc, qs_off, qh_off, bias, one, q8, NT, 3,
                                    pre);
                        break;
                }
        }
        q32_mm_store(s, ss, acc, macc, nrv, ntv, one, NT);
}

/* quant_mm_fn for the 32-element types: tokens in chunks of 8, each chunk
 * against the call's rows in groups of 4 */
AI void q32_mm(int n, int nr, int nt, float *s, size_t ss, const void *xv, size_t xs, const void *yv, size_t yrow,
               const size_t bs, const int qs_off, const int qh_off, const int bias, const int one, const int q8)
{
        const size_t ys = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yq = one ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        const int hi16 = qh_off < 0 && !q8, nb = n / QK8_0, pre = nb <= Q32_MM_NB_MAX;
        float dy[Q32_MM_NB_MAX * Q32_MM_NS], sy[one ? Q32_MM_NB_MAX * Q32_MM_NS : 1];
        __m256i nc[bias ? Q32_MM_NB_MAX * Q32_MM_NS : 1];
        const int tn = pre ? Q32_MM_NT : 4; /* tokens per chunk */
        /* the first chunk of tokens reads the rows from memory (the later
         * ones from L2, matmul.c's row tiles): it prefetches the rows pd
         * ahead, as GEMV4 (past nr too: a prefetch never faults) */
        const int pd = pf_rows_ahead(MM_PF_BYTES, xs, 4);

        for (int t0 = 0; t0 < nt; t0 += tn) {
                const int tc = nt - t0 < tn ? nt - t0 : tn;
                const int nti = !pre ? 4 : tc > 4 ? Q32_MM_NT : tc > 2 ? 4 : tc; /* the tile's tokens */
                const uint8_t *yt[Q32_MM_NS];
                for (int t = 0; t < Q32_MM_NS; t++)
                        yt[t] = (const uint8_t *)yv + (size_t)(t0 + (t < tc ? t : tc - 1)) * yrow;
                if (pre)
                        q32_mm_prep(nb, tc, yt, ys, yq, bias, one, hi16, dy, sy, nc);
                for (int r0 = 0; r0 < nr; r0 += 4) {
                        const uint8_t *xr[4];
                        const char *pfr[4], *const *pf = t0 == 0 ? pfr : NULL;
                        const int nrv = nr - r0 < 4 ? nr - r0 : 4;
                        float *so = s + (size_t)t0 * ss + r0;
                        for (int r = 0; r < 4; r++) {
                                xr[r] = (const uint8_t *)xv + (size_t)(r0 + (r < nrv ? r : nrv - 1)) * xs;
                                pfr[r] = (const char *)xv + (size_t)(r0 + pd + r) * xs;
                        }
                        if (nti == Q32_MM_NT)
                                q32_mm_tile(nb, so, ss, nrv, tc, xr, pf, yt, dy, sy, nc, bs, qs_off, qh_off, bias, one, q8,
                                            Q32_MM_NT, 1);
                        else if (nti == 4 && pre)
                                q32_mm_tile(nb, so, ss, nrv, tc, xr, pf, yt, dy, sy, nc, bs, qs_off, qh_off, bias, one, q8, 4, 1);
                        else if (nti == 4)
                                q32_mm_tile(nb, so, ss, nrv, tc, xr, pf, yt, dy, sy, nc, bs, qs_off, qh_off, bias, one, q8, 4, 0);
                        else if (nti == 2)
                                q32_mm_tile(nb, so, ss, nrv, tc, xr, pf, yt, dy, sy, nc, bs, qs_off, qh_off, bias, one, q8, 2, 1);
                        else
                                q32_mm_tile(nb, so, ss, nrv, tc, xr, pf, yt, dy, sy, nc, bs, qs_off, qh_off, bias, one, q8, 1, 1);
                }
        }
}

#define Q32_MM(t, T, qh, bias, one, q8)                                                                        \
        static void t##_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, \
                           size_t ys)                                                                          \
        {                                                                                                      \
                q32_mm(n, nr, nt, s, ss, x, xs, y, ys, sizeof(struct T), offsetof(struct T, qs), qh, bias, one, \
                       q8);                                                                                    \
        }
Q32_MM(q4_0, block_q4_0, -1, 8, 0, 0)
Q32_MM(q5_0, block_q5_0, offsetof(struct block_q5_0, qh), 16, 0, 0)
Q32_MM(q4_1, block_q4_1, -1, 0, 1, 0)
Q32_MM(q5_1, block_q5_1, offsetof(struct block_q5_1, qh), 0, 1, 0)
Q32_MM(q8_0, block_q8_0, -1, 128, 0, 1)

/* Q4_K x Q8_K, 4 rows, with the bits of the scalar vec_dot (one span per
 * super-block, see q4_k_vec_dot): each 32-byte chunk of codes is broadcast
 * to both 256-bit halves and shifted by 0 / 4 (low nibbles = group 2c,
 * high = group 2c+1, the activation's order), maddubs with the activation,
 * then vpdpwssd with the groups' 6-bit scales; per super-block the 4 rows'
 * integer totals (codes and min terms) meet in the lanes of one vector and
 * go through one FMA each into the 4 rows' accumulators. */
AI void q4_k_gemv4(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        const struct block_q8_k *y = yv;
        __m128 acc = _mm_setzero_ps(), accm = _mm_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                __m512i yq[4], sumi[4];
                __m128i mp[4];
                uint32_t dd[4];
                for (int c = 0; c < 4; c++)
                        yq[c] = _mm512_loadu_si512(y[b].qs + 64 * c);
                __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[b].bsums),
                                               _mm_loadu_si128((const __m128i *)(y[b].bsums + 8)));
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        const struct block_q4_k *x = (const struct block_q4_k *)xr[r] + b;
                        const char *p = (const char *)((const struct block_q4_k *)pf[r] + b);
                        _mm_prefetch(p, _MM_HINT_T0);
                        _mm_prefetch(p + 64, _MM_HINT_T0);
                        _mm_prefetch(p + 128, _MM_HINT_T0);
                        __m128i sm = k4_scales_xmm(x->scales);
                        __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)), scv;
                        sumi[r] = _mm512_setzero_si512();
                        _Pragma("GCC unroll 4")
                        for (int c = 0; c < 4; c++) {
                                __m512i w = q4_k_codes_step(x, sc16, c, &scv);
                                sumi[r] = _mm512_dpwssd_epi32(sumi[r], _mm512_maddubs_epi16(w, yq[c]), scv);
                        }
                        mp[r] = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), pairs);
                        memcpy(&dd[r], &x->d, 4); /* d, dmin */
                }
                __m128i isum = kq_isum4_512(sumi[0], sumi[1], sumi[2], sumi[3]);
                __m128i msum = _mm_hadd_epi32(_mm_hadd_epi32(mp[0], mp[1]), _mm_hadd_epi32(mp[2], mp[3]));
                /* d0 dmin0 d1 dmin1 ... times the activation's d */
                __m256 dm = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dd)), _mm256_set1_ps(y[b].d));
                __m128 lo = _mm256_castps256_ps128(dm), hi = _mm256_extractf128_ps(dm, 1);
                acc = _mm_fmadd_ps(_mm_cvtepi32_ps(isum), _mm_shuffle_ps(lo, hi, 0x88), acc);
                accm = _mm_fmadd_ps(_mm_cvtepi32_ps(msum), _mm_shuffle_ps(lo, hi, 0xdd), accm);
        }
        _mm_storeu_ps(s, _mm_sub_ps(acc, accm));
}

/* Q6_K x Q8_K, 4 rows: codes 0..63 (value code - 32); per 128-element half
 * the 64 low-nibble bytes are one load and the 32 high-bit bytes are
 * broadcast to both 256-bit halves, shifted per half; the -32 goes in
 * through the block sums.  The bits of the scalar vec_dot (see q6_k_dot_n):
 * int32 lanes l and l + 8 of a step are lane l, folded before the FMA. */
AI void q6_k_gemv4(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        const struct block_q8_k *y = yv;
        const __m512i m4 = _mm512_set1_epi8(0x0f), m3 = _mm512_set1_epi8(0x30);
        /* high bits for elements 0..31 / 32..63 of a half: qh << 4 / << 2;
         * for 64..95 / 96..127: qh / qh >> 2 */
        const __m512i sl = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll,
                                            4 * 0x0001000100010001ll, 4 * 0x0001000100010001ll);
        const __m512i sr = _mm512_set_epi64(2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll,
                                            2 * 0x0001000100010001ll, 2 * 0x0001000100010001ll, 0, 0, 0, 0);
        /* int16 lane i of a 64-element step takes scale 4*step + i/8 */
        const __m512i idx0 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
                                              1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        __m256 acc[4];

        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                acc[r] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK_K; b++) {
                __m512i yq[4];
                for (int c = 0; c < 4; c++)
                        yq[c] = _mm512_loadu_si512(y[b].qs + 64 * c);
                __m256i bsums = _mm256_loadu_si256((const __m256i *)y[b].bsums);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        const struct block_q6_k *x = (const struct block_q6_k *)xr[r] + b;
                        const char *p = (const char *)((const struct block_q6_k *)pf[r] + b);
                        _mm_prefetch(p, _MM_HINT_T0);
                        _mm_prefetch(p + 64, _MM_HINT_T0);
                        _mm_prefetch(p + 128, _MM_HINT_T0);
                        _mm_prefetch(p + 192, _MM_HINT_T0);
                        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
                        __m512i sc512 = _mm512_castsi256_si512(sc16);
                        __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums), 5);
                        __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), bias));
                        __m512i sumi2 = _mm512_setzero_si512();
                        _Pragma("GCC unroll 2")
                        for (int h = 0; h < 2; h++) {
                                __m512i l = _mm512_loadu_si512(x->ql + 64 * h);
                                __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qh + 32 * h)));
                                __m512i w0 = _mm512_ternarylogic_epi32(l, _mm512_and_si512(_mm512_sllv_epi16(hb, sl), m3), m4, 0xe4);
                                __m512i w1 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(l, 4),
                                                                       _mm512_and_si512(_mm512_srlv_epi16(hb, sr), m3), m4, 0xe4);
                                __m512i s0 = _mm512_permutexvar_epi16(
                                        _mm512_add_epi16(idx0, _mm512_set1_epi16((short)(8 * h))), sc512);
                                __m512i s1 = _mm512_permutexvar_epi16(
                                        _mm512_add_epi16(idx0, _mm512_set1_epi16((short)(8 * h + 4))), sc512);
                                sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(w0, yq[2 * h]), s0);
                                sumi2 = _mm512_dpwssd_epi32(sumi2, _mm512_maddubs_epi16(w1, yq[2 * h + 1]), s1);
                        }
                        sumi = _mm512_add_epi32(sumi, sumi2);
                        __m256i l8 = _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
                        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x->d) * y[b].d), _mm256_cvtepi32_ps(l8), acc[r]);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                s[r] = hsum_f32x8(acc[r]);
}

/* Rows in groups of 4; a tail group repeats its last row.  Each group
 * prefetches the rows pd ahead (whole groups, at least GEMV_PF_BYTES of
 * weights ahead): a group of short rows (SmolLM2: 4 x 360 bytes) is
 * computed faster than one group ahead arrives from memory (without the
 * prefetch SmolLM2 tg takes twice as long).  The prefetch runs past nr
 * (GEMV_PF_PAST; a prefetch never faults): gemv.c hands a thread its rows
 * in consecutive chunks, so the rows after a chunk are usually its next,
 * and clamping to the chunk left the first 24 rows of every 36-row chunk
 * cold at 2 threads (SmolLM2 tg 118-125 -> 152-169 t/s with gemv.c's
 * regions). */
#ifndef GEMV_PF_PAST
#define GEMV_PF_PAST 1
#endif
#define GEMV4(t)                                                                                   \
        static void t##_gemv(int n, int nr, float *s, const void *x, size_t xs, const void *y)    \
        {                                                                                          \
                int pd = pf_rows_ahead(GEMV_PF_BYTES, xs, 4);                                      \
                for (int r = 0; r < nr; r += 4) {                                                  \
                        const char *xr[4], *pf[4];                                                 \
                        float out[4];                                                              \
                        for (int k = 0; k < 4; k++) {                                              \
                                int p = GEMV_PF_PAST ? r + pd + k : r + pd + k < nr ? r + pd + k : nr - 1; \
                                xr[k] = (const char *)x + (size_t)(r + k < nr ? r + k : nr - 1) * xs; \
                                pf[k] = (const char *)x + (size_t)p * xs;                          \
                        }                                                                          \
                        t##_gemv4(n, out, xr, pf, y);                                              \
                        for (int k = 0; k < 4 && r + k < nr; k++)                                  \
                                s[r + k] = out[k];                                                 \
                }                                                                                  \
        }

/* As GEMV4, the activation's corrections computed first (bias types) */
#define GEMV4_Q32(t, bias)                                                                         \
        static void t##_gemv(int n, int nr, float *s, const void *x, size_t xs, const void *y)    \
        {                                                                                          \
                int pd = pf_rows_ahead(GEMV_PF_BYTES, xs, 4);                                      \
                __m256i ncb[bias ? Q32_NC_MAX : 1];                                                \
                const __m256i *nc = NULL;                                                          \
                if (bias && n / QK8_0 <= Q32_NC_MAX) {                                             \
                        q32_bias_sums(ncb, y, n / QK8_0, sizeof(struct block_q8_0),                \
                                      offsetof(struct block_q8_0, qs), bias, bias == 8 ? 4 : 0);   \
                        nc = ncb;                                                                  \
                }                                                                                  \
                for (int r = 0; r < nr; r += 4) {                                                  \
                        const char *xr[4], *pf[4];                                                 \
                        float out[4];                                                              \
                        for (int k = 0; k < 4; k++) {                                              \
                                int p = GEMV_PF_PAST ? r + pd + k : r + pd + k < nr ? r + pd + k : nr - 1; \
                                xr[k] = (const char *)x + (size_t)(r + k < nr ? r + k : nr - 1) * xs; \
                                pf[k] = (const char *)x + (size_t)p * xs;                          \
                        }                                                                          \
                        t##_gemv4(n, out, xr, pf, y, nc);                                          \
                        for (int k = 0; k < 4 && r + k < nr; k++)                                  \
                                s[r + k] = out[k];                                                 \
                }                                                                                  \
        }

GEMV4_Q32(q4_0, 8)
GEMV4_Q32(q4_1, 0)
GEMV4_Q32(q5_0, 16)
GEMV4_Q32(q5_1, 0)
GEMV4_Q32(q8_0, 128)
GEMV4(q4_k)
GEMV4(q6_k)

/* ---- SiLU gate ------------------------------------------------------------ */

/* y = g / (1 + exp(-g)) * u with the bits of op_silu_mul_ref (ops.c): the
 * same FMAs of expf_ggml on 16 lanes, and its scalbnf(j, n) as exact
 * multiplications by powers of two: j * 2^n for -126 <= n <= 127, and
 * (j * 2^127) * 2^(n - 127) above (one rounding, as scalbnf).  Below -126
 * exp(-g) < 2^-125 and 1 + exp(-g) is 1 whatever its value: 0 is used.
 * The tail (n % 16) goes to the reference, which uses expf there. */
static void silu_mul_avx512(float *y, const float *g, const float *u, int n)
{
        int i = 0, n16 = n - n % 16;
        const __m512 r = _mm512_set1_ps(0x1.8p23f), one = _mm512_set1_ps(1.0f);

        for (; i < n16; i += 16) {
                __m512 gv = _mm512_loadu_ps(g + i);
                __m512 x = _mm512_sub_ps(_mm512_setzero_ps(), gv);
                __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r), nn = _mm512_sub_ps(z, r);
                __m512 b = _mm512_fnmadd_ps(nn, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                            _mm512_fnmadd_ps(nn, _mm512_set1_ps(0x1.62e4p-1f), x));
                __m512 uu = _mm512_mul_ps(b, b);
                __m512 j = _mm512_fmadd_ps(
                        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)),
                                        uu, _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
                        uu, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, one));
                __m512i ni = _mm512_cvttps_epi32(nn); /* nn is integral (or inf / nan) */
                __mmask16 hi = _mm512_cmp_ps_mask(nn, _mm512_set1_ps(127.0f), _CMP_GT_OQ);
                __mmask16 lo = _mm512_cmp_ps_mask(nn, _mm512_set1_ps(-126.0f), _CMP_LT_OQ);
                __mmask16 inf = _mm512_cmp_ps_mask(nn, _mm512_set1_ps(192.0f), _CMP_GT_OQ);
                __m512i e = _mm512_mask_sub_epi32(ni, hi, ni, _mm512_set1_epi32(127));
                __m512 p2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(e, _mm512_set1_epi32(127)), 23));
                __m512 jj = _mm512_mask_mul_ps(j, hi, j, _mm512_set1_ps(0x1p127f));
                __m512 ev = _mm512_mul_ps(jj, p2);
                ev = _mm512_mask_mov_ps(ev, lo, _mm512_setzero_ps());
                ev = _mm512_mask_mov_ps(ev, inf, _mm512_set1_ps(__builtin_inff()));
                __m512 yv = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, ev)), _mm512_loadu_ps(u + i));
                _mm512_storeu_ps(y + i, yv);
        }
        for (; i < n; i++) /* as the reference's tail */
                y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* ---- instantiation ------------------------------------------------------- */

#define INSTANTIATE(t)                                                                     \
        static void t##_vec_dot(int n, float *s, const void *x, const void *y)             \
        {                                                                                  \
                t##_dot_n(n, s, 1, x, y, 0, 1);                                            \
        }                                                                                  \
        static void t##_vec_dot4(int n, float *s, size_t ss, const void *x, const void *y, \
                                 size_t ys)                                                \
        {                                                                                  \
                t##_dot_n(n, s, ss, x, y, ys, 4);                                          \
        }

INSTANTIATE(q8_0)
INSTANTIATE(q5_0)
INSTANTIATE(q5_1)
INSTANTIATE(q4_0)
INSTANTIATE(q4_1)
INSTANTIATE(q5_k)
INSTANTIATE(q6_k)
INSTANTIATE(f16)
INSTANTIATE(f32)

#define ENTRY(t) {.vec_dot = t##_vec_dot, .vec_dot4 = t##_vec_dot4}
#define ENTRY_G(t) {.vec_dot = t##_vec_dot, .vec_dot4 = t##_vec_dot4, .gemv = t##_gemv}
#define ENTRY_Q32(t) {.vec_dot = t##_vec_dot, .vec_dot4 = t##_vec_dot4, .gemv = t##_gemv, .mm = t##_mm}

const struct cpu_kernels cpu_kernels_avx512_raw = {
        .name = "avx512",
        .silu_mul = silu_mul_avx512,
        .q = {
                [MU_TYPE_F32] = ENTRY(f32),
                [MU_TYPE_F16] = ENTRY(f16),
                [MU_TYPE_Q4_0] = ENTRY_Q32(q4_0),
                [MU_TYPE_Q4_1] = ENTRY_Q32(q4_1),
                [MU_TYPE_Q5_0] = ENTRY_Q32(q5_0),
                [MU_TYPE_Q5_1] = ENTRY_Q32(q5_1),
                [MU_TYPE_Q8_0] = ENTRY_Q32(q8_0),
                [MU_TYPE_Q2_K] = {.mm = q2_k_mm_avx512},
                [MU_TYPE_Q3_K] = {.mm = q3_k_mm_avx512},
                [MU_TYPE_Q4_K] = {.vec_dot = q4_k_vec_dot, .vec_dot4 = q4_k_vec_dot4, .gemv = q4_k_gemv,
                                  .mm = q4_k_mm_avx512}, /* mm_kquant_avx512.c */
                [MU_TYPE_Q5_K] = {.vec_dot = q5_k_vec_dot, .vec_dot4 = q5_k_vec_dot4, .mm = q5_k_mm_avx512},
                [MU_TYPE_Q6_K] = {.vec_dot = q6_k_vec_dot, .vec_dot4 = q6_k_vec_dot4, .gemv = q6_k_gemv,
                                  .mm = q6_k_mm_avx512},
        },
};

#else
const struct cpu_kernels cpu_kernels_avx512_raw = {.name = NULL};
#endif
