/* ops.c -- scalar reference ops of the transformer block: RMSNorm, RoPE
 * (normal and NeoX pairing, linear scaling, frequency factors), SiLU/GELU
 * gated units, residual add, soft-capping.  The numerics follow ggml's CPU
 * ops where that matters for matching llama.cpp's greedy output: RMSNorm sums
 * squares in double, RoPE angles come from repeated float multiplication, and
 * GELU is the tanh approximation looked up on fp16-rounded inputs. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "engine/engine.h"

void op_rmsnorm(float *y, const float *x, const float *w, int n, float eps)
{
        double sum = 0;

        for (int i = 0; i < n; i++)
                sum += (double)(x[i] * x[i]);
        float scale = 1.0f / sqrtf((float)(sum / n) + eps);
        if (w) {
                for (int i = 0; i < n; i++)
                        y[i] = (x[i] * scale) * w[i];
        } else {
                for (int i = 0; i < n; i++)
                        y[i] = x[i] * scale;
        }
}

void op_rope_cache(float *cs, float pos, const struct rope_params *rp)
{
        float theta_scale = powf(rp->base, -2.0f / (float)rp->n_rot);
        float theta = pos;

        for (int i0 = 0; i0 < rp->n_rot; i0 += 2) {
                float ff = rp->factors ? rp->factors[i0 / 2] : 1.0f;
                float t = rp->freq_scale * (theta / ff);
                cs[i0] = cosf(t) * rp->attn_factor;
                cs[i0 + 1] = sinf(t) * rp->attn_factor;
                theta *= theta_scale;
        }
}

void op_rope_apply(float *x, const float *cs, int n_rot, int neox)
{
        if (neox) {
                int h = n_rot / 2;
                for (int i = 0; i < h; i++) {
                        float c = cs[2 * i], s = cs[2 * i + 1];
                        float x0 = x[i], x1 = x[i + h];
                        x[i] = fmaf(x0, c, -(x1 * s));
                        x[i + h] = fmaf(x0, s, x1 * c);
                }
        } else {
                for (int i0 = 0; i0 < n_rot; i0 += 2) {
                        float c = cs[i0], s = cs[i0 + 1];
                        float x0 = x[i0], x1 = x[i0 + 1];
                        x[i0] = fmaf(x0, c, -(x1 * s));
                        x[i0 + 1] = fmaf(x0, s, x1 * c);
                }
        }
}

/* exp(x) as ggml's AVX-512 ggml_v_expf computes it (range reduction by
 * rounding x/ln2 with the 1.5*2^23 trick, a degree-5 polynomial in FMAs,
 * scaling by 2^n); within ~1.5 ulp of expf, and what llama.cpp's SiLU uses
 * on AVX-512 CPUs. */
static float expf_ggml(float x)
{
        const float r = 0x1.8p23f;
        float z = fmaf(x, 0x1.715476p+0f, r), n = z - r;
        float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x)), u = b * b;
        float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                            fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                       u, fmaf(0x1.ffffecp-1f, b, 1.0f));

        if (fabsf(n) > 192)
                return n <= 0 ? 0.0f : INFINITY;
        return scalbnf(j, (int)n);
}

/* SiLU(g) * u like llama.cpp's ggml_vec_swiglu_f32 on AVX-512: groups of 16
 * with expf_ggml, the tail with expf.  The reference; op_silu_mul takes the
 * kernel table's vector version when it has one (same bits: tests/test_ops.c). */
void op_silu_mul_ref(float *y, const float *g, const float *u, int n)
{
        int i = 0, n16 = n - n % 16;

        for (; i < n16; i++)
                y[i] = g[i] / (1.0f + expf_ggml(-g[i])) * u[i];
        for (; i < n; i++)
                y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void op_silu_mul(float *y, const float *g, const float *u, int n)
{
        const struct cpu_kernels *k = cpu_kernels_get();

        if (k->silu_mul)
                k->silu_mul(y, g, u, n);
        else
                op_silu_mul_ref(y, g, u, n);
}

float op_gelu(float x)
{
        const float a = 0.044715f, s2pi = 0.79788456080286535587989211986876f;
        /* 1 + a x^2 as one FMA, as ggml's build contracts it (this changes
         * one fp16 table entry, x = -1.999) */
        return 0.5f * x * (1.0f + tanhf(s2pi * x * fmaf(a * x, x, 1.0f)));
}

/* gelu of every fp16 value, rounded to fp16 (as ggml's table) */
static float gelu_table[1 << 16];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static void gelu_init(void)
{
        for (int i = 0; i < (1 << 16); i++)
                gelu_table[i] = mu_fp16_to_fp32(mu_fp32_to_fp16(op_gelu(mu_fp16_to_fp32((uint16_t)i))));
}

void op_gelu_mul_ref(float *y, const float *g, const float *u, int n)
{
        pthread_once(&gelu_once, gelu_init);
        for (int i = 0; i < n; i++) {
                float x = g[i];
                float v;
                if (x <= -10.0f)
                        v = 0.0f;
                else if (x >= 10.0f)
                        v = x;
                else
                        v = gelu_table[mu_fp32_to_fp16(x)];
                y[i] = v * u[i];
        }
}

/* op_gelu_mul_ref, 16 (8) at a time: vcvtps2ph rounds to nearest even like
 * mu_fp32_to_fp16, except that a NaN keeps part of its payload where
 * mu_fp32_to_fp16 gives sign | 0x7e00, so NaN lanes take that index; the
 * table lookup is a gather.  Same bits as the reference (tests/test_ops.c). */
#if defined(__x86_64__)
#include <immintrin.h>
#define GELU_RNE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

__attribute__((target("avx512f,f16c"))) static void gelu_mul_avx512(float *y, const float *g,
                                                                   const float *u, int n)
{
        const __m512 lo = _mm512_set1_ps(-10.0f), hi = _mm512_set1_ps(10.0f);
        int i = 0;

        for (; i + 16 <= n; i += 16) {
                __m512 x = _mm512_loadu_ps(g + i);
                __m512i h = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(x, GELU_RNE));
                __m512i qnan = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 16),
                                                                _mm512_set1_epi32(0x8000)),
                                               _mm512_set1_epi32(0x7e00));
                h = _mm512_mask_mov_epi32(h, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), qnan);
                __m512 v = _mm512_i32gather_ps(h, gelu_table, 4);
                v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(x, lo, _CMP_LE_OQ), _mm512_setzero_ps());
                v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(x, hi, _CMP_GE_OQ), x);
                _mm512_storeu_ps(y + i, _mm512_mul_ps(v, _mm512_loadu_ps(u + i)));
        }
        op_gelu_mul_ref(y + i, g + i, u + i, n - i);
}

__attribute__((target("avx2,f16c"))) static void gelu_mul_avx2(float *y, const float *g,
                                                              const float *u, int n)
{
        const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
        int i = 0;

        for (; i + 8 <= n; i += 8) {
                __m256 x = _mm256_loadu_ps(g + i);
                __m256i h = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(x, GELU_RNE));
                __m256i qnan = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x), 16),
                                                                _mm256_set1_epi32(0x8000)),
                                               _mm256_set1_epi32(0x7e00));
                h = _mm256_blendv_epi8(h, qnan, _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
                __m256 v = _mm256_i32gather_ps(gelu_table, h, 4);
                v = _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LE_OQ));
                v = _mm256_blendv_ps(v, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
                _mm256_storeu_ps(y + i, _mm256_mul_ps(v, _mm256_loadu_ps(u + i)));
        }
        op_gelu_mul_ref(y + i, g + i, u + i, n - i);
}
#endif

void op_gelu_mul(float *y, const float *g, const float *u, int n)
{
#if defined(__x86_64__)
        const char *k = cpu_kernels_get()->name;

        pthread_once(&gelu_once, gelu_init);
        if (!strcmp(k, "avx512") || !strcmp(k, "amx"))
                gelu_mul_avx512(y, g, u, n);
        else if (!strcmp(k, "avx2"))
                gelu_mul_avx2(y, g, u, n);
        else
                op_gelu_mul_ref(y, g, u, n);
#else
        op_gelu_mul_ref(y, g, u, n);
#endif
}

void op_add(float *y, const float *x, int n)
{
        for (int i = 0; i < n; i++)
                y[i] += x[i];
}

void op_softcap(float *x, int n, float cap)
{
        for (int i = 0; i < n; i++)
                x[i] = tanhf(x[i] * (1.0f / cap)) * cap; /* as llama.cpp: scale, tanh, scale */
}
