/* cpu.c -- CPU feature detection and kernel table selection.
 *
 * Three tables exist on x86-64: scalar (quant.c), avx2 (cpu_avx2.c: AVX2 +
 * FMA + F16C) and avx512 (cpu_avx512.c: F/BW/VL/DQ + VNNI); on AArch64 two:
 * scalar and neon (cpu_neon.c, ARMv8.0 Advanced SIMD, always present).  The SIMD tables
 * are completed once (avx512 gaps from avx2, avx2 gaps from scalar), then the
 * best one this CPU runs is chosen; MULLAMA_CPU=scalar|avx2|avx512 asks for a
 * specific one (an unusable request is ignored with a warning); amx is the
 * avx512 table with the AMX prompt gemm (gemm.c reads the variable too).  The choice
 * is made once under pthread_once; cpu_kernels_force() is for tests and
 * benchmarks, called before worker threads use the table. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"
#include "mullama/mullama.h"

static struct cpu_kernels tbl_avx2, tbl_avx512, tbl_neon;
static const struct cpu_kernels *selected;
static void set_backends(void);
static const char *avail[4];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cpu_has_avx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
#else
        return 0;
#endif
}

static int cpu_has_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
        return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
#else
        return 0;
#endif
}

/* Fill dst's NULL entries from src (vec_dot_type always from scalar). */
static void fill_from(struct cpu_kernels *dst, const struct cpu_kernels *src)
{
        for (int t = 0; t < MU_TYPE_COUNT; t++) {
                if (!dst->q[t].to_float)
                        dst->q[t].to_float = src->q[t].to_float;
                if (!dst->q[t].from_float)
                        dst->q[t].from_float = src->q[t].from_float;
                if (!dst->q[t].vec_dot)
                        dst->q[t].vec_dot = src->q[t].vec_dot;
                /* not the scalar 4-token kernels (they follow llama.cpp's
                 * summation order, not speed): a SIMD table without one
                 * loops its own vec_dot */
                if (!dst->q[t].vec_dot4 && src != &cpu_kernels_scalar)
                        dst->q[t].vec_dot4 = src->q[t].vec_dot4;
                if (!dst->q[t].gemv)
                        dst->q[t].gemv = src->q[t].gemv;
                if (!dst->q[t].mm && src != &cpu_kernels_scalar)
                        dst->q[t].mm = src->q[t].mm;
        }
        quant_fill_missing(dst);
}

static const struct cpu_kernels *by_name(const char *name)
{
        if (!strcmp(name, "amx")) /* the avx512 table; the gemm takes AMX (gemm.c) */
                name = "avx512";
        for (int i = 0; avail[i]; i++) {
                if (strcmp(avail[i], name))
                        continue;
                if (!strcmp(name, "avx512"))
                        return &tbl_avx512;
                if (!strcmp(name, "avx2"))
                        return &tbl_avx2;
                if (!strcmp(name, "neon"))
                        return &tbl_neon;
                return &cpu_kernels_scalar;
        }
        return NULL;
}

static void init(void)
{
        int n = 0;

        avail[n++] = "scalar";
        selected = &cpu_kernels_scalar;
        if (cpu_kernels_avx2_raw.name && cpu_has_avx2()) {
                tbl_avx2 = cpu_kernels_avx2_raw;
                fill_from(&tbl_avx2, &cpu_kernels_scalar);
                avail[n++] = "avx2";
                selected = &tbl_avx2;
                if (cpu_kernels_avx512_raw.name && cpu_has_avx512()) {
                        tbl_avx512 = cpu_kernels_avx512_raw;
                        fill_from(&tbl_avx512, &tbl_avx2);
                        avail[n++] = "avx512";
                        selected = &tbl_avx512;
                }
        }
        if (cpu_kernels_neon_raw.name) { /* built only for aarch64 */
                tbl_neon = cpu_kernels_neon_raw;
                fill_from(&tbl_neon, &cpu_kernels_scalar);
                avail[n++] = "neon";
                selected = &tbl_neon;
        }
        avail[n] = NULL;

        const char *env = getenv("MULLAMA_CPU");
        if (env && *env) {
                const struct cpu_kernels *k = by_name(env);
                if (k)
                        selected = k;
                else
                        MU_LOG_WARN("MULLAMA_CPU '%s' is not available here, using '%s'", env,
                                    selected->name);
        }
        set_backends();
}

const struct cpu_kernels *cpu_kernels_get(void)
{
        pthread_once(&once, init);
        return selected;
}

int cpu_kernels_force(const char *name)
{
        const struct cpu_kernels *k;

        pthread_once(&once, init);
        k = by_name(name);
        if (!k)
                return -1;
        selected = k;
        set_backends();
        return 0;
}

const char *const *cpu_kernels_available(void)
{
        pthread_once(&once, init);
        return avail;
}

/* Written under the once (and by force, before threads use it). */
static char backends[64];

static void set_backends(void)
{
        snprintf(backends, sizeof(backends), "cpu(%s)%s", selected->name,
#ifdef MU_HAVE_BLAS
                 " blas"
#else
                 ""
#endif
        );
}

const char *mu_backends(void)
{
        pthread_once(&once, init);
        return backends;
}
