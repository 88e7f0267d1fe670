/* gemm.h -- multi-token matmul (prompt processing) with int8 dot products,
 * private to src/kernels/.
 *
 * y[t][r] = sum_c w[r][c] * x[t][c] for n_tok >= GEMM_MIN_TOK, for the
 * quantized weight types (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K).
 * How:
 *   1. The activations are quantized once per call exactly as the vec_dot
 *      path does (the weight type's vec_dot_type: Q8_0, Q8_1 or Q8_K), then
 *      spread per token into int8 codes, one float scale per 32 elements
 *      ("xd") and the dequantized sum of each weight group ("xs", per 16 or
 *      32 elements: see below).
 *   2. Every weight row is a sequence of groups of GS (16 or 32) elements,
 *      each value = wd * code + wm with an unsigned code (0..qmax) and floats
 *      wd, wm (Q4_0: wd = d, wm = -8d; Q4_K: wd = d*sc, wm = -dmin*m; ...).
 *      Q8_0 keeps signed codes (wm = 0).  A thread unpacks GEMM_MR rows at a
 *      time into a panel: codes interleaved so that one 32-byte vector holds
 *      4 consecutive codes of each of 8 rows, and wd/wm per (group, row).
 *   3. The microkernel multiplies a panel by a few tokens: avx2, 3 tokens:
 *      u8 x s8 byte dot products (vpmaddubsw) summed in int16 as long as
 *      they cannot overflow, then int32, then per group in float:
 *      acc += wd*xd * isum + wm * xs.  avx512 (gemm_avx512.c, VNNI), 8
 *      tokens: one zmm per step of 4 elements holds the 16 rows, one
 *      vpdpbusd per token straight into int32, then the avx2 kernel's float
 *      operations in the same order (its outputs equal avx2's bit for bit;
 *      Q8_0 is packed as code + 128 and its sums start at gemm_act.ot).
 *      amx (gemm_amx.c), 16 tokens: the
 *      panel is already the VNNI layout of an AMX B tile; one TDPBSSD or
 *      TDPBSUD per group into a 16 x 16 int32 tile, then the same scaling
 *      with AVX-512 (types with wm = -off * wd are packed signed instead).
 * The threads quantize the activations (split by tokens), then take work
 * items of GEMM_NP panels from a shared counter; the result of a (row,
 * token) pair does not depend on the thread count.  Float weights (F32,
 * F16, BF16) go to OpenBLAS sgemm on dequantized row tiles instead, when
 * the build has BLAS and OpenBLAS runs an AVX2-class kernel (measurements:
 * gemm.c).
 *
 * The scalar C microkernel here (gemm.c) is the reference for the SIMD ones
 * (gemm_avx2.c, gemm_avx512.c, gemm_amx.c); tests/test_gemm.c checks each
 * against a float matmul of the dequantized weights and against the scalar
 * kernel, and avx512 against avx2 for equality.  Which path runs:
 * gemm_try() uses amx where the CPU has AMX-INT8 (and Linux grants the tile
 * state) and the avx512 table is selected; else avx512 where the avx512
 * table is selected (AVX512 F/BW/VL/DQ/VNNI: Zen 4/5, Ice Lake, Cascade
 * Lake); else the avx2 kernel on AVX2 CPUs (see gemm_isa_get() for the
 * MULLAMA_CPU and MULLAMA_GEMM overrides); under MULLAMA_CPU=scalar (or
 * MULLAMA_GEMM=0, for A/B runs) it declines and matmul() keeps its vec_dot
 * path.
 *
 * Per-thread GOP/s (bench/bench_gemm, n_tok 512, TinyLlama shapes, Sapphire
 * Rapids-class VM, busy): amx 430-500 (Q4_0, Q8_0, Q4_K), 320-370 (Q6_K,
 * Q4_1); avx2 100-160; a 2048 x 256 matrix alone 190-270 (the activation
 * quantization weighs more there: Q/K/V share it through gemm_run_multi).
 * AMD EPYC Zen 5 VM, 2 vCPUs, busy (n_tok 128 and 512; bench/results/
 * 2026-12-02-vnni.md): avx512 250-510 on the big shapes (Q4_0 Q4_1 Q8_0
 * Q4_K Q6_K), 160-280 on 2048 x 256; avx2 100-190 in the same runs. */
#ifndef MULLAMA_GEMM_H
#define MULLAMA_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/types.h"

struct mu_pool;
struct matmul_ws;

/* Batches under GEMM_MIN_TOK tokens go to the vec_dot / vec_dot4 kernels,
 * whose float sums follow llama.cpp's order bit for bit (like its CPU
 * backend, which runs those kernels for such batches), so short prompts and
 * decode groups give llama.cpp's logits; the int8 gemm sums in its own
 * order.  64 is also where attention switches to the tiled path
 * (attn_batch.h ATTN_BATCH_MIN_TOK). */
#define GEMM_MIN_TOK 64
#define GEMM_MR 16 /* rows per panel: two groups of 8 */
#define GEMM_NR 3  /* tokens per microkernel call */

/* How a weight type maps to the panel format. */
struct gemm_type {
        int gs;        /* group size: 16 or 32 */
        int blk;       /* elements per file block: 32 or 256 */
        int qmax;      /* largest code (255 means signed int8 codes) */
        int sgn;       /* codes are signed (Q8_0) */
};

/* NULL when the type has no int8 gemm. */
const struct gemm_type *gemm_type_info(int type);

/* Quantized activations of n_tok tokens of K elements. */
struct gemm_act {
        int8_t *q;     /* [n_tok][K] */
        float *d;      /* [n_tok][K/32] */
        float *s;      /* [n_tok][K/gs]: xd * sum of codes of the group */
        float *dt;     /* NULL, or d transposed: [K/32][ldt] (tokens contiguous) */
        float *st;     /* NULL, or s transposed: [K/gs][ldt]; for Q8_K
                        * activations (one scale per 256) the plain code sums
                        * of the groups instead, without the scale */
        int32_t *ot;   /* NULL, or [K/32][ldt]: -128 * the code sum of each 32
                        * (avx512 Q8_0: the weights are packed as code + 128) */
        int64_t ldt;   /* tokens per row of dt, st and ot (n_tok padded to nt_max) */
        int64_t K;
        int gs;
};

/* One panel of GEMM_MR rows x K. */
struct gemm_panel {
        uint8_t *q;    /* K/32 chunks of 8 steps x 2 row groups x 32 bytes */
        float *wd;     /* [K/gs][GEMM_MR] */
        float *wm;     /* [K/gs][GEMM_MR] */
        uint8_t *tmp;  /* [GEMM_MR][K] scratch for pack() */
};

/* Bytes of one panel's buffers for rows of K elements (64-byte aligned
 * pieces); gemm_panel_init() carves them out of buf. */
size_t gemm_panel_bytes(int64_t K, int gs);
void gemm_panel_init(struct gemm_panel *p, void *buf, int64_t K, int gs);

/* The kernels of one ISA. */
struct gemm_isa {
        const char *name;
        int nt_max;   /* tokens per kernel call (GEMM_NR; GEMM_AMX_NT for amx) */
        int want_t;   /* the kernel reads gemm_act's dt and st: 1 with plain
                       * code sums in st for the k-quants (amx), 2 with st = s
                       * always and ot for Q8_0 (avx512) */
        /* Unpack rows [r0, r0 + nr) (nr <= GEMM_MR; missing rows are zero)
         * of w (row stride wrow bytes) into p. */
        void (*pack)(int type, const char *w, size_t wrow, int nr, int64_t K,
                     struct gemm_panel *p);
        /* y[t * ldy + r] for t < nt (<= GEMM_NR), r < nr (<= GEMM_MR):
         * panel p times tokens [t0, t0 + nt) of a. */
        void (*kernel)(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0,
                       int nt, float *y, size_t ldy, int nr);
        /* Optional, per thread around its pack/kernel calls of one gemm_run
         * (amx: tile configuration for the type, tile release). */
        void (*begin)(int type);
        void (*end)(void);
};

extern const struct gemm_isa gemm_isa_scalar;
extern const struct gemm_isa gemm_isa_avx2; /* name NULL when not built */
extern const struct gemm_isa gemm_isa_amx;  /* name NULL when not built */
extern const struct gemm_isa gemm_isa_avx512; /* VNNI; name NULL when not built */

/* Tokens per AMX kernel call: one 16-row tile of activations.  gemm_run()
 * pads the quantized activations with zero tokens up to a multiple of the
 * ISA's nt_max, so a kernel may read (not write) up to nt_max tokens. */
#define GEMM_AMX_NT 16
/* Tokens per avx512 (VNNI) kernel call. */
#define GEMM_VNNI_NT 8

/* 1 when this CPU has AMX-INT8 and the kernel granted this process the tile
 * state (arch_prctl ARCH_REQ_XCOMP_PERM); checked once (gemm_amx.c). */
int gemm_amx_usable(void);

/* The ISA gemm_try() uses now: amx where gemm_amx_usable() and the cpu
 * table is avx512 (the default there; MULLAMA_CPU=amx asks for it), else
 * avx512 (VNNI) where the cpu table is avx512, else avx2 on AVX2 CPUs; NULL
 * under MULLAMA_CPU=scalar, MULLAMA_GEMM=0 or without AVX2.
 * MULLAMA_GEMM=avx2 or MULLAMA_CPU=avx2 picks the avx2 gemm,
 * MULLAMA_GEMM=avx512 or MULLAMA_CPU=avx512 the avx512 one even where amx
 * runs (A/B runs). */
const struct gemm_isa *gemm_isa_get(void);

/* Tests: turn gemm_try() off (0) or back on (1), overriding MULLAMA_GEMM. */
void gemm_enable(int on);

/* matmul() of several weights on one prompt batch (matmul_multi's n_tok >
 * 1 case): runs of weights of one type go through gemm_try_multi(), the rest
 * one by one (matmul.c). */
void matmul_batch_multi(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                        const float *x, int n_tok, float *const *y);

/* Scratch space from matmul's workspace (matmul.c). */
void *matmul_ws_reserve(struct matmul_ws *ws, size_t n);

/* Run y = W x with isa (NULL: gemm_isa_get()) if the type and batch suit
 * it; returns 1 when done, 0 when the caller must do it.  Float weight types
 * use BLAS whatever the (non-NULL) isa. */
int gemm_run(const struct gemm_isa *isa, struct mu_pool *pool, struct matmul_ws *ws,
             const struct mu_tensor *w, const float *x, int n_tok, float *y);
/* The same for nw (<= GEMM_MAXW) weights of one type and K on one input:
 * the activations are quantized once, one pool job for all (Q/K/V,
 * gate/up).  0 when they do not qualify together. */
#define GEMM_MAXW 4
int gemm_run_multi(const struct gemm_isa *isa, struct mu_pool *pool, struct matmul_ws *ws, int nw,
                   const struct mu_tensor *const *w, const float *x, int n_tok, float *const *y);
static inline int gemm_try_multi(struct mu_pool *pool, struct matmul_ws *ws, int nw,
                                 const struct mu_tensor *const *w, const float *x, int n_tok, float *const *y)
{
        return n_tok >= GEMM_MIN_TOK && gemm_run_multi(NULL, pool, ws, nw, w, x, n_tok, y);
}
static inline int gemm_try(struct mu_pool *pool, struct matmul_ws *ws, const struct mu_tensor *w,
                           const float *x, int n_tok, float *y)
{
        return n_tok >= GEMM_MIN_TOK && gemm_run(NULL, pool, ws, w, x, n_tok, y);
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* The SIMD kernels' result store (gemm_avx512.c, gemm_amx.c): f[t] holds
 * GEMM_MR rows of token t (t < nt <= nmax, f's length); tokens go ldy
 * floats apart; only the first nr rows are written when the panel is short.
 * nmax is a constant at each call, so the loop unrolls and f stays in
 * registers in the caller's loop. */
static inline __attribute__((always_inline)) void gemm_store_rows(const __m512 *f, int nmax, float *y, size_t ldy,
                                                                  int nt, int nr)
{
        const __mmask16 m = (__mmask16)((1u << nr) - 1);

#pragma GCC unroll 16
        for (int t = 0; t < nmax; t++) {
                if (t >= nt)
                        break;
                if (nr == GEMM_MR)
                        _mm512_storeu_ps(y + (size_t)t * ldy, f[t]);
                else
                        _mm512_mask_storeu_ps(y + (size_t)t * ldy, m, f[t]);
        }
}
#endif

#endif
