/* cpu_neon.c -- AArch64 Advanced SIMD (NEON) kernels.
 *
 * NEON is part of every AArch64 CPU, so this table needs no run-time check
 * beyond the architecture: cpu.c selects it on aarch64 builds.  Only the
 * ARMv8.0 instruction set is used (no dotprod, no i8mm), so one binary runs on
 * any 64-bit ARM: int8 x int8 products go through vmull_s8 (-> int16) and
 * vpadalq_s16 (-> int32 lanes), summed once per block, then one float
 * multiply-add per block as the scalar reference does (the float summation
 * order differs, so results agree with quant.c within rounding, not bit for
 * bit; tests/neon_check.c compares them on random blocks under qemu).
 *
 * Covered: dot products for F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (against
 * Q8_0/Q8_1 activations) and Q4_K, Q6_K (against Q8_K).  Everything else
 * (quantizers, dequantizers, Q2_K/Q3_K/Q5_K dots, gemv and 4-token entries)
 * comes from the scalar table.  On other architectures the table is empty. */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

/* ---- helpers ----------------------------------------------------------- */

static inline float h2f(uint16_t h)
{
        return mu_fp16_to_fp32(h);
}

/* Sum of a[i] * b[i] over 16 int8 pairs, as int32x4 lanes added to acc. */
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b)
{
        int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
        int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
        return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}

/* Sum of the 32 products of one block: codes l (elements 0..15), h (16..31). */
static inline int dot32(int8x16_t l, int8x16_t h, const int8_t *y)
{
        return vaddvq_s32(dot16(dot16(vdupq_n_s32(0), l, vld1q_s8(y)), h, vld1q_s8(y + 16)));
}

/* The 32 codes of a Q4_x block: low nibbles are elements 0..15, high 16..31. */
static inline void nibbles(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi)
{
        uint8x16_t v = vld1q_u8(qs);
        *lo = vandq_u8(v, vdupq_n_u8(15));
        *hi = vshrq_n_u8(v, 4);
}

/* 0x10 in byte i where bit i of the 16 bits (b0 | b1 << 8) is set. */
static inline uint8x16_t bits16(uint8_t b0, uint8_t b1)
{
        static const uint8_t sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
        uint8x16_t v = vcombine_u8(vdup_n_u8(b0), vdup_n_u8(b1));
        return vandq_u8(vtstq_u8(v, vld1q_u8(sel)), vdupq_n_u8(16));
}

/* ---- floats ------------------------------------------------------------ */

static void f32_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const float *x = xv, *y = yv;
        float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        float tail = 0;

        for (; i + 16 <= n; i += 16) {
                a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
                a1 = vfmaq_f32(a1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
                a2 = vfmaq_f32(a2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
                a3 = vfmaq_f32(a3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
        }
        for (; i + 4 <= n; i += 4)
                a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
        for (; i < n; i++)
                tail += x[i] * y[i];
        *s = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3))) + tail;
}

static void f16_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const uint16_t *x = xv;
        const float *y = yv;
        float32x4_t a0 = vdupq_n_f32(0), a1 = a0;
        int i = 0;
        float tail = 0;

        for (; i + 8 <= n; i += 8) {
                float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(x + i));
                a0 = vfmaq_f32(a0, vcvt_f32_f16(vget_low_f16(h)), vld1q_f32(y + i));
                a1 = vfmaq_f32(a1, vcvt_high_f32_f16(h), vld1q_f32(y + i + 4));
        }
        for (; i < n; i++)
                tail += h2f(x[i]) * y[i];
        *s = vaddvq_f32(vaddq_f32(a0, a1)) + tail;
}

/* ---- 32-element blocks ------------------------------------------------- */

/* Integer dot of a Q4_x/Q5_x block's codes (minus off) with 32 int8 values:
 * qh (NULL for Q4_x) holds the fifth bits. */
static inline int codes_dot(const uint8_t *qs, const uint8_t *qh, int off, const int8_t *y)
{
        uint8x16_t lo, hi;

        nibbles(qs, &lo, &hi);
        if (qh) {
                lo = vorrq_u8(lo, bits16(qh[0], qh[1]));
                hi = vorrq_u8(hi, bits16(qh[2], qh[3]));
        }
        return dot32(vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8((int8_t)off)),
                     vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8((int8_t)off)), y);
}

static void q4_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_0 *x = xv;
        const struct block_q8_0 *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK4_0; b++)
                sum += h2f(x[b].d) * h2f(y[b].d) * (float)codes_dot(x[b].qs, NULL, 8, y[b].qs);
        *s = sum;
}

static void q5_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_0 *x = xv;
        const struct block_q8_0 *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK5_0; b++)
                sum += h2f(x[b].d) * h2f(y[b].d) * (float)codes_dot(x[b].qs, x[b].qh, 16, y[b].qs);
        *s = sum;
}

/* Q4_1/Q5_1 against Q8_1: d*dy*isum + m*s (s = dy * sum of y's codes). */
static void q4_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_1 *x = xv;
        const struct block_q8_1 *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK4_1; b++)
                sum += h2f(x[b].d) * h2f(y[b].d) * (float)codes_dot(x[b].qs, NULL, 0, y[b].qs) +
                       h2f(x[b].m) * h2f(y[b].s);
        *s = sum;
}

static void q5_1_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q5_1 *x = xv;
        const struct block_q8_1 *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK5_1; b++)
                sum += h2f(x[b].d) * h2f(y[b].d) * (float)codes_dot(x[b].qs, x[b].qh, 0, y[b].qs) +
                       h2f(x[b].m) * h2f(y[b].s);
        *s = sum;
}

static void q8_0_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q8_0 *x = xv;
        const struct block_q8_0 *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK8_0; b++) {
                int isum = dot32(vld1q_s8(x[b].qs), vld1q_s8(x[b].qs + 16), y[b].qs);
                sum += h2f(x[b].d) * h2f(y[b].d) * (float)isum;
        }
        *s = sum;
}

/* ---- K-quants against Q8_K -------------------------------------------- */

/* Scale and min of 32-element group j of a Q4_K/Q5_K super-block. */
static inline void k4_scale_min(const uint8_t *sc, int j, int *scale, int *min)
{
        if (j < 4) {
                *scale = sc[j] & 63;
                *min = sc[j + 4] & 63;
        } else {
                *scale = (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
                *min = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
        }
}

static void q4_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q4_k *x = xv;
        const struct block_q8_k *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                const uint8_t *qs = x[b].qs;
                const int8_t *q8 = y[b].qs;
                int sumi = 0, summ = 0;

                for (int c = 0; c < 4; c++, qs += 32, q8 += 64) {
                        int sc0, m0, sc1, m1;
                        k4_scale_min(x[b].scales, 2 * c, &sc0, &m0);
                        k4_scale_min(x[b].scales, 2 * c + 1, &sc1, &m1);
                        uint8x16_t v0 = vld1q_u8(qs), v1 = vld1q_u8(qs + 16);
                        uint8x16_t m = vdupq_n_u8(15);
                        int32x4_t a0 = dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(v0, m)),
                                             vld1q_s8(q8));
                        a0 = dot16(a0, vreinterpretq_s8_u8(vandq_u8(v1, m)), vld1q_s8(q8 + 16));
                        int32x4_t a1 = dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)),
                                             vld1q_s8(q8 + 32));
                        a1 = dot16(a1, vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), vld1q_s8(q8 + 48));
                        sumi += sc0 * vaddvq_s32(a0) + sc1 * vaddvq_s32(a1);
                        const int16_t *bs = y[b].bsums + 4 * c;
                        summ += m0 * (bs[0] + bs[1]) + m1 * (bs[2] + bs[3]);
                }
                sum += y[b].d * (h2f(x[b].d) * (float)sumi - h2f(x[b].dmin) * (float)summ);
        }
        *s = sum;
}

static void q6_k_vec_dot(int n, float *s, const void *xv, const void *yv)
{
        const struct block_q6_k *x = xv;
        const struct block_q8_k *y = yv;
        float sum = 0;

        for (int b = 0; b < n / QK_K; b++) {
                const uint8_t *ql = x[b].ql, *qh = x[b].qh;
                const int8_t *q8 = y[b].qs, *sc = x[b].scales;
                int sumi = 0;

                for (int h = 0; h < 2; h++, ql += 64, qh += 32, q8 += 128, sc += 8) {
                        for (int k = 0; k < 2; k++) { /* l in [16k, 16k + 16) */
                                uint8x16_t l0 = vld1q_u8(ql + 16 * k);
                                uint8x16_t l1 = vld1q_u8(ql + 32 + 16 * k);
                                uint8x16_t hb = vld1q_u8(qh + 16 * k);
                                uint8x16_t m4 = vdupq_n_u8(15), m2 = vdupq_n_u8(3);
                                uint8x16_t c[4] = {
                                        vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m2), 4)),
                                        vorrq_u8(vandq_u8(l1, m4),
                                                 vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4)),
                                        vorrq_u8(vshrq_n_u8(l0, 4),
                                                 vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4)),
                                        vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4)),
                                };
                                for (int r = 0; r < 4; r++) { /* elements 32r + 16k + i */
                                        int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(c[r]),
                                                               vdupq_n_s8(32));
                                        int32x4_t a = dot16(vdupq_n_s32(0), q,
                                                            vld1q_s8(q8 + 32 * r + 16 * k));
                                        sumi += sc[2 * r + k] * vaddvq_s32(a);
                                }
                        }
                }
                sum += y[b].d * h2f(x[b].d) * (float)sumi;
        }
        *s = sum;
}

const struct cpu_kernels cpu_kernels_neon_raw = {
        .name = "neon",
        .q = {
                [MU_TYPE_F32] = {.vec_dot = f32_vec_dot},
                [MU_TYPE_F16] = {.vec_dot = f16_vec_dot},
                [MU_TYPE_Q4_0] = {.vec_dot = q4_0_vec_dot},
                [MU_TYPE_Q4_1] = {.vec_dot = q4_1_vec_dot},
                [MU_TYPE_Q5_0] = {.vec_dot = q5_0_vec_dot},
                [MU_TYPE_Q5_1] = {.vec_dot = q5_1_vec_dot},
                [MU_TYPE_Q8_0] = {.vec_dot = q8_0_vec_dot},
                [MU_TYPE_Q4_K] = {.vec_dot = q4_k_vec_dot},
                [MU_TYPE_Q6_K] = {.vec_dot = q6_k_vec_dot},
        },
};

#else
const struct cpu_kernels cpu_kernels_neon_raw = {.name = NULL};
#endif
