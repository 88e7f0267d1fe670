/* cpu_avx512.c -- AVX-512 (F/BW/VL/DQ) + VNNI kernels; only this file is
 * built with those -m flags, and cpu.c calls it only when cpuid has them.
 * (avx512bf16 is in the build flags but not used: many VNNI CPUs lack it.)
 *
 * Each kernel is written once for NT activation rows (1 or 4) and
 * instantiated twice: vec_dot (NT = 1, token generation) and vec_dot4
 * (NT = 4, prompt processing: the weight block is decoded once for 4
 * tokens).  Products of u8 x s8 go through vpdpbusd; the K-quants multiply
 * pairs with maddubs and apply their 16-bit sub-block scales with vpdpwssd,
 * so a whole super-block is summed in int32 before one float FMA.  Entries
 * left NULL come from the AVX2 table. */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VNNI__)
#include <immintrin.h>

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
        __m256 acc[4], acc2[4];

        for (int k = 0; k < nt; k++)
                acc[k] = acc2[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK8_0; b++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)x[b].qs);
                __m256i aq = _mm256_sign_epi8(q, q);
                float dx = h2f(x[b].d);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_0 *y = (const struct block_q8_0 *)row_k(yv, ys, k) + b;
                        __m256i yy = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), q);
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), aq, yy);
                        if (b & 1)
                                acc2[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc2[k]);
                        else
                                acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(_mm256_add_ps(acc[k], acc2[k]));
}

AI void q4_0_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q4_0 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
        __m256 acc[4], acc2[4];

        for (int k = 0; k < nt; k++)
                acc[k] = acc2[k] = _mm256_setzero_ps();
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
                        if (b & 1)
                                acc2[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc2[k]);
                        else
                                acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(_mm256_add_ps(acc[k], acc2[k]));
}

/* Q4_1 x Q8_1: unsigned nibbles straight into vpdpbusd; min term via s. */
AI void q4_1_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q4_1 *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        __m256 acc[4], acc2[4];
        float ms[4] = {0, 0, 0, 0};

        for (int k = 0; k < nt; k++)
                acc[k] = acc2[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK4_1; b++) {
                __m128i t = _mm_loadu_si128((const __m128i *)x[b].qs);
                __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4);
                float dx = h2f(x[b].d), mx = h2f(x[b].m);
                for (int k = 0; k < nt; k++) {
                        const struct block_q8_1 *y = (const struct block_q8_1 *)row_k(yv, ys, k) + b;
                        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q,
                                                        _mm256_loadu_si256((const __m256i *)y->qs));
                        if (b & 1)
                                acc2[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc2[k]);
                        else
                                acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[k]);
                        ms[k] += mx * h2f(y->s);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x8(_mm256_add_ps(acc[k], acc2[k])) + ms[k];
}

/* ---- K-quants ------------------------------------------------------------ */

AI void q4_k_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q4_k *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        __m512 acc[4];
        float macc[4] = {0, 0, 0, 0};

        for (int k = 0; k < nt; k++)
                acc[k] = _mm512_setzero_ps();
        const __m512i idx = _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (int b = 0; b < n / QK_K; b++) {
                __m128i sm = k4_scales_vec(x[b].scales);
                __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm));
                __m512i sumi[4], sumi2[4];
                for (int k = 0; k < nt; k++)
                        sumi[k] = sumi2[k] = _mm512_setzero_si512();
                for (int c = 0; c < 4; c++) {
                        __m256i v = _mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * c));
                        __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(v, m4)),
                                                       _mm256_and_si256(_mm256_srli_epi16(v, 4), m4), 1);
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
                        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(dx * y->d),
                                                 _mm512_cvtepi32_ps(_mm512_add_epi32(sumi[k], sumi2[k])), acc[k]);
                        macc[k] += dmx * y->d * k4_min_dot_vec(sm, y->bsums);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x16(acc[k]) - macc[k];
}

AI void q5_k_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q5_k *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
        __m512 acc[4];
        float macc[4] = {0, 0, 0, 0};

        for (int k = 0; k < nt; k++)
                acc[k] = _mm512_setzero_ps();
        const __m512i idx = _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (int b = 0; b < n / QK_K; b++) {
                __m128i sm = k4_scales_vec(x[b].scales);
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
                        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(dx * y->d),
                                                 _mm512_cvtepi32_ps(_mm512_add_epi32(sumi[k], sumi2[k])), acc[k]);
                        macc[k] += dmx * y->d * k4_min_dot_vec(sm, y->bsums);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x16(acc[k]) - macc[k];
}

AI void q6_k_dot_n(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys, const int nt)
{
        const struct block_q6_k *x = xv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);
        /* int16 lane i of a 64-element step takes scale 4*step + i/8 */
        const __m512i idx0 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
                                              1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
        __m512 acc[4];

        for (int k = 0; k < nt; k++)
                acc[k] = _mm512_setzero_ps();
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
                        acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(dx * y->d),
                                                 _mm512_cvtepi32_ps(_mm512_add_epi32(sumi[k], sumi2[k])), acc[k]);
                }
        }
        for (int k = 0; k < nt; k++)
                s[k * ss] = hsum_f32x16(acc[k]);
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
INSTANTIATE(q4_0)
INSTANTIATE(q4_1)
INSTANTIATE(q4_k)
INSTANTIATE(q5_k)
INSTANTIATE(q6_k)
INSTANTIATE(f16)
INSTANTIATE(f32)

#define ENTRY(t) {.vec_dot = t##_vec_dot, .vec_dot4 = t##_vec_dot4}

const struct cpu_kernels cpu_kernels_avx512_raw = {
        .name = "avx512",
        .q = {
                [MU_TYPE_F32] = ENTRY(f32),
                [MU_TYPE_F16] = ENTRY(f16),
                [MU_TYPE_Q4_0] = ENTRY(q4_0),
                [MU_TYPE_Q4_1] = ENTRY(q4_1),
                [MU_TYPE_Q8_0] = ENTRY(q8_0),
                [MU_TYPE_Q4_K] = ENTRY(q4_k),
                [MU_TYPE_Q5_K] = ENTRY(q5_k),
                [MU_TYPE_Q6_K] = ENTRY(q6_k),
        },
};

#else
const struct cpu_kernels cpu_kernels_avx512_raw = {.name = NULL};
#endif
