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

/* ---- panels -------------------------------------------------------------- */

static void amx_pack(int type, const char *w, size_t wrow, int nr, int64_t K, struct gemm_panel *p)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int off = signed_off(type);

        gemm_isa_avx2.pack(type, w, wrow, nr, K, p);
        if (!off)
                return;
        const __m512i vo = _mm512_set1_epi8((char)off);
        for (size_t i = 0; i < (size_t)K * GEMM_MR; i += 64) {
                __m512i v = _mm512_load_si512((const void *)(p->q + i));
                _mm512_store_si512((void *)(p->q + i), _mm512_sub_epi8(v, vo));
        }
        memset(p->wm, 0, sizeof(float) * (size_t)(K / ti->gs) * GEMM_MR);
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
        const __mmask16 m = (__mmask16)((1u << nr) - 1);
#pragma GCC unroll 16
        for (int t = 0; t < 16; t++) {
                if (t >= nt)
                        break;
                if (nr == GEMM_MR)
                        _mm512_storeu_ps(y + (size_t)t * ldy, acc[t]);
                else
                        _mm512_mask_storeu_ps(y + (size_t)t * ldy, m, acc[t]);
        }
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

static void kern_s16(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                     size_t ldy, int nr)
{
        kern(p, a, t0, nt, y, ldy, nr, 16, 1, 0);
}

static void kern_u16(const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt, float *y,
                     size_t ldy, int nr)
{
        kern(p, a, t0, nt, y, ldy, nr, 16, 0, 1);
}

static void amx_kernel(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0, int nt,
                       float *y, size_t ldy, int nr)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int sgn = ti->sgn || signed_off(type);

        if (ti->gs == 32)
                (sgn ? kern_s32 : kern_u32)(p, a, t0, nt, y, ldy, nr);
        else
                (sgn ? kern_s16 : kern_u16)(p, a, t0, nt, y, ldy, nr);
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
