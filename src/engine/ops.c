/* ops.c -- scalar reference ops of the transformer block: RMSNorm, RoPE
 * (normal and NeoX pairing, linear scaling, frequency factors), SiLU/GELU
 * gated units, residual add, soft-capping.  The numerics follow ggml's CPU
 * ops where that matters for matching llama.cpp's greedy output: RMSNorm sums
 * squares in double, RoPE angles come from repeated float multiplication, and
 * GELU is the tanh approximation looked up on fp16-rounded inputs. */
#include <math.h>
#include <pthread.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
 * with expf_ggml, the tail with expf.  The reference for op_silu_mul. */
void op_silu_mul_scalar(float *y, const float *g, const float *u, int n)
{
        int i = 0, n16 = n - n % 16;

        for (; i < n16; i++)
                y[i] = g[i] / (1.0f + expf_ggml(-g[i])) * u[i];
        for (; i < n; i++)
                y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

#if defined(__x86_64__)
/* The groups of 16 of op_silu_mul_scalar with AVX-512, bit for bit: the
 * same FMAs and IEEE divisions in the same order; scalbnf(j, n) as two
 * multiplications by powers of two (the first exact, so one rounding, as
 * scalbnf), |n| > 192 as expf_ggml.  (The scalar loop calls libm's fmaf and
 * scalbnf per element: a fifth of TinyLlama's pp512 time on Zen 5.) */
__attribute__((target("avx512f,fma"))) static void silu_mul_avx512(float *y, const float *g, const float *u,
                                                                   int n16)
{
        const __m512 r = _mm512_set1_ps(0x1.8p23f), one = _mm512_set1_ps(1.0f);
        const __m512i bias = _mm512_set1_epi32(127);

        for (int i = 0; i < n16; i += 16) {
                __m512 gv = _mm512_loadu_ps(g + i);
                __m512 x = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(gv),
                                                                _mm512_set1_epi32((int)0x80000000u)));
                __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r), n = _mm512_sub_ps(z, r);
                __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                            _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
                __m512 uu = _mm512_mul_ps(b, b);
                __m512 j = _mm512_fmadd_ps(
                        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b,
                                                        _mm512_set1_ps(0x1.573e2ep-5f)),
                                        uu,
                                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b,
                                                        _mm512_set1_ps(0x1.fffdb6p-2f))),
                        uu, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, one));
                __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_GT_OQ);
                __m512i ni = _mm512_maskz_cvttps_epi32((__mmask16)~big, n);
                __m512i a = _mm512_srai_epi32(ni, 1), c = _mm512_sub_epi32(ni, a);
                __m512 e = _mm512_mul_ps(
                        _mm512_mul_ps(j, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(a, bias), 23))),
                        _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(c, bias), 23)));
                __mmask16 pos = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_GT_OQ);
                e = _mm512_mask_mov_ps(e, big, _mm512_maskz_mov_ps(pos, _mm512_set1_ps(INFINITY)));
                __m512 v = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i));
                _mm512_storeu_ps(y + i, v);
        }
}

static int silu_simd = -1;

void op_silu_mul(float *y, const float *g, const float *u, int n)
{
        int n16 = n - n % 16;

        if (silu_simd < 0) { /* racy but idempotent */
                __builtin_cpu_init();
                silu_simd = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
        }
        if (!silu_simd || n16 == 0) {
                op_silu_mul_scalar(y, g, u, n);
                return;
        }
        silu_mul_avx512(y, g, u, n16);
        if (n > n16)
                op_silu_mul_scalar(y + n16, g + n16, u + n16, n - n16); /* < 16: the expf tail */
}
#else
void op_silu_mul(float *y, const float *g, const float *u, int n)
{
        op_silu_mul_scalar(y, g, u, n);
}
#endif

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

void op_gelu_mul(float *y, const float *g, const float *u, int n)
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
