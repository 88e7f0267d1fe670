/* simd_x86.h -- AVX2 helpers shared by cpu_avx2.c and cpu_avx512.c, the
 * only files that include it (both are built with at least -mavx2 -mfma
 * -mf16c).  Not a public header: it holds intrinsics. */
#ifndef MULLAMA_SIMD_X86_H
#define MULLAMA_SIMD_X86_H

#include <immintrin.h>
#include <string.h>

#include "kernels/quant_blocks.h"

/* Half <-> float with F16C (same results as mu_fp16_to_fp32 and
 * mu_fp32_to_fp16, one instruction each). */
static inline float h2f(uint16_t h)
{
        return _cvtsh_ss(h);
}

static inline uint16_t f2h(float f)
{
        return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}

static inline float hsum_f32x8(__m256 v)
{
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
}

static inline int hsum_i32x8(__m256i v)
{
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        return _mm_cvtsi128_si32(s);
}

static inline float hmax_f32x8(__m256 v)
{
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
}

/* roundf() (ties away from zero), exactly, for |v| < 2^23. */
static inline __m256 roundf_x8(__m256 v)
{
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 f = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
        __m256 ge = _mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
        __m256 one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
        return _mm256_add_ps(t, _mm256_and_ps(ge, one));
}

/* Four vectors of 8 int32 (each in -128..127) -> 32 int8 in order. */
static inline __m256i pack_i32x32(__m256i a, __m256i b, __m256i c, __m256i d)
{
        __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
        __m256i v = _mm256_packs_epi16(ab, cd);
        return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* One Q8_0/Q8_1 activation block: d = amax/127, q = x * (127/amax) rounded
 * half to even: the scalar reference's bytes (quant.c q8_0_from_float, which
 * follows llama.cpp's x86 activation quantizer).  The name is historical:
 * the rounding is no longer roundf's. */
static inline __m256i quant32_roundf(const float *x, float *d_out)
{
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        float amax = hmax_f32x8(m), d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        __m256 s = _mm256_set1_ps(id);
        const int rne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

        *d_out = d;
        return pack_i32x32(_mm256_cvttps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, s), rne)),
                           _mm256_cvttps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, s), rne)),
                           _mm256_cvttps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, s), rne)),
                           _mm256_cvttps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, s), rne)));
}

/* One Q8_K block, byte-identical to the scalar reference. */
static inline void quant256_q8k(const float *x, struct block_q8_k *y)
{
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 m = _mm256_setzero_ps();
        float max = 0, amax;

        for (int i = 0; i < QK_K; i += 8)
                m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
        amax = hmax_f32x8(m);
        if (!amax) {
                memset(y, 0, sizeof(*y));
                return;
        }
        /* the first element of largest magnitude gives the sign */
        __m256 am = _mm256_set1_ps(amax);
        for (int i = 0; i < QK_K; i += 8) {
                int mask = _mm256_movemask_ps(
                        _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), am, _CMP_EQ_OQ));
                if (mask) {
                        max = x[i + __builtin_ctz((unsigned)mask)];
                        break;
                }
        }
        float iscale = -127.f / max;
        __m256 s = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int i = 0; i < QK_K; i += 32) {
                __m256i q[4];
                for (int k = 0; k < 4; k++)
                        q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), s)), lim);
                y->bsums[i / 16] = (int16_t)hsum_i32x8(_mm256_add_epi32(q[0], q[1]));
                y->bsums[i / 16 + 1] = (int16_t)hsum_i32x8(_mm256_add_epi32(q[2], q[3]));
                _mm256_storeu_si256((__m256i *)(y->qs + i), pack_i32x32(q[0], q[1], q[2], q[3]));
        }
        y->d = 1 / iscale;
}

/* The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K block
 * from its 12 packed bytes q0|q1|q2 (dwords): scales 0-3 = q0 & 63, 4-7 =
 * low nibbles of q2 | top 2 bits of q0 << 4; mins likewise from q1 and the
 * high nibbles of q2.  Vector ops on one 16-byte load, which reads the 4
 * bytes after the 12 (a block's codes follow its scales); no store and
 * reload (a 128-bit load of just-stored dwords stalls on store forwarding:
 * Q4_K avx2 gemv +3-13% over a GPR version). */
static inline __m128i k4_scales_xmm(const uint8_t *packed)
{
        __m128i v = _mm_loadu_si128((const __m128i *)packed);
        __m128i a = _mm_shuffle_epi32(v, 0x98); /* q0 q2 q1 q2 */
        __m128i b = _mm_shuffle_epi32(v, 0x50); /* q0 q0 q1 q1 */
        __m128i lo = _mm_and_si128(_mm_srlv_epi32(a, _mm_set_epi32(4, 0, 0, 0)),
                                   _mm_set_epi32(0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f));
        __m128i hi = _mm_and_si128(_mm_srli_epi32(b, 2), _mm_set_epi32(0x30303030, 0, 0x30303030, 0));
        return _mm_or_si128(lo, hi);
}

/* sum_j mins[j] * (bsums[2j] + bsums[2j+1]) with mins in bytes 8-15. */
static inline int k4_min_dot_vec(__m128i sm, const int16_t *bsums)
{
        __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
        __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums),
                                       _mm_loadu_si128((const __m128i *)(bsums + 8)));
        __m128i p = _mm_madd_epi16(mins, pairs);
        p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
        p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
        return _mm_cvtsi128_si32(p);
}

/* acc + yd * (d * isum - dmin * msum), each step rounded to float as in the
 * scalar Q2_K / Q5_K dots (quant.c): one operation per statement, so no
 * compiler contracts a product and a sum into an FMA here (clang's default
 * -ffp-contract=on does so within an expression; quant.c is built without
 * -mfma). */
static inline float kq_dmin_add(float acc, float yd, float d, float isum, float dmin, float msum)
{
        float a = d * isum;
        float m = dmin * msum;
        float t = a - m;
        float u = yd * t;
        return acc + u;
}

/* ---- software prefetch for kernels that stream weights from memory ------
 *
 * The gemv and mm drivers prefetch the rows some bytes ahead of the ones
 * they compute: without it the kernels wait on memory for most lines
 * (AVX-512 Q4_0 gemv 13 GB/s instead of 24 at 2 threads, bench_kernels).
 * A prefetch never faults, so it may run past the matrix. */
#ifndef GEMV_PF_BYTES
#define GEMV_PF_BYTES 8192 /* gemv: distance ahead (4-32 KB measured alike) */
#endif

/* every line of the bytes [p, p + len) */
static inline void pf_bytes(const char *p, size_t len)
{
        for (size_t o = 0; o < len; o += 64)
                _mm_prefetch(p + o, _MM_HINT_T0);
        _mm_prefetch(p + len - 1, _MM_HINT_T0);
}

/* every line that starts in [p, p + len): calls over consecutive ranges
 * prefetch each line once.  On AMD cores (Zen 3) a prefetch of a line
 * already requested is not free: the AVX2 Q4_0 gemv prefetching every line
 * of each 2-block step (~3.5 prefetches a line) streamed 7 GB/s from
 * memory on one core, 13 with one prefetch a line (bench_kernels). */
static inline void pf_lines(const char *p, size_t len)
{
        uintptr_t a = ((uintptr_t)p + 63) & ~(uintptr_t)63, e = (uintptr_t)p + len;

        for (; a < e; a += 64)
                _mm_prefetch((const char *)a, _MM_HINT_T0);
}

/* rows of xs bytes to prefetch ahead: at least bytes, whole groups of g */
static inline int pf_rows_ahead(size_t bytes, size_t xs, int g)
{
        return g * (int)((bytes + (size_t)g * xs - 1) / ((size_t)g * xs));
}

#endif
