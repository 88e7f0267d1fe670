/* bench_kernels.c -- speed of the CPU kernels, per type and ISA table.
 *
 *   gen   matmul(n_tok = 1) over a weight matrix much bigger than the caches
 *         (default 512 MiB of weight bytes): GB/s of weights streamed.  This
 *         is token generation, bound by memory bandwidth.
 *   pp    matmul(n_tok = 128) on a 4096 x 4096 matrix: GOP/s (2 ops per
 *         multiply-add).  This is prompt processing, bound by compute.
 *
 * Build (after `make`, from the repository root):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -DMU_HAVE_BLAS=1 -o build/bench_kernels \
 *      bench/bench_kernels.c build/src/kernels/[a-z]*.o build/src/base/pool.o \
 *      build/src/base/err.o build/src/base/buf.o build/src/types.o -lopenblas -lm -pthread
 * Run:
 *   build/bench_kernels [-t THREADS] [-m MIB] [-r REPS] [-g] [TYPE...]   (default: all types)
 *   BK_NE0=640 build/bench_kernels ...   rows of 640 elements instead of 4096
 * Output: one line per (type, table, threads): gen GB/s, read GB/s (the same
 * weight bytes loaded and xor-ed by the same threads, no arithmetic, each
 * thread one stream prefetched RD_PF bytes ahead: about the most gen could
 * reach on this buffer; measured interleaved with gen), dot
 * GB/s (one thread, one vec_dot per row: the kernel gen used before gemv)
 * and pp GOP/s (-g: gen only), best of REPS.
 *
 * Measured on the dev VM (2 vCPUs, AVX-512 VNNI, shared with other jobs:
 * noisy) with -i avx512 -t 1 -m 16 (weights in L3, compute bound):
 *   Q4_0 gen 8.8 GB/s pp 41-47; Q8_0 20 / 42-50; Q4_K 10.8 / 31-44;
 *   Q5_K 9.8 / 32; Q6_K 16-18 / 42-85; Q4_1 7.6 / 32; F32 30 (gen).
 * With -t 2 -m 256 at load ~1: avx2 Q4_0 11.7 / 57, Q4_K 11.2 / 52,
 * Q6_K 13.2 / 51, Q8_0 15.1 / 43.  llama.cpp on the same box (anchors):
 * Q4_0 tinyllama 2 threads ~35 GB/s tg, ~600 GOP/s pp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mullama/kernels.h"
#include "mullama/pool.h"
#include "mullama/types.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t rng = 1;

static float frand(void)
{
        rng = rng * 1664525u + 1013904223u;
        return ((float)(rng >> 8) / 16777216.0f - 0.5f) * 0.1f;
}

/* A ne0 x ne1 matrix of type t: 64 distinct quantized rows, repeated. */
static void *make_matrix(int t, int ne0, int64_t ne1)
{
        size_t rs = mu_row_size(t, ne0), sz = rs * (size_t)ne1;
        /* 2 MiB-aligned and advised MADV_HUGEPAGE, as the model's mmap
         * (fs.c): the TLB then costs what it costs in the engine */
        char *w = aligned_alloc((size_t)2 << 20, (sz + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1));
        if (!w) {
                perror("bench_kernels");
                exit(1);
        }
        (void)madvise(w, sz, MADV_HUGEPAGE);
        float *row = malloc((size_t)ne0 * sizeof(float));

        for (int64_t r = 0; r < ne1; r++) {
                if (r < 64) {
                        for (int c = 0; c < ne0; c++)
                                row[c] = frand();
                        quant_quantize_row(t, row, w + r * rs, ne0);
                } else {
                        memcpy(w + r * rs, w + (r % 64) * rs, rs);
                }
        }
        free(row);
        return w;
}

/* "read": thread ith of nth loads its share of [p, p + n) as 64-bit words
 * (8 independent xor chains: bound by memory, not by the adds), prefetching
 * RD_PF bytes ahead.  On the dev VM (2 threads, 512 MiB, 2 MiB pages) the
 * fastest of 0 / 2 / 8 KiB: 24.5 / 32 / 27 GB/s. */
#ifndef RD_PF
#define RD_PF 2048
#endif
struct rd_job {
        const char *p;
        size_t n;
        uint64_t out[64];
};

static void rd_task(void *arg, int ith, int nth)
{
        struct rd_job *j = arg;
        size_t w = j->n / 8, lo = w * (size_t)ith / (size_t)nth, hi = w * (size_t)(ith + 1) / (size_t)nth;
        const uint64_t *q = (const uint64_t *)j->p;
        uint64_t a[8] = {0};

        lo &= ~(size_t)7;
        hi = ith == nth - 1 ? w : hi & ~(size_t)7;
        for (size_t i = lo; i + 8 <= hi; i += 8) {
                if (RD_PF)
                        __builtin_prefetch(q + i + RD_PF / 8);
                for (int k = 0; k < 8; k++)
                        a[k] ^= q[i + k];
        }
        j->out[ith & 63] = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

int main(int argc, char **argv)
{
        static const int all[] = {MU_TYPE_F32, MU_TYPE_F16, MU_TYPE_BF16, MU_TYPE_Q4_0, MU_TYPE_Q4_1,
                                  MU_TYPE_Q5_0, MU_TYPE_Q5_1, MU_TYPE_Q8_0, MU_TYPE_Q2_K, MU_TYPE_Q3_K,
                                  MU_TYPE_Q4_K, MU_TYPE_Q5_K, MU_TYPE_Q6_K};
        int types[64], n_types = 0, threads = 2, mib = 512, reps = 3, gen_only = 0;
        const char *only_isa = NULL;

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "-t") && i + 1 < argc)
                        threads = atoi(argv[++i]);
                else if (!strcmp(argv[i], "-m") && i + 1 < argc)
                        mib = atoi(argv[++i]);
                else if (!strcmp(argv[i], "-r") && i + 1 < argc)
                        reps = atoi(argv[++i]);
                else if (!strcmp(argv[i], "-g"))
                        gen_only = 1;
                else if (!strcmp(argv[i], "-i") && i + 1 < argc)
                        only_isa = argv[++i];
                else if (mu_type_from_name(argv[i]) >= 0 && n_types < 64)
                        types[n_types++] = mu_type_from_name(argv[i]);
                else {
                        fprintf(stderr, "usage: %s [-t THREADS] [-m MIB] [-r REPS] [-i ISA] [-g] [TYPE...]\n", argv[0]);
                        return 2;
                }
        }
        if (!n_types) {
                memcpy(types, all, sizeof(all));
                n_types = (int)(sizeof(all) / sizeof(all[0]));
        }

        struct mu_pool *pool = mu_pool_create(threads);
        struct matmul_ws *ws = matmul_ws_create();
        const char *const *avail = cpu_kernels_available();
        const int ne0 = getenv("BK_NE0") ? atoi(getenv("BK_NE0")) : 4096, pp_rows = 4096, pp_tok = 128;
        float *x = malloc((size_t)pp_tok * ne0 * sizeof(float));
        float *y = malloc(((size_t)1 << 22) * sizeof(float));

        for (int i = 0; i < pp_tok * ne0; i++)
                x[i] = frand() * 20;
        printf("%-6s %-7s %3s %10s %10s %10s %10s\n", "type", "isa", "thr", "gen GB/s", "read GB/s", "dot GB/s",
               "pp GOP/s");
        for (int ti = 0; ti < n_types; ti++) {
                int t = types[ti];
                size_t rs = mu_row_size(t, ne0);
                int64_t gen_rows = ((int64_t)mib << 20) / (int64_t)rs;
                void *wg = make_matrix(t, ne0, gen_rows);
                void *wp = make_matrix(t, ne0, pp_rows);
                struct mu_tensor tg = {.name = "g", .type = t, .n_dims = 2, .ne = {ne0, gen_rows, 1, 1},
                                       .data = wg, .size = rs * (size_t)gen_rows};
                struct mu_tensor tp = {.name = "p", .type = t, .n_dims = 2, .ne = {ne0, pp_rows, 1, 1},
                                       .data = wp, .size = rs * (size_t)pp_rows};
                for (int a = 0; avail[a]; a++) {
                        if (only_isa && strcmp(only_isa, avail[a]))
                                continue;
                        cpu_kernels_force(avail[a]);
                        double best_g = 1e30, best_p = 1e30, best_d = 1e30, best_r = 1e30;
                        struct rd_job rj = {.p = wg, .n = tg.size};
                        /* "dot": one thread, one vec_dot per row (what gen
                         * did before the gemv kernels), reps interleaved
                         * with gen so load changes hit both alike */
                        const struct quant_fns *qf = &cpu_kernels_get()->q[t];
                        int vt = qf->vec_dot_type;
                        void *xq = vt == MU_TYPE_F32 ? (void *)x : malloc(mu_row_size(vt, ne0));
                        if (vt != MU_TYPE_F32)
                                cpu_kernels_get()->q[vt].from_float(x, xq, ne0);
                        matmul(pool, ws, &tg, x, 1, y); /* warm-up */
                        for (int r = 0; r < reps; r++) {
                                double t0 = now();
                                matmul(pool, ws, &tg, x, 1, y);
                                double t1 = now();
                                best_g = t1 - t0 < best_g ? t1 - t0 : best_g;
                                t0 = now();
                                mu_pool_run(pool, rd_task, &rj);
                                t1 = now();
                                best_r = t1 - t0 < best_r ? t1 - t0 : best_r;
                                t0 = now();
                                for (int64_t row = 0; row < gen_rows; row++)
                                        qf->vec_dot(ne0, &y[row & 4095], (const char *)wg + (size_t)row * rs, xq);
                                t1 = now();
                                best_d = t1 - t0 < best_d ? t1 - t0 : best_d;
                        }
                        if (xq != (void *)x)
                                free(xq);
                        /* scalar pp is slow: one rep */
                        int preps = gen_only ? 0 : strcmp(avail[a], "scalar") ? reps : 1;
                        if (preps)
                                matmul(pool, ws, &tp, x, pp_tok, y);
                        for (int r = 0; r < preps; r++) {
                                double t0 = now();
                                matmul(pool, ws, &tp, x, pp_tok, y);
                                double t1 = now();
                                best_p = t1 - t0 < best_p ? t1 - t0 : best_p;
                        }
                        printf("%-6s %-7s %3d %10.2f %10.2f %10.2f %10.1f\n", mu_type_name(t), avail[a], threads,
                               (double)tg.size / best_g * 1e-9, (double)tg.size / best_r * 1e-9,
                               (double)tg.size / best_d * 1e-9,
                               gen_only ? 0.0 : 2.0 * ne0 * pp_rows * pp_tok / best_p * 1e-9);
                        fflush(stdout);
                }
                free(wg);
                free(wp);
        }
        free(x);
        free(y);
        matmul_ws_free(ws);
        mu_pool_free(pool);
        return 0;
}
