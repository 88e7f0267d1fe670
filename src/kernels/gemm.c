/* gemm.c -- the multi-token int8 matmul driver and its scalar reference
 * kernels (see gemm.h for the format and the contract). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernels/gemm.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"

#ifdef MU_HAVE_BLAS
#include <cblas.h>
#include <pthread.h>
#endif

#define GEMM_H2F(h) mu_fp16_to_fp32(h)
#include "kernels/gemm_decode.h"

static const struct gemm_type gt_q4 = {32, 32, 15, 0};
static const struct gemm_type gt_q5 = {32, 32, 31, 0};
static const struct gemm_type gt_q8 = {32, 32, 255, 1};
static const struct gemm_type gt_q2k = {16, 256, 3, 0};
static const struct gemm_type gt_q3k = {16, 256, 7, 0};
static const struct gemm_type gt_q4k = {32, 256, 15, 0};
static const struct gemm_type gt_q5k = {32, 256, 31, 0};
static const struct gemm_type gt_q6k = {16, 256, 63, 0};

const struct gemm_type *gemm_type_info(int type)
{
        switch (type) {
        case MU_TYPE_Q4_0:
        case MU_TYPE_Q4_1:
                return &gt_q4;
        case MU_TYPE_Q5_0:
        case MU_TYPE_Q5_1:
                return &gt_q5;
        case MU_TYPE_Q8_0:
                return &gt_q8;
        case MU_TYPE_Q2_K:
                return &gt_q2k;
        case MU_TYPE_Q3_K:
                return &gt_q3k;
        case MU_TYPE_Q4_K:
                return &gt_q4k;
        case MU_TYPE_Q5_K:
                return &gt_q5k;
        case MU_TYPE_Q6_K:
                return &gt_q6k;
        default:
                return NULL;
        }
}

#define ALIGN64(n) (((n) + 63) & ~(size_t)63)

size_t gemm_panel_bytes(int64_t K, int gs)
{
        size_t q = ALIGN64((size_t)K * GEMM_MR);
        size_t s = ALIGN64((size_t)(K / gs) * GEMM_MR * sizeof(float));
        return 2 * q + 2 * s;
}

void gemm_panel_init(struct gemm_panel *p, void *buf, int64_t K, int gs)
{
        char *b = buf;
        size_t q = ALIGN64((size_t)K * GEMM_MR);
        size_t s = ALIGN64((size_t)(K / gs) * GEMM_MR * sizeof(float));

        p->q = (uint8_t *)b;
        p->tmp = (uint8_t *)(b + q);
        p->wd = (float *)(b + 2 * q);
        p->wm = (float *)(b + 2 * q + s);
}

/* ---- scalar reference ---------------------------------------------------- */

/* Byte offset of code (row r, element k) in a panel. */
static inline size_t panel_off(int r, int64_t k)
{
        return (size_t)(k / 32) * 512 + (size_t)((k % 32) / 4 * 2 + r / 8) * 32 + (size_t)(r % 8) * 4 +
               (size_t)(k % 4);
}

static void scalar_pack(int type, const char *w, size_t wrow, int nr, int64_t K, struct gemm_panel *p)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int64_t ng = K / ti->gs, gpb = ti->blk / ti->gs;
        uint8_t codes[256];
        float wd[16], wm[16];

        for (int r = 0; r < GEMM_MR; r++) {
                for (int64_t b = 0; b < K / ti->blk; b++) {
                        if (r < nr) {
                                gemm_decode_block(type, w + (size_t)r * wrow, b, codes, wd, wm);
                        } else {
                                memset(codes, 0, sizeof(codes));
                                memset(wd, 0, sizeof(wd));
                                memset(wm, 0, sizeof(wm));
                        }
                        for (int i = 0; i < ti->blk; i++)
                                p->q[panel_off(r, b * ti->blk + i)] = codes[i];
                        for (int g = 0; g < gpb; g++) {
                                p->wd[(b * gpb + g) * GEMM_MR + r] = wd[g];
                                p->wm[(b * gpb + g) * GEMM_MR + r] = wm[g];
                        }
                }
        }
        (void)ng;
}

static void scalar_kernel(int type, const struct gemm_panel *p, const struct gemm_act *a, int t0,
                          int nt, float *y, size_t ldy, int nr)
{
        const struct gemm_type *ti = gemm_type_info(type);
        int64_t K = a->K;
        int gs = ti->gs;

        for (int t = 0; t < nt; t++) {
                const int8_t *xq = a->q + (size_t)(t0 + t) * K;
                const float *xd = a->d + (size_t)(t0 + t) * (K / 32);
                const float *xs = a->s + (size_t)(t0 + t) * (K / gs);
                for (int r = 0; r < nr; r++) {
                        float acc = 0.0f;
                        for (int64_t g = 0; g < K / gs; g++) {
                                int32_t isum = 0;
                                for (int i = 0; i < gs; i++) {
                                        int64_t k = g * gs + i;
                                        uint8_t c = p->q[panel_off(r, k)];
                                        int cv = ti->sgn ? (int8_t)c : c;
                                        isum += cv * xq[k];
                                }
                                acc += p->wd[g * GEMM_MR + r] * xd[g * gs / 32] * (float)isum +
                                       p->wm[g * GEMM_MR + r] * xs[g];
                        }
                        y[(size_t)t * ldy + r] = acc;
                }
        }
}

const struct gemm_isa gemm_isa_scalar = {"scalar", GEMM_NR, 0, scalar_pack, scalar_kernel, NULL, NULL};

/* ---- float weights: OpenBLAS ------------------------------------------------
 *
 * Which path per weight type, from bench/bench_gemm (GOP/s per thread, CPU
 * time, n_tok 128, TinyLlama shapes 2048x{256,2048,5632} and 5632x2048, on
 * the AMD EPYC (Zen 3, AVX2) dev VM; results/2026-12-02-pp.md):
 *
 *   type            int8 gemm   BLAS: dequant + sgemm   vec_dot (matmul.c)
 *   Q4_0            62-97       33-49                   20-28
 *   Q8_0            57-81       32-49                   17-29
 *   F16 / BF16      --          27-40                   12-21
 *
 * So quantized weights take the int8 gemm, float weights (F16, BF16, F32)
 * take OpenBLAS sgemm on BLAS_ROWS dequantized rows at a time -- but only
 * when OpenBLAS runs an AVX2-or-better kernel: matmul.c measured its "Prescott"
 * fallback (chosen on some VMs) at 15-30 GFLOP/s, no better than vec_dot. */
#define BLAS_ROWS 64

#ifdef MU_HAVE_BLAS
static int blas_good;

static void blas_once(void)
{
        static const char *const slow[] = {"prescott", "core2", "penryn", "dunnington", "nehalem",
                                           "atom", "katmai", "coppermine", "northwood", "banias",
                                           "athlon", "opteron", "barcelona", "bobcat", "unknown"};
        const char *name = openblas_get_corename();

        openblas_set_num_threads(1); /* our pool splits the rows */
        blas_good = name != NULL;
        for (size_t i = 0; name && i < sizeof(slow) / sizeof(slow[0]); i++)
                if (!strcasecmp(name, slow[i]))
                        blas_good = 0;
}

static int blas_usable(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        pthread_once(&once, blas_once);
        return blas_good;
}
#endif

static int float_type(int type)
{
        return type == MU_TYPE_F32 || type == MU_TYPE_F16 || type == MU_TYPE_BF16;
}

/* ---- driver -------------------------------------------------------------- */

static int off = -1; /* MULLAMA_GEMM=0: off, for A/B measurements */

void gemm_enable(int on)
{
        off = !on;
}

/* Which gemm the environment allows: 0 off, 1 avx2 only, 2 up to avx512
 * (VNNI, no amx), 3 any (amx where usable). */
static int env_mode(void)
{
        const char *g = getenv("MULLAMA_GEMM"), *c = getenv("MULLAMA_CPU");

        if (g && !strcmp(g, "0"))
                return 0;
        if (g && !strcmp(g, "avx2"))
                return 1;
        if (g && !strcmp(g, "avx512"))
                return 2;
        if (c && !strcmp(c, "avx2"))
                return 1;
        if (c && !strcmp(c, "avx512"))
                return 2;
        return 3;
}

const struct gemm_isa *gemm_isa_get(void)
{
        const struct cpu_kernels *k = cpu_kernels_get();
        static int mode = -1;

        if (off < 0)
                off = env_mode() == 0;
        if (mode < 0)
                mode = env_mode();
        if (off || !k->name || !strcmp(k->name, "scalar"))
                return NULL;
        /* the avx512 table means AVX512 F/BW/VL/DQ/VNNI by cpuid (cpu.c) */
        int t512 = !strcmp(k->name, "avx512");
        if (mode == 3 && gemm_isa_amx.name && t512 && gemm_amx_usable())
                return &gemm_isa_amx;
        if (mode >= 2 && gemm_isa_avx512.name && t512)
                return &gemm_isa_avx512;
        if (gemm_isa_avx2.name)
                return &gemm_isa_avx2;
        return NULL;
}

struct gemm_job {
        struct mu_pool *pool;
        const struct gemm_isa *isa;
        int type;
        const char *w;
        size_t wrow;
        const float *x;
        float *y;
        int64_t K, ne1;
        int n_tok;
        int n_pad;            /* n_tok rounded up to the ISA's nt_max */
        struct gemm_act act;
        char *panels;
        size_t panel_bytes;
        char *vrows;          /* per thread: one activation row in vec_dot_type */
        size_t vrow_bytes;
        int nw;               /* int8 path: weights sharing x (same type and K) */
        const char *wv[GEMM_MAXW];
        float *yv[GEMM_MAXW];
        int64_t ne1v[GEMM_MAXW];
        int64_t pb[GEMM_MAXW + 1]; /* first panel of each weight in the job's count */
        int64_t ib[GEMM_MAXW + 1]; /* first work item (GEMM_NP panels) of each weight */
        _Atomic int64_t next;      /* next work item */
};

#ifdef MU_HAVE_BLAS
static void blas_task(void *arg, int ith, int nth)
{
        struct gemm_job *j = arg;
        int64_t nb = (j->ne1 + BLAS_ROWS - 1) / BLAS_ROWS;
        int64_t b0 = nb * ith / nth, b1 = nb * (ith + 1) / nth;
        float *tile = (float *)(j->panels + (size_t)ith * j->panel_bytes);

        for (int64_t b = b0; b < b1; b++) {
                int64_t r0 = b * BLAS_ROWS;
                int rows = (int)(j->ne1 - r0 < BLAS_ROWS ? j->ne1 - r0 : BLAS_ROWS);
                const float *wt = tile;
                if (j->type == MU_TYPE_F32 && !((uintptr_t)j->w & 3))
                        wt = (const float *)(j->w + (size_t)r0 * j->wrow);
                else
                        for (int r = 0; r < rows; r++)
                                quant_dequantize_row(j->type, j->w + (size_t)(r0 + r) * j->wrow,
                                                     tile + (size_t)r * j->K, j->K);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n_tok, rows, (int)j->K, 1.0f, j->x,
                            (int)j->K, wt, (int)j->K, 0.0f, j->y + r0, (int)j->ne1);
        }
}
#endif

/* Quantize token rows [t0, t1) of x (rows from n_tok on: zeros) exactly as
 * the vec_dot path does (the weight type's vec_dot_type: Q8_0, Q8_1 or Q8_K,
 * with the selected table's from_float), then spread the blocks into
 * gemm_act's layout.  A token thus
 * gets the same int8 codes and scales whether it comes in a prompt batch or
 * alone during decoding, and the two paths differ only in float summation
 * order (as in llama.cpp), not by a second rounding of the activations. */
static void quant_act_vdt(int wtype, const float *x, int n_tok, struct gemm_act *a, int t0, int t1,
                         void *row)
{
        const struct cpu_kernels *k = cpu_kernels_get();
        int vdt = k->q[wtype].vec_dot_type;
        int64_t K = a->K;
        int gs = a->gs;

        for (int t = t0; t < t1; t++) {
                const float *xt = x + (size_t)t * K;
                int8_t *q = a->q + (size_t)t * K;
                float *d = a->d + (size_t)t * (K / 32), *s = a->s + (size_t)t * (K / gs);
                if (t >= n_tok) { /* padding up to the ISA's token block */
                        memset(q, 0, (size_t)K);
                        memset(d, 0, sizeof(float) * (size_t)(K / 32));
                        memset(s, 0, sizeof(float) * (size_t)(K / gs));
                        continue;
                }
                k->q[vdt].from_float(xt, row, K);
                if (vdt == MU_TYPE_Q8_K) {
                        const struct block_q8_k *b = row;
                        for (int64_t c = 0; c < K / QK_K; c++) {
                                memcpy(q + c * QK_K, b[c].qs, QK_K);
                                for (int i = 0; i < QK_K / 32; i++)
                                        d[c * (QK_K / 32) + i] = b[c].d;
                        }
                } else if (vdt == MU_TYPE_Q8_1) {
                        const struct block_q8_1 *b = row;
                        for (int64_t c = 0; c < K / 32; c++) {
                                memcpy(q + c * 32, b[c].qs, 32);
                                d[c] = mu_fp16_to_fp32(b[c].d);
                        }
                } else {
                        const struct block_q8_0 *b = row;
                        for (int64_t c = 0; c < K / 32; c++) {
                                memcpy(q + c * 32, b[c].qs, 32);
                                d[c] = mu_fp16_to_fp32(b[c].d);
                        }
                }
                if (vdt == MU_TYPE_Q8_1 && gs == 32) {  /* vec_dot reads the stored sum */
                        const struct block_q8_1 *b = row;
                        for (int64_t c = 0; c < K / 32; c++)
                                s[c] = mu_fp16_to_fp32(b[c].s);
                        continue;
                }
                for (int64_t g = 0; g < K / gs; g++) {
                        int sum = 0;
                        for (int i = 0; i < gs; i++)
                                sum += q[g * gs + i];
                        s[g] = (float)sum * d[g * gs / 32];
                }
        }
}

/* Panels packed together: each token block of activations (nt_max tokens x
 * K bytes) is read once per GEMM_NP panels while it is in L2. */
#define GEMM_NP 4

static void gemm_task(void *arg, int ith, int nth)
{
        struct gemm_job *j = arg;
        int t0 = (int)((int64_t)j->n_tok * ith / nth), t1 = (int)((int64_t)j->n_tok * (ith + 1) / nth);
        int tb = j->isa->nt_max;
        struct gemm_panel p[GEMM_NP];

        if (ith == nth - 1)
                t1 = j->n_pad; /* the last thread zeroes the padding tokens */
        quant_act_vdt(j->type, j->x, j->n_tok, &j->act, t0, t1, j->vrows + (size_t)ith * j->vrow_bytes);
        if (j->act.dt) { /* scales with tokens contiguous, for the amx kernel */
                int64_t nd = j->K / 32, ns = j->K / j->act.gs;
                /* amx: Q8_K activations (gemm_run), code sums */
                int raw = gemm_type_info(j->type)->blk == 256 && j->isa->want_t == 1;
                for (int t = t0; t < t1; t++) {
                        for (int64_t g = 0; g < nd; g++)
                                j->act.dt[g * j->act.ldt + t] = j->act.d[t * nd + g];
                        for (int64_t g = 0; g < ns; g++) {
                                float v = j->act.s[t * ns + g];
                                if (raw) { /* code sum of the group */
                                        const int8_t *q = j->act.q + (size_t)t * (size_t)j->K + g * j->act.gs;
                                        int sum = 0;
                                        for (int i = 0; i < j->act.gs; i++)
                                                sum += q[i];
                                        v = (float)sum;
                                }
                                j->act.st[g * j->act.ldt + t] = v;
                        }
                        for (int64_t g = 0; j->act.ot && g < nd; g++) {
                                const int8_t *q = j->act.q + (size_t)t * (size_t)j->K + g * 32;
                                int sum = 0;
                                for (int i = 0; i < 32; i++)
                                        sum += q[i];
                                j->act.ot[g * j->act.ldt + t] = -128 * sum;
                        }
                }
        }
        if (nth > 1)
                mu_pool_barrier(j->pool);
        for (int i = 0; i < GEMM_NP; i++)
                gemm_panel_init(&p[i], j->panels + ((size_t)ith * GEMM_NP + (size_t)i) * j->panel_bytes, j->K,
                                j->act.gs);
        if (j->isa->begin)
                j->isa->begin(j->type);
        /* work items of GEMM_NP panels from a shared counter: a thread the OS
         * delays (the box may be shared) does not hold the other back */
        for (;;) {
                int64_t k = atomic_fetch_add(&j->next, 1);
                if (k >= j->ib[j->nw])
                        break;
                int wi = 0;
                while (k >= j->ib[wi + 1])
                        wi++;
                int64_t ne1 = j->ne1v[wi], npw = j->pb[wi + 1] - j->pb[wi];
                int64_t sb = (k - j->ib[wi]) * GEMM_NP;
                int np = (int)(npw - sb < GEMM_NP ? npw - sb : GEMM_NP);
                int nr[GEMM_NP];
                for (int i = 0; i < np; i++) {
                        int64_t r0 = (sb + i) * GEMM_MR;
                        nr[i] = (int)(ne1 - r0 < GEMM_MR ? ne1 - r0 : GEMM_MR);
                        j->isa->pack(j->type, j->wv[wi] + (size_t)r0 * j->wrow, j->wrow, nr[i], j->K, &p[i]);
                }
                for (int t = 0; t < j->n_tok; t += tb) {
                        int nt = j->n_tok - t < tb ? j->n_tok - t : tb;
                        for (int i = 0; i < np; i++)
                                j->isa->kernel(j->type, &p[i], &j->act, t, nt,
                                               j->yv[wi] + (size_t)t * ne1 + (size_t)(sb + i) * GEMM_MR,
                                               (size_t)ne1, nr[i]);
                }
        }
        if (j->isa->end)
                j->isa->end();
}

int gemm_run_multi(const struct gemm_isa *isa, struct mu_pool *pool, struct matmul_ws *ws, int nw,
                   const struct mu_tensor *const *wl, const float *x, int n_tok, float *const *yl)
{
        const struct mu_tensor *w = wl[0];
        const struct gemm_type *ti = gemm_type_info(w->type);
        float *y = yl[0];
        struct gemm_job j;
        int nth = pool ? mu_pool_size(pool) : 1;

        if (nw < 1 || nw > GEMM_MAXW)
                return 0;
        for (int i = 1; i < nw; i++)
                if (wl[i]->type != w->type || wl[i]->ne[0] != w->ne[0] || wl[i]->ne[1] <= 0)
                        return 0;

        if (!isa)
                isa = gemm_isa_get();
#ifdef MU_HAVE_BLAS
        if (isa && nw == 1 && float_type(w->type) && n_tok > 0 && w->ne[1] > 0 && w->ne[0] <= INT32_MAX &&
            blas_usable()) {
                memset(&j, 0, sizeof(j));
                j.type = w->type;
                j.w = w->data;
                j.K = w->ne[0];
                j.ne1 = w->ne[1];
                j.wrow = mu_row_size(w->type, j.K);
                j.x = x;
                j.y = y;
                j.n_tok = n_tok;
                j.panel_bytes = ALIGN64((size_t)BLAS_ROWS * (size_t)j.K * sizeof(float));
                j.panels = matmul_ws_reserve(ws, (size_t)nth * j.panel_bytes);
                if (nth <= 1)
                        blas_task(&j, 0, 1);
                else
                        mu_pool_run(pool, blas_task, &j);
                return 1;
        }
#endif
        (void)float_type;
        if (!isa || !ti || n_tok <= 0 || w->ne[0] % ti->blk != 0 || w->ne[1] <= 0)
                return 0;
        /* the amx k-quant kernels factor out the one activation scale per 256 */
        if (isa->want_t == 1 && ti->blk == 256 && cpu_kernels_get()->q[w->type].vec_dot_type != MU_TYPE_Q8_K)
                return 0;
        memset(&j, 0, sizeof(j));
        j.pool = pool;
        j.isa = isa;
        j.type = w->type;
        j.w = w->data;
        j.K = w->ne[0];
        j.ne1 = w->ne[1];
        j.wrow = mu_row_size(w->type, j.K);
        j.x = x;
        j.y = y;
        j.n_tok = n_tok;
        j.nw = nw;
        for (int i = 0; i < nw; i++) {
                j.wv[i] = wl[i]->data;
                j.yv[i] = yl[i];
                j.ne1v[i] = wl[i]->ne[1];
                j.pb[i + 1] = j.pb[i] + (wl[i]->ne[1] + GEMM_MR - 1) / GEMM_MR;
                j.ib[i + 1] = j.ib[i] + (j.pb[i + 1] - j.pb[i] + GEMM_NP - 1) / GEMM_NP;
        }
        j.act.K = j.K;
        j.act.gs = ti->gs;
        j.n_pad = (n_tok + isa->nt_max - 1) / isa->nt_max * isa->nt_max;
        j.panel_bytes = gemm_panel_bytes(j.K, ti->gs);

        size_t qb = ALIGN64((size_t)j.n_pad * (size_t)j.K);
        size_t db = ALIGN64((size_t)j.n_pad * (size_t)(j.K / 32) * sizeof(float));
        size_t sb = ALIGN64((size_t)j.n_pad * (size_t)(j.K / ti->gs) * sizeof(float));
        /* every gemm type's vec_dot_type is Q8_0, Q8_1 or Q8_K (quant_act_vdt) */
        size_t vb = ALIGN64(mu_row_size(cpu_kernels_get()->q[w->type].vec_dot_type, j.K));
        size_t ob = isa->want_t == 2 && w->type == MU_TYPE_Q8_0 ? db : 0;
        size_t tb = isa->want_t ? db + sb + ob : 0;
        char *buf = matmul_ws_reserve(ws, qb + db + sb + tb + (size_t)nth * (GEMM_NP * j.panel_bytes + vb));
        j.act.q = (int8_t *)buf;
        j.act.d = (float *)(buf + qb);
        j.act.s = (float *)(buf + qb + db);
        if (isa->want_t) {
                j.act.dt = (float *)(buf + qb + db + sb);
                j.act.st = (float *)(buf + qb + 2 * db + sb);
                if (ob)
                        j.act.ot = (int32_t *)(buf + qb + 2 * db + 2 * sb);
                j.act.ldt = j.n_pad;
        }
        j.panels = buf + qb + db + sb + tb;
        j.vrows = j.panels + (size_t)nth * GEMM_NP * j.panel_bytes;
        j.vrow_bytes = vb;
        if (nth <= 1) {
                j.pool = NULL;
                gemm_task(&j, 0, 1);
        } else {
                mu_pool_run(pool, gemm_task, &j);
        }
        return 1;
}

int gemm_run(const struct gemm_isa *isa, struct mu_pool *pool, struct matmul_ws *ws,
             const struct mu_tensor *w, const float *x, int n_tok, float *y)
{
        return gemm_run_multi(isa, pool, ws, 1, &w, x, n_tok, &y);
}
