/* gemm_avx2.c -- the AVX2 kernels of the int8 gemm (format in gemm.h).
 * Built with -mavx2 -mfma -mf16c (and -O3 so that gemm_decode.h's loops are
 * vectorized); nothing here runs unless gemm_isa_get() chose it after cpuid.
 *
 * Microkernel: 16 weight rows (two vectors of 8 lanes) x up to 4 tokens.
 * Per step of 4 elements: two panel loads, a 4-byte broadcast per token and
 * one vpmaddubsw per (row vector, token), summed in int16 for as many steps
 * as cannot overflow (2 * qmax * 127 per step), then vpmaddwd into int32;
 * per group the int32 sums become floats scaled by wd*xd plus wm*xs.  Q8_0
 * codes are signed: |w| x sign(x, w) (as llama.cpp's AVX2 dot does). */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#include "kernels/gemm.h"

#define GEMM_H2F(h) _cvtsh_ss(h)
#include "kernels/gemm_decode.h"

/* ---- panels -------------------------------------------------------------- */

/* 8 rows of 32 bytes -> out[s] = dword s of each row, row i in lane i. */
static inline void transpose8(const uint8_t *const *rows, size_t off, uint8_t *dst, size_t stride)
{
        __m256i r0 = _mm256_loadu_si256((const __m256i *)(rows[0] + off));
        __m256i r1 = _mm256_loadu_si256((const __m256i *)(rows[1] + off));
        __m256i r2 = _mm256_loadu_si256((const __m256i *)(rows[2] + off));
        __m256i r3 = _mm256_loadu_si256((const __m256i *)(rows[3] + off));
        __m256i r4 = _mm256_loadu_si256((const __m256i *)(rows[4] + off));
        __m256i r5 = _mm256_loadu_si256((const __m256i *)(rows[5] + off));
        __m256i r6 = _mm256_loadu_si256((const __m256i *)(rows[6] + off));
        __m256i r7 = _mm256_loadu_si256((const __m256i *)(rows[7] + off));
        __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
        __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
        __m256i t4 = _mm256_unpacklo_epi32(r4, r5), t5 = _mm256_unpackhi_epi32(r4, r5);
        __m256i t6 = _mm256_unpacklo_epi32(r6, r7), t7 = _mm256_unpackhi_epi32(r6, r7);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        _mm256_store_si256((__m256i *)(dst + 0 * stride), _mm256_permute2x128_si256(u0, u4, 0x20));
        _mm256_store_si256((__m256i *)(dst + 1 * stride), _mm256_permute2x128_si256(u1, u5, 0x20));
        _mm256_store_si256((__m256i *)(dst + 2 * stride), _mm256_permute2x128_si256(u2, u6, 0x20));
        _mm256_store_si256((__m256i *)(dst + 3 * stride), _mm256_permute2x128_si256(u3, u7, 0x20));
        _mm256_store_si256((__m256i *)(dst + 4 * stride), _mm256_permute2x128_si256(u0, u4, 0x31));
        _mm256_store_si256((__m256i *)(dst + 5 * stride), _mm256_permute2x128_si256(u1, u5, 0x31));
        _mm256_store_si256((__m256i *)(dst + 6 * stride), _mm256_permute2x128_si256(u2, u6, 0x31));
        _mm256_store_si256((__m256i *)(dst + 7 * stride), _mm256_permute2x128_si256(u3, u7, 0x31));
}

static void avx2_pack(int type, const char *w, size_t wrow, int nr, int64_t K, struct gemm_panel *p)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int gpb = ti->blk / ti->gs;
        int64_t nblk = K / ti->blk;
        const uint8_t *rows[GEMM_MR];
        float wd[16], wm[16];

        for (int r = 0; r < GEMM_MR; r++) {
                uint8_t *c = p->tmp + (size_t)r * (size_t)K;
                rows[r] = c;
                if (r >= nr) {
                        memset(c, 0, (size_t)K);
                        for (int64_t g = 0; g < K / ti->gs; g++)
                                p->wd[g * GEMM_MR + r] = p->wm[g * GEMM_MR + r] = 0.0f;
                        continue;
                }
                const char *row = w + (size_t)r * wrow;
                for (int64_t b = 0; b < nblk; b++) {
                        gemm_decode_block(type, row, b, c + b * ti->blk, wd, wm);
                        for (int g = 0; g < gpb; g++) {
                                p->wd[(b * gpb + g) * GEMM_MR + r] = wd[g];
                                p->wm[(b * gpb + g) * GEMM_MR + r] = wm[g];
                        }
                }
        }
        for (int64_t c = 0; c < K / 32; c++) {
                transpose8(rows, (size_t)c * 32, p->q + c * 512, 64);
                transpose8(rows + 8, (size_t)c * 32, p->q + c * 512 + 32, 64);
        }
}

/* ---- microkernel --------------------------------------------------------- */

static inline __attribute__((always_inline)) void
kern(const struct gemm_panel *p, const struct gemm_act *a, int t0, const int NT, const int GS,
     const int F, const int SGN, float *y, size_t ldy, int nr)
{
        const int64_t K = a->K, ng = K / GS;
        const int steps = GS / 4;
        const __m256i ones = _mm256_set1_epi16(1);
        const int8_t *xq[4];
        const float *xd[4], *xs[4];
        __m256 f0[4], f1[4];

        for (int t = 0; t < NT; t++) {
                xq[t] = a->q + (size_t)(t0 + t) * K;
                xd[t] = a->d + (size_t)(t0 + t) * (K / 32);
                xs[t] = a->s + (size_t)(t0 + t) * (K / GS);
                f0[t] = _mm256_setzero_ps();
                f1[t] = _mm256_setzero_ps();
        }
        for (int64_t g = 0; g < ng; g++) {
                __m256i i0[4], i1[4];
                for (int t = 0; t < NT; t++)
                        i0[t] = i1[t] = _mm256_setzero_si256();
                for (int s0 = 0; s0 < steps; s0 += F) {
                        __m256i h0[4], h1[4];
                        for (int t = 0; t < NT; t++)
                                h0[t] = h1[t] = _mm256_setzero_si256();
#pragma GCC unroll 1
                        for (int s = s0; s < s0 + F; s++) {
                                int64_t k = g * GS + 4 * s;
                                const uint8_t *pw = p->q + (k / 32) * 512 + ((k % 32) / 4) * 64;
                                __m256i w0 = _mm256_load_si256((const __m256i *)pw);
                                __m256i w1 = _mm256_load_si256((const __m256i *)(pw + 32));
                                if (SGN) {
                                        __m256i a0 = _mm256_sign_epi8(w0, w0), a1 = _mm256_sign_epi8(w1, w1);
                                        for (int t = 0; t < NT; t++) {
                                                int32_t v;
                                                memcpy(&v, xq[t] + k, 4);
                                                __m256i xb = _mm256_set1_epi32(v);
                                                h0[t] = _mm256_maddubs_epi16(a0, _mm256_sign_epi8(xb, w0));
                                                h1[t] = _mm256_maddubs_epi16(a1, _mm256_sign_epi8(xb, w1));
                                        }
                                } else {
                                        for (int t = 0; t < NT; t++) {
                                                int32_t v;
                                                memcpy(&v, xq[t] + k, 4);
                                                __m256i xb = _mm256_set1_epi32(v);
                                                h0[t] = _mm256_add_epi16(h0[t], _mm256_maddubs_epi16(w0, xb));
                                                h1[t] = _mm256_add_epi16(h1[t], _mm256_maddubs_epi16(w1, xb));
                                        }
                                }
                        }
                        for (int t = 0; t < NT; t++) {
                                i0[t] = _mm256_add_epi32(i0[t], _mm256_madd_epi16(h0[t], ones));
                                i1[t] = _mm256_add_epi32(i1[t], _mm256_madd_epi16(h1[t], ones));
                        }
                }
                __m256 wd0 = _mm256_load_ps(p->wd + g * GEMM_MR), wd1 = _mm256_load_ps(p->wd + g * GEMM_MR + 8);
                __m256 wm0 = _mm256_load_ps(p->wm + g * GEMM_MR), wm1 = _mm256_load_ps(p->wm + g * GEMM_MR + 8);
                for (int t = 0; t < NT; t++) {
                        __m256 dx = _mm256_set1_ps(xd[t][g * GS / 32]), sx = _mm256_set1_ps(xs[t][g]);
                        f0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0[t]), _mm256_mul_ps(wd0, dx), f0[t]);
                        f1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1[t]), _mm256_mul_ps(wd1, dx), f1[t]);
                        f0[t] = _mm256_fmadd_ps(wm0, sx, f0[t]);
                        f1[t] = _mm256_fmadd_ps(wm1, sx, f1[t]);
                }
        }
        for (int t = 0; t < NT; t++) {
                float *yt = y + (size_t)t * ldy;
                if (nr == GEMM_MR) {
                        _mm256_storeu_ps(yt, f0[t]);
                        _mm256_storeu_ps(yt + 8, f1[t]);
                } else {
                        float tmp[GEMM_MR];
                        _mm256_storeu_ps(tmp, f0[t]);
                        _mm256_storeu_ps(tmp + 8, f1[t]);
                        memcpy(yt, tmp, (size_t)nr * sizeof(float));
                }
        }
}

/* One function per (type class, token count): the loops above unroll with
 * constants. */
#define KERN_CLASS(name, GS, F, SGN)                                                                   \
        static void name(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y, \
                         size_t ldy, int nr)                                                           \
        {                                                                                              \
                switch (nt) {                                                                          \
                case 3:                                                                                \
                        kern(p, a, t0, 3, GS, F, SGN, y, ldy, nr);                                     \
                        break;                                                                         \
                case 2:                                                                                \
                        kern(p, a, t0, 2, GS, F, SGN, y, ldy, nr);                                     \
                        break;                                                                         \
                default:                                                                               \
                        kern(p, a, t0, 1, GS, F, SGN, y, ldy, nr);                                     \
                        break;                                                                         \
                }                                                                                      \
        }

/* Steps summed in int16: floor(32767 / (2 * qmax * 127)), at most GS/4. */
KERN_CLASS(kern_q4, 32, 8, 0)   /* Q4_0 Q4_1 Q4_K: qmax 15 */
KERN_CLASS(kern_q5, 32, 4, 0)   /* Q5_0 Q5_1 Q5_K: qmax 31 */
KERN_CLASS(kern_q8, 32, 1, 1)   /* Q8_0: signed */
KERN_CLASS(kern_k16, 16, 4, 0)  /* Q2_K Q3_K: qmax 3, 7 */
KERN_CLASS(kern_q6k, 16, 2, 0)  /* Q6_K: qmax 63 */

static void avx2_kernel(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt,
                        float *y, size_t ldy, int nr)
{
        switch (type) {
        case MU_TYPE_Q4_0:
        case MU_TYPE_Q4_1:
        case MU_TYPE_Q4_K:
                kern_q4(p, a, t0, nt, y, ldy, nr);
                break;
        case MU_TYPE_Q5_0:
        case MU_TYPE_Q5_1:
        case MU_TYPE_Q5_K:
                kern_q5(p, a, t0, nt, y, ldy, nr);
                break;
        case MU_TYPE_Q8_0:
                kern_q8(p, a, t0, nt, y, ldy, nr);
                break;
        case MU_TYPE_Q2_K:
        case MU_TYPE_Q3_K:
                kern_k16(p, a, t0, nt, y, ldy, nr);
                break;
        case MU_TYPE_Q6_K:
                kern_q6k(p, a, t0, nt, y, ldy, nr);
                break;
        default:
                break;
        }
}

const struct gemm_isa gemm_isa_avx2 = {"avx2", GEMM_NR, 0, avx2_pack, avx2_kernel, NULL, NULL};

#else
#include "kernels/gemm.h"
const struct gemm_isa gemm_isa_avx2 = {NULL, 0, 0, NULL, NULL, NULL, NULL};
#endif
