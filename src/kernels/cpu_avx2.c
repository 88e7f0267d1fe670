/* cpu_avx2.c -- AVX2 + FMA + F16C kernels (this file alone is built with
 * those -m flags; cpu.c only calls it when cpuid says the CPU has them).
 *
 * Dot products of 8-bit activations use the usual AVX2 idiom: maddubs
 * (u8 x s8 -> s16 pairs), madd with ones or with the block's scales (s16
 * pairs -> s32), then one float FMA per block or super-block (the
 * K-quants: the scalar kernel's float steps, bit for bit).  Signed x
 * signed products go through sign_epi8 (|x| times y with x's sign).
 * Activation quantizers give the same bytes as the scalar reference.
 * Entries left NULL here come from the scalar table. */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>
#include <math.h>
#include <stddef.h>

#include "kernels/simd_x86.h"

/* ---- floats -------------------------------------------------------------- */

static void f32_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const float *x = xv, *y = yv;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        float tail = 0;

        for (; i + 32 <= n; i += 32) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
        }
        for (; i + 8 <= n; i += 8)
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        for (; i < n; i++)
                tail += x[i] * y[i];
        *s = hsum_f32x8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + tail;
}

static void f16_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const uint16_t *x = xv;
        const float *y = yv;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        float tail = 0;

#define H8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
        for (; i + 32 <= n; i += 32) {
                a0 = _mm256_fmadd_ps(H8(x + i), _mm256_loadu_ps(y + i), a0);
                a1 = _mm256_fmadd_ps(H8(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
                a2 = _mm256_fmadd_ps(H8(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
                a3 = _mm256_fmadd_ps(H8(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
        }
        for (; i + 8 <= n; i += 8)
                a0 = _mm256_fmadd_ps(H8(x + i), _mm256_loadu_ps(y + i), a0);
#undef H8
        for (; i < n; i++)
                tail += h2f(x[i]) * y[i];
        *s = hsum_f32x8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + tail;
}

static inline __m256 bf16x8(const uint16_t *p)
{
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static void bf16_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const uint16_t *x = xv;
        const float *y = yv;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        int i = 0;
        float tail = 0;

        for (; i + 16 <= n; i += 16) {
                a0 = _mm256_fmadd_ps(bf16x8(x + i), _mm256_loadu_ps(y + i), a0);
                a1 = _mm256_fmadd_ps(bf16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        }
        for (; i < n; i++)
                tail += mu_bf16_to_fp32(x[i]) * y[i];
        *s = hsum_f32x8(_mm256_add_ps(a0, a1)) + tail;
}

static void f16_to_float(const void *xv, float *y, int64_t n)
{
        const uint16_t *x = xv;
        int64_t i = 0;

        for (; i + 8 <= n; i += 8)
                _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
        for (; i < n; i++)
                y[i] = h2f(x[i]);
}

/* ---- activation quantizers ----------------------------------------------- */

static void q8_0_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_0 *y = yv;

        for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0) {
                float d;
                __m256i q = quant32_roundf(x, &d);
                y[b].d = f2h(d);
                _mm256_storeu_si256((__m256i *)y[b].qs, q);
        }
}

static void q8_1_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_1 *y = yv;

        for (int64_t b = 0; b < n / QK8_1; b++, x += QK8_1) {
                float d;
                __m256i q = quant32_roundf(x, &d);
                __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
                int sum = hsum_i32x8(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)));
                y[b].d = f2h(d);
                y[b].s = f2h((float)sum * d);
                _mm256_storeu_si256((__m256i *)y[b].qs, q);
        }
}

static void q8_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_k *y = yv;

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K)
                quant256_q8k(x, &y[b]);
}

/* ---- 32-blocks ----------------------------------------------------------- */

/* 16 bytes of nibbles -> 32 bytes: low nibbles then high nibbles. */
static inline __m256i nibbles32(const uint8_t *p)
{
        /* the 16 bytes in both lanes, the high lane shifted right by 4: two
         * vector ops besides the load, where a shift of the 128-bit half and
         * an insert took three (+18% on the AVX2 Q4_0 gemv, Zen 3) */
        __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));

        v = _mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4));
        return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* s8 x s8 dot of 32 bytes, as 8 s32 lanes. */
static inline __m256i dot_s8(__m256i x, __m256i y)
{
        __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
        return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* u8 x s8 dot of 32 bytes, as 8 s32 lanes. */
static inline __m256i dot_u8(__m256i x, __m256i y)
{
        return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

static void q4_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_0 *x = xv;
        const struct block_q8_0 *y = yv;
        __m256 acc = _mm256_setzero_ps();

        for (int b = 0; b < n / QK4_0; b++) {
                __m256i q = _mm256_sub_epi8(nibbles32(x[b].qs), _mm256_set1_epi8(8));
                __m256i p = dot_s8(q, _mm256_loadu_si256((const __m256i *)y[b].qs));
                __m256 d = _mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d));
                acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
        }
        *s = hsum_f32x8(acc);
}

static void q4_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_1 *x = xv;
        const struct block_q8_1 *y = yv;
        __m256 acc = _mm256_setzero_ps();
        float ms = 0;

        for (int b = 0; b < n / QK4_1; b++) {
                __m256i p = dot_u8(nibbles32(x[b].qs), _mm256_loadu_si256((const __m256i *)y[b].qs));
                __m256 d = _mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d));
                acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
                float mp = h2f(x[b].m) * h2f(y[b].s); /* rounded, then added: no FMA */
                ms += mp;
        }
        *s = hsum_f32x8(acc) + ms;
}

/* The 32 fifth bits of a Q5 block as 0x10 / 0x00 bytes. */
static inline __m256i q5_high(const uint8_t *qh)
{
        uint32_t h;
        memcpy(&h, qh, 4);
        __m256i v = _mm256_set1_epi32((int)h);
        /* byte i takes byte i/8 of h, then tests bit i%8 */
        const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                               0x0101010101010101, 0x0000000000000000);
        const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
        v = _mm256_shuffle_epi8(v, shuf);
        v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
        return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* A 32-element block's codes as signed bytes in element order: Q8_0's as
 * they are, Q4 / Q5 nibbles (plus the fifth bits, qh_off >= 0) minus bias
 * (0 for Q4_1 / Q5_1, whose codes stay unsigned). */
static inline __attribute__((always_inline)) __m256i q32_block_codes(const uint8_t *x, const int qs_off,
                                                                     const int qh_off, const int bias, const int q8)
{
        if (q8)
                return _mm256_loadu_si256((const __m256i *)(x + qs_off));
        __m256i q = nibbles32(x + qs_off);
        if (qh_off >= 0)
                q = _mm256_or_si256(q, q5_high(x + qh_off));
        if (bias)
                q = _mm256_sub_epi8(q, _mm256_set1_epi8((char)bias));
        return q;
}

/* 4 tokens against one weight row, each block decoded once: each token's
 * sum is that of vec_dot (one FMA per block and lane in block order, the
 * m * s terms summed apart).  Q4_0 / Q5_0 / Q8_0 (signed codes, Q8_0
 * activations) or, one, Q4_1 / Q5_1 (unsigned, Q8_1). */
static inline __attribute__((always_inline)) void q32_dot4(int n, float *s, size_t ss, const void *xv,
                                                           const void *yv, size_t ys, const size_t bs,
                                                           const int qs_off, const int qh_off, const int bias,
                                                           const int one, const int q8)
{
        const size_t ybs = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yq = one ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        __m256 acc[4];
        float ms[4] = {0, 0, 0, 0};

        for (int k = 0; k < 4; k++)
                acc[k] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK8_0; b++) {
                const uint8_t *x = (const uint8_t *)xv + (size_t)b * bs;
                uint16_t hd, hm = 0;
                __m256i q = q32_block_codes(x, qs_off, qh_off, bias, q8);
                __m256i aq = _mm256_sign_epi8(q, q);
                memcpy(&hd, x, 2);
                if (one)
                        memcpy(&hm, x + 2, 2);
                float dx = h2f(hd), mx = h2f(hm);
                for (int k = 0; k < 4; k++) {
                        const uint8_t *y = (const uint8_t *)yv + (size_t)k * ys + (size_t)b * ybs;
                        uint16_t yd, ysum;
                        memcpy(&yd, y, 2);
                        __m256i yy = _mm256_loadu_si256((const __m256i *)(y + yq)), p;
                        if (one)
                                p = dot_u8(q, yy);
                        else
                                p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(yy, q)), _mm256_set1_epi16(1));
                        acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(yd)), _mm256_cvtepi32_ps(p), acc[k]);
                        if (one) {
                                memcpy(&ysum, y + 2, 2);
                                float mp = mx * h2f(ysum); /* rounded, then added: no FMA */
                                ms[k] += mp;
                        }
                }
        }
        for (int k = 0; k < 4; k++)
                s[k * ss] = one ? hsum_f32x8(acc[k]) + ms[k] : hsum_f32x8(acc[k]);
}

#define Q32_DOT4(t, T, qh, bias, one, q8)                                                                    \
        static void t##_vec_dot4(int n, float *s, size_t ss, const void *x, const void *y, size_t ys)         \
        {                                                                                                    \
                q32_dot4(n, s, ss, x, y, ys, sizeof(struct T), offsetof(struct T, qs), qh, bias, one, q8);   \
        }
Q32_DOT4(q4_0, block_q4_0, -1, 8, 0, 0)
Q32_DOT4(q4_1, block_q4_1, -1, 0, 1, 0)
Q32_DOT4(q5_0, block_q5_0, offsetof(struct block_q5_0, qh), 16, 0, 0)
Q32_DOT4(q5_1, block_q5_1, offsetof(struct block_q5_1, qh), 0, 1, 0)
Q32_DOT4(q8_0, block_q8_0, -1, 0, 0, 1)

static void q5_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_0 *x = xv;
        const struct block_q8_0 *y = yv;
        __m256 acc = _mm256_setzero_ps();

        for (int b = 0; b < n / QK5_0; b++) {
                __m256i q = _mm256_or_si256(nibbles32(x[b].qs), q5_high(x[b].qh));
                q = _mm256_sub_epi8(q, _mm256_set1_epi8(16));
                __m256i p = dot_s8(q, _mm256_loadu_si256((const __m256i *)y[b].qs));
                __m256 d = _mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d));
                acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
        }
        *s = hsum_f32x8(acc);
}

static void q5_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_1 *x = xv;
        const struct block_q8_1 *y = yv;
        __m256 acc = _mm256_setzero_ps();
        float ms = 0;

        for (int b = 0; b < n / QK5_1; b++) {
                __m256i q = _mm256_or_si256(nibbles32(x[b].qs), q5_high(x[b].qh));
                __m256i p = dot_u8(q, _mm256_loadu_si256((const __m256i *)y[b].qs));
                __m256 d = _mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d));
                acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
                float mp = h2f(x[b].m) * h2f(y[b].s); /* rounded, then added: no FMA */
                ms += mp;
        }
        *s = hsum_f32x8(acc) + ms;
}

static void q8_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q8_0 *x = xv, *y = yv;
        __m256 acc = _mm256_setzero_ps();

        for (int b = 0; b < n / QK8_0; b++) {
                __m256i p = dot_s8(_mm256_loadu_si256((const __m256i *)x[b].qs),
                                   _mm256_loadu_si256((const __m256i *)y[b].qs));
                __m256 d = _mm256_set1_ps(h2f(x[b].d) * h2f(y[b].d));
                acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
        }
        *s = hsum_f32x8(acc);
}

/* ---- K-quants ------------------------------------------------------------ */

/* Sum over the 8 groups of 32 of min_j * (bsums[2j] + bsums[2j+1]). */
static inline int k4_min_sum(const uint8_t *mins, const int16_t *bsums)
{
        int s = 0;

        for (int j = 0; j < 8; j++)
                s += mins[j] * (bsums[2 * j] + bsums[2 * j + 1]);
        return s;
}

/* Q4_K with the scalar kernels' bits (quant.c q4_k_dot_span, llama.cpp's
 * repacked x86 order): per super-block (vec_dot) or per pair of sub-blocks
 * (vec_dot4) the integer totals isum = sum_j sc_j * (q . y)_j and
 * msum = sum_j m_j * bsum_j go through one FMA each into their own f32
 * accumulator, scaled by d * d8 and dmin * d8; the result is the
 * difference. */

/* the integer part of one 64-value step c of a Q4_K block: sub-blocks
 * 2c (low nibbles) and 2c + 1 (high), scaled, as 8 int32 lanes */
static inline __m256i q4_k_step_sumi(const uint8_t *q, const int8_t *q8, const uint8_t *sc, int c)
{
        __m256i v = _mm256_loadu_si256((const __m256i *)(q + 32 * c));
        __m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
        return _mm256_add_epi32(_mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * c])),
                                _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * c + 1])));
}

static void q4_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_k *x = xv;
        const struct block_q8_k *y = yv;
        float acc = 0, accm = 0;

        for (int b = 0; b < n / QK_K; b++) {
                uint8_t sc[8], mn[8];
                for (int j = 0; j < 8; j++)
                        quant_k4_scale_min(j, x[b].scales, &sc[j], &mn[j]);
                __m256i sumi = _mm256_setzero_si256();
                for (int c = 0; c < 4; c++)
                        sumi = _mm256_add_epi32(sumi, q4_k_step_sumi(x[b].qs, y[b].qs, sc, c));
                float dd = h2f(x[b].d) * y[b].d, dm = h2f(x[b].dmin) * y[b].d;
                acc = fmaf((float)hsum_i32x8(sumi), dd, acc);
                accm = fmaf((float)k4_min_sum(mn, y[b].bsums), dm, accm);
        }
        *s = acc - accm;
}

/* The totals of four int32 vectors a, b, c, d as [a, b, c, d] (integer
 * sums: exact in any order). */
static inline __m128i kq_isum4_256(__m256i a, __m256i b, __m256i c, __m256i d)
{
        __m256i ab = _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
        __m256i cd = _mm256_add_epi32(_mm256_unpacklo_epi32(c, d), _mm256_unpackhi_epi32(c, d));
        __m256i v = _mm256_add_epi32(_mm256_unpacklo_epi64(ab, cd), _mm256_unpackhi_epi64(ab, cd));
        return _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* 4 tokens: their accumulators in the lanes of one vector, an FMA per
 * pair of sub-blocks. */
static void q4_k_vec_dot4(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys)
{
        const struct block_q4_k *x = xv;
        __m128 acc = _mm_setzero_ps(), accm = _mm_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                const struct block_q8_k *y[4];
                __m128i mp[4];
                uint8_t sc[8];
                for (int k = 0; k < 4; k++)
                        y[k] = (const struct block_q8_k *)((const char *)yv + (size_t)k * ys) + b;
                __m128i sm = k4_scales_xmm(x[b].scales);
                __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
                _mm_storel_epi64((__m128i *)sc, sm);
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
                        __m256i p[4];
                        for (int k = 0; k < 4; k++)
                                p[k] = q4_k_step_sumi(x[b].qs, y[k]->qs, sc, c);
                        acc = _mm_fmadd_ps(_mm_cvtepi32_ps(kq_isum4_256(p[0], p[1], p[2], p[3])), dd, acc);
                        accm = _mm_fmadd_ps(_mm_cvtepi32_ps(mp[c]), dm, accm);
                }
        }
        float r[4];
        _mm_storeu_ps(r, _mm_sub_ps(acc, accm));
        for (int k = 0; k < 4; k++)
                s[k * ss] = r[k];
}

/* Q5_K with the scalar kernel's bits (quant.c k4_dot): the super-block's
 * integer totals, then y.d * (d * isum - dmin * msum) added in order. */
static void q5_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_k *x = xv;
        const struct block_q8_k *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                uint8_t sc[8], mn[8];
                for (int j = 0; j < 8; j++)
                        quant_k4_scale_min(j, x[b].scales, &sc[j], &mn[j]);
                const uint8_t *q = x[b].qs;
                const int8_t *q8 = y[b].qs;
                __m256i qh = _mm256_loadu_si256((const __m256i *)x[b].qh);
                const __m256i one = _mm256_set1_epi8(1), m4 = _mm256_set1_epi8(0x0f);
                __m256i sumi = _mm256_setzero_si256();
                for (int c = 0; c < 4; c++) {
                        __m256i v = _mm256_loadu_si256((const __m256i *)(q + 32 * c));
                        __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, one), 4);
                        __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4);
                        qh = _mm256_srli_epi16(qh, 2);
                        __m256i lo = _mm256_or_si256(_mm256_and_si256(v, m4), h0);
                        __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), h1);
                        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
                        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
                        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, _mm256_set1_epi16(sc[2 * c])));
                        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, _mm256_set1_epi16(sc[2 * c + 1])));
                }
                float isum = (float)hsum_i32x8(sumi), msum = (float)k4_min_sum(mn, y[b].bsums);
                sum = kq_dmin_add(sum, y[b].d, h2f(x[b].d), isum, h2f(x[b].dmin), msum);
        }
        *s = sum;
}

/* Q6_K with the scalar kernel's bits (quant.c q6_k_vec_dot): int32 lane l
 * of every 32-value run holds its values 4l..4l+3, the -32 bias per lane;
 * an FMA per lane and super-block, the lanes summed as lanes8_sum. */
static void q6_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q6_k *x = xv;
        const struct block_q8_k *y = yv;
        __m256 acc = _mm256_setzero_ps();
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);

        for (int b = 0; b < n / QK_K; b++) {
                const int8_t *sc = x[b].scales;
                /* lane l starts at -32 * (sc . bsum) of groups 2l, 2l + 1 */
                __m256i bias = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc)),
                                                 _mm256_loadu_si256((const __m256i *)y[b].bsums));
                __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias, 5));
                for (int h = 0; h < 2; h++) {
                        const uint8_t *ql = x[b].ql + 64 * h;
                        const int8_t *q8 = y[b].qs + 128 * h;
                        const int8_t *s8 = sc + 8 * h;
                        __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                        __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                        __m256i hb = _mm256_loadu_si256((const __m256i *)(x[b].qh + 32 * h));
                        __m256i q[4];
                        q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m3));
                        q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m3));
                        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m3));
                        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                               _mm256_and_si256(_mm256_srli_epi16(hb, 2), m3));
                        for (int k = 0; k < 4; k++) {
                                __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                                __m256i scv = _mm256_set_m128i(_mm_set1_epi16(s8[2 * k + 1]), _mm_set1_epi16(s8[2 * k]));
                                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scv));
                        }
                }
                float d = h2f(x[b].d) * y[b].d;
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        }
        *s = hsum_f32x8(acc);
}

static void q8_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q8_k *x = xv, *y = yv;
        __m256 acc = _mm256_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                __m256i sumi = _mm256_setzero_si256();
                for (int k = 0; k < 8; k++)
                        sumi = _mm256_add_epi32(sumi, dot_s8(_mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * k)),
                                                             _mm256_loadu_si256((const __m256i *)(y[b].qs + 32 * k))));
                acc = _mm256_fmadd_ps(_mm256_set1_ps(x[b].d * y[b].d), _mm256_cvtepi32_ps(sumi), acc);
        }
        *s = hsum_f32x8(acc);
}

/* ---- gemv: several weight rows against one activation row ----------------
 *
 * K-quants and floats: each kernel is written once for NR rows (NR a constant 1..4 after
 * inlining) and wrapped by a driver that walks the rows NR at a time and
 * finishes the rest one by one.  A row's arithmetic is the same whatever NR
 * is, so results never depend on how rows were split over threads.  Per
 * activation block, what depends only on the activation (its scale, the
 * correction for unsigned weight codes, the K-quant block sums) is computed
 * once for all NR rows; NR independent accumulators hide FMA latency. */

#define AI static inline __attribute__((always_inline))
#define XROW(T, xv, xs, r) ((const T *)((const char *)(xv) + (size_t)(r) * (xs)))

/* madd of 16 s16 pairs with ones: 8 s32 lanes */
static inline __m256i sum_pairs(__m256i p)
{
        return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* the low 8 bytes of v (h = 0) or its high 8 bytes (h = 1) */
static inline __m128i half64(__m128i v, int h)
{
        return h ? _mm_unpackhi_epi64(v, v) : v;
}

/* set1_epi16 of int16 lane j (0..7) of each 128-bit lane, by byte shuffle */
static inline __m256i lane16(int j)
{
        return _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j)));
}

/* low 128-bit lane: int16 lane j; high lane: int16 lane j + 1 */
static inline __m256i lane16_pair(int j)
{
        return _mm256_set_m128i(_mm_set1_epi16((short)(((2 * j + 3) << 8) | (2 * j + 2))),
                                _mm_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

/* The Q4_K / Q5_K super-block: 8 groups of 32 with 6-bit scale and min. */
AI __m256i k4_block_sumi(const uint8_t *qs, const uint8_t *qh, __m256i sc, const int8_t *q8, const int five)
{
        const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
        __m256i sumi = _mm256_setzero_si256(), h = _mm256_setzero_si256();

        if (five)
                h = _mm256_loadu_si256((const __m256i *)qh);
        _Pragma("GCC unroll 4")
        for (int c = 0; c < 4; c++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                __m256i lo = _mm256_and_si256(v, m4);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if (five) {
                        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
                        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 1), one), 4));
                        h = _mm256_srli_epi16(h, 2);
                }
                __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
                __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
                p0 = _mm256_madd_epi16(p0, _mm256_shuffle_epi8(sc, lane16(2 * c)));
                p1 = _mm256_madd_epi16(p1, _mm256_shuffle_epi8(sc, lane16(2 * c + 1)));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        return sumi;
}

/* Q5_K, each row with the bits of the scalar vec_dot (quant.c k4_dot): the
 * super-block's integer totals (codes, mins) reduced exactly, then
 * y.d * (d * isum - dmin * msum) added in order. */
AI void q5_k_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        const struct block_q8_k *y = yv;
        float acc[4];

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                acc[r] = 0;
        for (int b = 0; b < n / QK_K; b++) {
                /* pair sums of the 16 bsums: one per group of 32 */
                __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[b].bsums),
                                               _mm_loadu_si128((const __m128i *)(y[b].bsums + 8)));
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const struct block_q5_k *x = XROW(struct block_q5_k, xv, xs, r) + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        __m128i sm = k4_scales_xmm(x->scales);
                        __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                        __m256i sumi = k4_block_sumi(x->qs, x->qh, sc, y[b].qs, 1);
                        __m128i mp = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), pairs);
                        mp = _mm_add_epi32(mp, _mm_shuffle_epi32(mp, 0x4e));
                        mp = _mm_add_epi32(mp, _mm_shuffle_epi32(mp, 0xb1));
                        float isum = (float)hsum_i32x8(sumi), msum = (float)_mm_cvtsi128_si32(mp);
                        acc[r] = kq_dmin_add(acc[r], y[b].d, h2f(x->d), isum, h2f(x->dmin), msum);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++)
                s[r] = acc[r];
}

/* Q4_K, 4 rows, with the bits of the scalar vec_dot (see q4_k_vec_dot):
 * per super-block the 4 rows' integer totals (codes and min terms) meet in
 * the lanes of one vector and go through one FMA each into the 4 rows'
 * accumulators. */
AI void q4_k_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        const struct block_q8_k *y = yv;
        __m128 acc = _mm_setzero_ps(), accm = _mm_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[b].bsums),
                                               _mm_loadu_si128((const __m128i *)(y[b].bsums + 8)));
                __m256i sumi[4];
                __m128i mp[4];
                uint32_t dd[4];
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        const struct block_q4_k *x = (const struct block_q4_k *)xr[r] + b;
                        pf_lines(pf[r] + (size_t)b * sizeof(*x), sizeof(*x));
                        __m128i sm = k4_scales_xmm(x->scales);
                        __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                        sumi[r] = k4_block_sumi(x->qs, NULL, sc, y[b].qs, 0);
                        mp[r] = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(sm, 8)), pairs);
                        memcpy(&dd[r], &x->d, 4); /* d, dmin */
                }
                __m128i isum = kq_isum4_256(sumi[0], sumi[1], sumi[2], sumi[3]);
                __m128i msum = _mm_hadd_epi32(_mm_hadd_epi32(mp[0], mp[1]), _mm_hadd_epi32(mp[2], mp[3]));
                /* d0 dmin0 d1 dmin1 ... times the activation's d */
                __m256 dm = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dd)), _mm256_set1_ps(y[b].d));
                __m128 lo = _mm256_castps256_ps128(dm), hi = _mm256_extractf128_ps(dm, 1);
                acc = _mm_fmadd_ps(_mm_cvtepi32_ps(isum), _mm_shuffle_ps(lo, hi, 0x88), acc);
                accm = _mm_fmadd_ps(_mm_cvtepi32_ps(msum), _mm_shuffle_ps(lo, hi, 0xdd), accm);
        }
        _mm_storeu_ps(s, _mm_sub_ps(acc, accm));
}

/* Q6_K: codes 0..63 unsigned, value code - 32; the -32 goes in through the
 * block sums (scale . bsums, per row), kept as a vector. */
AI void q6_k_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        const struct block_q8_k *y = yv;
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);
        __m256 acc[4];

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                acc[r] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK_K; b++) {
                __m256i bsums = _mm256_loadu_si256((const __m256i *)y[b].bsums);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const struct block_q6_k *x = XROW(struct block_q6_k, xv, xs, r) + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        __m128i sc8 = _mm_loadu_si128((const __m128i *)x->scales);
                        __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
                        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bsums), 5);
                        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
                        _Pragma("GCC unroll 4")
                        for (int h = 0; h < 2; h++) {
                                const uint8_t *ql = x->ql + 64 * h;
                                const int8_t *q8 = y[b].qs + 128 * h;
                                /* this half's 8 scales as int16, in both lanes */
                                __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half64(sc8, h)));
                                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                                __m256i hb = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
                                __m256i q[4];
                                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m3));
                                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m3));
                                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m3));
                                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                       _mm256_and_si256(_mm256_srli_epi16(hb, 2), m3));
                                _Pragma("GCC unroll 4")
                                for (int k = 0; k < 4; k++) {
                                        __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                                        p = _mm256_madd_epi16(p, _mm256_shuffle_epi8(sc, lane16_pair(2 * k)));
                                        sumi = _mm256_add_epi32(sumi, p);
                                }
                        }
                        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x->d) * y[b].d), _mm256_cvtepi32_ps(sumi), acc[r]);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++)
                s[r] = hsum_f32x8(acc[r]);
}

/* Q2_K: codes 0..3 with a 4-bit scale and 4-bit min per 16 elements;
 * value = d * sc * code - dmin * min.  The bits of the scalar vec_dot: the
 * super-block's integer totals, then y.d * (d * isum - dmin * msum). */
AI void q2_k_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        const struct block_q8_k *y = yv;
        const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(0x0f);
        float acc[4];

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                acc[r] = 0;
        for (int b = 0; b < n / QK_K; b++) {
                __m256i bsums = _mm256_loadu_si256((const __m256i *)y[b].bsums);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const struct block_q2_k *x = XROW(struct block_q2_k, xv, xs, r) + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        __m128i sb = _mm_loadu_si128((const __m128i *)x->scales);
                        __m128i sc8 = _mm_and_si128(sb, _mm256_castsi256_si128(m4));
                        __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm256_castsi256_si128(m4)));
                        __m256i msum = _mm256_madd_epi16(mins, bsums);
                        __m256i sumi = _mm256_setzero_si256();
                        _Pragma("GCC unroll 4")
                        for (int h = 0; h < 2; h++) {
                                __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
                                __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(half64(sc8, h)));
                                const int8_t *q8 = y[b].qs + 128 * h;
                                _Pragma("GCC unroll 4")
                                for (int j = 0; j < 4; j++) {
                                        __m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3);
                                        __m256i p = _mm256_maddubs_epi16(c, _mm256_loadu_si256((const __m256i *)(q8 + 32 * j)));
                                        p = _mm256_madd_epi16(p, _mm256_shuffle_epi8(sc, lane16_pair(2 * j)));
                                        sumi = _mm256_add_epi32(sumi, p);
                                }
                        }
                        float isum = (float)hsum_i32x8(sumi), fmsum = (float)hsum_i32x8(msum);
                        acc[r] = kq_dmin_add(acc[r], y[b].d, h2f(x->d), isum, h2f(x->dmin), fmsum);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++)
                s[r] = acc[r];
}

/* Q3_K: code = low2 - (high bit clear ? 4 : 0), signed 6-bit scale per 16.
 * The bits of the scalar vec_dot: the super-block's integer total, then
 * d * y.d * isum. */
AI void q3_k_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        const struct block_q8_k *y = yv;
        const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
        float acc[4];

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                acc[r] = 0;
        for (int b = 0; b < n / QK_K; b++) {
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const struct block_q3_k *x = XROW(struct block_q3_k, xv, xs, r) + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        int8_t scv[16];
                        quant_k3_scales(x->scales, scv);
                        __m128i sc8 = _mm_loadu_si128((const __m128i *)scv);
                        __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
                        __m256i sumi = _mm256_setzero_si256();
                        _Pragma("GCC unroll 4")
                        for (int h = 0; h < 2; h++) {
                                __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * h));
                                __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half64(sc8, h)));
                                const int8_t *q8 = y[b].qs + 128 * h;
                                _Pragma("GCC unroll 4")
                                for (int j = 0; j < 4; j++) {
                                        __m256i yy = _mm256_loadu_si256((const __m256i *)(q8 + 32 * j));
                                        __m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * j), m3);
                                        __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + j)));
                                        __m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), _mm256_setzero_si256());
                                        __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(c, yy),
                                                                     _mm256_maddubs_epi16(_mm256_and_si256(clear, four), yy));
                                        p = _mm256_madd_epi16(p, _mm256_shuffle_epi8(sc, lane16_pair(2 * j)));
                                        sumi = _mm256_add_epi32(sumi, p);
                                }
                        }
                        float dd = h2f(x->d) * y[b].d; /* own statement: no contraction */
                        float t = dd * (float)hsum_i32x8(sumi);
                        acc[r] += t;
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++)
                s[r] = acc[r];
}

/* F16 / BF16 x F32: each 8 activations loaded once for NR rows. */
static inline __m256 f16x8(const uint16_t *p)
{
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

AI void f16_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        (void)pfo; /* streamed in order: the hardware prefetcher keeps up */
        const float *y = yv;
        __m256 a0[4], a1[4];
        int i = 0;

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                a0[r] = a1[r] = _mm256_setzero_ps();
        for (; i + 16 <= n; i += 16) {
                __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const uint16_t *x = XROW(uint16_t, xv, xs, r) + i;
                        a0[r] = _mm256_fmadd_ps(f16x8(x), y0, a0[r]);
                        a1[r] = _mm256_fmadd_ps(f16x8(x + 8), y1, a1[r]);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++) {
                const uint16_t *x = XROW(uint16_t, xv, xs, r);
                float t = hsum_f32x8(_mm256_add_ps(a0[r], a1[r]));
                for (int j = i; j < n; j++)
                        t += h2f(x[j]) * y[j];
                s[r] = t;
        }
}

AI void bf16_gemv_n(int n, float *s, const void *xv, size_t xs, const void *yv, const int nr, const size_t pfo)
{
        (void)pfo; /* streamed in order: the hardware prefetcher keeps up */
        const float *y = yv;
        __m256 a0[4], a1[4];
        int i = 0;

        _Pragma("GCC unroll 4")

        for (int r = 0; r < nr; r++)
                a0[r] = a1[r] = _mm256_setzero_ps();
        for (; i + 16 <= n; i += 16) {
                __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < nr; r++) {
                        const uint16_t *x = XROW(uint16_t, xv, xs, r) + i;
                        a0[r] = _mm256_fmadd_ps(bf16x8(x), y0, a0[r]);
                        a1[r] = _mm256_fmadd_ps(bf16x8(x + 8), y1, a1[r]);
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < nr; r++) {
                const uint16_t *x = XROW(uint16_t, xv, xs, r);
                float t = hsum_f32x8(_mm256_add_ps(a0[r], a1[r]));
                for (int j = i; j < n; j++)
                        t += mu_bf16_to_fp32(x[j]) * y[j];
                s[r] = t;
        }
}

/* Rows per kernel call for the K-quants and floats (measured with
 * bench/bench_kernels, gen vs dot columns); the 32-element block types and
 * Q4_K (q4_k_gemv4_avx2) use the 4-row driver below. */
#define GEMV(t, NR)                                                                              \
        static void t##_gemv(int n, int nr, float *s, const void *x, size_t xs, const void *y)  \
        {                                                                                        \
                int r = 0;                                                                       \
                size_t pfo = (size_t)pf_rows_ahead(GEMV_PF_BYTES, xs, NR) * xs;                  \
                for (; r + NR <= nr; r += NR)                                                    \
                        t##_gemv_n(n, s + r, (const char *)x + (size_t)r * xs, xs, y, NR, pfo);  \
                for (; r < nr; r++)                                                              \
                        t##_gemv_n(n, s + r, (const char *)x + (size_t)r * xs, xs, y, 1, pfo);   \
        }

GEMV(q2_k, 2)
GEMV(q3_k, 2)
GEMV(q5_k, 2)
GEMV(q6_k, 2)
GEMV(f16, 2)
GEMV(bf16, 2)

/* ---- 4-row gemv for the 32-element block types (and Q4_K) -----------------
 *
 * As in cpu_avx512.c: 4 rows share each activation block, 4 accumulators,
 * and the block scales are not converted one at a time in the inner loop:
 * per segment of SEG2 blocks a pre-pass copies each row's d (and m) halves
 * to a small array, converts 8 at a time (F16C) and multiplies by the
 * activation scales.  The driver runs the 4-row kernel on every group, a
 * tail repeating its last row, so a row's bits never depend on nr. */

#define SEG2 64

/* The halves at q + k * st (lanes 0-3) and q2 + k * st (lanes 4-7), k < 4,
 * by scalar loads inserted into one vector, for one vcvtph2ps.  Not a
 * vpgatherdd: on AMD cores (Zen 3) the gather took ~60% of the Q4_0 gemv
 * and halved its speed; the inserts cost ~1 uop a half. */
AI uint16_t ld16(const char *p)
{
        uint16_t h;

        memcpy(&h, p, 2);
        return h;
}

AI __m128i halves8(const char *q, const char *q2, size_t st)
{
        __m128i h = _mm_cvtsi32_si128(ld16(q));

        h = _mm_insert_epi16(h, ld16(q + st), 1);
        h = _mm_insert_epi16(h, ld16(q + 2 * st), 2);
        h = _mm_insert_epi16(h, ld16(q + 3 * st), 3);
        h = _mm_insert_epi16(h, ld16(q2), 4);
        h = _mm_insert_epi16(h, ld16(q2 + st), 5);
        h = _mm_insert_epi16(h, ld16(q2 + 2 * st), 6);
        return _mm_insert_epi16(h, ld16(q2 + 3 * st), 7);
}

/* halves at p + i * bs (i < m) -> float, zero up to a multiple of 8 */
AI void halves_f32(float *out, const char *p, size_t bs, int m)
{
        int i = 0;

        for (; i + 8 <= m; i += 8) {
                const char *q = p + (size_t)i * bs;
                _mm256_storeu_ps(out + i, _mm256_cvtph_ps(halves8(q, q + 4 * bs, bs)));
        }
        if (i < m) { /* a row's last few blocks, highest first */
                __m128i h = _mm_setzero_si128();
                for (int k = m - 1; k >= i; k--)
                        h = _mm_insert_epi16(_mm_bslli_si128(h, 2), ld16(p + (size_t)k * bs), 0);
                _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
        }
}

/* Q4_0 / Q5_0 x Q8_0 (d first; qs at qs_off, [qh at qh_off]): unsigned codes
 * into maddubs, minus bias * sum(y) per activation block; with mo >= 0
 * (Q4_1 / Q5_1 x Q8_1: m at offset mo) no bias, plus m * s per block.
 * Each row gets the scalar vec_dot's bits (quant.c, llama.cpp's order): 8
 * lanes of 4 products, an FMA per block with dx * dy rounded first,
 * hsum_f32x8, and the m * s products summed one by one in block order. */
AI void nib_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv, const size_t bs, const int qs_off,
                       const int qh_off, const int bias, const int mo)
{
        const size_t ybs = mo >= 0 ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yqs = mo >= 0 ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        const __m256i cb = _mm256_set1_epi8((char)bias);
        int nb = n / QK8_0;
        __m256 acc[4];
        __m128 ms = _mm_setzero_ps(); /* m * s sums, lane r = row r */
        float dy[SEG2] __attribute__((aligned(32))), sy[SEG2] __attribute__((aligned(32)));
        float sc[4][SEG2] __attribute__((aligned(32))), mt[SEG2][4] __attribute__((aligned(32)));
        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                acc[r] = _mm256_setzero_ps();
        for (int b0 = 0; b0 < nb; b0 += SEG2) {
                int m = nb - b0 < SEG2 ? nb - b0 : SEG2;
                const char *yb = (const char *)yv + (size_t)b0 * ybs;
                halves_f32(dy, yb, ybs, m);
                if (mo >= 0)
                        halves_f32(sy, yb + 2, ybs, m);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        const char *xb = xr[r] + (size_t)b0 * bs;
                        halves_f32(sc[r], xb, bs, m);
                        for (int i = 0; i < m; i += 8)
                                _mm256_storeu_ps(sc[r] + i, _mm256_mul_ps(_mm256_loadu_ps(sc[r] + i), _mm256_loadu_ps(dy + i)));
                }
                if (mo >= 0) /* mt[i] = m * s of block i of rows 0..3, for the
                              * main loop to add in block order: each row's m
                              * halves (8 blocks) times s, the 4 x 8 products
                              * transposed; blocks past m give zeros */
                        for (int i = 0; i < m; i += 8) {
                                __m256 v[4];
                                _Pragma("GCC unroll 4")
                                for (int r = 0; r < 4; r++) {
                                        float t8[8] __attribute__((aligned(32)));
                                        halves_f32(t8, xr[r] + (size_t)(b0 + i) * bs + mo, bs, m - i < 8 ? m - i : 8);
                                        v[r] = _mm256_mul_ps(_mm256_load_ps(t8), _mm256_load_ps(sy + i));
                                }
                                __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
                                __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
                                __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
                                __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
                                _mm256_store_ps(mt[i], _mm256_permute2f128_ps(u0, u1, 0x20));
                                _mm256_store_ps(mt[i + 2], _mm256_permute2f128_ps(u2, u3, 0x20));
                                _mm256_store_ps(mt[i + 4], _mm256_permute2f128_ps(u0, u1, 0x31));
                                _mm256_store_ps(mt[i + 6], _mm256_permute2f128_ps(u2, u3, 0x31));
                        }
                for (int i = 0; i < m; i++) {
                        const int8_t *yq = (const int8_t *)(yb + (size_t)i * ybs + yqs);
                        if (i % 2 == 0) /* 2 blocks, <= 48 bytes: the line that starts in them, if one does */
                                _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)
                                        pf_lines(pf[r] + (size_t)(b0 + i) * bs, 2 * bs);
                        __m256i yy = _mm256_loadu_si256((const __m256i *)yq);
                        __m256i corr = bias ? sum_pairs(_mm256_maddubs_epi16(cb, yy)) : _mm256_setzero_si256();
                        _Pragma("GCC unroll 4")
                        for (int r = 0; r < 4; r++) {
                                const uint8_t *x = (const uint8_t *)xr[r] + (size_t)(b0 + i) * bs;
                                __m256i q = nibbles32(x + qs_off);
                                if (qh_off >= 0)
                                        q = _mm256_or_si256(q, q5_high(x + qh_off));
                                __m256i p = sum_pairs(_mm256_maddubs_epi16(q, yy));
                                if (bias)
                                        p = _mm256_sub_epi32(p, corr);
                                acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(sc[r] + i), _mm256_cvtepi32_ps(p), acc[r]);
                        }
                        if (mo >= 0) /* in block order, as the scalar kernel */
                                ms = _mm_add_ps(ms, _mm_load_ps(mt[i]));
                }
        }
        float m4[4];
        _mm_storeu_ps(m4, ms);
        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                s[r] = mo >= 0 ? hsum_f32x8(acc[r]) + m4[r] : hsum_f32x8(acc[r]);
}

/* Q8_0 x Q8_0: |x| times y with x's sign, 4 rows */
AI void q8_0_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        const struct block_q8_0 *y = yv;
        int nb = n / QK8_0;
        __m256 acc[4];
        float dy[SEG2] __attribute__((aligned(32))), sc[4][SEG2] __attribute__((aligned(32)));

        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                acc[r] = _mm256_setzero_ps();
        for (int b0 = 0; b0 < nb; b0 += SEG2) {
                int m = nb - b0 < SEG2 ? nb - b0 : SEG2;
                halves_f32(dy, (const char *)(y + b0), sizeof(*y), m);
                _Pragma("GCC unroll 4")
                for (int r = 0; r < 4; r++) {
                        halves_f32(sc[r], xr[r] + (size_t)b0 * sizeof(*y), sizeof(*y), m);
                        for (int i = 0; i < m; i += 8)
                                _mm256_storeu_ps(sc[r] + i, _mm256_mul_ps(_mm256_loadu_ps(sc[r] + i), _mm256_loadu_ps(dy + i)));
                }
                for (int i = 0; i < m; i++) {
                        __m256i yy = _mm256_loadu_si256((const __m256i *)y[b0 + i].qs);
                        _Pragma("GCC unroll 4")
                        for (int r = 0; r < 4; r++)
                                pf_lines(pf[r] + (size_t)(b0 + i) * sizeof(*y), sizeof(*y));
                        _Pragma("GCC unroll 4")
                        for (int r = 0; r < 4; r++) {
                                const struct block_q8_0 *x = (const struct block_q8_0 *)xr[r] + b0 + i;
                                __m256i p = dot_s8(_mm256_loadu_si256((const __m256i *)x->qs), yy);
                                acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(sc[r] + i), _mm256_cvtepi32_ps(p), acc[r]);
                        }
                }
        }
        _Pragma("GCC unroll 4")
        for (int r = 0; r < 4; r++)
                s[r] = hsum_f32x8(acc[r]);
}

AI void q4_0_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        nib_gemv4_avx2(n, s, xr, pf, yv, sizeof(struct block_q4_0), offsetof(struct block_q4_0, qs), -1, 8, -1);
}

AI void q5_0_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        nib_gemv4_avx2(n, s, xr, pf, yv, sizeof(struct block_q5_0), offsetof(struct block_q5_0, qs),
                       offsetof(struct block_q5_0, qh), 16, -1);
}

AI void q4_1_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        nib_gemv4_avx2(n, s, xr, pf, yv, sizeof(struct block_q4_1), offsetof(struct block_q4_1, qs), -1, 0,
                       offsetof(struct block_q4_1, m));
}

AI void q5_1_gemv4_avx2(int n, float *s, const char *const *xr, const char *const *pf, const void *yv)
{
        nib_gemv4_avx2(n, s, xr, pf, yv, sizeof(struct block_q5_1), offsetof(struct block_q5_1, qs),
                       offsetof(struct block_q5_1, qh), 0, offsetof(struct block_q5_1, m));
}

/* Rows in groups of 4; a tail group repeats its last row.  Each group
 * prefetches the rows pd ahead (pf_lines). */
#define GEMV4(t)                                                                                   \
        static void t##_gemv(int n, int nr, float *s, const void *x, size_t xs, const void *y)    \
        {                                                                                          \
                int pd = pf_rows_ahead(GEMV_PF_BYTES, xs, 4);                                      \
                for (int r = 0; r < nr; r += 4) {                                                  \
                        const char *xr[4], *pf[4];                                                 \
                        float out[4];                                                              \
                        for (int k = 0; k < 4; k++) {                                              \
                                xr[k] = (const char *)x + (size_t)(r + k < nr ? r + k : nr - 1) * xs; \
                                pf[k] = (const char *)x + (size_t)(r + pd + k) * xs;               \
                        }                                                                          \
                        t##_gemv4_avx2(n, out, xr, pf, y);                                         \
                        for (int k = 0; k < 4 && r + k < nr; k++)                                  \
                                s[r + k] = out[k];                                                 \
                }                                                                                  \
        }

GEMV4(q4_0)
GEMV4(q4_1)
GEMV4(q5_0)
GEMV4(q5_1)
GEMV4(q8_0)
GEMV4(q4_k)

/* Q8_0 rows up to Q8_0_ROWWISE elements one at a time through vec_dot (the
 * same bits): there the 4-row kernel's per-group work (the scale pre-pass,
 * four short streams, four horizontal sums) outweighs the shared activation
 * loads.  bench_kernels (BK_NE0, one thread, from memory, Zen 3): vec_dot
 * 10.3-14.2 GB/s against 7.6-10.4 at 640 elements, 13.0-13.5 against
 * 10.7-12.0 at 1024, 14.5 against 13.3 at 2048; 13.7 against 15.5 at 4096. */
#define Q8_0_ROWWISE 2048
static void q8_0_gemv_sel(int n, int nr, float *s, const void *x, size_t xs, const void *y)
{
        if (n > Q8_0_ROWWISE) {
                q8_0_gemv(n, nr, s, x, xs, y);
                return;
        }
        for (int r = 0; r < nr; r++)
                q8_0_vec_dot(n, s + r, (const char *)x + (size_t)r * xs, y);
}

/* ---- mm: a few rows x a few tokens (small prompt batches) -----------------
 *
 * Register tiles of 8 accumulators (of 16 ymm): 1 weight row x 8 tokens or
 * 2 rows x 4 tokens.  Each weight block is decoded once for all the tile's
 * tokens, each activation block loaded once for its rows, and each block
 * scale converted once.  Every result keeps the bits of the scalar kernel
 * it replaces (kernels.h, quant_mm_fn): the same lanes, the same FMAs in
 * block order, the same final sums; only what is shared between rows and
 * tokens is computed once.  A result never depends on nr, nt or its place
 * in the call (tails repeat rows or tokens and drop or rewrite results).
 * The 32-block types take 1 x 8 (measured: Q8_0 +21%, Q5_0 +12%, Q4_0 +3%
 * over 2 x 4 on 16 tokens: the decoding, dearest for Q5, is shared by 8
 * tokens), 2 x 4 for batches of 4-7; the K-quants 2 x 4 (Q4_K, Q5_K: their
 * reductions per sub-block pair or super-block fill 8 lanes of one vector)
 * or 1 x 8 (Q6_K, 1 x 4 for batches of 4-7). */

#define MM_SEG 64    /* blocks per segment (the tokens' scales, converted ahead) */
#define MM_CHUNK 32  /* rows whose accumulators live across segments */
_Static_assert(offsetof(struct block_q4_1, m) == 2 && offsetof(struct block_q5_1, m) == 2, "m after d");

/* The block halves of T = 4 or 8 tokens at y0 + t * ys + off +
 * (b0 + i) * ybs as floats, out[i * T + t] for i < m: 8 / T blocks (T
 * tokens, then the same one block on) per vector; blocks past m read
 * nothing (zeros; out has room up to a multiple of 8 / T). */
AI void mm_token_halves(float *out, const char *y0, size_t ys, size_t off, size_t ybs, int b0, int m, const int T)
{
        const char *y = y0 + off + (size_t)b0 * ybs;

        for (int i = 0; i < m; i += 8 / T) {
                const char *q = y + (size_t)i * ybs;
                __m128i h = T == 8 ? halves8(q, q + 4 * ys, ys)
                          : i + 1 < m ? halves8(q, q + ybs, ys)
                                      : _mm_unpacklo_epi64(halves8(q, q, ys), _mm_setzero_si128());
                _mm256_storeu_ps(out + (size_t)i * T, _mm256_cvtph_ps(h));
        }
}

/* One segment of m blocks of R rows x T tokens (R = 2, T = 4 or R = 1,
 * T = 8: 8 accumulators) of a 32-block type (xb, yb: the segment's first
 * blocks, xs, ys: the strides; dy, sy: mm_token_halves of the tokens' d
 * and s).  Codes as in q32_dot4: Q4_0 / Q5_0 (qh_off >= 0) signed after
 * - bias, Q8_0 (q8) signed, Q4_1 / Q5_1 (one: m the half after d, Q8_1
 * activations) unsigned.  Per block and (row, token): 8 lanes of 4
 * products, an FMA with d_x * d_y; the m * s terms summed apart in block
 * order, one lane per (row, token).  The 8 products d_x * d_y of a block
 * (one vector multiply) go through a stack slot, for the FMAs to
 * broadcast.  acc[T * r + t] and ms carry the sums across segments. */
AI void q32_mm_tile(int m, __m256 *accp, __m256 *msp, const char *xb, size_t xs, const char *yb, size_t ys,
                    const float *dy, const float *sy, const size_t bs, const int qs_off, const int qh_off,
                    const int bias, const int one, const int q8, const int R, const size_t pfo)
{
        const int T = 8 / R;
        const size_t ybs = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int yqs = one ? (int)offsetof(struct block_q8_1, qs) : (int)offsetof(struct block_q8_0, qs);
        float sc[8] __attribute__((aligned(32)));
        __m256 acc[8], ms = *msp;

        _Pragma("GCC unroll 8")
        for (int k = 0; k < 8; k++)
                acc[k] = accp[k];
        for (int i = 0; i < m; i++) {
                if (pfo && (q8 || i % 2 == 0)) /* the same blocks pfo bytes on (pf_lines) */
                        _Pragma("GCC unroll 2") for (int r = 0; r < R; r++)
                                pf_lines(xb + r * xs + pfo + (size_t)i * bs, q8 ? bs : 2 * bs);
                /* the rows' d and m halves (4 bytes from each block's start) */
                uint32_t h0, h1 = 0;
                memcpy(&h0, xb + (size_t)i * bs, 4);
                if (R == 2)
                        memcpy(&h1, xb + xs + (size_t)i * bs, 4);
                __m128 f = _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int)h0), (int)h1, 1));
                __m256 xd, yd;
                if (R == 2) {
                        xd = _mm256_setr_m128(_mm_shuffle_ps(f, f, 0x00), _mm_shuffle_ps(f, f, 0xaa));
                        yd = _mm256_broadcast_ps((const __m128 *)(dy + 4 * i));
                } else {
                        xd = _mm256_broadcastss_ps(f);
                        yd = _mm256_loadu_ps(dy + 8 * i);
                }
                _mm256_store_ps(sc, _mm256_mul_ps(xd, yd));
                if (one) { /* m * s: their own sum, lane T * r + t, in block order */
                        __m256 xm, sv;
                        if (R == 2) {
                                xm = _mm256_setr_m128(_mm_shuffle_ps(f, f, 0x55), _mm_shuffle_ps(f, f, 0xff));
                                sv = _mm256_broadcast_ps((const __m128 *)(sy + 4 * i));
                        } else {
                                xm = _mm256_broadcastss_ps(_mm_movehdup_ps(f));
                                sv = _mm256_loadu_ps(sy + 8 * i);
                        }
                        ms = _mm256_add_ps(ms, _mm256_mul_ps(xm, sv));
                }
                _Pragma("GCC unroll 2")
                for (int r = 0; r < R; r++) {
                        const uint8_t *x = (const uint8_t *)xb + r * xs + (size_t)i * bs;
                        __m256i q = q32_block_codes(x, qs_off, qh_off, bias, q8);
                        __m256i aq = _mm256_sign_epi8(q, q);
                        _Pragma("GCC unroll 8")
                        for (int t = 0; t < T; t++) {
                                const __m256i *y = (const __m256i *)(yb + t * ys + (size_t)i * ybs + yqs);
                                __m256i p;
                                if (one)
                                        p = _mm256_maddubs_epi16(q, _mm256_loadu_si256(y));
                                else
                                        p = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(_mm256_loadu_si256(y), q));
                                acc[T * r + t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[T * r + t]),
                                                                 _mm256_cvtepi32_ps(sum_pairs(p)), acc[T * r + t]);
                        }
                }
        }
        _Pragma("GCC unroll 8")
        for (int k = 0; k < 8; k++)
                accp[k] = acc[k];
        *msp = ms;
}

/* Groups of T tokens (8, or 4 when the batch has under 8) and rows in
 * chunks of MM_CHUNK, blocks in segments of MM_SEG, rows R = 8 / T at a
 * time.  Tiles take evenly spaced tokens and rows (fewer pointers to keep
 * in registers): a last group of tokens or pair of rows that would run
 * past the end is moved back to end there, redoing a few results with the
 * same bits (32-block types: vec_dot4's bits are vec_dot's); a lone row
 * pairs with itself (stride 0); under 4 tokens go through the gemv.  The
 * first group of tokens reads the rows from memory: its tiles prefetch the
 * next chunk's rows (MM_CHUNK rows on). */
AI void q32_mm_walk(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys,
                    const size_t bs, const int qs_off, const int qh_off, const int bias, const int one, const int q8,
                    const int R)
{
        const int T = 8 / R;
        const size_t ybs = one ? sizeof(struct block_q8_1) : sizeof(struct block_q8_0);
        const int nb = n / QK8_0;
        __m256 acc[MM_CHUNK / R][8], ms[MM_CHUNK / R];
        float dy[(MM_SEG + 1) * 8] __attribute__((aligned(32))), sy[(MM_SEG + 1) * 8] __attribute__((aligned(32)));

        for (int g = 0; g < nt; g += T) {
                int t0 = g + T <= nt ? g : nt - T;
                const char *y0 = (const char *)y + (size_t)t0 * ys;
                for (int c0 = 0; c0 < nr; c0 += MM_CHUNK) {
                        int c1 = c0 + MM_CHUNK < nr ? c0 + MM_CHUNK : nr, np = (c1 - c0 + R - 1) / R;
                        for (int p = 0; p < np; p++) {
                                ms[p] = _mm256_setzero_ps();
                                for (int k = 0; k < 8; k++)
                                        acc[p][k] = _mm256_setzero_ps();
                        }
                        for (int b0 = 0; b0 < nb; b0 += MM_SEG) {
                                int m = nb - b0 < MM_SEG ? nb - b0 : MM_SEG;
                                mm_token_halves(dy, y0, ys, 0, ybs, b0, m, T);
                                if (one)
                                        mm_token_halves(sy, y0, ys, 2, ybs, b0, m, T);
                                for (int p = 0; p < np; p++) {
                                        int r0 = c0 + R * p < c1 - (R - 1) ? c0 + R * p : c1 - R;
                                        size_t pxs = xs;
                                        if (r0 < c0) { /* a chunk of one row */
                                                r0 = c0;
                                                pxs = 0;
                                        }
                                        q32_mm_tile(m, acc[p], &ms[p], (const char *)x + (size_t)r0 * xs + (size_t)b0 * bs, pxs,
                                                    y0 + (size_t)b0 * ybs, ys, dy, sy, bs, qs_off, qh_off, bias, one, q8, R,
                                                    g ? 0 : (size_t)MM_CHUNK * xs);
                                }
                        }
                        for (int p = 0; p < np; p++) {
                                int r0 = c0 + R * p < c1 - (R - 1) ? c0 + R * p : c1 - R;
                                float m8[8];
                                if (r0 < c0)
                                        r0 = c0;
                                _mm256_storeu_ps(m8, ms[p]);
                                for (int t = 0; t < T; t++)
                                        for (int r = 0; r < R && r0 + r < c1; r++) {
                                                float v = hsum_f32x8(acc[p][T * r + t]);
                                                s[(size_t)(t0 + t) * ss + r0 + r] = one ? v + m8[T * r + t] : v;
                                        }
                        }
                }
        }
}

AI void q32_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys,
               const size_t bs, const int qs_off, const int qh_off, const int bias, const int one, const int q8,
               quant_gemv_fn gemv)
{
        if (nt < 4) {
                for (int t = 0; t < nt; t++)
                        gemv(n, nr, s + (size_t)t * ss, x, xs, (const char *)y + (size_t)t * ys);
        } else if (nt < 8) {
                q32_mm_walk(n, nr, nt, s, ss, x, xs, y, ys, bs, qs_off, qh_off, bias, one, q8, 2);
        } else {
                q32_mm_walk(n, nr, nt, s, ss, x, xs, y, ys, bs, qs_off, qh_off, bias, one, q8, 1);
        }
}

#define Q32_MM(t, T, qh, bias, one, q8)                                                                        \
        static void t##_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, \
                           size_t ys)                                                                         \
        {                                                                                                     \
                q32_mm(n, nr, nt, s, ss, x, xs, y, ys, sizeof(struct T), offsetof(struct T, qs), qh, bias, one, q8, t##_gemv); \
        }
Q32_MM(q4_0, block_q4_0, -1, 8, 0, 0)
Q32_MM(q4_1, block_q4_1, -1, 0, 1, 0)
Q32_MM(q5_0, block_q5_0, offsetof(struct block_q5_0, qh), 16, 0, 0)
Q32_MM(q5_1, block_q5_1, offsetof(struct block_q5_1, qh), 0, 1, 0)
Q32_MM(q8_0, block_q8_0, -1, 0, 0, 1)

/* Q4_K, 2 rows x 4 tokens with the bits of the scalar vec_dot4 (quant.c
 * q4_k_dot_span, span 2; as q4_k_vec_dot4 here, which takes one row): per
 * pair c of sub-blocks the integer totals sum_j sc_j * (q . y)_j and
 * sum_j m_j * bsum_j of the 8 (row, token) pairs meet in the lanes of one
 * vector (lane 4 * r + t) and go through one FMA each, scaled by d * d8
 * and dmin * d8; the result is the difference.  Each row's codes are
 * decoded once for the 4 tokens; each token's block sums paired once for
 * the 2 rows. */
AI void q4_k_mm_2x4(int n, float *out, const char *const *xr, const char *const *yr, const size_t pfo)
{
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                const struct block_q8_k *y[4];
                __m128i pairs[4], mpc[2][4];
                __m256i sc16[2];
                uint32_t dd[2];
                _Pragma("GCC unroll 4")
                for (int t = 0; t < 4; t++) {
                        y[t] = (const struct block_q8_k *)yr[t] + b;
                        pairs[t] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[t]->bsums),
                                                  _mm_loadu_si128((const __m128i *)(y[t]->bsums + 8)));
                }
                _Pragma("GCC unroll 2")
                for (int r = 0; r < 2; r++) {
                        const struct block_q4_k *x = (const struct block_q4_k *)xr[r] + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        __m128i sm = k4_scales_xmm(x->scales), mp[4];
                        __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
                        sc16[r] = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                        /* per token: the min sums of the 4 sub-block pairs,
                         * then transposed: mpc[r][c] = pair c of tokens 0..3 */
                        _Pragma("GCC unroll 4")
                        for (int t = 0; t < 4; t++)
                                mp[t] = _mm_madd_epi16(mins, pairs[t]);
                        __m128i t0 = _mm_unpacklo_epi32(mp[0], mp[1]), t1 = _mm_unpackhi_epi32(mp[0], mp[1]);
                        __m128i t2 = _mm_unpacklo_epi32(mp[2], mp[3]), t3 = _mm_unpackhi_epi32(mp[2], mp[3]);
                        mpc[r][0] = _mm_unpacklo_epi64(t0, t2);
                        mpc[r][1] = _mm_unpackhi_epi64(t0, t2);
                        mpc[r][2] = _mm_unpacklo_epi64(t1, t3);
                        mpc[r][3] = _mm_unpackhi_epi64(t1, t3);
                        memcpy(&dd[r], &x->d, 4); /* d, dmin */
                }
                /* d0 dmin0 d1 dmin1 -> d * d8 and dmin * d8, lane 4 * r + t */
                __m128 f = _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int)dd[0]), (int)dd[1], 1));
                __m128 yd = _mm_set_ps(y[3]->d, y[2]->d, y[1]->d, y[0]->d);
                __m256 ydv = _mm256_setr_m128(yd, yd);
                __m256 dd8 = _mm256_mul_ps(_mm256_setr_m128(_mm_shuffle_ps(f, f, 0x00), _mm_shuffle_ps(f, f, 0xaa)), ydv);
                __m256 dm8 = _mm256_mul_ps(_mm256_setr_m128(_mm_shuffle_ps(f, f, 0x55), _mm_shuffle_ps(f, f, 0xff)), ydv);
                _Pragma("GCC unroll 4")
                for (int c = 0; c < 4; c++) {
                        __m128i is[2];
                        _Pragma("GCC unroll 2")
                        for (int r = 0; r < 2; r++) {
                                const struct block_q4_k *x = (const struct block_q4_k *)xr[r] + b;
                                __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
                                __m256i lo = _mm256_and_si256(v, m4);
                                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                                __m256i s0 = _mm256_shuffle_epi8(sc16[r], lane16(2 * c));
                                __m256i s1 = _mm256_shuffle_epi8(sc16[r], lane16(2 * c + 1));
                                __m256i p[4];
                                _Pragma("GCC unroll 4")
                                for (int t = 0; t < 4; t++) {
                                        const int8_t *q8 = y[t]->qs + 64 * c;
                                        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
                                        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
                                        p[t] = _mm256_add_epi32(_mm256_madd_epi16(p0, s0), _mm256_madd_epi16(p1, s1));
                                }
                                is[r] = kq_isum4_256(p[0], p[1], p[2], p[3]);
                        }
                        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_set_m128i(is[1], is[0])), dd8, acc);
                        accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_set_m128i(mpc[1][c], mpc[0][c])), dm8, accm);
                }
        }
        _mm256_storeu_ps(out, _mm256_sub_ps(acc, accm));
}

/* Tokens in groups of 4 (vec_dot4's bits), the last nt % 4 one by one
 * through the gemv (vec_dot's bits); rows in pairs, a tail pair repeating
 * its row. */
static void q4_k_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys)
{
        int t0 = 0;
        const size_t pfo = (size_t)pf_rows_ahead(GEMV_PF_BYTES, xs, 2) * xs; /* the first tokens' rows come from memory */

        for (; t0 + 4 <= nt; t0 += 4) {
                const char *yr[4];
                for (int k = 0; k < 4; k++)
                        yr[k] = (const char *)y + (size_t)(t0 + k) * ys;
                for (int r0 = 0; r0 < nr; r0 += 2) {
                        const char *xr[2] = {(const char *)x + (size_t)r0 * xs,
                                             (const char *)x + (size_t)(r0 + 1 < nr ? r0 + 1 : r0) * xs};
                        float out[8];
                        q4_k_mm_2x4(n, out, xr, yr, t0 ? 0 : pfo);
                        for (int t = 0; t < 4; t++)
                                for (int r = 0; r < 2 && r0 + r < nr; r++)
                                        s[(size_t)(t0 + t) * ss + r0 + r] = out[4 * r + t];
                }
        }
        for (; t0 < nt; t0++)
                q4_k_gemv(n, nr, s + (size_t)t0 * ss, x, xs, (const char *)y + (size_t)t0 * ys);
}

/* Q5_K, 2 rows x 4 tokens with the bits of the scalar vec_dot (quant.c
 * k4_dot, as q5_k_gemv_n): per super-block the integer totals (codes times
 * scales, mins times block sums) of the 8 (row, token) pairs meet in the
 * lanes of one vector (lane 4 * r + t), then y.d * (d * isum - dmin * msum)
 * is added with kq_dmin_add's roundings, lane by lane (separate multiplies
 * and adds: no contraction under -std=c11).  Rows at x0 and x0 + xs, tokens
 * at y0 + t * ys. */
AI void q5_k_mm_2x4(int n, float *out, const char *x0, size_t xs, const char *y0, size_t ys, const size_t pfo)
{
        const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
        __m256 acc = _mm256_setzero_ps();

        for (int b = 0; b < n / QK_K; b++) {
                const struct block_q8_k *y[4];
                __m128i pairs[4], is[2], ms[2];
                uint32_t dd[2];
                _Pragma("GCC unroll 4")
                for (int t = 0; t < 4; t++) {
                        y[t] = (const struct block_q8_k *)(y0 + t * ys) + b;
                        pairs[t] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[t]->bsums),
                                                  _mm_loadu_si128((const __m128i *)(y[t]->bsums + 8)));
                }
                _Pragma("GCC unroll 2")
                for (int r = 0; r < 2; r++) {
                        const struct block_q5_k *x = (const struct block_q5_k *)(x0 + r * xs) + b;
                        if (pfo)
                                pf_lines((const char *)x + pfo, sizeof(*x));
                        __m128i sm = k4_scales_xmm(x->scales), mp[4];
                        __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
                        __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
                        __m256i h = _mm256_loadu_si256((const __m256i *)x->qh), p[4];
                        _Pragma("GCC unroll 4")
                        for (int t = 0; t < 4; t++) {
                                mp[t] = _mm_madd_epi16(mins, pairs[t]);
                                p[t] = _mm256_setzero_si256();
                        }
                        _Pragma("GCC unroll 4")
                        for (int c = 0; c < 4; c++) {
                                __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
                                __m256i lo = _mm256_or_si256(_mm256_and_si256(v, m4),
                                                             _mm256_slli_epi16(_mm256_and_si256(h, one), 4));
                                __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4),
                                                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 1), one), 4));
                                __m256i s0 = _mm256_shuffle_epi8(sc16, lane16(2 * c));
                                __m256i s1 = _mm256_shuffle_epi8(sc16, lane16(2 * c + 1));
                                h = _mm256_srli_epi16(h, 2);
                                _Pragma("GCC unroll 4")
                                for (int t = 0; t < 4; t++) {
                                        const int8_t *q8 = y[t]->qs + 64 * c;
                                        __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
                                        __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
                                        p[t] = _mm256_add_epi32(p[t], _mm256_add_epi32(_mm256_madd_epi16(p0, s0),
                                                                                       _mm256_madd_epi16(p1, s1)));
                                }
                        }
                        is[r] = kq_isum4_256(p[0], p[1], p[2], p[3]);
                        ms[r] = _mm_hadd_epi32(_mm_hadd_epi32(mp[0], mp[1]), _mm_hadd_epi32(mp[2], mp[3]));
                        memcpy(&dd[r], &x->d, 4); /* d, dmin */
                }
                __m128 f = _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128((int)dd[0]), (int)dd[1], 1));
                __m128 yd = _mm_set_ps(y[3]->d, y[2]->d, y[1]->d, y[0]->d);
                __m256 d8 = _mm256_setr_m128(_mm_shuffle_ps(f, f, 0x00), _mm_shuffle_ps(f, f, 0xaa));
                __m256 dmin8 = _mm256_setr_m128(_mm_shuffle_ps(f, f, 0x55), _mm_shuffle_ps(f, f, 0xff));
                __m256 a = _mm256_mul_ps(d8, _mm256_cvtepi32_ps(_mm256_set_m128i(is[1], is[0])));
                __m256 m = _mm256_mul_ps(dmin8, _mm256_cvtepi32_ps(_mm256_set_m128i(ms[1], ms[0])));
                __m256 u = _mm256_mul_ps(_mm256_setr_m128(yd, yd), _mm256_sub_ps(a, m));
                acc = _mm256_add_ps(acc, u);
        }
        _mm256_storeu_ps(out, acc);
}

/* As q32_mm's walk, without segments: groups of 4 tokens (the last moved
 * back to end at nt), pairs of rows (the last moved back, or a lone row
 * with itself), under 4 tokens through the gemv; every token has vec_dot's
 * bits. */
static void q5_k_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys)
{
        if (nt < 4) {
                for (int t = 0; t < nt; t++)
                        q5_k_gemv(n, nr, s + (size_t)t * ss, x, xs, (const char *)y + (size_t)t * ys);
                return;
        }
        const size_t pfo = (size_t)pf_rows_ahead(GEMV_PF_BYTES, xs, 2) * xs; /* the first tokens' rows come from memory */
        for (int g = 0; g < nt; g += 4) {
                int t0 = g + 4 <= nt ? g : nt - 4;
                for (int p = 0; p < nr; p += 2) {
                        int r0 = p + 2 <= nr ? p : nr - 2;
                        size_t pxs = xs;
                        float out[8];
                        if (r0 < 0) {
                                r0 = 0;
                                pxs = 0;
                        }
                        q5_k_mm_2x4(n, out, (const char *)x + (size_t)r0 * xs, pxs, (const char *)y + (size_t)t0 * ys, ys,
                                    g ? 0 : pfo);
                        for (int t = 0; t < 4; t++)
                                for (int r = 0; r < 2 && r0 + r < nr; r++)
                                        s[(size_t)(t0 + t) * ss + r0 + r] = out[4 * r + t];
                }
        }
}

/* Q6_K, 1 row x T tokens (T = 4 or 8, at y0 + t * ys) with the bits of
 * the scalar vec_dot (see q6_k_vec_dot): per super-block and token 8
 * int32 lanes, the -32 bias through the block sums, an FMA per lane with
 * d * d8; lanes8_sum at the end.  The row's codes and scales are decoded
 * once for the T tokens (the integer sums take T registers; the float
 * accumulators, touched once per super-block, may live in memory). */
AI void q6_k_mm_1xT(int n, float *out, const char *xr, const char *y0, size_t ys, const int T, const size_t pfo)
{
        const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(0x30);
        __m256 acc[8];

        _Pragma("GCC unroll 8")
        for (int t = 0; t < T; t++)
                acc[t] = _mm256_setzero_ps();
        for (int b = 0; b < n / QK_K; b++) {
                const struct block_q6_k *x = (const struct block_q6_k *)xr + b;
                if (pfo)
                        pf_lines((const char *)x + pfo, sizeof(*x));
                __m128i sc8 = _mm_loadu_si128((const __m128i *)x->scales);
                __m256i sc16 = _mm256_cvtepi8_epi16(sc8), sumi[8];
                float dx = h2f(x->d);
                _Pragma("GCC unroll 8")
                for (int t = 0; t < T; t++) {
                        const struct block_q8_k *y = (const struct block_q8_k *)(y0 + t * ys) + b;
                        /* lane l starts at -32 * (sc . bsum) of groups 2l, 2l + 1 */
                        __m256i bias = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)y->bsums));
                        sumi[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(bias, 5));
                }
                _Pragma("GCC unroll 2")
                for (int h = 0; h < 2; h++) {
                        const uint8_t *ql = x->ql + 64 * h;
                        __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half64(sc8, h)));
                        __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                        __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                        __m256i hb = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
                        _Pragma("GCC unroll 4")
                        for (int k = 0; k < 4; k++) {
                                __m256i q;
                                if (k == 0)
                                        q = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m3));
                                else if (k == 1)
                                        q = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m3));
                                else if (k == 2)
                                        q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m3));
                                else
                                        q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                            _mm256_and_si256(_mm256_srli_epi16(hb, 2), m3));
                                __m256i scv = _mm256_shuffle_epi8(sc, lane16_pair(2 * k));
                                _Pragma("GCC unroll 8")
                                for (int t = 0; t < T; t++) {
                                        const struct block_q8_k *y = (const struct block_q8_k *)(y0 + t * ys) + b;
                                        const int8_t *q8 = y->qs + 128 * h + 32 * k;
                                        __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)q8));
                                        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p, scv));
                                }
                        }
                }
                _Pragma("GCC unroll 8")
                for (int t = 0; t < T; t++) {
                        const struct block_q8_k *y = (const struct block_q8_k *)(y0 + t * ys) + b;
                        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx * y->d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
                }
        }
        _Pragma("GCC unroll 8")
        for (int t = 0; t < T; t++)
                out[t] = hsum_f32x8(acc[t]);
}

/* Groups of 8 tokens (4 when the batch has under 8; the last group moved
 * back to end at nt: vec_dot's bits in every lane of the tile), rows one
 * by one; under 4 tokens through the gemv. */
AI void q6_k_mm_walk(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys,
                     const int T)
{
        const size_t pfo = (size_t)pf_rows_ahead(GEMV_PF_BYTES, xs, 1) * xs; /* the first tokens' rows come from memory */

        for (int g = 0; g < nt; g += T) {
                int t0 = g + T <= nt ? g : nt - T;
                for (int r = 0; r < nr; r++) {
                        float out[8];
                        q6_k_mm_1xT(n, out, (const char *)x + (size_t)r * xs, (const char *)y + (size_t)t0 * ys, ys, T,
                                    g ? 0 : pfo);
                        for (int t = 0; t < T; t++)
                                s[(size_t)(t0 + t) * ss + r] = out[t];
                }
        }
}

static void q6_k_mm(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y, size_t ys)
{
        if (nt < 4) {
                for (int t = 0; t < nt; t++)
                        q6_k_gemv(n, nr, s + (size_t)t * ss, x, xs, (const char *)y + (size_t)t * ys);
        } else if (nt < 8) {
                q6_k_mm_walk(n, nr, nt, s, ss, x, xs, y, ys, 4);
        } else {
                q6_k_mm_walk(n, nr, nt, s, ss, x, xs, y, ys, 8);
        }
}

/* ---- SiLU gate ------------------------------------------------------------ */

/* y = g / (1 + exp(-g)) * u with the bits of op_silu_mul_ref (ops.c), as
 * cpu_avx512.c's silu_mul on 8 lanes: the same FMAs of expf_ggml, and its
 * scalbnf(j, n) as exact multiplications by powers of two: j * 2^n for
 * -126 <= n <= 127, (j * 2^127) * 2^(n - 127) above (one rounding, as
 * scalbnf); below -126 exp(-g) < 2^-125 and 1 + exp(-g) is 1 whatever its
 * value: 0 is used.  The reference's groups of 16 are two steps of 8 here;
 * its tail (n % 16) uses expf, as here. */
static void silu_mul_avx2(float *y, const float *g, const float *u, int n)
{
        int i = 0, n16 = n - n % 16;
        const __m256 r = _mm256_set1_ps(0x1.8p23f), one = _mm256_set1_ps(1.0f);

        for (; i < n16; i += 8) {
                __m256 gv = _mm256_loadu_ps(g + i);
                __m256 x = _mm256_sub_ps(_mm256_setzero_ps(), gv);
                __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r), nn = _mm256_sub_ps(z, r);
                __m256 b = _mm256_fnmadd_ps(nn, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                            _mm256_fnmadd_ps(nn, _mm256_set1_ps(0x1.62e4p-1f), x));
                __m256 uu = _mm256_mul_ps(b, b);
                __m256 j = _mm256_fmadd_ps(
                        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)),
                                        uu, _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
                        uu, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, one));
                __m256i ni = _mm256_cvttps_epi32(nn); /* nn is integral (or inf / nan) */
                __m256 hi = _mm256_cmp_ps(nn, _mm256_set1_ps(127.0f), _CMP_GT_OQ);
                __m256 lo = _mm256_cmp_ps(nn, _mm256_set1_ps(-126.0f), _CMP_LT_OQ);
                __m256 inf = _mm256_cmp_ps(nn, _mm256_set1_ps(192.0f), _CMP_GT_OQ);
                __m256i e = _mm256_sub_epi32(ni, _mm256_and_si256(_mm256_castps_si256(hi), _mm256_set1_epi32(127)));
                __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
                __m256 jj = _mm256_blendv_ps(j, _mm256_mul_ps(j, _mm256_set1_ps(0x1p127f)), hi);
                __m256 ev = _mm256_andnot_ps(lo, _mm256_mul_ps(jj, p2));
                ev = _mm256_blendv_ps(ev, _mm256_set1_ps(__builtin_inff()), inf);
                __m256 yv = _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, ev)), _mm256_loadu_ps(u + i));
                _mm256_storeu_ps(y + i, yv);
        }
        for (; i < n; i++) /* as the reference's tail */
                y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

const struct cpu_kernels cpu_kernels_avx2_raw = {
        .name = "avx2",
        .q = {
                [MU_TYPE_F32] = {.vec_dot = f32_vec_dot},
                [MU_TYPE_F16] = {.to_float = f16_to_float, .vec_dot = f16_vec_dot, .gemv = f16_gemv},
                [MU_TYPE_BF16] = {.vec_dot = bf16_vec_dot, .gemv = bf16_gemv},
                [MU_TYPE_Q4_0] = {.vec_dot = q4_0_vec_dot, .vec_dot4 = q4_0_vec_dot4, .gemv = q4_0_gemv,
                                  .mm = q4_0_mm},
                [MU_TYPE_Q4_1] = {.vec_dot = q4_1_vec_dot, .vec_dot4 = q4_1_vec_dot4, .gemv = q4_1_gemv,
                                  .mm = q4_1_mm},
                [MU_TYPE_Q5_0] = {.vec_dot = q5_0_vec_dot, .vec_dot4 = q5_0_vec_dot4, .gemv = q5_0_gemv,
                                  .mm = q5_0_mm},
                [MU_TYPE_Q5_1] = {.vec_dot = q5_1_vec_dot, .vec_dot4 = q5_1_vec_dot4, .gemv = q5_1_gemv,
                                  .mm = q5_1_mm},
                [MU_TYPE_Q8_0] = {.from_float = q8_0_from_float, .vec_dot = q8_0_vec_dot, .vec_dot4 = q8_0_vec_dot4,
                                  .gemv = q8_0_gemv_sel, .mm = q8_0_mm},
                [MU_TYPE_Q8_1] = {.from_float = q8_1_from_float},
                [MU_TYPE_Q2_K] = {.gemv = q2_k_gemv},
                [MU_TYPE_Q3_K] = {.gemv = q3_k_gemv},
                [MU_TYPE_Q4_K] = {.vec_dot = q4_k_vec_dot, .vec_dot4 = q4_k_vec_dot4, .gemv = q4_k_gemv,
                                  .mm = q4_k_mm},
                [MU_TYPE_Q5_K] = {.vec_dot = q5_k_vec_dot, .gemv = q5_k_gemv, .mm = q5_k_mm},
                [MU_TYPE_Q6_K] = {.vec_dot = q6_k_vec_dot, .gemv = q6_k_gemv, .mm = q6_k_mm},
                [MU_TYPE_Q8_K] = {.from_float = q8_k_from_float, .vec_dot = q8_k_vec_dot},
        },
        .silu_mul = silu_mul_avx2,
};

#else
const struct cpu_kernels cpu_kernels_avx2_raw = {.name = NULL};
#endif
