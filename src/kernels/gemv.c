/* gemv.c -- matmul for one token (token generation), and several weights
 * sharing one input in one pool job.
 *
 * The activation row is quantized once, before the threads start, to each
 * distinct vec_dot type the weights need (no barrier inside the job).  The
 * rows of all weights are cut into chunks, the chunks into one stretch
 * (region) per thread; a thread takes its region's chunks in order from the
 * region's atomic counter, then what is left of the others
 * (mu_pool_run_dyn), so a thread the OS delays (this box is shared) does not
 * hold the others back, while a thread mostly walks consecutive rows (the
 * kernels' prefetch runs ahead across its chunks, see cpu_avx512.c's
 * GEMV4) and threads seldom share output lines; a chunk is a multiple of 4 rows and runs through
 * the type's gemv kernel (several rows per activation load) or, where a
 * table has none, a loop of vec_dot.  A row's result does not depend on the
 * chunk it fell in, so any thread count gives the same bits. */
#include <stdatomic.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"

#define MAX_W 4
/* chunks per thread and weight: enough to even out a delayed thread */
#ifndef CHUNKS_PER_THREAD
#define CHUNKS_PER_THREAD 8
#endif
#define MIN_CHUNK_BYTES (8 * 1024)

struct gv_w {
        const struct quant_fns *f;
        const char *w;
        size_t wrow;
        int64_t ne0, ne1;
        const void *xq;
        float *y;
        int64_t chunk;          /* rows per chunk (multiple of 4) */
        int64_t c0;             /* first global chunk index */
};

#define MAX_REGIONS 16

/* Chunks [start, end) of the region a thread starts in; the counter on its
 * own cache line. */
struct gv_region {
        _Alignas(64) _Atomic int64_t next;
        int64_t end;
};

struct gv_job {
        struct gv_w w[MAX_W];
        int nw, nreg;
        int64_t n_chunks;
        struct gv_region reg[MAX_REGIONS];
};

static void run_chunk(const struct gv_w *g, int64_t r0, int64_t r1)
{
        int n = (int)g->ne0;

        if (g->f->gemv) {
                g->f->gemv(n, (int)(r1 - r0), g->y + r0, g->w + (size_t)r0 * g->wrow, g->wrow, g->xq);
                return;
        }
        for (int64_t r = r0; r < r1; r++)
                g->f->vec_dot(n, &g->y[r], g->w + (size_t)r * g->wrow, g->xq);
}

/* Thread ith takes the chunks of region ith in order, then those left in
 * the regions after it: a thread mostly walks one stretch of rows, so the
 * gemv kernel's prefetch past a chunk's end fetches the rows this thread
 * computes next, and output rows are seldom shared with another thread. */
static void gv_task(void *arg, int ith, int nth)
{
        struct gv_job *j = arg;
        int wi = 0;

        (void)nth;
        for (int k = 0; k < j->nreg; k++) {
                struct gv_region *rg = &j->reg[(ith + k) % j->nreg];
                for (;;) {
                        int64_t c = atomic_fetch_add_explicit(&rg->next, 1, memory_order_relaxed);
                        if (c >= rg->end)
                                break;
                        while (wi > 0 && c < j->w[wi].c0)
                                wi--;
                        while (wi + 1 < j->nw && c >= j->w[wi + 1].c0)
                                wi++;
                        const struct gv_w *g = &j->w[wi];
                        int64_t r0 = (c - g->c0) * g->chunk, r1 = r0 + g->chunk;
                        run_chunk(g, r0, r1 < g->ne1 ? r1 : g->ne1);
                }
        }
}

void matmul_vec(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                const float *x, float *const *y)
{
        const struct cpu_kernels *k = cpu_kernels_get();
        int nth = mu_pool_size(pool);
        struct gv_job j;
        int vts[MAX_W], nvt = 0;
        size_t off[MAX_W], total = 0;

        if (nw > MAX_W) { /* not used so: split */
                matmul_vec(pool, ws, MAX_W, w, x, y);
                matmul_vec(pool, ws, nw - MAX_W, w + MAX_W, x, y + MAX_W);
                return;
        }
        j.nw = 0;
        j.n_chunks = 0;
        /* one quantized copy of x per distinct vec_dot type */
        for (int i = 0; i < nw; i++) {
                int vt = k->q[w[i]->type].vec_dot_type, v = 0;
                while (v < nvt && vts[v] != vt)
                        v++;
                if (v == nvt) {
                        vts[nvt] = vt;
                        off[nvt] = total;
                        if (vt != MU_TYPE_F32)
                                total += (mu_row_size(vt, w[i]->ne[0]) + 63) & ~(size_t)63;
                        nvt++;
                }
        }
        char *buf = total ? matmul_ws_reserve(ws, total) : NULL;
        for (int v = 0; v < nvt; v++)
                if (vts[v] != MU_TYPE_F32)
                        k->q[vts[v]].from_float(x, buf + off[v], w[0]->ne[0]);

        for (int i = 0; i < nw; i++) {
                struct gv_w *g = &j.w[j.nw];
                int vt = k->q[w[i]->type].vec_dot_type, v = 0;
                if (w[i]->ne[1] <= 0)
                        continue;
                while (vts[v] != vt)
                        v++;
                g->f = &k->q[w[i]->type];
                g->w = w[i]->data;
                g->ne0 = w[i]->ne[0];
                g->ne1 = w[i]->ne[1];
                g->wrow = mu_row_size(w[i]->type, g->ne0);
                g->xq = vt == MU_TYPE_F32 ? (const void *)x : buf + off[v];
                g->y = y[i];
                int64_t ch = nth > 1 ? g->ne1 / ((int64_t)nth * CHUNKS_PER_THREAD) : g->ne1;
                int64_t minr = (int64_t)(MIN_CHUNK_BYTES / (g->wrow ? g->wrow : 1));
                if (ch < minr)
                        ch = minr;
                ch = (ch + 3) & ~(int64_t)3;
                if (ch < 4)
                        ch = 4;
                g->chunk = ch;
                g->c0 = j.n_chunks;
                j.n_chunks += (g->ne1 + ch - 1) / ch;
                j.nw++;
        }
        if (!j.nw)
                return;
        j.nreg = nth <= 1 || j.n_chunks == 1 ? 1 : nth < MAX_REGIONS ? nth : MAX_REGIONS;
        for (int i = 0; i < j.nreg; i++) {
                atomic_init(&j.reg[i].next, j.n_chunks * i / j.nreg);
                j.reg[i].end = j.n_chunks * (i + 1) / j.nreg;
        }
        if (j.nreg == 1)
                gv_task(&j, 0, 1);
        else
                mu_pool_run_dyn(pool, gv_task, &j);
}

void matmul_multi(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                  const float *x, int n_tok, float *const *y)
{
        if (n_tok == 1) {
                matmul_vec(pool, ws, nw, w, x, y);
                return;
        }
        matmul_batch_multi(pool, ws, nw, w, x, n_tok, y); /* matmul.c */
}
