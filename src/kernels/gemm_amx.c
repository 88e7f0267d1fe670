/* gemm_amx.c -- the AMX-INT8 kernels of the int8 gemm (format in gemm.h).
 * Built with the AVX-512 flags plus -mamx-tile -mamx-int8 (Makefile); nothing
 * here runs unless gemm_amx_usable() found AMX-INT8 by cpuid and the kernel
 * granted the tile state, and gemm_isa_get() chose it.
 *
 * The panel format is the avx2 one: per 4 elements of K, 16 rows x 4 bytes =
 * 64 bytes, which is exactly the VNNI layout of an AMX B tile (K/4 rows of
 * 16 dwords).  So one group of GS (32 or 16) elements of a 16-row panel is a
 * B tile of GS/4 rows x 64 bytes, contiguous; 16 tokens x GS activation
 * bytes (row stride K) are the A tile.  Per group:
 *   C[t][r] = sum over the group of x[t][k] * w[r][k]   (int32, TDPBSxD)
 *   acc[t][r] += wd[g][r] * xd[t][g] * C[t][r]  (+ wm[g][r] * xs[t][g])
 * the second line with AVX-512 on C stored to L1, 16 zmm accumulators (one
 * per token, 16 rows each).  Four groups go through four C tiles per step so
 * that the tile unit works while the vector units scale the previous ones.
 *
 * Types whose minimum is a fixed multiple of the scale (Q4_0: wm = -8 wd,
 * Q5_0: -16, Q3_K: -4, Q6_K: -32) are packed as signed codes (code - off)
 * with wm = 0: signed x signed (TDPBSSD), and no xs term -- the integer sum
 * then holds the exact dot of the dequantized codes.  Q8_0 is signed as
 * stored; the rest (Q4_1 Q5_1 Q2_K Q4_K Q5_K) keep unsigned codes
 * (TDPBSUD) and the wm * xs term. */
#if defined(__x86_64__) && defined(__AMX_INT8__)
#include <immintrin.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels/gemm.h"

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int amx_ok;

static void amx_once(void)
{
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
            !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq") ||
            !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
            !__builtin_cpu_supports("f16c"))
                return;
        /* cpuid leaf 7: EDX bit 24 AMX-TILE, bit 25 AMX-INT8 */
        unsigned int a = 7, b = 0, c = 0, d = 0;
        __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
        if (!(d & (1u << 24)) || !(d & (1u << 25)))
                return;
        /* Linux hands out the 8 KB tile state only on request, per process */
        amx_ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int gemm_amx_usable(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        pthread_once(&once, amx_once);
        return amx_ok;
}

/* Offset subtracted from the unsigned codes of the types packed signed (see
 * the top); 0: packed as decoded. */
static int signed_off(int type)
{
        switch (type) {
        case MU_TYPE_Q4_0:
                return 8;
        case MU_TYPE_Q5_0:
                return 16;
        case MU_TYPE_Q3_K:
                return 4;
        case MU_TYPE_Q6_K:
                return 32;
        default:
                return 0;
        }
}

/* ---- tiles --------------------------------------------------------------- */

struct tile_cfg {
        uint8_t palette;
        uint8_t start_row;
        uint8_t reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
};

/* tmm0-3: C (16 tokens x 16 int32); tmm4, tmm6: A (16 tokens x GS bytes);
 * tmm5, tmm7: B (GS/4 rows x 64 bytes). */
static void amx_begin(int type)
{
        const struct gemm_type *ti = gemm_type_info(type);
        struct tile_cfg cfg;
        int gs = ti ? ti->gs : 32;

        memset(&cfg, 0, sizeof(cfg));
        cfg.palette = 1;
        for (int i = 0; i < 4; i++) {
                cfg.rows[i] = 16;
                cfg.colsb[i] = 64;
        }
        cfg.rows[4] = cfg.rows[6] = 16;
        cfg.colsb[4] = cfg.colsb[6] = (uint16_t)gs;
        cfg.rows[5] = cfg.rows[7] = (uint8_t)(gs / 4);
        cfg.colsb[5] = cfg.colsb[7] = 64;
        /* not _tile_loadconfig(): GCC 12's names only 8 bytes of the config
         * as read, so the stores to the rest may be dropped as dead */
        __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

static void amx_end(void)
{
        _tile_release();
}

/* ---- panels --------------------------------------------------------------
 *
 * Decode a row's blocks with vector code for the common types (the generic
 * gemm_decode_block otherwise, then the signed offset), codes row-major into
 * p->tmp, then transpose 8 rows x 32 bytes at a time into the panel. */

#define GEMM_H2F(h) _cvtsh_ss(h)
#include "kernels/gemm_decode.h"

/* 8 rows of 32 bytes -> dst + s * stride = dword s of each row, row i in
 * lane i (as gemm_avx2.c). */
static inline void transpose8(const uint8_t *const *rows, size_t off, uint8_t *dst, size_t stride)
{
        __m256i r[8], t[8], u[8];
        for (int i = 0; i < 8; i++)
                r[i] = _mm256_loadu_si256((const __m256i *)(rows[i] + off));
        for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
                t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
        }
        for (int i = 0; i < 8; i += 4) {
                u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
                u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
                u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
                u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
        }
        for (int i = 0; i < 4; i++) {
                _mm256_store_si256((__m256i *)(dst + (size_t)i * stride), _mm256_permute2x128_si256(u[i], u[i + 4], 0x20));
                _mm256_store_si256((__m256i *)(dst + (size_t)(i + 4) * stride),
                                   _mm256_permute2x128_si256(u[i], u[i + 4], 0x31));
        }
}

/* One row of K elements -> codes c (signed offset applied), wd and wm at
 * stride GEMM_MR (the row's column of the panel's scale arrays). */
static void decode_row(int type, const char *row, int64_t K, uint8_t *c, float *wd, float *wm)
{
        const struct gemm_type *ti = gemm_type_info(type);
        const __m128i m4 = _mm_set1_epi8(15);
        const __m256i m4y = _mm256_set1_epi8(15), m3y = _mm256_set1_epi8(3);
        int64_t nb = K / ti->blk;

        switch (type) {
        case MU_TYPE_Q4_0:
        case MU_TYPE_Q4_1: {
                const __m128i o = _mm_set1_epi8(type == MU_TYPE_Q4_0 ? 8 : 0);
                for (int64_t b = 0; b < nb; b++) {
                        const uint8_t *qs;
                        if (type == MU_TYPE_Q4_0) {
                                const struct block_q4_0 *x = (const struct block_q4_0 *)row + b;
                                qs = x->qs;
                                wd[b * GEMM_MR] = _cvtsh_ss(x->d);
                                wm[b * GEMM_MR] = 0.0f;
                        } else {
                                const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;
                                qs = x->qs;
                                wd[b * GEMM_MR] = _cvtsh_ss(x->d);
                                wm[b * GEMM_MR] = _cvtsh_ss(x->m);
                        }
                        __m128i q = _mm_loadu_si128((const __m128i *)qs);
                        _mm_storeu_si128((__m128i *)(c + 32 * b), _mm_sub_epi8(_mm_and_si128(q, m4), o));
                        _mm_storeu_si128((__m128i *)(c + 32 * b + 16),
                                         _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m4), o));
                }
                return;
        }
        case MU_TYPE_Q8_0:
                for (int64_t b = 0; b < nb; b++) {
                        const struct block_q8_0 *x = (const struct block_q8_0 *)row + b;
                        _mm256_storeu_si256((__m256i *)(c + 32 * b), _mm256_loadu_si256((const __m256i *)x->qs));
                        wd[b * GEMM_MR] = _cvtsh_ss(x->d);
                        wm[b * GEMM_MR] = 0.0f;
                }
                return;
        case MU_TYPE_Q4_K:
                for (int64_t b = 0; b < nb; b++) {
                        const struct block_q4_k *x = (const struct block_q4_k *)row + b;
                        float d = _cvtsh_ss(x->d), dmin = _cvtsh_ss(x->dmin);
                        uint8_t *o = c + 256 * b;
                        for (int ch = 0; ch < 4; ch++) {
                                __m256i q = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * ch));
                                _mm256_storeu_si256((__m256i *)(o + 64 * ch), _mm256_and_si256(q, m4y));
                                _mm256_storeu_si256((__m256i *)(o + 64 * ch + 32),
                                                    _mm256_and_si256(_mm256_srli_epi16(q, 4), m4y));
                        }
                        for (int j = 0; j < 8; j++) {
                                uint8_t sc, m;
                                quant_k4_scale_min(j, x->scales, &sc, &m);
                                wd[(8 * b + j) * GEMM_MR] = d * (float)sc;
                                wm[(8 * b + j) * GEMM_MR] = -dmin * (float)m;
                        }
                }
                return;
        case MU_TYPE_Q6_K: {
                const __m256i o32 = _mm256_set1_epi8(32);
                for (int64_t b = 0; b < nb; b++) {
                        const struct block_q6_k *x = (const struct block_q6_k *)row + b;
                        float d = _cvtsh_ss(x->d);
                        for (int h = 0; h < 2; h++) {
                                const uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
                                uint8_t *o = c + 256 * b + 128 * h;
                                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                                __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
                                __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(hb, m3y), 4);
                                __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3y), 4);
                                __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3y), 4);
                                __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3y), 4);
                                __m256i v0 = _mm256_or_si256(_mm256_and_si256(l0, m4y), h0);
                                __m256i v1 = _mm256_or_si256(_mm256_and_si256(l1, m4y), h1);
                                __m256i v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4y), h2);
                                __m256i v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4y), h3);
                                _mm256_storeu_si256((__m256i *)o, _mm256_sub_epi8(v0, o32));
                                _mm256_storeu_si256((__m256i *)(o + 32), _mm256_sub_epi8(v1, o32));
                                _mm256_storeu_si256((__m256i *)(o + 64), _mm256_sub_epi8(v2, o32));
                                _mm256_storeu_si256((__m256i *)(o + 96), _mm256_sub_epi8(v3, o32));
                        }
                        for (int g = 0; g < 16; g++) {
                                wd[(16 * b + g) * GEMM_MR] = d * (float)x->scales[g];
                                wm[(16 * b + g) * GEMM_MR] = 0.0f;
                        }
                }
                return;
        }
        default: {
                int gpb = ti->blk / ti->gs, off = signed_off(type);
                float bd[16], bm[16];
                for (int64_t b = 0; b < nb; b++) {
                        uint8_t *o = c + (size_t)b * (size_t)ti->blk;
                        gemm_decode_block(type, row, b, o, bd, bm);
                        for (int i = 0; off && i < ti->blk; i++)
                                o[i] = (uint8_t)(o[i] - off);
                        for (int g = 0; g < gpb; g++) {
                                wd[(b * gpb + g) * GEMM_MR] = bd[g];
                                wm[(b * gpb + g) * GEMM_MR] = off ? 0.0f : bm[g];
                        }
                }
                return;
        }
        }
}

static void amx_pack(int type, const char *w, size_t wrow, int nr, int64_t K, struct gemm_panel *p)
{
        const struct gemm_type *ti = gemm_type_info(type);
        const uint8_t *rows[GEMM_MR];

        for (int r = 0; r < GEMM_MR; r++) {
                uint8_t *c = p->tmp + (size_t)r * (size_t)K;
                rows[r] = c;
                if (r < nr) {
                        decode_row(type, w + (size_t)r * wrow, K, c, p->wd + r, p->wm + r);
                        continue;
                }
                memset(c, 0, (size_t)K);
                for (int64_t g = 0; g < K / ti->gs; g++)
                        p->wd[g * GEMM_MR + r] = p->wm[g * GEMM_MR + r] = 0.0f;
        }
        for (int64_t c = 0; c < K / 32; c++) {
                transpose8(rows, (size_t)c * 32, p->q + c * 512, 64);
                transpose8(rows + 8, (size_t)c * 32, p->q + c * 512 + 32, 64);
        }
}

/* ---- microkernel --------------------------------------------------------- */

/* acc[t] += wd * xd[t] * C[t] (+ wm * xs[t]) for the int32 tile c of group
 * g.  The scales come transposed (gemm_act's dt, st: tokens contiguous), so
 * the 16 broadcasts are loads at constant offsets from one pointer. */
#define EPI(c, g)                                                                                      \
        do {                                                                                           \
                const __m512 wd_ = _mm512_load_ps(p->wd + (g) * GEMM_MR);                              \
                const float *xd_ = a->dt + (size_t)((g) * GS / 32) * (size_t)a->ldt + t0;               \
                _Pragma("GCC unroll 16") for (int t = 0; t < 16; t++) {                               \
                        __m512 f_ = _mm512_cvtepi32_ps(_mm512_load_si512((c) + 16 * t));               \
                        acc[t] = _mm512_fmadd_ps(f_, _mm512_mul_ps(wd_, _mm512_set1_ps(xd_[t])), acc[t]); \
                }                                                                                      \
                if (MIN) {                                                                             \
                        const __m512 wm_ = _mm512_load_ps(p->wm + (g) * GEMM_MR);                      \
                        const float *xs_ = a->st + (size_t)(g) * (size_t)a->ldt + t0;                  \
                        _Pragma("GCC unroll 16") for (int t = 0; t < 16; t++)                         \
                                acc[t] = _mm512_fmadd_ps(wm_, _mm512_set1_ps(xs_[t]), acc[t]);         \
                }                                                                                      \
        } while (0)

#define DP(c, a, b)                                                                                    \
        do {                                                                                           \
                if (SGN)                                                                               \
                        _tile_dpbssd(c, a, b);                                                         \
                else                                                                                   \
                        _tile_dpbsud(c, a, b);                                                         \
        } while (0)

static inline __attribute__((always_inline)) void
kern(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y, size_t ldy, int nr,
     const int GS, const int SGN, const int MIN)
{
        const int64_t K = a->K, ng = K / GS;
        const int8_t *xq = a->q + (size_t)t0 * (size_t)K;
        const size_t bstep = (size_t)GS * 16; /* panel bytes per group */
        int32_t cbuf[4][256] __attribute__((aligned(64)));
        __m512 acc[16];
        int64_t g = 0;

#pragma GCC unroll 16
        for (int t = 0; t < 16; t++)
                acc[t] = _mm512_setzero_ps();
        for (; g + 4 <= ng; g += 4) {
                const int8_t *x0 = xq + g * GS;
                const uint8_t *w0 = p->q + (size_t)g * bstep;
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                _tile_loadd(4, x0, K);
                _tile_loadd(5, w0, 64);
                _tile_loadd(6, x0 + GS, K);
                _tile_loadd(7, w0 + bstep, 64);
                DP(0, 4, 5);
                DP(1, 6, 7);
                _tile_loadd(4, x0 + 2 * GS, K);
                _tile_loadd(5, w0 + 2 * bstep, 64);
                _tile_loadd(6, x0 + 3 * GS, K);
                _tile_loadd(7, w0 + 3 * bstep, 64);
                DP(2, 4, 5);
                DP(3, 6, 7);
                _tile_stored(0, cbuf[0], 64);
                _tile_stored(1, cbuf[1], 64);
                _tile_stored(2, cbuf[2], 64);
                _tile_stored(3, cbuf[3], 64);
                EPI(cbuf[0], g);
                EPI(cbuf[1], g + 1);
                EPI(cbuf[2], g + 2);
                EPI(cbuf[3], g + 3);
        }
        for (; g < ng; g++) {
                _tile_zero(0);
                _tile_loadd(4, xq + g * GS, K);
                _tile_loadd(5, p->q + (size_t)g * bstep, 64);
                DP(0, 4, 5);
                _tile_stored(0, cbuf[0], 64);
                EPI(cbuf[0], g);
        }
        gemm_store_rows(acc, 16, y, ldy, nt, nr);
}

/* The k-quants: activations are Q8_K, one scale xd per 256 elements, so
 *   acc[t] += xd[t] * sum over the 256/GS groups of (wd * C[t] + wm * bs[t])
 * with bs the plain code sums (gemm_act's st): cvt + fma (+ fma) per token
 * and group, no multiply; the 16 per-token partial sums stay in registers
 * and the running totals in memory. */
#define EPIK(c, g)                                                                                     \
        do {                                                                                           \
                const __m512 wd_ = _mm512_load_ps(p->wd + (g) * GEMM_MR);                              \
                _Pragma("GCC unroll 16") for (int t = 0; t < 16; t++) part[t] =                        \
                        _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512((c) + 16 * t)), wd_, part[t]); \
                if (MIN) {                                                                             \
                        const __m512 wm_ = _mm512_load_ps(p->wm + (g) * GEMM_MR);                      \
                        const float *bs_ = a->st + (size_t)(g) * (size_t)a->ldt + t0;                  \
                        _Pragma("GCC unroll 16") for (int t = 0; t < 16; t++) part[t] =                \
                                _mm512_fmadd_ps(wm_, _mm512_set1_ps(bs_[t]), part[t]);                 \
                }                                                                                      \
        } while (0)

static inline __attribute__((always_inline)) void
kern_k(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y, size_t ldy, int nr,
       const int GS, const int SGN, const int MIN)
{
        const int64_t K = a->K;
        const int gpb = 256 / GS; /* groups per superblock: 8 or 16 */
        const int8_t *xq = a->q + (size_t)t0 * (size_t)K;
        const size_t bstep = (size_t)GS * 16;
        int32_t cbuf[4][256] __attribute__((aligned(64)));
        float tot[16][16] __attribute__((aligned(64)));
        __m512 part[16];

        memset(tot, 0, sizeof(tot));
        for (int64_t sb = 0; sb < K / 256; sb++) {
#pragma GCC unroll 16
                for (int t = 0; t < 16; t++)
                        part[t] = _mm512_setzero_ps();
                for (int64_t g = sb * gpb; g < (sb + 1) * gpb; g += 4) {
                        const int8_t *x0 = xq + g * GS;
                        const uint8_t *w0 = p->q + (size_t)g * bstep;
                        _tile_zero(0);
                        _tile_zero(1);
                        _tile_zero(2);
                        _tile_zero(3);
                        _tile_loadd(4, x0, K);
                        _tile_loadd(5, w0, 64);
                        _tile_loadd(6, x0 + GS, K);
                        _tile_loadd(7, w0 + bstep, 64);
                        DP(0, 4, 5);
                        DP(1, 6, 7);
                        _tile_loadd(4, x0 + 2 * GS, K);
                        _tile_loadd(5, w0 + 2 * bstep, 64);
                        _tile_loadd(6, x0 + 3 * GS, K);
                        _tile_loadd(7, w0 + 3 * bstep, 64);
                        DP(2, 4, 5);
                        DP(3, 6, 7);
                        _tile_stored(0, cbuf[0], 64);
                        _tile_stored(1, cbuf[1], 64);
                        _tile_stored(2, cbuf[2], 64);
                        _tile_stored(3, cbuf[3], 64);
                        EPIK(cbuf[0], g);
                        EPIK(cbuf[1], g + 1);
                        EPIK(cbuf[2], g + 2);
                        EPIK(cbuf[3], g + 3);
                }
                const float *xd = a->dt + (size_t)(sb * 8) * (size_t)a->ldt + t0;
#pragma GCC unroll 16
                for (int t = 0; t < 16; t++)
                        _mm512_store_ps(tot[t], _mm512_fmadd_ps(part[t], _mm512_set1_ps(xd[t]), _mm512_load_ps(tot[t])));
        }
        const __mmask16 m = (__mmask16)((1u << nr) - 1);
        for (int t = 0; t < nt; t++)
                _mm512_mask_storeu_ps(y + (size_t)t * ldy, m, _mm512_load_ps(tot[t]));
}

static void kern_k32u(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                      size_t ldy, int nr)
{
        kern_k(p, a, t0, nt, y, ldy, nr, 32, 0, 1);
}

static void kern_k16s(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                      size_t ldy, int nr)
{
        kern_k(p, a, t0, nt, y, ldy, nr, 16, 1, 0);
}

static void kern_k16u(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                      size_t ldy, int nr)
{
        kern_k(p, a, t0, nt, y, ldy, nr, 16, 0, 1);
}

static void kern_s32(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                     size_t ldy, int nr)
{
        kern(p, a, t0, nt, y, ldy, nr, 32, 1, 0);
}

static void kern_u32(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                     size_t ldy, int nr)
{
        kern(p, a, t0, nt, y, ldy, nr, 32, 0, 1);
}

static void amx_kernel(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt,
                       float *y, size_t ldy, int nr)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int sgn = ti->sgn || signed_off(type);

        if (ti->blk == 256) { /* k-quants: Q8_K activations */
                if (ti->gs == 32)
                        kern_k32u(p, a, t0, nt, y, ldy, nr); /* Q4_K Q5_K */
                else
                        (sgn ? kern_k16s : kern_k16u)(p, a, t0, nt, y, ldy, nr); /* Q3_K Q6_K : Q2_K */
        } else { /* 32-element blocks: Q8_0 or Q8_1 activations, a scale per 32 */
                (sgn ? kern_s32 : kern_u32)(p, a, t0, nt, y, ldy, nr);
        }
}

const struct gemm_isa gemm_isa_amx = {"amx", GEMM_AMX_NT, 1, amx_pack, amx_kernel, amx_begin, amx_end};

#else
#include "kernels/gemm.h"

int gemm_amx_usable(void)
{
        return 0;
}

const struct gemm_isa gemm_isa_amx = {NULL, 0, 0, NULL, NULL, NULL, NULL};
#endif
