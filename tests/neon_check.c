/* neon_check.c -- the NEON kernel table against the scalar reference.
 *
 * Built for aarch64 by `make neon-check` (cross compiler) and run under
 * qemu-aarch64 on x86 hosts, or natively on an ARM machine; see
 * tests/cli/neon.sh.  Standalone: links only the kernel files, so it needs no
 * aarch64 builds of the libraries the full binary uses.
 *
 * For every type the engine runs: random weights quantized by the scalar
 * quantizer, random activations quantized to the type's vec_dot_type, then
 * the selected table's vec_dot against the scalar one.  Their float
 * summation orders differ, so they must agree within 1e-5 of the sum of
 * |products| (the integer block sums are exact in both).  Prints PASS/FAIL
 * lines; exits 1 on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/kernels.h"
#include "mullama/types.h"

static unsigned long long rng = 88172645463325252ull;

static float frand(void) /* roughly normal, mean 0 */
{
        float s = 0;
        for (int i = 0; i < 4; i++) {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                s += (float)(rng >> 40) / (float)(1 << 24) - 0.5f;
        }
        return s;
}

int main(void)
{
        const int n = 4096;
        const struct cpu_kernels *k = cpu_kernels_get(), *ref = &cpu_kernels_scalar;
        int failed = 0, checked = 0;
        float *w = malloc(n * sizeof(float)), *x = malloc(n * sizeof(float));
        float *wd = malloc(n * sizeof(float)), *xd = malloc(n * sizeof(float));
        void *wq = malloc(mu_row_size(MU_TYPE_F32, n)), *xq = malloc(mu_row_size(MU_TYPE_F32, n));

        if (strcmp(k->name, "neon")) {
                printf("FAIL neon: the selected table is '%s', not neon\n", k->name);
                return 1;
        }
        printf("PASS neon: table selected on aarch64\n");
        for (int t = 0; t < MU_TYPE_COUNT; t++) {
                const struct quant_fns *r = &ref->q[t];
                if (!quant_supported(t) || t == MU_TYPE_Q8_1 || t == MU_TYPE_Q8_K)
                        continue;
                int vt = r->vec_dot_type, failed_before = failed;
                for (int rep = 0; rep < 8; rep++) {
                        double mag = 0;
                        float got, want;
                        for (int i = 0; i < n; i++) {
                                w[i] = frand() * (rep & 1 ? 0.02f : 1.5f);
                                x[i] = frand() * (rep & 2 ? 4.0f : 0.3f);
                        }
                        r->from_float(w, wq, n);
                        ref->q[vt].from_float(x, xq, n);
                        r->to_float(wq, wd, n);
                        ref->q[vt].to_float(xq, xd, n);
                        for (int i = 0; i < n; i++)
                                mag += fabs((double)wd[i] * xd[i]);
                        k->q[t].vec_dot(n, &got, wq, xq);
                        r->vec_dot(n, &want, wq, xq);
                        checked++;
                        if (!(fabs((double)got - want) <= 1e-5 * mag + 1e-6)) {
                                printf("FAIL neon: %s vec_dot rep %d: %.9g vs scalar %.9g (|x||y| %.3g)\n",
                                       mu_type_name(t), rep, got, want, mag);
                                failed++;
                        }
                }
                if (k->q[t].vec_dot != r->vec_dot)
                        printf("%s neon: %s vec_dot (NEON) equals the scalar within 1e-5\n",
                               failed > failed_before ? "FAIL" : "PASS", mu_type_name(t));
        }
        printf("neon: %d dot products checked, %d failed\n", checked, failed);
        free(w), free(x), free(wd), free(xd), free(wq), free(xq);
        return failed ? 1 : 0;
}
