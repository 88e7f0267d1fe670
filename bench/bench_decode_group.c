/* bench_decode_group.c -- decode throughput of N sessions stepped one at a
 * time (session_eval, one token each) against one batched pass per step
 * (decode_group_eval_multi), same threads, A/B interleaved.
 *
 * Build (after make):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -pthread -o build/bench_decode_group \
 *      bench/bench_decode_group.c $(find build/src -name '[a-z]*.o' ! -name main.o) \
 *      $(pkg-config --libs libcrypto libpcre2-8 libcjson libcurl libarchive readline \
 *        libmicrohttpd zlib openblas vulkan) -lm
 * Run: build/bench_decode_group MODEL.gguf [N=4] [THREADS=2] [STEPS=32] [REPS=3] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/model.h"
#include "mullama/mullama.h"

int main(int argc, char **argv)
{
        struct mu_err err = {0};
        struct model *m = NULL;
        struct model_params mp = model_default_params();
        int n = argc > 2 ? atoi(argv[2]) : 4, nth = argc > 3 ? atoi(argv[3]) : 2;
        int steps = argc > 4 ? atoi(argv[4]) : 32, reps = argc > 5 ? atoi(argv[5]) : 3;

        if (argc < 2 || n < 1 || n > 64) {
                fprintf(stderr, "usage: %s MODEL.gguf [N] [THREADS] [STEPS] [REPS]\n", argv[0]);
                return 2;
        }
        mp.n_gpu_layers = 0;
        if (model_load(&m, argv[1], &mp, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        struct session_params sp = session_default_params();
        sp.n_ctx = 64 + steps * reps * 2 + 8;
        sp.n_threads = nth;
        struct session *ss[64];
        struct decode_group *g = NULL;
        int32_t toks[64];
        for (int i = 0; i < n; i++) {
                int32_t p[4] = {1, 100 + i, 200 + i, 300 + i};
                if (session_create(&ss[i], m, &sp, &err) || session_eval(ss[i], p, 4, &err)) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
                toks[i] = 400 + i;
        }
        if (decode_group_create(&g, m, n, nth, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        double alone = 0, batched = 0;
        for (int r = 0; r < reps; r++) {
                int64_t t0 = mu_time_ns();
                for (int k = 0; k < steps; k++)
                        for (int i = 0; i < n; i++)
                                session_eval(ss[i], &toks[i], 1, &err);
                int64_t t1 = mu_time_ns();
                for (int k = 0; k < steps; k++)
                        decode_group_eval_multi(g, ss, toks, n, NULL, NULL);
                int64_t t2 = mu_time_ns();
                double a = n * steps / ((t1 - t0) / 1e9), b = n * steps / ((t2 - t1) / 1e9);
                printf("rep %d: one at a time %.1f tok/s, batched %.1f tok/s (%.2fx)\n", r, a, b,
                       b / a);
                alone += a;
                batched += b;
        }
        printf("%s: %d sequences, %d threads: one at a time %.1f tok/s, batched %.1f tok/s "
               "(%.2fx)\n", argv[1], n, nth, alone / reps, batched / reps, batched / alone);
        for (int i = 0; i < n; i++)
                session_free(ss[i]);
        decode_group_free(g);
        model_free(m);
        return 0;
}
