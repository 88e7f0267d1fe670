/* test_attn.c -- attention over an F16 KV cache with llama.cpp's roundings
 * (src/engine/attn_f16.c):
 *   - on llama.cpp's own inputs (SmolLM2 layer 0, tests/data/attn/), the
 *     output equals llama.cpp's bit for bit;
 *   - the AVX2/F16C and AVX-512 variants equal the scalar reference bit for
 *     bit (and so llama.cpp's output too);
 *   - against a float64 softmax the error stays within the f16 accumulator's
 *     bound (a few f16 ulps of the largest |v|). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attn_f16.h"
#include "mullama/kernels.h"
#include "test.h"

#define NT 19 /* tokens in the llama.cpp dump */
#define HD 64

static int read_vals(char *p, float *v, int n)
{
        int k = 0;

        for (char *e; k < n; k++, p = e) {
                v[k] = strtof(p, &e);
                if (e == p)
                        break;
        }
        return k;
}

TEST(attn_f16_equals_llamacpp_bits)
{
        const char *path = test_data("attn/smollm2_l0_kvh1.txt");
        FILE *f = path ? fopen(path, "r") : NULL;
        static uint16_t k16[NT][HD], v16[NT][HD];
        static float q[NT][3][HD], o[NT][3][HD];
        int nk = 0, nv = 0, nq = 0, no = 0;
        char line[4096];

        CHECK(f != NULL);
        while (f && fgets(line, sizeof(line), f)) {
                int t, h, off;
                float tmp[HD];
                if ((line[0] == 'k' || line[0] == 'v') && sscanf(line + 2, "%d%n", &t, &off) == 1 &&
                    t >= 0 && t < NT && read_vals(line + 2 + off, tmp, HD) == HD) {
                        uint16_t *dst = line[0] == 'k' ? k16[t] : v16[t];
                        for (int i = 0; i < HD; i++) /* the cache holds them as f16 */
                                dst[i] = mu_fp32_to_fp16(tmp[i]);
                        *(line[0] == 'k' ? &nk : &nv) += 1;
                } else if ((line[0] == 'q' || line[0] == 'o') &&
                           sscanf(line + 2, "%d %d%n", &t, &h, &off) == 2 && t >= 0 && t < NT &&
                           h >= 3 && h <= 5) {
                        float *dst = line[0] == 'q' ? q[t][h - 3] : o[t][h - 3];
                        if (read_vals(line + 2 + off, dst, HD) == HD)
                                *(line[0] == 'q' ? &nq : &no) += 1;
                }
        }
        if (f)
                fclose(f);
        CHECK(nk == NT && nv == NT && nq == NT * 3 && no == NT * 3);
        if (nk != NT || nv != NT || nq != NT * 3 || no != NT * 3)
                return;
        struct attn_f16_row r = {(const char *)k16, (const char *)v16, sizeof(k16[0]), sizeof(v16[0]),
                                 HD, HD, 0.125f, 0.0f};
        const int isa = attn_f16_isa(cpu_kernels_get()->name);
        for (int simd = ATTN_F16_SCALAR; simd <= isa; simd++) {
                int bad = 0;
                for (int t = 0; t < NT; t++)
                        for (int h = 0; h < 3; h++) {
                                uint16_t q16[HD], acc[HD];
                                float out[HD];
                                attn_f16(&r, q[t][h], 0, t, q16, acc, out, simd);
                                bad += memcmp(out, o[t][h], sizeof(out)) != 0;
                        }
                CHECK_MSG(bad == 0, "%s: %d of %d rows differ from llama.cpp's",
                          simd == ATTN_F16_AVX512 ? "avx512" : simd ? "avx2" : "scalar", bad, NT * 3);
        }
}

static float frand(unsigned *s)
{
        *s = *s * 1103515245u + 12345u;
        return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

TEST(attn_f16_simd_equals_scalar_and_is_accurate)
{
        if (!strcmp(cpu_kernels_get()->name, "scalar"))
                TEST_SKIP("no AVX2 on this CPU");
        static const int dims[][2] = {{64, 64}, {256, 256}, {128, 64}};
        unsigned seed = 7;
        int diff = 0, rows = 0;
        double worst = 0;

        for (int d = 0; d < 3; d++) {
                int hdk = dims[d][0], hdv = dims[d][1], np = 300;
                uint16_t *k = malloc((size_t)np * hdk * 2), *v = malloc((size_t)np * hdv * 2);
                float *q = malloc((size_t)hdk * 4), *o1 = malloc((size_t)hdv * 4), *o2 = malloc((size_t)hdv * 4);
                uint16_t *q16 = malloc((size_t)hdk * 2), *acc = malloc((size_t)hdv * 2);
                double *ex = malloc((size_t)hdv * 8), *w = malloc((size_t)np * 8);
                for (int i = 0; i < np * hdk; i++)
                        k[i] = mu_fp32_to_fp16(frand(&seed) * 3);
                for (int i = 0; i < np * hdv; i++)
                        v[i] = mu_fp32_to_fp16(frand(&seed) * 2);
                for (int cap = 0; cap <= 1; cap++)
                        for (int hi = 0; hi < np; hi += 37) {
                                for (int i = 0; i < hdk; i++)
                                        q[i] = frand(&seed) * 4;
                                struct attn_f16_row r = {(const char *)k, (const char *)v, (size_t)hdk * 2,
                                                         (size_t)hdv * 2, hdk, hdv, 1.0f / sqrtf((float)hdk),
                                                         cap ? 50.0f : 0.0f};
                                int lo = hi > 100 ? hi - 100 : 0;
                                attn_f16(&r, q, lo, hi, q16, acc, o1, 0);
                                attn_f16(&r, q, lo, hi, q16, acc, o2, 1);
                                diff += memcmp(o1, o2, (size_t)hdv * 4) != 0;
                                rows++;
                                /* float64 softmax over the same f16 inputs */
                                double mx = -INFINITY, sum = 0;
                                for (int p = lo; p <= hi; p++) {
                                        double s = 0;
                                        for (int i = 0; i < hdk; i++)
                                                s += (double)mu_fp16_to_fp32(q16[i]) *
                                                     mu_fp16_to_fp32(k[(size_t)p * hdk + i]);
                                        s *= r.scale;
                                        if (cap)
                                                s = r.cap * tanh(s / r.cap);
                                        w[p] = s;
                                        mx = s > mx ? s : mx;
                                }
                                for (int i = 0; i < hdv; i++)
                                        ex[i] = 0;
                                for (int p = lo; p <= hi; p++) {
                                        double e = exp(w[p] - mx);
                                        sum += e;
                                        for (int i = 0; i < hdv; i++)
                                                ex[i] += e * mu_fp16_to_fp32(v[(size_t)p * hdv + i]);
                                }
                                for (int i = 0; i < hdv; i++)
                                        worst = fmax(worst, fabs(o1[i] - ex[i] / sum));
                        }
                free(k), free(v), free(q), free(o1), free(o2), free(q16), free(acc), free(ex), free(w);
        }
        CHECK_MSG(diff == 0, "%d of %d rows: AVX2/F16C differs from the scalar reference", diff, rows);
        /* |v| <= 2: an f16 ulp there is 2^-10; the accumulator is rounded at every step */
        CHECK_MSG(worst < 8.0 / 1024, "max |out - float64| = %g", worst);
        if (getenv("MULLAMA_TEST_VERBOSE"))
                fprintf(stderr, "  attn_f16: max |out - float64| = %.3g over %d rows\n", worst, rows);
}

/* The AVX-512 variant against the scalar reference, bit for bit: head dims
 * the kernel specializes (64, 128, 256) and the generic ones (hdk != hdv,
 * hdv not a multiple of 64), GQA layouts (n_kv heads interleaved in a row,
 * several query heads per KV head), every length from 1 to 40 and long ones
 * (tails of 1..15 positions after the 16-position blocks), sliding windows
 * (lo > 0), soft-caps, q scaled before its rounding (qmul), each head alone
 * and the group at once (attn_f16_heads: 1 to 4 heads per pass), scores that keep rising (a new maximum at every
 * position: a rescale each time), scores spread wide enough that exp
 * underflows to 0, and V near the f16 limit (the accumulator overflows). */
TEST(attn_f16_avx512_equals_scalar)
{
        if (attn_f16_isa(cpu_kernels_get()->name) != ATTN_F16_AVX512)
                TEST_SKIP("no AVX-512 kernel table on this CPU");
        static const int dims[][2] = {{64, 64}, {128, 128}, {256, 256}, {128, 64}, {64, 48}, {192, 80}};
        static const int gqa[][2] = {{1, 1}, {4, 8}, {2, 3}}; /* n_kv heads, query heads per kv head */
        unsigned seed = 11;
        int diff = 0, rows = 0, diff_heads = 0, groups = 0;

        for (int d = 0; d < 6; d++)
                for (int g = 0; g < 3; g++) {
                        const int hdk = dims[d][0], hdv = dims[d][1], nkv = gqa[g][0], grp = gqa[g][1];
                        const int np = 600, mode = (d + g) % 4;
                        /* mode 0: plain; 1: rising scores; 2: wide scores; 3: huge V */
                        size_t kn = (size_t)np * nkv * hdk, vn = (size_t)np * nkv * hdv;
                        uint16_t *k = malloc(kn * 2), *v = malloc(vn * 2);
                        uint16_t *q16 = malloc((size_t)hdk * 2), *acc = malloc((size_t)hdv * 2);
                        float *q = malloc((size_t)grp * hdk * 4), *o1 = malloc((size_t)grp * hdv * 4),
                              *o2 = malloc((size_t)grp * hdv * 4), *qf = malloc((size_t)hdk * 4);
                        for (size_t i = 0; i < kn; i++) {
                                float x = frand(&seed) * (mode == 2 ? 8 : 3);
                                if (mode == 1 && i % hdk == 0) /* k[0] grows with the position */
                                        x = 0.01f * (float)(i / ((size_t)nkv * hdk));
                                k[i] = mu_fp32_to_fp16(x);
                        }
                        for (size_t i = 0; i < vn; i++)
                                v[i] = mu_fp32_to_fp16(frand(&seed) * (mode == 3 ? 30000 : 2));
                        for (int kvh = 0; kvh < nkv; kvh++)
                                for (int c = 0; c < 3; c++) {
                                        const float caps[3] = {0.0f, 50.0f, 3.0f};
                                        const float qmul = c == 1 ? 0.125f : 1.0f; /* q-scaled archs */
                                        struct attn_f16_row r = {
                                                (const char *)(k + (size_t)kvh * hdk),
                                                (const char *)(v + (size_t)kvh * hdv),
                                                (size_t)nkv * hdk * 2, (size_t)nkv * hdv * 2, hdk, hdv,
                                                c == 1 ? 1.0f : 1.0f / sqrtf((float)hdk), caps[c]};
                                        for (int i = 0; i < grp * hdk; i++)
                                                q[i] = frand(&seed) * (mode == 2 ? 16 : 4) * (c == 1 ? 8 : 1);
                                        if (mode == 1)
                                                for (int h = 0; h < grp; h++)
                                                        q[h * hdk] = 40;
                                        for (int len = 1; len <= np; len += len < 40 ? 1 : 89 + c) {
                                                int hi = np - 1 - (len * 7 + c) % 50;
                                                int lo = hi - len + 1 > 0 ? hi - len + 1 : 0;
                                                if (c == 0 && len <= 40)
                                                        lo = 0, hi = len - 1;
                                                /* each head alone: the scalar reference and the
                                                 * AVX-512 variant; then the group in one call */
                                                for (int h = 0; h < grp; h++) {
                                                        for (int i = 0; i < hdk; i++)
                                                                qf[i] = q[h * hdk + i] * qmul;
                                                        attn_f16(&r, qf, lo, hi, q16, acc, o1 + h * hdv,
                                                                 ATTN_F16_SCALAR);
                                                        attn_f16(&r, qf, lo, hi, q16, acc, o2,
                                                                 ATTN_F16_AVX512);
                                                        diff += memcmp(o1 + h * hdv, o2, (size_t)hdv * 4) != 0;
                                                        rows++;
                                                }
                                                attn_f16_heads(&r, q, (size_t)hdk, qmul, grp, lo, hi, q16, acc,
                                                               qf, o2, (size_t)hdv, ATTN_F16_AVX512);
                                                diff_heads += memcmp(o1, o2, (size_t)grp * hdv * 4) != 0;
                                                groups++;
                                        }
                                }
                        free(qf);
                        free(k), free(v), free(q16), free(acc), free(q), free(o1), free(o2);
                }
        CHECK_MSG(diff == 0, "%d of %d rows: AVX-512 differs from the scalar reference", diff, rows);
        CHECK_MSG(diff_heads == 0, "%d of %d head groups: attn_f16_heads differs from the scalar "
                  "reference", diff_heads, groups);
        CHECK(rows > 5000 && groups > 1000);
}

/* attn_f16_exp16 (the AVX-512 variant's exponential) against libm's expf,
 * bit for bit: 2^20 float bit patterns spread over all 2^32 (a stride of
 * 4099, odd, so signs, exponents and mantissas all vary), the whole range
 * the attention uses densely ([-110, 0]), and the special values.  (All 2^32
 * inputs matched glibc 2.36's expf when the kernel was written.) */
TEST(attn_f16_exp16_equals_libm)
{
        if (attn_f16_isa(cpu_kernels_get()->name) != ATTN_F16_AVX512)
                TEST_SKIP("no AVX-512 kernel table on this CPU");
        static float x[1 << 16], y[1 << 16];
        const float special[16] = {0.0f, -0.0f, -INFINITY, INFINITY, NAN, -NAN, 88.0f, 89.0f,
                                   -0x1.9fe368p6f, -0x1.9fe36ap6f, -0x1.9d1d9ep6f, -0x1.9d1da0p6f,
                                   0x1.62e42ep6f, 0x1.62e430p6f, -1e-30f, -0x1p-149f};
        long bad = 0, n = 0;

        for (int blk = 0; blk < 32; blk++) {
                int m = 1 << 16;
                for (int i = 0; i < m; i++) {
                        uint32_t b = (uint32_t)(((uint64_t)blk * m + (uint64_t)i) * 4099u);
                        if (blk >= 16) /* dense in [-110, 0] */
                                b = 0x80000000u | (uint32_t)(((uint64_t)(blk - 16) * m + i) *
                                                             (0x42dc0000u / (16u << 16)));
                        memcpy(&x[i], &b, 4);
                }
                if (blk == 0)
                        memcpy(x, special, sizeof(special));
                for (int i = 0; i < m; i += 16)
                        attn_f16_exp16(x + i, y + i);
                for (int i = 0; i < m; i++, n++) {
                        float e = expf(x[i]);
                        bad += memcmp(&e, &y[i], 4) != 0;
                }
        }
        CHECK_MSG(bad == 0, "%ld of %ld exp16 values differ from libm expf", bad, n);
}

/* attn_f16_rows (several tokens x query heads per walk over K and V) against
 * one attn_f16_heads call per token, memcmp: the scalar and AVX-512 variants
 * (and AVX2 where the table has it), head dims 64/128/256 and a generic one,
 * batches of 1..40 tokens at several depths (token t sees positions up to
 * p0 + t), a sliding window (each token its own lo), soft-caps, qmul, and
 * more rows than one AVX-512 pass takes (32). */
TEST(attn_f16_rows_equals_per_token)
{
        static const int dims[][2] = {{64, 64}, {128, 128}, {256, 256}, {192, 80}};
        static const int nts[] = {1, 2, 3, 5, 16, 17, 40};
        static const int depths[] = {0, 1, 15, 300};
        const int isa = attn_f16_isa(cpu_kernels_get()->name);
        unsigned seed = 23;
        int diff = 0, calls = 0;

        for (int d = 0; d < 4; d++) {
                const int hdk = dims[d][0], hdv = dims[d][1], nkv = 2, grp = d == 2 ? 4 : 3;
                const int np = 360;
                size_t kn = (size_t)np * nkv * hdk, vn = (size_t)np * nkv * hdv;
                uint16_t *k = malloc(kn * 2), *v = malloc(vn * 2);
                uint16_t *q16 = malloc((size_t)hdk * 2), *acc = malloc((size_t)hdv * 2);
                float *qf = malloc((size_t)hdk * 4);
                float *q = malloc((size_t)40 * grp * hdk * 4);
                float *o1 = malloc((size_t)40 * grp * hdv * 4), *o2 = malloc((size_t)40 * grp * hdv * 4);
                struct attn_f16_q *rows = malloc((size_t)40 * grp * sizeof(*rows));

                for (size_t i = 0; i < kn; i++)
                        k[i] = mu_fp32_to_fp16(frand(&seed) * 3);
                for (size_t i = 0; i < vn; i++)
                        v[i] = mu_fp32_to_fp16(frand(&seed) * 2);
                for (size_t i = 0; i < (size_t)40 * grp * hdk; i++)
                        q[i] = frand(&seed) * 4;
                for (int c = 0; c < 3; c++) /* 0: plain; 1: soft-cap, qmul; 2: window 37, cap 3 */
                        for (int ni = 0; ni < 7; ni++)
                                for (int di = 0; di < 4; di++) {
                                        const int nt = nts[ni], p0 = depths[di], kvh = (ni + di) % nkv;
                                        const int swa = c == 2 ? 37 : 0;
                                        const float qmul = c == 1 ? 0.125f : 1.0f;
                                        struct attn_f16_row r = {
                                                (const char *)(k + (size_t)kvh * hdk),
                                                (const char *)(v + (size_t)kvh * hdv),
                                                (size_t)nkv * hdk * 2, (size_t)nkv * hdv * 2, hdk, hdv,
                                                c == 1 ? 1.0f : 1.0f / sqrtf((float)hdk),
                                                c == 1 ? 50.0f : c == 2 ? 3.0f : 0.0f};
                                        if (p0 + nt > np)
                                                continue;
                                        /* rows token-major, as forward.c builds them */
                                        for (int t = 0; t < nt; t++) {
                                                const int pos = p0 + t;
                                                const int lo = swa && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                                                for (int h = 0; h < grp; h++)
                                                        rows[t * grp + h] = (struct attn_f16_q){
                                                                q + (size_t)(t * grp + h) * hdk,
                                                                o2 + (size_t)(t * grp + h) * hdv, lo, pos};
                                        }
                                        for (int simd = ATTN_F16_SCALAR; simd <= isa; simd++) {
                                                for (int t = 0; t < nt; t++)
                                                        attn_f16_heads(&r, q + (size_t)t * grp * hdk, (size_t)hdk,
                                                                       qmul, grp, rows[t * grp].lo, p0 + t, q16,
                                                                       acc, qf, o1 + (size_t)t * grp * hdv,
                                                                       (size_t)hdv, simd);
                                                memset(o2, 0xff, (size_t)nt * grp * hdv * 4);
                                                attn_f16_rows(&r, rows, nt * grp, qmul, q16, acc, qf, simd);
                                                diff += memcmp(o1, o2, (size_t)nt * grp * hdv * 4) != 0;
                                                calls++;
                                        }
                                }
                free(k), free(v), free(q16), free(acc), free(qf), free(q), free(o1), free(o2), free(rows);
        }
        CHECK_MSG(diff == 0, "%d of %d attn_f16_rows calls differ from per-token attn_f16_heads", diff, calls);
        CHECK(calls > 200);
}
