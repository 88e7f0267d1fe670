/* test_sampler.c -- the sampler against independent references: argmax,
 * softmax(logits / T) (chi-square over 200k draws), a straightforward
 * double-precision implementation of each filter that sorts the whole
 * vocabulary (kept sets must match exactly), and hand-computed penalties
 * (llama.cpp's rule: positive logits divided by repeat_penalty, others
 * multiplied, then count * frequency + presence subtracted). */
#include <stdint.h>
#include <time.h>

#include "mullama/sampler.h"
#include "test.h"

/* ---- helpers --------------------------------------------------------------- */

/* Test-local PRNG (not the sampler's): 64-bit LCG, top bits. */
static uint64_t t_rng = 1;
static double t_uniform(void)
{
        t_rng = t_rng * 6364136223846793005ull + 1442695040888963407ull;
        return (double)(t_rng >> 11) * (1.0 / 9007199254740992.0);
}
static double t_normal(void)
{
        double u = t_uniform(), v = t_uniform();
        if (u < 1e-300)
                u = 1e-300;
        return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Random logits, sigma scale; with quant > 0 rounded to multiples of it
 * (which makes ties common). */
static void fill_logits(float *l, int n, double scale, double quant)
{
        for (int i = 0; i < n; i++) {
                double x = t_normal() * scale;
                if (quant > 0)
                        x = floor(x / quant + 0.5) * quant;
                l[i] = (float)x;
        }
}

/* Everything off, temperature 1. */
static struct sampler_params off_params(void)
{
        struct sampler_params p = sampler_default_params();
        p.temperature = 1.0f;
        p.top_k = 0;
        p.top_p = 1.0f;
        p.min_p = 0.0f;
        p.typical_p = 1.0f;
        p.repeat_penalty = 1.0f;
        p.repeat_last_n = 0;
        p.seed = 42;
        return p;
}

static struct sampler *mk(const struct sampler_params *p, int n_vocab)
{
        struct mu_err err = {0};
        struct sampler *s = sampler_create(p, n_vocab, 0, &err);
        CHECK_MSG(s != NULL, "sampler_create: %s", err.msg);
        return s;
}

/* ---- reference implementation: full sort, double precision ------------ */

struct ref {
        int id;
        double logit;
};

static int ref_cmp(const void *pa, const void *pb)
{
        const struct ref *a = pa, *b = pb;
        if (a->logit != b->logit)
                return a->logit > b->logit ? -1 : 1;
        return (a->id > b->id) - (a->id < b->id);
}

/* softmax of r[0, n) into p (r need not be sorted) */
static void ref_softmax(const struct ref *r, int n, double *p)
{
        double max = -INFINITY, z = 0;
        for (int i = 0; i < n; i++)
                max = r[i].logit > max ? r[i].logit : max;
        for (int i = 0; i < n; i++)
                z += p[i] = exp(r[i].logit - max);
        for (int i = 0; i < n; i++)
                p[i] /= z;
}

/* Apply the filters to r[0, *n) (sorted on entry, sorted on exit). */
static void ref_top_k(struct ref *r, int *n, int k)
{
        if (k > 0 && k < *n)
                *n = k;
}

static void ref_top_p(struct ref *r, int *n, double p)
{
        double *pr = malloc(sizeof *pr * (size_t)*n), cum = 0;
        if (p >= 1.0 || *n <= 1) {
                free(pr);
                return;
        }
        ref_softmax(r, *n, pr);
        for (int i = 0; i < *n; i++) {
                cum += pr[i];
                if (cum >= p) {
                        *n = i + 1;
                        break;
                }
        }
        free(pr);
}

static void ref_min_p(struct ref *r, int *n, double p)
{
        double *pr = malloc(sizeof *pr * (size_t)*n);
        int kept = 0;
        if (p <= 0.0 || *n <= 1) {
                free(pr);
                return;
        }
        ref_softmax(r, *n, pr);
        for (int i = 0; i < *n; i++)
                if (i == 0 || pr[i] >= p * pr[0])
                        kept = i + 1;  /* sorted: survivors are a prefix */
        *n = kept;
        free(pr);
}

struct tkey {
        double key;
        int id;
        int pos;
};

static int tkey_cmp(const void *pa, const void *pb)
{
        const struct tkey *a = pa, *b = pb;
        if (a->key != b->key)
                return a->key < b->key ? -1 : 1;
        return (a->id > b->id) - (a->id < b->id);
}

static void ref_typical(struct ref *r, int *n, double p)
{
        int m = *n, keep = m;
        double *pr, h = 0, cum = 0;
        struct tkey *k;
        struct ref *out;
        if (p >= 1.0 || m <= 1)
                return;
        pr = malloc(sizeof *pr * (size_t)m);
        k = malloc(sizeof *k * (size_t)m);
        out = malloc(sizeof *out * (size_t)m);
        ref_softmax(r, m, pr);
        for (int i = 0; i < m; i++)
                if (pr[i] > 0)
                        h -= pr[i] * log(pr[i]);
        for (int i = 0; i < m; i++) {
                k[i].key = pr[i] > 0 ? fabs(-log(pr[i]) - h) : INFINITY;
                k[i].id = r[i].id;
                k[i].pos = i;
        }
        qsort(k, (size_t)m, sizeof *k, tkey_cmp);
        for (int i = 0; i < m; i++) {
                cum += pr[k[i].pos];
                if (cum > p) {
                        keep = i + 1;
                        break;
                }
        }
        for (int i = 0; i < keep; i++)
                out[i] = r[k[i].pos];
        qsort(out, (size_t)keep, sizeof *out, ref_cmp);
        memcpy(r, out, sizeof *out * (size_t)keep);
        *n = keep;
        free(pr);
        free(k);
        free(out);
}

/* The whole chain on (already penalized) logits; returns the kept count,
 * r sorted, probs at temperature t in p. */
static int ref_chain(const float *logits, int n_vocab, const struct sampler_params *sp,
                     struct ref *r, double *p)
{
        int n = 0;
        for (int i = 0; i < n_vocab; i++)
                if (logits[i] != -INFINITY) {
                        r[n].id = i;
                        r[n].logit = logits[i];
                        n++;
                }
        qsort(r, (size_t)n, sizeof *r, ref_cmp);
        ref_top_k(r, &n, sp->top_k);
        ref_typical(r, &n, sp->typical_p);
        ref_top_p(r, &n, sp->top_p);
        ref_min_p(r, &n, sp->min_p);
        for (int i = 0; i < n; i++)
                r[i].logit /= sp->temperature;
        ref_softmax(r, n, p);
        for (int i = 0; i < n; i++)
                r[i].logit *= sp->temperature;
        return n;
}

/* Compare sampler_candidates() with ref_chain() on one logit vector. */
static int same_as_reference(const float *logits, int n_vocab, const struct sampler_params *sp,
                             const char *what)
{
        struct mu_err err = {0};
        struct sampler *s = mk(sp, n_vocab);
        struct ref *r = malloc(sizeof *r * (size_t)n_vocab);
        double *rp = malloc(sizeof *rp * (size_t)n_vocab);
        int *ids = malloc(sizeof *ids * (size_t)n_vocab);
        float *probs = malloc(sizeof *probs * (size_t)n_vocab);
        int ok = 1, n_ref, n_got;

        if (!s)
                return 0;
        n_ref = ref_chain(logits, n_vocab, sp, r, rp);
        n_got = sampler_candidates(s, logits, ids, probs, n_vocab, &err);
        if (n_got != n_ref) {
                test_fail_at(__FILE__, __LINE__, "%s: kept %d, reference keeps %d", what, n_got, n_ref);
                ok = 0;
        }
        for (int i = 0; ok && i < n_ref; i++) {
                if (ids[i] != r[i].id) {
                        test_fail_at(__FILE__, __LINE__, "%s: candidate %d is id %d, reference %d",
                                     what, i, ids[i], r[i].id);
                        ok = 0;
                } else if (fabs(probs[i] - rp[i]) > 1e-6 + 1e-5 * rp[i]) {
                        test_fail_at(__FILE__, __LINE__, "%s: p[%d] = %g, reference %g", what, i,
                                     (double)probs[i], rp[i]);
                        ok = 0;
                }
        }
        sampler_free(s);
        free(r);
        free(rp);
        free(ids);
        free(probs);
        return ok;
}

/* ---- tests ----------------------------------------------------------------- */

TEST(sampler_default_params_are_ollamas)
{
        struct sampler_params p = sampler_default_params();
        CHECK_NEAR(p.temperature, 0.8, 1e-7);
        CHECK_EQ_INT(p.top_k, 40);
        CHECK_NEAR(p.top_p, 0.9, 1e-7);
        CHECK_NEAR(p.min_p, 0.0, 0);
        CHECK_NEAR(p.typical_p, 1.0, 0);
        CHECK_NEAR(p.repeat_penalty, 1.0, 0);
        CHECK_EQ_INT(p.repeat_last_n, 64);
        CHECK_NEAR(p.presence_penalty, 0.0, 0);
        CHECK_NEAR(p.frequency_penalty, 0.0, 0);
        CHECK_EQ_INT(p.seed, -1);
}

TEST(sampler_greedy_is_argmax_lowest_id_on_ties)
{
        enum { N = 1000 };
        static float l[N];
        struct sampler_params p = off_params();
        struct mu_err err = {0};

        t_rng = 7;
        for (int rep = 0; rep < 20; rep++) {
                fill_logits(l, N, 2.0, rep % 2 ? 0.5 : 0);  /* odd reps: many ties */
                int want = 0;
                for (int i = 1; i < N; i++)
                        if (l[i] > l[want])
                                want = i;
                p.temperature = rep % 3 == 0 ? -1.0f : 0.0f;
                struct sampler *s = mk(&p, N);
                if (!s)
                        return;
                CHECK_EQ_INT(sampler_sample(s, l, &err), want);
                sampler_free(s);
        }
        /* explicit ties, -inf and NaN around them */
        float t[8] = {1, 3, -INFINITY, 3, NAN, 3, 2, 0};
        p.temperature = 0;
        struct sampler *s = mk(&p, 8);
        if (!s)
                return;
        CHECK_EQ_INT(sampler_sample(s, t, &err), 1);
        t[1] = 2.5f;
        CHECK_EQ_INT(sampler_sample(s, t, &err), 3);
        sampler_free(s);
}

TEST(sampler_greedy_applies_penalties)
{
        float l[4] = {1.0f, 2.0f, 1.9f, 0.5f};
        struct sampler_params p = off_params();
        struct mu_err err = {0};
        p.temperature = 0;
        p.repeat_penalty = 1.1f;  /* 2.0 / 1.1 = 1.818 < 1.9 */
        p.repeat_last_n = 64;
        struct sampler *s = mk(&p, 4);
        if (!s)
                return;
        CHECK_EQ_INT(sampler_sample(s, l, &err), 1);
        CHECK(sampler_accept(s, 1, &err) == 0);
        CHECK_EQ_INT(sampler_sample(s, l, &err), 2);
        sampler_reset(s);
        CHECK_EQ_INT(sampler_sample(s, l, &err), 1);
        sampler_free(s);
}

TEST(sampler_top_k_1_is_greedy_at_any_temperature)
{
        enum { N = 500 };
        static float l[N];
        const float temps[] = {0.05f, 0.5f, 1.0f, 3.0f, 100.0f};
        struct mu_err err = {0};

        t_rng = 11;
        for (int rep = 0; rep < 30; rep++) {
                fill_logits(l, N, 1.0, rep % 2 ? 0.25 : 0);
                struct sampler_params g = off_params();
                g.temperature = 0;
                struct sampler *sg = mk(&g, N);
                if (!sg)
                        return;
                int want = sampler_sample(sg, l, &err);
                sampler_free(sg);
                for (size_t ti = 0; ti < sizeof temps / sizeof *temps; ti++) {
                        struct sampler_params p = sampler_default_params();
                        p.top_k = 1;
                        p.temperature = temps[ti];
                        p.seed = rep;
                        struct sampler *s = mk(&p, N);
                        if (!s)
                                return;
                        for (int k = 0; k < 5; k++)
                                CHECK_EQ_INT(sampler_sample(s, l, &err), want);
                        sampler_free(s);
                }
        }
}

static void draw_seq(int64_t seed, const float *l, int n, int *out, int count)
{
        struct mu_err err = {0};
        struct sampler_params p = off_params();
        p.seed = seed;
        struct sampler *s = mk(&p, n);
        if (!s)
                return;
        for (int i = 0; i < count; i++)
                out[i] = sampler_sample(s, l, &err);
        sampler_free(s);
}

TEST(sampler_seed_determines_the_sequence)
{
        enum { N = 64, D = 2000 };
        static float flat[N];
        static int a[D], b[D], c[D], d[D];
        int same = 0, seen[N] = {0}, n_seen = 0;
        struct mu_err err = {0};

        draw_seq(1234, flat, N, a, D);
        draw_seq(1234, flat, N, b, D);
        draw_seq(1235, flat, N, c, D);
        CHECK(memcmp(a, b, sizeof a) == 0);
        for (int i = 0; i < D; i++) {
                same += a[i] == c[i];
                CHECK(a[i] >= 0 && a[i] < N);
                if (a[i] >= 0 && a[i] < N && !seen[a[i]]++)
                        n_seen++;
        }
        /* independent streams agree ~D/64 = 31 times; a shared stream 2000 */
        CHECK_MSG(same < 80, "seeds 1234 and 1235 agree on %d of %d draws", same, D);
        CHECK_EQ_INT(n_seen, N);  /* flat: every token shows up */

        /* reset rewinds the stream */
        struct sampler_params p = off_params();
        p.seed = 1234;
        struct sampler *s = mk(&p, N);
        if (!s)
                return;
        for (int i = 0; i < 100; i++)
                sampler_sample(s, flat, &err);
        sampler_reset(s);
        for (int i = 0; i < D; i++)
                d[i] = sampler_sample(s, flat, &err);
        CHECK(memcmp(a, d, sizeof a) == 0);
        CHECK(sampler_seed(s) == 1234);
        sampler_free(s);

        /* seed -1: random seeds, different streams */
        draw_seq(-1, flat, N, c, D);
        draw_seq(-1, flat, N, d, D);
        same = 0;
        for (int i = 0; i < D; i++)
                same += c[i] == d[i];
        CHECK_MSG(same < 80, "two random seeds agree on %d of %d draws", same, D);
}

/* Pearson chi-square of counts against probabilities q. */
static double chi_square(const long *count, const double *q, int n, long total)
{
        double x2 = 0;
        for (int i = 0; i < n; i++) {
                double e = q[i] * (double)total, d = (double)count[i] - e;
                x2 += d * d / e;
        }
        return x2;
}

static void softmax_t(const float *l, int n, double t, double *q)
{
        double max = -INFINITY, z = 0;
        for (int i = 0; i < n; i++)
                max = l[i] > max ? l[i] : max;
        for (int i = 0; i < n; i++)
                z += q[i] = exp((l[i] - max) / t);
        for (int i = 0; i < n; i++)
                q[i] /= z;
}

TEST(sampler_distribution_matches_softmax)
{
        enum { N = 8, DRAWS = 200000 };
        const float l[N] = {1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 2.0f, -2.0f, 0.25f};
        const double temps[] = {0.5, 1.0, 2.0};
        /* chi-square, 7 degrees of freedom: P(X2 > 42) ~ 1e-6 */
        const double crit = 42.0;
        struct mu_err err = {0};

        for (int ti = 0; ti < 3; ti++) {
                double q[N], qw[N];
                long count[N] = {0};
                int ids[N];
                float probs[N];
                struct sampler_params p = off_params();
                p.temperature = (float)temps[ti];
                p.seed = 100 + ti;
                struct sampler *s = mk(&p, N);
                if (!s)
                        return;
                softmax_t(l, N, temps[ti], q);
                /* the candidate probabilities are the softmax itself */
                CHECK_EQ_INT(sampler_candidates(s, l, ids, probs, N, &err), N);
                for (int i = 0; i < N; i++)
                        CHECK_NEAR(probs[i], q[ids[i]], 1e-6);
                for (int i = 0; i < DRAWS; i++) {
                        int t = sampler_sample(s, l, &err);
                        CHECK(t >= 0 && t < N);
                        if (t >= 0 && t < N)
                                count[t]++;
                }
                double x2 = chi_square(count, q, N, DRAWS);
                CHECK_MSG(x2 < crit, "T=%g: chi-square %.1f >= %.1f", temps[ti], x2, crit);
                /* the test has power: a 10% wrong temperature is rejected */
                softmax_t(l, N, temps[ti] * 1.1, qw);
                double x2w = chi_square(count, qw, N, DRAWS);
                CHECK_MSG(x2w > crit, "T=%g: wrong-T chi-square only %.1f", temps[ti], x2w);
                sampler_free(s);
        }
}

TEST(sampler_top_k_matches_reference)
{
        enum { N = 2000 };
        static float l[N];
        const int ks[] = {1, 2, 5, 40, 100, 1999, 2000, 5000};
        char what[64];

        t_rng = 21;
        for (int rep = 0; rep < 6; rep++) {
                fill_logits(l, N, 2.0, rep % 2 ? 0.25 : 0);
                for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
                        struct sampler_params p = off_params();
                        p.top_k = ks[i];
                        snprintf(what, sizeof what, "rep %d top_k %d", rep, ks[i]);
                        same_as_reference(l, N, &p, what);
                }
        }
}

TEST(sampler_top_p_matches_reference)
{
        enum { N = 2000 };
        static float l[N];
        const float ps[] = {0.0f, 0.05f, 0.3f, 0.5f, 0.9f, 0.95f, 0.999f};
        char what[64];

        t_rng = 22;
        for (int rep = 0; rep < 6; rep++) {
                /* sharp and flat distributions: short and long prefixes */
                fill_logits(l, N, rep < 3 ? 3.0 : 0.3, rep % 2 ? 0.125 : 0);
                for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
                        struct sampler_params p = off_params();
                        p.top_p = ps[i];
                        snprintf(what, sizeof what, "rep %d top_p %g", rep, (double)ps[i]);
                        same_as_reference(l, N, &p, what);
                        p.top_k = 40;
                        snprintf(what, sizeof what, "rep %d top_k 40 top_p %g", rep, (double)ps[i]);
                        same_as_reference(l, N, &p, what);
                }
        }
}

TEST(sampler_min_p_matches_reference)
{
        enum { N = 2000 };
        static float l[N];
        const float ps[] = {0.001f, 0.01f, 0.05f, 0.2f, 0.5f, 0.9f, 1.0f, 2.0f};
        char what[64];

        t_rng = 23;
        for (int rep = 0; rep < 6; rep++) {
                fill_logits(l, N, rep < 3 ? 3.0 : 0.5, rep % 2 ? 0.125 : 0);
                for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
                        struct sampler_params p = off_params();
                        p.min_p = ps[i];
                        snprintf(what, sizeof what, "rep %d min_p %g", rep, (double)ps[i]);
                        same_as_reference(l, N, &p, what);
                }
        }
}

TEST(sampler_typical_p_matches_reference)
{
        enum { N = 2000 };
        static float l[N];
        const float ps[] = {0.0f, 0.2f, 0.5f, 0.9f, 0.95f, 0.99f};
        char what[64];

        t_rng = 24;
        for (int rep = 0; rep < 6; rep++) {
                fill_logits(l, N, rep < 3 ? 3.0 : 0.5, rep % 2 ? 0.125 : 0);
                for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
                        struct sampler_params p = off_params();
                        p.typical_p = ps[i];
                        snprintf(what, sizeof what, "rep %d typical_p %g", rep, (double)ps[i]);
                        same_as_reference(l, N, &p, what);
                }
        }
}

TEST(sampler_chain_matches_reference)
{
        enum { N = 3000 };
        static float l[N];
        char what[96];
        const struct {
                int k;
                float typ, top_p, min_p, t;
        } cases[] = {
                {40, 1.0f, 0.9f, 0.0f, 0.8f},   /* Ollama's defaults */
                {40, 1.0f, 0.95f, 0.05f, 0.8f}, /* llama.cpp's defaults */
                {100, 0.9f, 0.8f, 0.02f, 1.3f},
                {0, 0.95f, 0.9f, 0.05f, 0.5f},
                {0, 1.0f, 0.7f, 0.1f, 2.0f},
                {10, 0.5f, 1.0f, 0.0f, 1.0f},
        };

        t_rng = 25;
        for (int rep = 0; rep < 4; rep++) {
                fill_logits(l, N, rep % 2 ? 1.0 : 2.5, rep >= 2 ? 0.25 : 0);
                for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                        struct sampler_params p = off_params();
                        p.top_k = cases[i].k;
                        p.typical_p = cases[i].typ;
                        p.top_p = cases[i].top_p;
                        p.min_p = cases[i].min_p;
                        p.temperature = cases[i].t;
                        snprintf(what, sizeof what, "rep %d case %zu", rep, i);
                        same_as_reference(l, N, &p, what);
                }
        }
}

/* A 262k vocabulary (Gemma 3): the defaults and top_p without top_k agree
 * with the reference, and sampling draws only kept tokens. */
TEST(sampler_large_vocab)
{
        enum { N = 262144 };
        float *l = malloc(sizeof *l * N);
        struct mu_err err = {0};

        t_rng = 26;
        fill_logits(l, N, 2.0, 0);
        struct sampler_params p = sampler_default_params();
        p.seed = 5;
        same_as_reference(l, N, &p, "262k defaults");
        struct sampler_params q = off_params();
        q.top_p = 0.5f;
        same_as_reference(l, N, &q, "262k top_p 0.5, no top_k");
        q.top_p = 1.0f;
        q.min_p = 0.05f;
        same_as_reference(l, N, &q, "262k min_p 0.05, no top_k");

        /* the default chain keeps at most 40: every draw is among them */
        int ids[40];
        float probs[40];
        struct sampler *s = mk(&p, N);
        if (s) {
                int n = sampler_candidates(s, l, ids, probs, 40, &err);
                CHECK(n > 0 && n <= 40);
                for (int i = 0; i < 200; i++) {
                        int t = sampler_sample(s, l, &err), found = 0;
                        for (int j = 0; j < n; j++)
                                found |= ids[j] == t;
                        CHECK(found);
                }
                sampler_free(s);
        }
        free(l);
}

struct seen_logits {
        float got[8];
        int calls;
};

static int capture_filter(void *user, float *logits, int n_vocab, struct mu_err *err)
{
        struct seen_logits *c = user;
        for (int i = 0; i < n_vocab && i < 8; i++)
                c->got[i] = logits[i];
        c->calls++;
        return 0;
}

TEST(sampler_penalties_hand_computed)
{
        const float l[8] = {2.0f, -1.0f, 0.5f, 0.0f, 3.0f, -2.0f, 1.0f, 0.25f};
        const int hist[7] = {0, 1, 1, 3, 4, 4, 4};
        struct seen_logits c = {{0}, 0};
        struct mu_err err = {0};
        struct sampler_params p = off_params();
        p.repeat_penalty = 1.5f;
        p.frequency_penalty = 0.2f;
        p.presence_penalty = 0.3f;
        p.repeat_last_n = 64;
        struct sampler *s = mk(&p, 8);
        if (!s)
                return;
        sampler_set_logit_filter(s, capture_filter, &c);
        for (int i = 0; i < 7; i++)
                CHECK(sampler_accept(s, hist[i], &err) == 0);
        sampler_sample(s, l, &err);
        CHECK_EQ_INT(c.calls, 1);
        /* token 0 seen once:   2.0 / 1.5 - 1 * 0.2 - 0.3 */
        CHECK_NEAR(c.got[0], 2.0 / 1.5 - 0.5, 1e-6);
        /* token 1 seen twice: -1.0 * 1.5 - 2 * 0.2 - 0.3 */
        CHECK_NEAR(c.got[1], -1.5 - 0.7, 1e-6);
        CHECK_NEAR(c.got[2], 0.5, 0);
        /* token 3 seen once, logit 0 counts as "not positive": 0 * 1.5 - 0.5 */
        CHECK_NEAR(c.got[3], -0.5, 1e-6);
        /* token 4 seen three times: 3.0 / 1.5 - 3 * 0.2 - 0.3 */
        CHECK_NEAR(c.got[4], 2.0 - 0.9, 1e-6);
        CHECK_NEAR(c.got[5], -2.0, 0);
        CHECK_NEAR(c.got[6], 1.0, 0);
        CHECK_NEAR(c.got[7], 0.25, 0);

        /* the candidates' probabilities are the softmax of those values */
        int ids[8];
        float probs[8];
        double want[8], z = 0;
        for (int i = 0; i < 8; i++)
                z += want[i] = exp(c.got[i]);
        CHECK_EQ_INT(sampler_candidates(s, l, ids, probs, 8, &err), 8);
        for (int i = 0; i < 8; i++)
                CHECK_NEAR(probs[i], want[ids[i]] / z, 1e-6);
        sampler_free(s);

        /* window of 3: only the last three accepted (4, 4, 4) count */
        p.repeat_last_n = 3;
        s = mk(&p, 8);
        if (!s)
                return;
        sampler_set_logit_filter(s, capture_filter, &c);
        for (int i = 0; i < 7; i++)
                sampler_accept(s, hist[i], &err);
        sampler_sample(s, l, &err);
        CHECK_NEAR(c.got[0], 2.0, 0);
        CHECK_NEAR(c.got[1], -1.0, 0);
        CHECK_NEAR(c.got[4], 2.0 - 0.9, 1e-6);
        /* reset forgets the history */
        sampler_reset(s);
        sampler_sample(s, l, &err);
        CHECK_NEAR(c.got[4], 3.0, 0);
        sampler_free(s);

        /* repeat_last_n -1 is the context size; 0 is off */
        p.repeat_last_n = -1;
        s = sampler_create(&p, 8, 2, &err);
        CHECK(s != NULL);
        if (s) {
                sampler_set_logit_filter(s, capture_filter, &c);
                for (int i = 0; i < 7; i++)
                        sampler_accept(s, hist[i], &err);
                sampler_sample(s, l, &err);
                CHECK_NEAR(c.got[4], 3.0 / 1.5 - 0.4 - 0.3, 1e-6); /* (4, 4) */
                CHECK_NEAR(c.got[3], 0.0, 0);
                sampler_free(s);
        }
        p.repeat_last_n = 0;
        s = mk(&p, 8);
        if (!s)
                return;
        sampler_set_logit_filter(s, capture_filter, &c);
        for (int i = 0; i < 7; i++)
                CHECK(sampler_accept(s, hist[i], &err) == 0);
        sampler_sample(s, l, &err);
        for (int i = 0; i < 8; i++)
                CHECK_NEAR(c.got[i], l[i], 0);
        sampler_free(s);
}

static int keep_2_and_5(void *user, float *logits, int n_vocab, struct mu_err *err)
{
        for (int i = 0; i < n_vocab; i++)
                if (i != 2 && i != 5)
                        logits[i] = -INFINITY;
        return 0;
}

static int mask_all(void *user, float *logits, int n_vocab, struct mu_err *err)
{
        for (int i = 0; i < n_vocab; i++)
                logits[i] = -INFINITY;
        return 0;
}

static int failing_filter(void *user, float *logits, int n_vocab, struct mu_err *err)
{
        return mu_fail(err, MU_EFORMAT, "grammar rejected everything");
}

TEST(sampler_logit_filter_masks)
{
        const float l[8] = {5, 4, -3, 3, 2, 1, 0, -1};
        int count[8] = {0};
        struct mu_err err = {0};
        struct sampler_params p = off_params();  /* p(2) = 1.8%, p(5) = 98.2% */
        p.seed = 9;
        struct sampler *s = mk(&p, 8);
        if (!s)
                return;
        sampler_set_logit_filter(s, keep_2_and_5, NULL);
        for (int i = 0; i < 2000; i++) {
                int t = sampler_sample(s, l, &err);
                if (t >= 0 && t < 8)
                        count[t]++;
        }
        CHECK_EQ_INT(count[2] + count[5], 2000);
        CHECK(count[2] > 0 && count[5] > count[2]);
        sampler_set_logit_filter(s, mask_all, NULL);
        CHECK_EQ_INT(sampler_sample(s, l, &err), MU_EINVAL);
        sampler_set_logit_filter(s, failing_filter, NULL);
        CHECK_EQ_INT(sampler_sample(s, l, &err), MU_EFORMAT);
        CHECK_STR(err.msg, "grammar rejected everything");
        sampler_set_logit_filter(s, NULL, NULL);
        CHECK(sampler_sample(s, l, &err) >= 0);
        sampler_free(s);

        /* greedy path with the filter, and all-NaN logits */
        p.temperature = 0;
        s = mk(&p, 8);
        if (!s)
                return;
        sampler_set_logit_filter(s, keep_2_and_5, NULL);
        CHECK_EQ_INT(sampler_sample(s, l, &err), 5);
        sampler_set_logit_filter(s, NULL, NULL);
        float nan8[8] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        CHECK_EQ_INT(sampler_sample(s, nan8, &err), MU_EINVAL);
        sampler_free(s);
}

TEST(sampler_rejects_bad_params)
{
        struct mu_err err = {0};
        struct sampler_params p = sampler_default_params();
        struct sampler *s;

        CHECK(sampler_create(&p, 0, 0, &err) == NULL && err.code == MU_EINVAL);
        p.temperature = NAN;
        CHECK(sampler_create(&p, 10, 0, &err) == NULL && err.code == MU_EINVAL);
        CHECK(strstr(err.msg, "'temperature'") != NULL);
        p = sampler_default_params();
        p.repeat_penalty = 0;
        CHECK(sampler_create(&p, 10, 0, &err) == NULL && err.code == MU_EINVAL);
        p = sampler_default_params();
        p.repeat_last_n = -2;
        CHECK(sampler_create(&p, 10, 0, &err) == NULL && err.code == MU_EINVAL);
        p.repeat_last_n = -1;
        CHECK(sampler_create(&p, 10, 0, &err) == NULL && err.code == MU_EINVAL);
        s = sampler_create(&p, 10, 4096, &err);
        CHECK(s != NULL);
        if (s) {
                CHECK_EQ_INT(sampler_accept(s, 10, &err), MU_EINVAL);
                CHECK_EQ_INT(sampler_accept(s, -1, &err), MU_EINVAL);
                CHECK_EQ_INT(sampler_accept(s, 9, &err), 0);
        }
        sampler_free(s);
        sampler_free(NULL);
}

/* Exact boundaries, with probabilities that are exact in binary (4 equal
 * logits: 1/4 each), so that >= and > give different answers. */
static int kept(struct sampler_params *p, const float *l, int n, int *ids)
{
        struct mu_err err = {0};
        float probs[16];
        struct sampler *s = mk(p, n);
        if (!s)
                return -1;
        int k = sampler_candidates(s, l, ids, probs, 16, &err);
        sampler_free(s);
        return k;
}

TEST(sampler_filter_boundaries)
{
        const float eq[6] = {1, 1, 1, 1, -INFINITY, -INFINITY};
        int ids[16];
        struct sampler_params p = off_params();

        /* top_p: the prefix whose mass reaches p (>=), ties by id */
        p.top_p = 0.5f;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 2);
        CHECK(ids[0] == 0 && ids[1] == 1);
        p.top_p = 0.75f;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 3);
        p.top_p = 0.0f;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 1);
        CHECK_EQ_INT(ids[0], 0);
        /* typical_p: mass must exceed p (>); all four sit at the entropy */
        p = off_params();
        p.typical_p = 0.5f;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 3);
        CHECK(ids[0] == 0 && ids[1] == 1 && ids[2] == 2);
        /* min_p: p_i >= min_p * p_max keeps every tied maximum at 1.0 */
        p = off_params();
        p.min_p = 1.0f;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 4);
        /* top_k cuts ties by id; -inf logits are never candidates */
        p = off_params();
        p.top_k = 3;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 3);
        CHECK(ids[0] == 0 && ids[1] == 1 && ids[2] == 2);
        p.top_k = 6;
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 4);
        p.top_k = 5;  /* heap path with fewer live tokens than k */
        CHECK_EQ_INT(kept(&p, eq, 6, ids), 4);
        const float odd[6] = {NAN, 2, INFINITY, -INFINITY, 2, 1};
        p.top_k = 2;  /* NaN dropped, +inf ranks first */
        CHECK_EQ_INT(kept(&p, odd, 6, ids), 2);
        CHECK(ids[0] == 2 && ids[1] == 1);
        p.top_k = 0;
        CHECK_EQ_INT(kept(&p, odd, 6, ids), 4);
        CHECK(ids[0] == 2 && ids[1] == 1 && ids[2] == 4 && ids[3] == 5);
}
