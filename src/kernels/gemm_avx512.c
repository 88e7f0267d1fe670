/* gemm_avx512.c -- the AVX-512 VNNI kernels of the int8 gemm (format in
 * gemm.h), for CPUs with AVX512-VNNI but no AMX (Zen 4/5, Ice Lake,
 * Cascade Lake).  Built with the AVX-512 flags (Makefile); nothing here
 * runs unless gemm_isa_get() chose it (the avx512 cpu table, which needs
 * AVX512 F/BW/VL/DQ/VNNI by cpuid).
 *
 * The panel is the avx2 one: per 4 elements of K, 16 rows x 4 bytes = 64
 * bytes, one zmm.  Microkernel: 16 rows x GEMM_VNNI_NT tokens.  Per step of
 * 4 elements one panel load, then per token one vpdpbusd of the unsigned
 * codes by the token's 4 signed activation bytes (an embedded {1to16}
 * broadcast) into an int32 accumulator: no int16 stage, no overflow
 * (|sum| <= 32 * 255 * 127).  Per group in float, as the scalar kernel:
 *   32-element blocks: acc[t] += wd * xd[t] * isum[t] + wm * xs[t]
 *   k-quants (Q8_K activations: one xd per 256):
 *       blk[t] += wd * isum[t] + wm * sum[t] per group, acc[t] += xd[t] * blk[t]
 * The activation scales come transposed (gemm_act dt/st, tokens
 * contiguous), so all tokens' scalars sit at fixed offsets of one pointer.
 * Q8_0 codes are signed: they are packed as code + 128 (unsigned) with
 * wm = -128 wd, which the xs term takes off again. */
#if defined(__x86_64__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#include <string.h>

#include "kernels/gemm.h"

#define NT GEMM_VNNI_NT

/* ---- panels -------------------------------------------------------------- */

static void vnni_pack(int type, const char *w, size_t wrow, int nr, int64_t K, struct gemm_panel *p)
{
        gemm_isa_avx2.pack(type, w, wrow, nr, K, p);
        if (type == MU_TYPE_Q8_0) {
                const __m512i x80 = _mm512_set1_epi8((char)0x80);
                for (int64_t i = 0; i < K * GEMM_MR; i += 64) {
                        __m512i v = _mm512_load_si512((const void *)(p->q + i));
                        _mm512_store_si512((void *)(p->q + i), _mm512_xor_si512(v, x80));
                }
        }
}

/* ---- microkernel --------------------------------------------------------- */

static inline __attribute__((always_inline)) int32_t ld32(const int8_t *p)
{
        int32_t v;
        memcpy(&v, p, 4);
        return v;
}

/* The microkernel for groups of GS (32 or 16): per group isum[t] by
 * vpdpbusd (starting from ot for Q8_0), then in float exactly as the avx2
 * kernel: acc[t] = fma(isum[t], wd * xd[t], acc[t]); acc[t] = fma(wm,
 * xs[t], acc[t]) (Q8_0: wm = 0, left out). */
static inline __attribute__((always_inline)) void kern(const struct gemm_panel *p, const struct gemm_act *a,
                                                       int t0, int nt, float *y, size_t ldy, int nr, const int GS,
                                                       const int Q8)
{
        const int64_t K = a->K, ng = K / GS;
        const size_t ldt = (size_t)a->ldt;
        const int8_t *xq = a->q + (size_t)t0 * K;
        const float *dt = a->dt + t0, *st = a->st + t0;
        const int32_t *ot = Q8 ? a->ot + t0 : NULL;
        __m512 f[NT];

        for (int t = 0; t < NT; t++)
                f[t] = _mm512_setzero_ps();
        for (int64_t g = 0; g < ng; g++) {
                const uint8_t *pw = p->q + g * GS * GEMM_MR;
                const int8_t *xg = xq + g * GS;
                __m512i acc[NT];
                for (int t = 0; t < NT; t++)
                        acc[t] = Q8 ? _mm512_set1_epi32(ot[g * ldt + t]) : _mm512_setzero_si512();
#pragma GCC unroll 8
                for (int s = 0; s < GS / 4; s++) {
                        __m512i w = _mm512_load_si512((const void *)(pw + 64 * s));
                        for (int t = 0; t < NT; t++)
                                acc[t] = _mm512_dpbusd_epi32(acc[t], w,
                                                             _mm512_set1_epi32(ld32(xg + t * K + 4 * s)));
                }
                __m512 wd = _mm512_load_ps(p->wd + g * GEMM_MR);
                const float *d = dt + (g * GS / 32) * ldt, *sx = st + g * ldt;
                for (int t = 0; t < NT; t++)
                        f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), _mm512_mul_ps(wd, _mm512_set1_ps(d[t])),
                                               f[t]);
                if (!Q8) {
                        __m512 wm = _mm512_load_ps(p->wm + g * GEMM_MR);
                        for (int t = 0; t < NT; t++)
                                f[t] = _mm512_fmadd_ps(wm, _mm512_set1_ps(sx[t]), f[t]);
                }
        }
        gemm_store_rows(f, NT, y, ldy, nt, nr);
}

#define KERN(name, GS, Q8)                                                                                  \
        static void name(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,  \
                         size_t ldy, int nr)                                                                \
        {                                                                                                   \
                kern(p, a, t0, nt, y, ldy, nr, GS, Q8);                                                     \
        }

KERN(kern_g32, 32, 0) /* Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K */
KERN(kern_g16, 16, 0) /* Q2_K Q3_K Q6_K */
KERN(kern_q8, 32, 1)  /* Q8_0 */

static void vnni_kernel(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                        size_t ldy, int nr)
{
        const struct gemm_type *ti = gemm_type_info(type);

        if (type == MU_TYPE_Q8_0)
                kern_q8(p, a, t0, nt, y, ldy, nr);
        else
                (ti->gs == 32 ? kern_g32 : kern_g16)(p, a, t0, nt, y, ldy, nr);
}

const struct gemm_isa gemm_isa_avx512 = {"avx512", NT, 2, vnni_pack, vnni_kernel, NULL, NULL};

#else
#include "kernels/gemm.h"
const struct gemm_isa gemm_isa_avx512 = {NULL, 0, 0, NULL, NULL, NULL, NULL};
#endif
