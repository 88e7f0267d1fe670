/* attn_f16.c -- attention for one (token, head) over an F16 KV cache with
 * the roundings of llama.cpp's CPU flash attention, which is what it runs for
 * every decode step and every batch under 64 tokens:
 *   - q is rounded to f16; s = (q16 . k) in f32 (products of f16 values are
 *     exact), summed in the order of ggml_vec_dot_f16's AVX-512 loop: four
 *     16-lane accumulators, added (0+2) + (1+3), then lanes halved 16->1;
 *   - s *= scale; with a soft-cap, scale is divided by cap first and
 *     s = cap * tanh(s);
 *   - online softmax: on a new maximum the accumulator is rescaled by
 *     exp(old - new), else the weight is exp(s - max); S = S * ms + vs;
 *   - the weighted sum of V is kept in f16: every rescale and every
 *     multiply-add (one f32 FMA) is rounded back to f16;
 *   - out = f32(acc) * (1 / S).
 * Rounding q and the accumulator to f16 loses precision against an f32
 * accumulation, but these small 4-bit models turn any difference into
 * different greedy tokens, and matching llama.cpp's needs the same roundings.
 * The scalar reference, the AVX2/F16C variant and the AVX-512 one
 * (attn_f16_avx512.c) give the same bits (all convert with round-to-nearest-
 * even; tests/test_attn.c checks). */
#include <math.h>
#include <string.h>

#include "engine/attn_f16.h"
#include "mullama/kernels.h"

static float dot_f16(const uint16_t *x, const uint16_t *y, int n)
{
        float acc[4][16] = {{0}}, r[16];

        for (int i = 0; i < n; i += 64)
                for (int j = 0; j < 4; j++)
                        for (int l = 0; l < 16; l++) {
                                int k = i + 16 * j + l;
                                acc[j][l] += mu_fp16_to_fp32(x[k]) * mu_fp16_to_fp32(y[k]);
                        }
        for (int l = 0; l < 16; l++)
                r[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
        for (int w = 8; w >= 1; w /= 2)
                for (int l = 0; l < w; l++)
                        r[l] += r[l + w];
        return r[0];
}

static void scale_f16(uint16_t *y, int n, float v)
{
        for (int i = 0; i < n; i++)
                y[i] = mu_fp32_to_fp16(mu_fp16_to_fp32(y[i]) * v);
}

static void mad_f16(uint16_t *y, const uint16_t *x, int n, float v)
{
        for (int i = 0; i < n; i++)
                y[i] = mu_fp32_to_fp16(fmaf(mu_fp16_to_fp32(x[i]), v, mu_fp16_to_fp32(y[i])));
}

#if defined(__x86_64__)
#include <immintrin.h>
#define F16C __attribute__((target("avx2,fma,f16c")))
#define RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

F16C static inline __m256 ld8(const uint16_t *p)
{
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

F16C static inline void st8(uint16_t *p, __m256 v)
{
        _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, RNE));
}

/* dot_f16 with each 16-lane accumulator as two 8-lane halves (lo: lanes
 * 0-7, hi: 8-15); the same additions in the same order. */
F16C static float dot_f16_x8(const uint16_t *x, const uint16_t *y, int n)
{
        __m256 lo[4], hi[4];

        for (int j = 0; j < 4; j++)
                lo[j] = hi[j] = _mm256_setzero_ps();
        for (int i = 0; i < n; i += 64)
                for (int j = 0; j < 4; j++) {
                        const int k = i + 16 * j;
                        lo[j] = _mm256_fmadd_ps(ld8(x + k), ld8(y + k), lo[j]);
                        hi[j] = _mm256_fmadd_ps(ld8(x + k + 8), ld8(y + k + 8), hi[j]);
                }
        __m256 rl = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
        __m256 rh = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
        __m256 r8 = _mm256_add_ps(rl, rh);                                   /* l + 8 */
        __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1)); /* l + 4 */
        __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));                   /* l + 2 */
        __m128 r1 = _mm_add_ss(r2, _mm_movehdup_ps(r2));                     /* l + 1 */
        return _mm_cvtss_f32(r1);
}

F16C static void scale_f16_x8(uint16_t *y, int n, float v)
{
        __m256 s = _mm256_set1_ps(v);

        for (int i = 0; i < n; i += 8)
                st8(y + i, _mm256_mul_ps(ld8(y + i), s));
}

F16C static void mad_f16_x8(uint16_t *y, const uint16_t *x, int n, float v)
{
        __m256 s = _mm256_set1_ps(v);

        for (int i = 0; i < n; i += 8)
                st8(y + i, _mm256_fmadd_ps(ld8(x + i), s, ld8(y + i)));
}
#endif

enum attn_f16_isa attn_f16_isa(const char *kernel_name)
{
        if (!kernel_name || !strcmp(kernel_name, "scalar"))
                return ATTN_F16_SCALAR;
        if (!strcmp(kernel_name, "avx512") || !strcmp(kernel_name, "amx"))
                return ATTN_F16_AVX512;
        return ATTN_F16_AVX2;
}

void attn_f16(const struct attn_f16_row *r, const float *q, int lo, int hi, uint16_t *q16,
              uint16_t *acc16, float *out, int simd)
{
        const int hdk = r->hdk, hdv = r->hdv;
        const float cap = r->cap, scale = cap > 0 ? r->scale / cap : r->scale;
        float (*dot)(const uint16_t *, const uint16_t *, int) = dot_f16;
        void (*scl)(uint16_t *, int, float) = scale_f16;
        void (*mad)(uint16_t *, const uint16_t *, int, float) = mad_f16;
        float m = -INFINITY, l = 0;

#if defined(__x86_64__)
        if (simd >= ATTN_F16_AVX512 && attn_f16_avx512(r, q, 0, 1.0f, 1, lo, hi, out, 0) == 0)
                return;
        if (simd) {
                dot = dot_f16_x8;
                scl = scale_f16_x8;
                mad = mad_f16_x8;
        }
#else
        (void)simd;
#endif
        for (int i = 0; i < hdk; i++)
                q16[i] = mu_fp32_to_fp16(q[i]);
        memset(acc16, 0, (size_t)hdv * sizeof(*acc16));
        for (int p = lo; p <= hi; p++) {
                const uint16_t *k = (const uint16_t *)(r->k + (size_t)p * r->k_stride);
                const uint16_t *v = (const uint16_t *)(r->v + (size_t)p * r->v_stride);
                float s = dot(k, q16, hdk) * scale, ms = 1.0f, vs = 1.0f;

                if (cap > 0)
                        s = cap * tanhf(s);
                if (s > m) {
                        ms = expf(m - s);
                        m = s;
                        scl(acc16, hdv, ms);
                } else {
                        vs = expf(s - m);
                }
                mad(acc16, v, hdv, vs);
                l = l * ms + vs;
        }
        float inv = l == 0.0f ? 0.0f : 1.0f / l;
        for (int i = 0; i < hdv; i++)
                out[i] = mu_fp16_to_fp32(acc16[i]) * inv;
}

void attn_f16_heads(const struct attn_f16_row *r, const float *q, size_t q_stride, float qmul,
                    int nq, int lo, int hi, uint16_t *q16, uint16_t *acc16, float *qf, float *out,
                    size_t out_stride, int simd)
{
#if defined(__x86_64__)
        if (simd >= ATTN_F16_AVX512 &&
            attn_f16_avx512(r, q, q_stride, qmul, nq, lo, hi, out, out_stride) == 0)
                return;
#endif
        for (int h = 0; h < nq; h++) {
                const float *qh = q + (size_t)h * q_stride;
                if (qmul != 1.0f) {
                        for (int i = 0; i < r->hdk; i++)
                                qf[i] = qh[i] * qmul;
                        qh = qf;
                }
                attn_f16(r, qh, lo, hi, q16, acc16, out + (size_t)h * out_stride,
                         simd >= ATTN_F16_AVX512 ? ATTN_F16_AVX2 : simd);
        }
}

void attn_f16_rows(const struct attn_f16_row *r, const struct attn_f16_q *rows, int n, float qmul,
                   uint16_t *q16, uint16_t *acc16, float *qf, int simd)
{
#if defined(__x86_64__)
        if (simd >= ATTN_F16_AVX512 && attn_f16_rows_avx512(r, rows, n, qmul) == 0)
                return;
#endif
        for (int i = 0; i < n; i++)
                attn_f16_heads(r, rows[i].q, 0, qmul, 1, rows[i].lo, rows[i].hi, q16, acc16, qf,
                               rows[i].out, 0, simd >= ATTN_F16_AVX512 ? ATTN_F16_AVX2 : simd);
}
