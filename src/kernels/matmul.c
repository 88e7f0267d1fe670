/* matmul.c -- y = W x for a weight matrix of any supported type.
 *
 * One pool job per call:
 *   1. the activations are quantized to the weight type's vec_dot_type into
 *      the session's workspace (tokens split over the threads; skipped when
 *      that type is F32), then a barrier;
 *   2. each thread takes a contiguous range of weight rows and walks it in
 *      tiles: for a tile of tokens (as many as fit a share of L2) and a tile
 *      of rows (a few KB, stays in L1), every (row, token) pair is one
 *      vec_dot (or, where the type has one, the tile goes to its mm kernel,
 *      which keeps several rows and tokens in registers).  So a weight row
 *      comes from memory once per token tile, not once per token: the point
 *      of batching a prompt.
 * Large prompt batches may go to BLAS instead (see MATMUL_BLAS_MIN_TOK). */
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"
#include "mullama/mullama.h"
#include "mullama/pool.h"

#ifdef MU_HAVE_BLAS
#include <cblas.h>
#include <pthread.h>
#endif

/* Prompt batches of at least MATMUL_BLAS_MIN_TOK tokens may go to BLAS:
 * each thread dequantizes BLAS_ROWS weight rows at a time to f32 and runs a
 * single-threaded sgemm on them.  Measured on the dev box (AVX-512 VNNI VM,
 * 2 threads, 4096 x 4096, n_tok 128, bench/bench_kernels): Debian's
 * OpenBLAS 0.3 detects this VM's CPU as "Prescott" and runs sgemm at 15-30
 * GFLOP/s per thread (110-125 with OPENBLAS_CORETYPE=SkylakeX); the BLAS
 * path gave 57 GOP/s against 52-57 for the AVX2 integer path and far less
 * than the AVX-512 VNNI path.  So it is off by default; build with
 * -DMATMUL_BLAS_MIN_TOK=32 to try it elsewhere. */
#ifndef MATMUL_BLAS_MIN_TOK
#define MATMUL_BLAS_MIN_TOK (1 << 30) /* off: see above */
#endif
#define BLAS_ROWS 64

/* Bytes of weights per row tile (kept in L1) and of quantized activations
 * per token tile (kept in L2, shared between the two threads' working
 * sets). */
#define ROW_TILE_BYTES (16 * 1024)
#define TOK_TILE_BYTES (512 * 1024)
/* Row tiles for an mm kernel: a multiple of 4 rows (the kernels' row
 * groups; a partial group computes rows it throws away), and larger: an mm
 * kernel keeps its own register tiles and computes per-token terms once per
 * call for all its rows (cpu_avx512.c q32_mm_prep), while its weights are
 * read once per 8 tokens, from L2 at this size.  Measured with the
 * AVX-512 q32 kernels, 2 threads, best of 4-5 interleaved runs on the
 * shared VM, 16 KB -> 256 KB: SmolLM2 Q4_1 pp16 661 -> 717 t/s, pp32 735
 * -> 826; TinyLlama Q4_0 pp16 76 -> 102, pp32 85 -> 122 (64 KB about the
 * same as 256 KB). */
#ifndef MM_ROW_TILE_BYTES
#define MM_ROW_TILE_BYTES (256 * 1024)
#endif

struct matmul_ws {
        void *buf;
        size_t cap;
};

struct matmul_ws *matmul_ws_create(void)
{
        struct matmul_ws *ws = mu_xmalloc(sizeof(*ws));

        ws->buf = NULL;
        ws->cap = 0;
        return ws;
}

void matmul_ws_free(struct matmul_ws *ws)
{
        if (!ws)
                return;
        free(ws->buf);
        free(ws);
}

void *matmul_ws_reserve(struct matmul_ws *ws, size_t n)
{
        if (n > ws->cap) {
                free(ws->buf);
                n = (n + 63) & ~(size_t)63;
                ws->buf = aligned_alloc(64, n);
                if (!ws->buf) {
                        fprintf(stderr, "mullama: out of memory (%zu bytes)\n", n);
                        abort();
                }
                ws->cap = n;
        }
        return ws->buf;
}

struct mm_job {
        struct mu_pool *pool;
        const struct quant_fns *wf;  /* weight type's functions */
        quant_from_float_fn quant;    /* activation quantizer; NULL: use x */
        const char *w;
        size_t wrow;                  /* bytes per weight row */
        const float *x;
        char *xq;
        size_t xrow;                  /* bytes per quantized activation row */
        float *y;
        int64_t ne0, ne1;
        int n_tok;
        float *tiles;                 /* BLAS: BLAS_ROWS x ne0 floats per thread */
};

#ifdef MU_HAVE_BLAS
static void mm_blas_task(void *arg, int ith, int nth)
{
        struct mm_job *j = arg;
        int64_t r0 = j->ne1 * ith / nth, r1 = j->ne1 * (ith + 1) / nth;
        float *tile = j->tiles + (size_t)ith * BLAS_ROWS * (size_t)j->ne0;

        for (int64_t rb = r0; rb < r1; rb += BLAS_ROWS) {
                int rows = (int)(rb + BLAS_ROWS < r1 ? BLAS_ROWS : r1 - rb);
                for (int r = 0; r < rows; r++)
                        j->wf->to_float(j->w + (size_t)(rb + r) * j->wrow, tile + (size_t)r * j->ne0, j->ne0);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n_tok, rows, (int)j->ne0, 1.0f,
                            j->x, (int)j->ne0, tile, (int)j->ne0, 0.0f, j->y + rb, (int)j->ne1);
        }
}

static void blas_init(void)
{
        openblas_set_num_threads(1); /* our pool splits the rows */
}
#endif

static void mm_task(void *arg, int ith, int nth)
{
        struct mm_job *j = arg;

        if (j->quant) {
                for (int t = ith; t < j->n_tok; t += nth)
                        j->quant(j->x + (size_t)t * j->ne0, j->xq + (size_t)t * j->xrow, j->ne0);
                if (nth > 1)
                        mu_pool_barrier(j->pool);
        }

        int64_t r0 = j->ne1 * ith / nth, r1 = j->ne1 * (ith + 1) / nth;
        int rt = (int)(ROW_TILE_BYTES / j->wrow);
        int tt = (int)(TOK_TILE_BYTES / j->xrow);
        quant_vec_dot_fn dot = j->wf->vec_dot;
        quant_vec_dot4_fn dot4 = j->wf->vec_dot4;
        int n = (int)j->ne0;

        rt = rt < 1 ? 1 : rt;
        if (j->wf->mm) {
                /* whole groups of 4 rows, then up to a multiple of 16 (the
                 * avx512 K-quant kernels put 16 rows in the lanes of a
                 * vector and pay for 16 whatever nr is): a tile of 5 rows
                 * (Q4_K at 5632 columns) ran 3x slower per row */
                rt = (int)(MM_ROW_TILE_BYTES / j->wrow) & ~3;
                rt = ((rt < 4 ? 4 : rt) + 15) & ~15;
        }
        tt = tt < 1 ? 1 : tt;
        tt = tt < 4 ? 4 : tt & ~3;
        if (j->n_tok == 1) {
                for (int64_t r = r0; r < r1; r++)
                        dot(n, &j->y[r], j->w + (size_t)r * j->wrow, j->xq);
                return;
        }
        for (int t0 = 0; t0 < j->n_tok; t0 += tt) {
                int t1 = t0 + tt < j->n_tok ? t0 + tt : j->n_tok;
                for (int64_t rb = r0; rb < r1; rb += rt) {
                        int64_t re = rb + rt < r1 ? rb + rt : r1;
                        int t = t0;
                        if (j->wf->mm) { /* register tiles of rows x tokens */
                                j->wf->mm(n, (int)(re - rb), t1 - t0, j->y + (size_t)t0 * j->ne1 + rb, (size_t)j->ne1,
                                          j->w + (size_t)rb * j->wrow, j->wrow, j->xq + (size_t)t0 * j->xrow, j->xrow);
                                continue;
                        }
                        if (dot4) {
                                for (; t + 4 <= t1; t += 4) {
                                        const char *xq = j->xq + (size_t)t * j->xrow;
                                        float *y = j->y + (size_t)t * j->ne1;
                                        for (int64_t r = rb; r < re; r++)
                                                dot4(n, &y[r], (size_t)j->ne1, j->w + (size_t)r * j->wrow, xq,
                                                     j->xrow);
                                }
                        }
                        for (; t < t1; t++) {
                                const char *xq = j->xq + (size_t)t * j->xrow;
                                float *y = j->y + (size_t)t * j->ne1;
                                for (int64_t r = rb; r < re; r++)
                                        dot(n, &y[r], j->w + (size_t)r * j->wrow, xq);
                        }
                }
        }
}

void matmul(struct mu_pool *pool, struct matmul_ws *ws, const struct mu_tensor *w,
            const float *x, int n_tok, float *y)
{
        const struct cpu_kernels *k = cpu_kernels_get();
        struct mm_job j;

        memset(&j, 0, sizeof(j));
        j.pool = pool;
        j.wf = &k->q[w->type];
        j.w = w->data;
        j.ne0 = w->ne[0];
        j.ne1 = w->ne[1];
        j.wrow = mu_row_size(w->type, j.ne0);
        j.x = x;
        j.y = y;
        j.n_tok = n_tok;
        if (n_tok <= 0 || j.ne1 <= 0)
                return;
        if (n_tok == 1) { /* token generation: gemv.c */
                matmul_vec(pool, ws, 1, &w, x, &y);
                return;
        }
        if (gemm_try(pool, ws, w, x, n_tok, y)) /* prompt batches: int8 gemm (gemm.h) */
                return;
#ifdef MU_HAVE_BLAS
        if (n_tok >= MATMUL_BLAS_MIN_TOK) {
                static pthread_once_t once = PTHREAD_ONCE_INIT;
                int nth = pool ? mu_pool_size(pool) : 1;
                pthread_once(&once, blas_init);
                j.tiles = matmul_ws_reserve(ws, (size_t)nth * BLAS_ROWS * (size_t)j.ne0 * sizeof(float));
                if (nth <= 1)
                        mm_blas_task(&j, 0, 1);
                else
                        mu_pool_run(pool, mm_blas_task, &j);
                return;
        }
#endif
        int vt = j.wf->vec_dot_type;
        if (vt == MU_TYPE_F32) {
                j.xq = (char *)x;
                j.xrow = (size_t)j.ne0 * sizeof(float);
        } else {
                j.quant = k->q[vt].from_float;
                j.xrow = mu_row_size(vt, j.ne0);
                j.xq = matmul_ws_reserve(ws, j.xrow * (size_t)n_tok);
        }
        if (!pool || mu_pool_size(pool) <= 1) {
                j.pool = NULL;
                mm_task(&j, 0, 1);
        } else {
                mu_pool_run(pool, mm_task, &j);
        }
}

void matmul_batch_multi(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                        const float *x, int n_tok, float *const *y)
{
        for (int i = 0; i < nw;) {
                int n = 1;
                while (i + n < nw && n < GEMM_MAXW && w[i + n]->type == w[i]->type && w[i + n]->ne[0] == w[i]->ne[0])
                        n++;
                if (n > 1 && gemm_try_multi(pool, ws, n, w + i, x, n_tok, y + i)) {
                        i += n;
                        continue;
                }
                matmul(pool, ws, w[i], x, n_tok, y[i]);
                i++;
        }
}
