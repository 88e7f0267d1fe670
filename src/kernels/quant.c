/* quant.c -- scalar reference kernels for every type the engine runs:
 * dequantize (to_float), the reference quantizer (from_float) and the dot
 * product against the type's vec_dot_type.  These are the ground truth the
 * SIMD tables are tested against, and the fallback for anything a SIMD table
 * leaves NULL.  Block layouts: quant_blocks.h.
 *
 * vec_dot_type choices (what matmul quantizes the activations to):
 *   F32, F16, BF16 -> F32   (activations stay float: exact and cheap)
 *   Q4_0, Q5_0, Q8_0 -> Q8_0
 *   Q4_1, Q5_1 -> Q8_1      (its precomputed d*sum(q) carries the min term)
 *   Q2_K .. Q6_K, Q8_K -> Q8_K
 *
 * Quantizers: Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q8_1 follow the simple per-block
 * rounding GGUF tools use (Q8_0 and Q4_0 give identical bytes; tested).  The
 * K-quants search for scales: a weighted least-squares fit of scale and min
 * over a few candidate inverse scales (Q2_K, Q4_K, Q5_K), or a symmetric
 * fit refined by coordinate descent / a scan of candidate scales (Q3_K,
 * Q6_K); then the super-block scales are quantized and the codes re-derived
 * from the quantized scales. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#define H2F(h) mu_fp16_to_fp32(h)
#define F2H(f) mu_fp32_to_fp16(f)

/* Round to nearest, ties to even (the FPU default mode), as an int. */
static inline int nearest_int(float v)
{
        return (int)lrintf(v);
}

static inline int clampi(int v, int lo, int hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

/* ---- floats -------------------------------------------------------------- */

static void f32_to_float(const void *x, float *y, int64_t n)
{
        memcpy(y, x, (size_t)n * sizeof(float));
}

static void f32_from_float(const float *x, void *y, int64_t n)
{
        memcpy(y, x, (size_t)n * sizeof(float));
}

static void f32_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const float *x = xv, *y = yv;
        double sum = 0;

        for (int i = 0; i < n; i++)
                sum += (double)x[i] * y[i];
        *s = (float)sum;
}

static void f16_to_float(const void *xv, float *y, int64_t n)
{
        const uint16_t *x = xv;

        for (int64_t i = 0; i < n; i++)
                y[i] = H2F(x[i]);
}

static void f16_from_float(const float *x, void *yv, int64_t n)
{
        uint16_t *y = yv;

        for (int64_t i = 0; i < n; i++)
                y[i] = F2H(x[i]);
}

static void f16_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const uint16_t *x = xv;
        const float *y = yv;
        double sum = 0;

        for (int i = 0; i < n; i++)
                sum += (double)H2F(x[i]) * y[i];
        *s = (float)sum;
}

static void bf16_to_float(const void *xv, float *y, int64_t n)
{
        const uint16_t *x = xv;

        for (int64_t i = 0; i < n; i++)
                y[i] = mu_bf16_to_fp32(x[i]);
}

static void bf16_from_float(const float *x, void *yv, int64_t n)
{
        uint16_t *y = yv;

        for (int64_t i = 0; i < n; i++)
                y[i] = mu_fp32_to_bf16(x[i]);
}

static void bf16_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const uint16_t *x = xv;
        const float *y = yv;
        double sum = 0;

        for (int i = 0; i < n; i++)
                sum += (double)mu_bf16_to_fp32(x[i]) * y[i];
        *s = (float)sum;
}

/* ---- 32-element blocks ------------------------------------------------- */

static void q4_0_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q4_0 *x = xv;

        for (int64_t b = 0; b < n / QK4_0; b++, y += QK4_0) {
                float d = H2F(x[b].d);
                for (int j = 0; j < 16; j++) {
                        y[j] = d * ((x[b].qs[j] & 0xf) - 8);
                        y[j + 16] = d * ((x[b].qs[j] >> 4) - 8);
                }
        }
}

/* Scale so that the element of largest magnitude maps to -8 exactly. */
static void q4_0_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q4_0 *y = yv;

        for (int64_t b = 0; b < n / QK4_0; b++, x += QK4_0) {
                float amax = 0, max = 0;
                for (int j = 0; j < QK4_0; j++) {
                        if (amax < fabsf(x[j])) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                }
                float d = max / -8, id = d ? 1.0f / d : 0.0f;
                y[b].d = F2H(d);
                for (int j = 0; j < 16; j++) {
                        int a = (int8_t)(x[j] * id + 8.5f), c = (int8_t)(x[j + 16] * id + 8.5f);
                        a = a > 15 ? 15 : a;
                        c = c > 15 ? 15 : c;
                        y[b].qs[j] = (uint8_t)(a | (c << 4));
                }
        }
}

/* The 32-block dot products sum like llama.cpp's x86 kernels (AVX2 and
 * AVX-512 builds): per block, 8 lanes each take 4 consecutive products
 * (an int32, exact), scaled by d_x * d_y (one f32 product) and added with an
 * FMA into the lane; the lanes are summed (l + 4), (l + 2), (l + 1); Q4_1 and
 * Q5_1 add their min terms in a separate f32 sum, last.  Float sums in
 * another order give other last bits, and after int8 re-quantization in
 * every layer other greedy tokens on small models. */
static inline void lanes8_fma(float acc[8], float d, const int w[32], const int8_t *y)
{
        for (int l = 0; l < 8; l++) {
                int isum = 0;
                for (int j = 4 * l; j < 4 * l + 4; j++)
                        isum += w[j] * y[j];
                acc[l] = fmaf(d, (float)isum, acc[l]);
        }
}

static float lanes8_sum(const float acc[8])
{
        float r[4];

        for (int l = 0; l < 4; l++)
                r[l] = acc[l + 4] + acc[l];
        return (r[0] + r[2]) + (r[1] + r[3]);
}

static void q4_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_0 *x = xv;
        const struct block_q8_0 *y = yv;
        float acc[8] = {0};
        int w[32];

        for (int b = 0; b < n / QK4_0; b++) {
                for (int j = 0; j < 16; j++) {
                        w[j] = (x[b].qs[j] & 0xf) - 8;
                        w[j + 16] = (x[b].qs[j] >> 4) - 8;
                }
                lanes8_fma(acc, H2F(x[b].d) * H2F(y[b].d), w, y[b].qs);
        }
        *s = lanes8_sum(acc);
}

static void q4_1_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q4_1 *x = xv;

        for (int64_t b = 0; b < n / QK4_1; b++, y += QK4_1) {
                float d = H2F(x[b].d), m = H2F(x[b].m);
                for (int j = 0; j < 16; j++) {
                        y[j] = d * (x[b].qs[j] & 0xf) + m;
                        y[j + 16] = d * (x[b].qs[j] >> 4) + m;
                }
        }
}

static void q4_1_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q4_1 *y = yv;

        for (int64_t b = 0; b < n / QK4_1; b++, x += QK4_1) {
                float lo = FLT_MAX, hi = -FLT_MAX;
                for (int j = 0; j < QK4_1; j++) {
                        lo = x[j] < lo ? x[j] : lo;
                        hi = x[j] > hi ? x[j] : hi;
                }
                float d = (hi - lo) / 15, id = d ? 1.0f / d : 0.0f;
                y[b].d = F2H(d);
                y[b].m = F2H(lo);
                for (int j = 0; j < 16; j++) {
                        int a = (int8_t)((x[j] - lo) * id + 0.5f);
                        int c = (int8_t)((x[j + 16] - lo) * id + 0.5f);
                        a = a > 15 ? 15 : a;
                        c = c > 15 ? 15 : c;
                        y[b].qs[j] = (uint8_t)(a | (c << 4));
                }
        }
}

static void q4_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_1 *x = xv;
        const struct block_q8_1 *y = yv;
        float acc[8] = {0}, summs = 0;
        int w[32];

        for (int b = 0; b < n / QK4_1; b++) {
                summs += H2F(x[b].m) * H2F(y[b].s);
                for (int j = 0; j < 16; j++) {
                        w[j] = x[b].qs[j] & 0xf;
                        w[j + 16] = x[b].qs[j] >> 4;
                }
                lanes8_fma(acc, H2F(x[b].d) * H2F(y[b].d), w, y[b].qs);
        }
        *s = lanes8_sum(acc) + summs;
}

static inline uint32_t load_u32(const uint8_t *p)
{
        uint32_t v;

        memcpy(&v, p, 4);
        return v;
}

static void q5_0_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q5_0 *x = xv;

        for (int64_t b = 0; b < n / QK5_0; b++, y += QK5_0) {
                float d = H2F(x[b].d);
                uint32_t qh = load_u32(x[b].qh);
                for (int j = 0; j < 16; j++) {
                        int a = (x[b].qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
                        int c = (x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                        y[j] = d * (a - 16);
                        y[j + 16] = d * (c - 16);
                }
        }
}

static void q5_0_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q5_0 *y = yv;

        for (int64_t b = 0; b < n / QK5_0; b++, x += QK5_0) {
                float amax = 0, max = 0;
                for (int j = 0; j < QK5_0; j++) {
                        if (amax < fabsf(x[j])) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                }
                float d = max / -16, id = d ? 1.0f / d : 0.0f;
                uint32_t qh = 0;
                y[b].d = F2H(d);
                for (int j = 0; j < 16; j++) {
                        int a = (int8_t)(x[j] * id + 16.5f), c = (int8_t)(x[j + 16] * id + 16.5f);
                        a = a > 31 ? 31 : a;
                        c = c > 31 ? 31 : c;
                        y[b].qs[j] = (uint8_t)((a & 0xf) | ((c & 0xf) << 4));
                        qh |= (uint32_t)((a >> 4) & 1) << j;
                        qh |= (uint32_t)((c >> 4) & 1) << (j + 16);
                }
                memcpy(y[b].qh, &qh, 4);
        }
}

static void q5_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_0 *x = xv;
        const struct block_q8_0 *y = yv;
        float acc[8] = {0};
        int w[32];

        for (int b = 0; b < n / QK5_0; b++) {
                uint32_t qh = load_u32(x[b].qh);
                for (int j = 0; j < 16; j++) {
                        w[j] = ((x[b].qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4)) - 16;
                        w[j + 16] = ((x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
                }
                lanes8_fma(acc, H2F(x[b].d) * H2F(y[b].d), w, y[b].qs);
        }
        *s = lanes8_sum(acc);
}

static void q5_1_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q5_1 *x = xv;

        for (int64_t b = 0; b < n / QK5_1; b++, y += QK5_1) {
                float d = H2F(x[b].d), m = H2F(x[b].m);
                uint32_t qh = load_u32(x[b].qh);
                for (int j = 0; j < 16; j++) {
                        int a = (x[b].qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
                        int c = (x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                        y[j] = d * a + m;
                        y[j + 16] = d * c + m;
                }
        }
}

static void q5_1_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q5_1 *y = yv;

        for (int64_t b = 0; b < n / QK5_1; b++, x += QK5_1) {
                float lo = FLT_MAX, hi = -FLT_MAX;
                for (int j = 0; j < QK5_1; j++) {
                        lo = x[j] < lo ? x[j] : lo;
                        hi = x[j] > hi ? x[j] : hi;
                }
                float d = (hi - lo) / 31, id = d ? 1.0f / d : 0.0f;
                uint32_t qh = 0;
                y[b].d = F2H(d);
                y[b].m = F2H(lo);
                for (int j = 0; j < 16; j++) {
                        int a = (uint8_t)((x[j] - lo) * id + 0.5f);
                        int c = (uint8_t)((x[j + 16] - lo) * id + 0.5f);
                        a = a > 31 ? 31 : a;
                        c = c > 31 ? 31 : c;
                        y[b].qs[j] = (uint8_t)((a & 0xf) | ((c & 0xf) << 4));
                        qh |= (uint32_t)((a >> 4) & 1) << j;
                        qh |= (uint32_t)((c >> 4) & 1) << (j + 16);
                }
                memcpy(y[b].qh, &qh, 4);
        }
}

static void q5_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_1 *x = xv;
        const struct block_q8_1 *y = yv;
        float acc[8] = {0}, summs = 0;
        int w[32];

        for (int b = 0; b < n / QK5_1; b++) {
                uint32_t qh = load_u32(x[b].qh);
                summs += H2F(x[b].m) * H2F(y[b].s);
                for (int j = 0; j < 16; j++) {
                        w[j] = (x[b].qs[j] & 0xf) | (int)(((qh >> j) & 1) << 4);
                        w[j + 16] = (x[b].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                }
                lanes8_fma(acc, H2F(x[b].d) * H2F(y[b].d), w, y[b].qs);
        }
        *s = lanes8_sum(acc) + summs;
}

static void q8_0_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q8_0 *x = xv;

        for (int64_t b = 0; b < n / QK8_0; b++, y += QK8_0) {
                float d = H2F(x[b].d);
                for (int j = 0; j < QK8_0; j++)
                        y[j] = d * x[b].qs[j];
        }
}

/* Activations (and a Q8_0 KV cache) are quantized with llama.cpp's x86 rule,
 * which is not its reference quantizer's: the inverse scale is 127 / amax
 * (not 1 / d) and halves round to even (not away from zero).  The results
 * differ by one in a few codes per thousand, enough to change these small
 * models' greedy output, so we follow the rule of the llama.cpp builds we
 * compare with (x86, AVX2 and AVX-512).  Weights written by `create
 * --quantize` keep the reference rule (q8_0_quantize_ref). */
static inline int8_t q8_round(float v)
{
        return (int8_t)nearbyintf(v); /* default rounding mode: half to even */
}

static void q8_0_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_0 *y = yv;

        for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0) {
                float amax = 0;
                for (int j = 0; j < QK8_0; j++)
                        amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
                float d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
                y[b].d = F2H(d);
                for (int j = 0; j < QK8_0; j++)
                        y[b].qs[j] = q8_round(x[j] * id);
        }
}

/* ggml's quantize_row_q8_0_ref: what llama-quantize writes for Q8_0. */
static void q8_0_quantize_ref(const float *x, void *yv, int64_t n)
{
        struct block_q8_0 *y = yv;

        for (int64_t b = 0; b < n / QK8_0; b++, x += QK8_0) {
                float amax = 0;
                for (int j = 0; j < QK8_0; j++)
                        amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
                float d = amax / 127, id = d ? 1.0f / d : 0.0f;
                y[b].d = F2H(d);
                for (int j = 0; j < QK8_0; j++)
                        y[b].qs[j] = (int8_t)roundf(x[j] * id);
        }
}

static void q8_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q8_0 *x = xv, *y = yv;
        float acc[8] = {0};
        int w[32];

        for (int b = 0; b < n / QK8_0; b++) {
                for (int j = 0; j < 32; j++)
                        w[j] = x[b].qs[j];
                lanes8_fma(acc, H2F(x[b].d) * H2F(y[b].d), w, y[b].qs);
        }
        *s = lanes8_sum(acc);
}

static void q8_1_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q8_1 *x = xv;

        for (int64_t b = 0; b < n / QK8_1; b++, y += QK8_1) {
                float d = H2F(x[b].d);
                for (int j = 0; j < QK8_1; j++)
                        y[j] = d * x[b].qs[j];
        }
}

static void q8_1_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_1 *y = yv;

        for (int64_t b = 0; b < n / QK8_1; b++, x += QK8_1) {
                float amax = 0;
                int sum = 0;
                for (int j = 0; j < QK8_1; j++)
                        amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
                float d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
                y[b].d = F2H(d);
                for (int j = 0; j < QK8_1; j++) {
                        y[b].qs[j] = q8_round(x[j] * id); /* the rule of q8_0_from_float */
                        sum += y[b].qs[j];
                }
                y[b].s = F2H((float)sum * d);
        }
}

/* ---- K-quant scale search ----------------------------------------------- */

/* Asymmetric fit of n values to codes 0..nmax: x ~ scale * L - min_out.
 * Starts from the min/max grid, then tries nstep+1 inverse scales
 * (nmax + rmin + rdelta*is) / (max - min), and for each solves the weighted
 * least-squares problem for (scale, min) with the codes fixed; keeps the
 * best by weighted squared (or absolute, use_abs) error.  min is clamped to
 * <= 0 so the stored "min" (returned negated) is non-negative. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L,
                           float *min_out, uint8_t *Laux, float rmin, float rdelta, int nstep,
                           int use_abs)
{
        float lo = x[0], hi = x[0], sum_w = w[0], sum_x = w[0] * x[0];

        for (int i = 1; i < n; i++) {
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
                sum_w += w[i];
                sum_x += w[i] * x[i];
        }
        if (lo > 0)
                lo = 0;
        if (hi == lo) {
                memset(L, 0, (size_t)n);
                *min_out = -lo;
                return 0;
        }
        float iscale = nmax / (hi - lo), scale = 1 / iscale, best = 0;
        for (int i = 0; i < n; i++) {
                int l = clampi(nearest_int(iscale * (x[i] - lo)), 0, nmax);
                float diff = scale * l + lo - x[i];
                L[i] = (uint8_t)l;
                best += w[i] * (use_abs ? fabsf(diff) : diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
                float sum_l = 0, sum_l2 = 0, sum_xl = 0;
                iscale = (rmin + rdelta * is + nmax) / (hi - lo);
                for (int i = 0; i < n; i++) {
                        int l = clampi(nearest_int(iscale * (x[i] - lo)), 0, nmax);
                        Laux[i] = (uint8_t)l;
                        sum_l += w[i] * l;
                        sum_l2 += w[i] * l * l;
                        sum_xl += w[i] * l * x[i];
                }
                float det = sum_w * sum_l2 - sum_l * sum_l;
                if (det <= 0)
                        continue;
                float s = (sum_w * sum_xl - sum_x * sum_l) / det;
                float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
                if (m > 0) {
                        m = 0;
                        s = sum_xl / sum_l2;
                }
                float err = 0;
                for (int i = 0; i < n; i++) {
                        float diff = s * Laux[i] + m - x[i];
                        err += w[i] * (use_abs ? fabsf(diff) : diff * diff);
                }
                if (err < best) {
                        memcpy(L, Laux, (size_t)n);
                        best = err;
                        scale = s;
                        lo = m;
                }
        }
        *min_out = -lo;
        return scale;
}

/* Symmetric fit to codes -nmax..nmax-1 (stored as L + nmax), weights x^2:
 * the element of largest magnitude fixes the sign; 19 candidate inverse
 * scales around nmax/max are scanned and the best least-squares scale
 * kept. */
static float fit_scale_sym(int n, int nmax, const float *x, int8_t *L)
{
        float max = 0, amax = 0;

        for (int i = 0; i < n; i++) {
                if (fabsf(x[i]) > amax) {
                        amax = fabsf(x[i]);
                        max = x[i];
                }
        }
        if (amax < 1e-15f) {
                memset(L, 0, (size_t)n);
                return 0;
        }
        float iscale = -nmax / max, sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
                int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                L[i] = (int8_t)(l + nmax);
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
        }
        float scale = suml2 ? sumlx / suml2 : 0, best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
                if (is == 0)
                        continue;
                iscale = -(nmax + 0.1f * is) / max;
                sumlx = suml2 = 0;
                for (int i = 0; i < n; i++) {
                        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
                        float w = x[i] * x[i];
                        sumlx += w * x[i] * l;
                        suml2 += w * l * l;
                }
                if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                        for (int i = 0; i < n; i++)
                                L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
                        scale = sumlx / suml2;
                        best = scale * sumlx;
                }
        }
        return scale;
}

/* Symmetric fit for Q3_K (codes -nmax..nmax-1): initial rounding, then up
 * to 5 rounds of per-element coordinate descent on the weighted (x^2)
 * least-squares objective. L is returned biased by +nmax. */
static float fit_scale_sym_refine(int n, int nmax, const float *x, int8_t *L)
{
        float max = 0, amax = 0;

        for (int i = 0; i < n; i++) {
                if (fabsf(x[i]) > amax) {
                        amax = fabsf(x[i]);
                        max = x[i];
                }
        }
        if (amax < 1e-15f) {
                memset(L, 0, (size_t)n);
                return 0;
        }
        float iscale = -nmax / max, sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
                int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                L[i] = (int8_t)l;
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
        }
        for (int round = 0; round < 5; round++) {
                int changed = 0;
                for (int i = 0; i < n; i++) {
                        float w = x[i] * x[i];
                        float slx = sumlx - w * x[i] * L[i];
                        if (slx <= 0)
                                continue;
                        float sl2 = suml2 - w * L[i] * L[i];
                        int nl = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                        if (nl == L[i])
                                continue;
                        slx += w * x[i] * nl;
                        sl2 += w * nl * nl;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                                L[i] = (int8_t)nl;
                                sumlx = slx;
                                suml2 = sl2;
                                changed++;
                        }
                }
                if (!changed)
                        break;
        }
        for (int i = 0; i < n; i++)
                L[i] = (int8_t)(L[i] + nmax);
        return suml2 > 0 ? sumlx / suml2 : 0;
}

/* ---- Q8_K (activations for the K-quants) -------------------------------- */

static void q8_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q8_k *x = xv;

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K)
                for (int j = 0; j < QK_K; j++)
                        y[j] = x[b].d * x[b].qs[j];
}

static void q8_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q8_k *y = yv;

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                float max = 0, amax = 0;
                for (int j = 0; j < QK_K; j++) {
                        if (fabsf(x[j]) > amax) {
                                amax = fabsf(x[j]);
                                max = x[j];
                        }
                }
                if (!amax) {
                        memset(&y[b], 0, sizeof(y[b]));
                        continue;
                }
                float iscale = -127.f / max;
                for (int j = 0; j < QK_K; j++) {
                        int v = nearest_int(iscale * x[j]);
                        y[b].qs[j] = (int8_t)(v > 127 ? 127 : v);
                }
                for (int g = 0; g < QK_K / 16; g++) {
                        int sum = 0;
                        for (int j = 0; j < 16; j++)
                                sum += y[b].qs[g * 16 + j];
                        y[b].bsums[g] = (int16_t)sum;
                }
                y[b].d = 1 / iscale;
        }
}

static void q8_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q8_k *x = xv, *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                int isum = 0;
                for (int j = 0; j < QK_K; j++)
                        isum += x[b].qs[j] * y[b].qs[j];
                sum += (float)isum * x[b].d * y[b].d;
        }
        *s = sum;
}

/* ---- Q2_K ---------------------------------------------------------------- */

/* Codes (0..3) of a Q2_K or the low 2 bits of a Q3_K block, in order. */
static void unpack_2bit(const uint8_t *qs, uint8_t *q)
{
        for (int h = 0; h < 2; h++)
                for (int s = 0; s < 4; s++)
                        for (int l = 0; l < 32; l++)
                                q[128 * h + 32 * s + l] = (qs[32 * h + l] >> (2 * s)) & 3;
}

static void pack_2bit(const uint8_t *L, uint8_t *qs)
{
        for (int h = 0; h < 2; h++)
                for (int l = 0; l < 32; l++)
                        qs[32 * h + l] = (uint8_t)(L[128 * h + l] | (L[128 * h + 32 + l] << 2) |
                                                   (L[128 * h + 64 + l] << 4) |
                                                   (L[128 * h + 96 + l] << 6));
}

static void q2_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q2_k *x = xv;
        uint8_t q[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
                float d = H2F(x[b].d), dmin = H2F(x[b].dmin);
                unpack_2bit(x[b].qs, q);
                for (int g = 0; g < 16; g++) {
                        float dl = d * (x[b].scales[g] & 0xf), ml = dmin * (x[b].scales[g] >> 4);
                        for (int l = 0; l < 16; l++)
                                y[16 * g + l] = dl * q[16 * g + l] - ml;
                }
        }
}

static void q2_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q2_k *y = yv;
        uint8_t L[QK_K], Laux[16];
        float w[16], mins[16], scales[16];

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                float max_scale = 0, max_min = 0;
                for (int g = 0; g < 16; g++) {
                        for (int l = 0; l < 16; l++)
                                w[l] = fabsf(x[16 * g + l]);
                        scales[g] = fit_scale_min(16, 3, x + 16 * g, w, L + 16 * g, &mins[g], Laux,
                                                  -0.5f, 0.1f, 15, 1);
                        max_scale = scales[g] > max_scale ? scales[g] : max_scale;
                        max_min = mins[g] > max_min ? mins[g] : max_min;
                }
                if (max_scale > 0) {
                        float iscale = 15 / max_scale;
                        for (int g = 0; g < 16; g++)
                                y[b].scales[g] = (uint8_t)nearest_int(iscale * scales[g]);
                        y[b].d = F2H(max_scale / 15);
                } else {
                        memset(y[b].scales, 0, 16);
                        y[b].d = F2H(0);
                }
                if (max_min > 0) {
                        float iscale = 15 / max_min;
                        for (int g = 0; g < 16; g++)
                                y[b].scales[g] |= (uint8_t)(nearest_int(iscale * mins[g]) << 4);
                        y[b].dmin = F2H(max_min / 15);
                } else {
                        y[b].dmin = F2H(0);
                }
                for (int g = 0; g < 16; g++) {
                        float d = H2F(y[b].d) * (y[b].scales[g] & 0xf);
                        if (!d)
                                continue;
                        float dm = H2F(y[b].dmin) * (y[b].scales[g] >> 4);
                        for (int l = 0; l < 16; l++)
                                L[16 * g + l] = (uint8_t)clampi(nearest_int((x[16 * g + l] + dm) / d), 0, 3);
                }
                pack_2bit(L, y[b].qs);
        }
}

static void q2_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q2_k *x = xv;
        const struct block_q8_k *y = yv;
        uint8_t q[QK_K];
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                int isum = 0, msum = 0;
                unpack_2bit(x[b].qs, q);
                for (int g = 0; g < 16; g++) {
                        int gs = 0;
                        for (int l = 0; l < 16; l++)
                                gs += q[16 * g + l] * y[b].qs[16 * g + l];
                        isum += (x[b].scales[g] & 0xf) * gs;
                        msum += (x[b].scales[g] >> 4) * y[b].bsums[g];
                }
                sum += y[b].d * (H2F(x[b].d) * isum - H2F(x[b].dmin) * msum);
        }
        *s = sum;
}

/* ---- Q3_K ---------------------------------------------------------------- */

/* Signed codes (-4..3) of a Q3_K block. */
static void q3_k_codes(const struct block_q3_k *x, int8_t *q)
{
        uint8_t lo[QK_K];

        unpack_2bit(x->qs, lo);
        for (int e = 0; e < QK_K; e++)
                q[e] = (int8_t)(lo[e] - ((x->hmask[e % 32] >> (e / 32)) & 1 ? 0 : 4));
}

static void q3_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q3_k *x = xv;
        int8_t q[QK_K], sc[16];

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
                float d = H2F(x[b].d);
                q3_k_codes(&x[b], q);
                quant_k3_scales(x[b].scales, sc);
                for (int g = 0; g < 16; g++) {
                        float dl = d * sc[g];
                        for (int l = 0; l < 16; l++)
                                y[16 * g + l] = dl * q[16 * g + l];
                }
        }
}

static void q3_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q3_k *y = yv;
        int8_t L[QK_K];
        float scales[16];

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                float max_scale = 0, amax = 0;
                for (int g = 0; g < 16; g++) {
                        scales[g] = fit_scale_sym_refine(16, 4, x + 16 * g, L + 16 * g);
                        if (fabsf(scales[g]) > amax) {
                                amax = fabsf(scales[g]);
                                max_scale = scales[g];
                        }
                }
                memset(y[b].scales, 0, sizeof(y[b].scales));
                if (max_scale) {
                        float iscale = -32 / max_scale;
                        for (int g = 0; g < 16; g++) {
                                int l = clampi(nearest_int(iscale * scales[g]), -32, 31) + 32;
                                if (g < 8)
                                        y[b].scales[g] = (uint8_t)(l & 0xf);
                                else
                                        y[b].scales[g - 8] |= (uint8_t)((l & 0xf) << 4);
                                y[b].scales[8 + g % 4] |= (uint8_t)((l >> 4) << (2 * (g / 4)));
                        }
                        y[b].d = F2H(1 / iscale);
                } else {
                        y[b].d = F2H(0);
                }
                int8_t sc[16];
                quant_k3_scales(y[b].scales, sc);
                for (int g = 0; g < 16; g++) {
                        float d = H2F(y[b].d) * sc[g];
                        if (!d)
                                continue;
                        for (int l = 0; l < 16; l++)
                                L[16 * g + l] = (int8_t)(clampi(nearest_int(x[16 * g + l] / d), -4, 3) + 4);
                }
                uint8_t lo[QK_K];
                memset(y[b].hmask, 0, sizeof(y[b].hmask));
                for (int e = 0; e < QK_K; e++) {
                        int l = L[e];
                        if (l > 3) {
                                y[b].hmask[e % 32] |= (uint8_t)(1 << (e / 32));
                                l -= 4;
                        }
                        lo[e] = (uint8_t)l;
                }
                pack_2bit(lo, y[b].qs);
        }
}

static void q3_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q3_k *x = xv;
        const struct block_q8_k *y = yv;
        int8_t q[QK_K], sc[16];
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                int isum = 0;
                q3_k_codes(&x[b], q);
                quant_k3_scales(x[b].scales, sc);
                for (int g = 0; g < 16; g++) {
                        int gs = 0;
                        for (int l = 0; l < 16; l++)
                                gs += q[16 * g + l] * y[b].qs[16 * g + l];
                        isum += sc[g] * gs;
                }
                sum += H2F(x[b].d) * y[b].d * isum;
        }
        *s = sum;
}

/* ---- Q4_K / Q5_K ------------------------------------------------------- */

/* Fit 8 groups of 32 to codes 0..nmax with (scale, min) each, then quantize
 * the 16 values to 6 bits against d = max_scale/63, dmin = max_min/63 and
 * re-derive the codes.  Writes d, dmin, scales[12] and L[256]. */
static void k4_fit(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                   uint16_t *dmin_out, uint8_t *packed, uint8_t *L)
{
        float w[32], mins[8], scales[8], max_scale = 0, max_min = 0;
        uint8_t Laux[32];

        for (int j = 0; j < 8; j++) {
                float sum_x2 = 0;
                for (int l = 0; l < 32; l++)
                        sum_x2 += x[32 * j + l] * x[32 * j + l];
                float av = sqrtf(sum_x2 / 32);
                for (int l = 0; l < 32; l++)
                        w[l] = av + fabsf(x[32 * j + l]);
                scales[j] = fit_scale_min(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin,
                                          0.1f, nstep, 0);
                max_scale = scales[j] > max_scale ? scales[j] : max_scale;
                max_min = mins[j] > max_min ? mins[j] : max_min;
        }
        float inv_scale = max_scale > 0 ? 63 / max_scale : 0;
        float inv_min = max_min > 0 ? 63 / max_min : 0;
        memset(packed, 0, K_SCALE_SIZE);
        for (int j = 0; j < 8; j++) {
                int ls = clampi(nearest_int(inv_scale * scales[j]), 0, 63);
                int lm = clampi(nearest_int(inv_min * mins[j]), 0, 63);
                if (j < 4) {
                        packed[j] = (uint8_t)ls;
                        packed[j + 4] = (uint8_t)lm;
                } else {
                        packed[j + 4] = (uint8_t)((ls & 0xf) | ((lm & 0xf) << 4));
                        packed[j - 4] |= (uint8_t)((ls >> 4) << 6);
                        packed[j] |= (uint8_t)((lm >> 4) << 6);
                }
        }
        *d_out = F2H(max_scale / 63);
        *dmin_out = F2H(max_min / 63);
        for (int j = 0; j < 8; j++) {
                uint8_t sc, m;
                quant_k4_scale_min(j, packed, &sc, &m);
                float d = H2F(*d_out) * sc;
                if (!d)
                        continue;
                float dm = H2F(*dmin_out) * m;
                for (int l = 0; l < 32; l++)
                        L[32 * j + l] = (uint8_t)clampi(nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
        }
}

static void q4_k_codes(const struct block_q4_k *x, uint8_t *q)
{
        for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) {
                        q[64 * c + l] = x->qs[32 * c + l] & 0xf;
                        q[64 * c + 32 + l] = x->qs[32 * c + l] >> 4;
                }
}

static void q5_k_codes(const struct block_q5_k *x, uint8_t *q)
{
        for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) {
                        q[64 * c + l] = (uint8_t)((x->qs[32 * c + l] & 0xf) |
                                                  (((x->qh[l] >> (2 * c)) & 1) << 4));
                        q[64 * c + 32 + l] = (uint8_t)((x->qs[32 * c + l] >> 4) |
                                                       (((x->qh[l] >> (2 * c + 1)) & 1) << 4));
                }
}

/* value = d*sc_j*q - dmin*m_j over 8 groups of 32. */
static void k4_expand(float d, float dmin, const uint8_t *packed, const uint8_t *q, float *y)
{
        for (int j = 0; j < 8; j++) {
                uint8_t sc, m;
                quant_k4_scale_min(j, packed, &sc, &m);
                float d1 = d * sc, m1 = dmin * m;
                for (int l = 0; l < 32; l++)
                        y[32 * j + l] = d1 * q[32 * j + l] - m1;
        }
}

static float k4_dot(float d, float dmin, const uint8_t *packed, const uint8_t *q,
                    const struct block_q8_k *y)
{
        int isum = 0, msum = 0;

        for (int j = 0; j < 8; j++) {
                uint8_t sc, m;
                int gs = 0;
                quant_k4_scale_min(j, packed, &sc, &m);
                for (int l = 0; l < 32; l++)
                        gs += q[32 * j + l] * y->qs[32 * j + l];
                isum += sc * gs;
                msum += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
        }
        return y->d * (d * isum - dmin * msum);
}

static void q4_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q4_k *x = xv;
        uint8_t q[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
                q4_k_codes(&x[b], q);
                k4_expand(H2F(x[b].d), H2F(x[b].dmin), x[b].scales, q, y);
        }
}

static void q4_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q4_k *y = yv;
        uint8_t L[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                k4_fit(x, 15, -1.0f, 20, &y[b].d, &y[b].dmin, y[b].scales, L);
                for (int c = 0; c < 4; c++)
                        for (int l = 0; l < 32; l++)
                                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        }
}

/* As llama.cpp's x86 CPU backend computes Q4_K rows (it repacks Q4_K weights
 * with a multiple of 8 rows into 8-row interleaved blocks on AVX2 and
 * AVX-512 CPUs): integer sums sum_j sc_j * (q . y) and sum_j m_j * bsum_j,
 * each added with an FMA into its own f32 accumulator scaled by d * d8 and
 * dmin * d8; the result is the difference.  Its one-token kernel (gemv)
 * adds once per super-block (span 8 sub-blocks), its 4-token AVX-512 kernel
 * (gemm, prompt rows in groups of 4 from the first) once per pair of
 * sub-blocks (span 2): q4_k_vec_dot and q4_k_vec_dot4. */
static float q4_k_dot_span(int n, const struct block_q4_k *x, const struct block_q8_k *y, int span)
{
        uint8_t q[QK_K];
        float acc = 0, accm = 0;

        for (int b = 0; b < n / QK_K; b++) {
                float dd = H2F(x[b].d) * y[b].d, dm = H2F(x[b].dmin) * y[b].d;
                q4_k_codes(&x[b], q);
                for (int j0 = 0; j0 < 8; j0 += span) {
                        int isum = 0, msum = 0;
                        for (int j = j0; j < j0 + span; j++) {
                                uint8_t sc, m;
                                int gs = 0;
                                quant_k4_scale_min(j, x[b].scales, &sc, &m);
                                for (int l = 0; l < 32; l++)
                                        gs += q[32 * j + l] * y[b].qs[32 * j + l];
                                isum += sc * gs;
                                msum += m * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
                        }
                        acc = fmaf((float)isum, dd, acc);
                        accm = fmaf((float)msum, dm, accm);
                }
        }
        return acc - accm;
}

static void q4_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        *s = q4_k_dot_span(n, xv, yv, 8);
}

static void q4_k_vec_dot4(int n, float *s, size_t ss, const void *xv, const void *yv, size_t ys)
{
        for (int k = 0; k < 4; k++)
                s[k * ss] = q4_k_dot_span(n, xv, (const struct block_q8_k *)((const char *)yv + k * ys), 2);
}

static void q5_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q5_k *x = xv;
        uint8_t q[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
                q5_k_codes(&x[b], q);
                k4_expand(H2F(x[b].d), H2F(x[b].dmin), x[b].scales, q, y);
        }
}

static void q5_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q5_k *y = yv;
        uint8_t L[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                k4_fit(x, 31, -0.5f, 15, &y[b].d, &y[b].dmin, y[b].scales, L);
                memset(y[b].qh, 0, sizeof(y[b].qh));
                for (int c = 0; c < 4; c++)
                        for (int l = 0; l < 32; l++) {
                                int a = L[64 * c + l], e = L[64 * c + 32 + l];
                                y[b].qs[32 * c + l] = (uint8_t)((a & 0xf) | ((e & 0xf) << 4));
                                y[b].qh[l] |= (uint8_t)(((a >> 4) << (2 * c)) | ((e >> 4) << (2 * c + 1)));
                        }
        }
}

static void q5_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_k *x = xv;
        const struct block_q8_k *y = yv;
        uint8_t q[QK_K];
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                q5_k_codes(&x[b], q);
                sum += k4_dot(H2F(x[b].d), H2F(x[b].dmin), x[b].scales, q, &y[b]);
        }
        *s = sum;
}

/* ---- Q6_K ---------------------------------------------------------------- */

/* Signed codes (-32..31) of a Q6_K block. */
static void q6_k_codes(const struct block_q6_k *x, int8_t *q)
{
        for (int h = 0; h < 2; h++) {
                const uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
                int8_t *o = q + 128 * h;
                for (int l = 0; l < 32; l++) {
                        o[l] = (int8_t)(((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32);
                        o[l + 32] = (int8_t)(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
                        o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                        o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
        }
}

static void q6_k_to_float(const void *xv, float *y, int64_t n)
{
        const struct block_q6_k *x = xv;
        int8_t q[QK_K];

        for (int64_t b = 0; b < n / QK_K; b++, y += QK_K) {
                float d = H2F(x[b].d);
                q6_k_codes(&x[b], q);
                for (int g = 0; g < 16; g++) {
                        float dl = d * x[b].scales[g];
                        for (int l = 0; l < 16; l++)
                                y[16 * g + l] = dl * q[16 * g + l];
                }
        }
}

static void q6_k_from_float(const float *x, void *yv, int64_t n)
{
        struct block_q6_k *y = yv;
        int8_t L[QK_K];
        float scales[16];

        for (int64_t b = 0; b < n / QK_K; b++, x += QK_K) {
                float max_scale = 0, amax = 0;
                for (int g = 0; g < 16; g++) {
                        scales[g] = fit_scale_sym(16, 32, x + 16 * g, L + 16 * g);
                        if (fabsf(scales[g]) > amax) {
                                amax = fabsf(scales[g]);
                                max_scale = scales[g];
                        }
                }
                if (amax < 1e-15f) {
                        memset(&y[b], 0, sizeof(y[b]));
                        continue;
                }
                float iscale = -128 / max_scale;
                y[b].d = F2H(1 / iscale);
                for (int g = 0; g < 16; g++) {
                        int v = nearest_int(iscale * scales[g]);
                        y[b].scales[g] = (int8_t)(v > 127 ? 127 : v);
                }
                for (int g = 0; g < 16; g++) {
                        float d = H2F(y[b].d) * y[b].scales[g];
                        if (!d)
                                continue;
                        for (int l = 0; l < 16; l++)
                                L[16 * g + l] = (int8_t)(clampi(nearest_int(x[16 * g + l] / d), -32, 31) + 32);
                }
                for (int h = 0; h < 2; h++) {
                        const int8_t *Lh = L + 128 * h;
                        uint8_t *ql = y[b].ql + 64 * h, *qh = y[b].qh + 32 * h;
                        for (int l = 0; l < 32; l++) {
                                ql[l] = (uint8_t)((Lh[l] & 0xf) | ((Lh[l + 64] & 0xf) << 4));
                                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0xf) | ((Lh[l + 96] & 0xf) << 4));
                                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                  ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
                        }
                }
        }
}

/* As llama.cpp's x86 ggml_vec_dot_q6_K_q8_K: per super-block 8 int32 lanes,
 * lane l holding, for each 32-value run r, sc * (u . y) over values
 * 32r + 4l .. 32r + 4l + 3 (u the unsigned 6-bit code, sc the scale of that
 * value's group of 16), minus 32 * (sc * bsum) of groups 2l and 2l + 1; each
 * lane is added with an FMA scaled by d8 * d, and the lanes summed at the end
 * (lanes8_sum).  The same integer total as the plain sum, other float bits. */
static void q6_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q6_k *x = xv;
        const struct block_q8_k *y = yv;
        int8_t q[QK_K];
        float acc[8] = {0};

        for (int b = 0; b < n / QK_K; b++) {
                const int8_t *sc = x[b].scales;
                const int8_t *q8 = y[b].qs;
                float d = y[b].d * H2F(x[b].d);
                q6_k_codes(&x[b], q);
                for (int l = 0; l < 8; l++) {
                        int lane = 0;
                        for (int r = 0; r < 8; r++)
                                for (int i = 0; i < 4; i++) {
                                        int e = 32 * r + 4 * l + i;
                                        lane += sc[e / 16] * (q[e] + 32) * q8[e];
                                }
                        lane -= 32 * (y[b].bsums[2 * l] * sc[2 * l] + y[b].bsums[2 * l + 1] * sc[2 * l + 1]);
                        acc[l] = fmaf(d, (float)lane, acc[l]);
                }
        }
        *s = lanes8_sum(acc);
}

/* ---- the table ------------------------------------------------------------ */

#define ENTRY(t, vt) {t##_to_float, t##_from_float, t##_vec_dot, MU_TYPE_##vt}

const struct cpu_kernels cpu_kernels_scalar = {
        .name = "scalar",
        .q = {
                [MU_TYPE_F32] = ENTRY(f32, F32),
                [MU_TYPE_F16] = ENTRY(f16, F32),
                [MU_TYPE_BF16] = ENTRY(bf16, F32),
                [MU_TYPE_Q4_0] = ENTRY(q4_0, Q8_0),
                [MU_TYPE_Q4_1] = ENTRY(q4_1, Q8_1),
                [MU_TYPE_Q5_0] = ENTRY(q5_0, Q8_0),
                [MU_TYPE_Q5_1] = ENTRY(q5_1, Q8_1),
                [MU_TYPE_Q8_0] = ENTRY(q8_0, Q8_0),
                [MU_TYPE_Q8_1] = {q8_1_to_float, q8_1_from_float, NULL, MU_TYPE_Q8_1},
                [MU_TYPE_Q2_K] = ENTRY(q2_k, Q8_K),
                [MU_TYPE_Q3_K] = ENTRY(q3_k, Q8_K),
                [MU_TYPE_Q4_K] = {q4_k_to_float, q4_k_from_float, q4_k_vec_dot, MU_TYPE_Q8_K,
                                  q4_k_vec_dot4},
                [MU_TYPE_Q5_K] = ENTRY(q5_k, Q8_K),
                [MU_TYPE_Q6_K] = ENTRY(q6_k, Q8_K),
                [MU_TYPE_Q8_K] = ENTRY(q8_k, Q8_K),
        },
};

/* Fill every NULL entry of a SIMD table from the scalar one; the vec_dot
 * type always comes from the scalar table so activations are quantized the
 * same way whatever table computes the dot. */
void quant_fill_missing(struct cpu_kernels *k)
{
        for (int t = 0; t < MU_TYPE_COUNT; t++) {
                const struct quant_fns *s = &cpu_kernels_scalar.q[t];
                struct quant_fns *q = &k->q[t];
                if (!q->to_float)
                        q->to_float = s->to_float;
                if (!q->from_float)
                        q->from_float = s->from_float;
                if (!q->vec_dot)
                        q->vec_dot = s->vec_dot;
                q->vec_dot_type = s->vec_dot_type;
        }
}

int quant_supported(int type)
{
        if (type < 0 || type >= MU_TYPE_COUNT)
                return 0;
        const struct quant_fns *q = &cpu_kernels_scalar.q[type];
        return q->to_float && q->from_float && q->vec_dot;
}

void quant_dequantize_row(int type, const void *x, float *y, int64_t n)
{
        cpu_kernels_get()->q[type].to_float(x, y, n);
}

/* Always the scalar reference: files written by `create --quantize` must
 * not depend on the CPU that wrote them. */
void quant_quantize_row(int type, const float *x, void *y, int64_t n)
{
        if (type == MU_TYPE_Q8_0) { /* the weight rule, not the activation rule */
                q8_0_quantize_ref(x, y, n);
                return;
        }
        cpu_kernels_scalar.q[type].from_float(x, y, n);
}
