/* bench_gemm.c -- prompt-processing matmul per weight type and shape:
 * the int8 gemm (src/kernels/gemm.h: amx, avx512 VNNI where the CPU has them, avx2) vs OpenBLAS sgemm on dequantized
 * weights (dequantize BLAS_ROWS rows to f32, then sgemm, as matmul.c's BLAS
 * path does) vs matmul()'s vec_dot path.  GOP/s = 2*K*N*T / time, best of
 * REPS, in CPU time of one thread (the dev box is shared; the threads split rows: the per-thread rate is what
 * decides).  These numbers pick the path (see matmul.c's comment).
 *
 * Build (after `make`, from the repository root):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -DMU_HAVE_BLAS=1 -o build/bench_gemm \
 *      bench/bench_gemm.c build/src/kernels/[a-z]*.o build/src/base/pool.o \
 *      build/src/base/err.o build/src/base/buf.o build/src/types.o \
 *      $(pkg-config --libs openblas) -lm -pthread
 * Run: build/bench_gemm [-r REPS] [-T TOKENS] [TYPE...]   (default Q4_0 Q4_K Q6_K Q8_0) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/gemm.h"
#include "mullama/kernels.h"
#include "mullama/types.h"

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the box is shared */
        return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define BLAS_ROWS 64

static void blas_path(const struct mu_tensor *w, const float *x, int T, float *y, float *tile)
{
        int64_t K = w->ne[0], N = w->ne[1];
        size_t wrow = mu_row_size(w->type, K);
        for (int64_t rb = 0; rb < N; rb += BLAS_ROWS) {
                int rows = (int)(rb + BLAS_ROWS < N ? BLAS_ROWS : N - rb);
                for (int r = 0; r < rows; r++)
                        quant_dequantize_row(w->type, (const char *)w->data + (size_t)(rb + r) * wrow,
                                             tile + (size_t)r * K, K);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, rows, (int)K, 1.0f, x, (int)K, tile,
                            (int)K, 0.0f, y + rb, (int)N);
        }
}

int main(int argc, char **argv)
{
        int reps = 3, T = 128, ntypes = 0;
        int types[16];
        const int shapes[][2] = {{2048, 2048}, {2048, 256}, {2048, 5632}, {5632, 2048}};

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "-r") && i + 1 < argc)
                        reps = atoi(argv[++i]);
                else if (!strcmp(argv[i], "-T") && i + 1 < argc)
                        T = atoi(argv[++i]);
                else
                        for (int t = 0; t < MU_TYPE_COUNT; t++)
                                if (!strcmp(mu_type_name(t), argv[i]) && ntypes < 16)
                                        types[ntypes++] = t;
        }
        if (!ntypes) {
                types[0] = MU_TYPE_Q4_0, types[1] = MU_TYPE_Q4_K, types[2] = MU_TYPE_Q6_K;
                types[3] = MU_TYPE_Q8_0;
                ntypes = 4;
        }
        openblas_set_num_threads(1);
        printf("| type | K x N | T | amx gemm GOP/s | avx512 (VNNI) gemm GOP/s | avx2 int8 gemm GOP/s | BLAS (dequant+sgemm) GOP/s | vec_dot path GOP/s |\n");
        printf("|---|---|---|---|---|---|---|---|\n");
        struct matmul_ws *ws = matmul_ws_create();
        for (int ti = 0; ti < ntypes; ti++) {
                int type = types[ti];
                for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
                        int64_t K = shapes[s][0], N = shapes[s][1];
                        size_t wrow = mu_row_size(type, K);
                        char *wq = malloc(wrow * (size_t)N);
                        float *row = malloc(sizeof(float) * (size_t)K);
                        float *x = malloc(sizeof(float) * (size_t)(K * T));
                        float *y = malloc(sizeof(float) * (size_t)(N * T));
                        float *tile = malloc(sizeof(float) * (size_t)(K * BLAS_ROWS));
                        for (int64_t r = 0; r < N; r++) {
                                for (int64_t k = 0; k < K; k++)
                                        row[k] = (float)((r * 31 + k * 17) % 101 - 50) / 50.0f;
                                quant_quantize_row(type, row, wq + (size_t)r * wrow, K);
                        }
                        for (int64_t i = 0; i < K * T; i++)
                                x[i] = (float)(i % 37 - 18) / 18.0f;
                        struct mu_tensor w = {.name = "w", .type = type, .n_dims = 2, .ne = {K, N, 1, 1},
                                              .data = wq, .size = wrow * (size_t)N};
                        double best[3] = {1e9, 1e9, 1e9}, bamx = 1e9, bvnni = 1e9;
                        const struct cpu_kernels *ck = cpu_kernels_get();
                        int vnni = gemm_isa_avx512.name && ck->name && !strcmp(ck->name, "avx512");
                        for (int r = 0; r < reps; r++) {
                                double ta = now();
                                int okx = gemm_amx_usable() && gemm_run(&gemm_isa_amx, NULL, ws, &w, x, T, y);
                                double t0 = now();
                                if (okx)
                                        bamx = bamx < t0 - ta ? bamx : t0 - ta;
                                double tv = now();
                                if (vnni && gemm_run(&gemm_isa_avx512, NULL, ws, &w, x, T, y))
                                        bvnni = bvnni < now() - tv ? bvnni : now() - tv;
                                t0 = now();
                                int ok = gemm_run(&gemm_isa_avx2, NULL, ws, &w, x, T, y);
                                double t1 = now();
                                blas_path(&w, x, T, y, tile);
                                double t2 = now();
                                /* vec_dot path: batches of 4 below the gemm threshold */
                                for (int t = 0; t < T; t += 4)
                                        matmul(NULL, ws, &w, x + (size_t)t * K, T - t < 4 ? T - t : 4, y);
                                double t3 = now();
                                if (ok) /* else no int8 gemm for the type */
                                        best[0] = best[0] < t1 - t0 ? best[0] : t1 - t0;
                                best[1] = best[1] < t2 - t1 ? best[1] : t2 - t1;
                                best[2] = best[2] < t3 - t2 ? best[2] : t3 - t2;
                        }
                        double ops = 2.0 * (double)K * (double)N * T / 1e9;
                        printf("| %s | %ldx%ld | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", mu_type_name(type), (long)K, (long)N,
                               T, bamx < 1e8 ? ops / bamx : 0.0, bvnni < 1e8 ? ops / bvnni : 0.0, best[0] < 1e8 ? ops / best[0] : 0.0, ops / best[1], ops / best[2]);
                        fflush(stdout);
                        free(wq), free(row), free(x), free(y), free(tile);
                }
        }
        matmul_ws_free(ws);
        return 0;
}
