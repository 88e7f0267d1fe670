/* test_ops.c -- the kernel tables' vector versions of the engine's
 * element-wise ops against the scalar references in ops.c, bit for bit
 * (the references follow llama.cpp's roundings; greedy output relies on
 * the vector versions keeping them). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "mullama/kernels.h"
#include "test.h"

static float frand(uint64_t *s)
{
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        return (float)((*s >> 40) & 0xffffff) / (float)(1 << 24);
}

/* SiLU gate: every table's silu_mul against op_silu_mul_ref on values over
 * the whole range that matters (exp underflow and overflow included), in
 * place and not, with lengths that leave a tail. */
TEST(ops_silu_mul_simd_equals_ref)
{
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        static const float scales[] = {0.5f, 4.0f, 30.0f, 100.0f, 300.0f};
        static const float special[] = {0.0f, -0.0f, 87.3f, -87.3f, 88.8f, -88.8f, 100.0f, -100.0f,
                                        133.0f, -133.0f, 200.0f, -200.0f, 1e-30f, -1e-30f, 1e30f, -1e30f};
        const int N = 16 * 40 + 13;
        float *g = malloc(N * sizeof(float)), *u = malloc(N * sizeof(float));
        float *want = malloc(N * sizeof(float)), *got = malloc(N * sizeof(float));
        uint64_t seed = 7;
        int ran = 0;

        for (int a = 0; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                if (!k->silu_mul)
                        continue;
                for (int si = 0; si < 5; si++) {
                        for (int i = 0; i < N; i++) {
                                g[i] = (2.0f * frand(&seed) - 1.0f) * scales[si];
                                u[i] = (2.0f * frand(&seed) - 1.0f) * 3.0f;
                        }
                        memcpy(g, special, sizeof(special));
                        for (int len = N; len >= N - 17; len -= 17) {
                                op_silu_mul_ref(want, g, u, len);
                                k->silu_mul(got, g, u, len);
                                for (int i = 0; i < len; i++)
                                        CHECK_MSG(!memcmp(&got[i], &want[i], 4), "%s len %d g[%d]=%.9g: %.9g vs %.9g",
                                                  avail[a], len, i, g[i], got[i], want[i]);
                                memcpy(got, u, (size_t)len * sizeof(float)); /* in place: y = u */
                                k->silu_mul(got, g, got, len);
                                CHECK(!memcmp(got, want, (size_t)len * sizeof(float)));
                        }
                }
                ran++;
        }
        cpu_kernels_force(orig);
        free(g);
        free(u);
        free(want);
        free(got);
        if (!ran)
                TEST_SKIP("no table with a vector silu_mul runs on this CPU");
}

/* GELU gate: op_gelu_mul under every kernel table (AVX-512 and AVX2 gathers,
 * the scalar reference) against op_gelu_mul_ref bit for bit: every fp16
 * value as g (each table entry), 2^20 float bit patterns spread over all 2^32
 * (NaNs with payloads, infinities, subnormals, the +-10 cut-offs, values that
 * round between fp16 neighbours), in place and not, with tails. */
TEST(ops_gelu_mul_simd_equals_ref)
{
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        static const float special[] = {-10.0f, 10.0f, -9.999999f, 9.999999f, -10.000001f, 10.000001f,
                                        INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, 1e-30f, -1e-30f,
                                        65504.0f, 65520.0f};
        const int N = (1 << 16) + 13;
        float *g = malloc(N * sizeof(float)), *u = malloc(N * sizeof(float));
        float *want = malloc(N * sizeof(float)), *got = malloc(N * sizeof(float));
        uint64_t seed = 5;
        int ran = 0;

        for (int a = 0; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                long bad = 0;
                for (int round = 0; round < 17; round++) {
                        for (int i = 0; i < N; i++) {
                                uint32_t b = round == 0 ? 0 : (uint32_t)(((uint64_t)(round - 1) * N + i) * 4099u);
                                if (round == 0) /* every fp16 value */
                                        g[i] = mu_fp16_to_fp32((uint16_t)i);
                                else
                                        memcpy(&g[i], &b, 4);
                                u[i] = (2.0f * frand(&seed) - 1.0f) * 3.0f;
                        }
                        if (round == 1)
                                memcpy(g, special, sizeof(special));
                        int len = N - round;
                        op_gelu_mul_ref(want, g, u, len);
                        op_gelu_mul(got, g, u, len);
                        for (int i = 0; i < len; i++)
                                bad += memcmp(&got[i], &want[i], 4) != 0;
                        memcpy(got, u, (size_t)len * sizeof(float)); /* in place: y = u */
                        op_gelu_mul(got, g, got, len);
                        bad += memcmp(got, want, (size_t)len * sizeof(float)) != 0;
                }
                CHECK_MSG(bad == 0, "%s: %ld values differ from op_gelu_mul_ref", avail[a], bad);
                ran++;
        }
        cpu_kernels_force(orig);
        CHECK(ran >= 1);
        free(g);
        free(u);
        free(want);
        free(got);
}
