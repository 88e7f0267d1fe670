/* sampler.c -- logits to token id: penalties, top_k, typical_p, top_p,
 * min_p, temperature, seeded draw (the contract is in mullama/sampler.h).
 *
 * Data layout, all allocated once in sampler_create() from n_vocab:
 *   work[n_vocab]   float copy of the logits; penalties and the filter hook
 *                   write here, the caller's array is never touched
 *   cand[n_cand]    surviving (logit, id) pairs; cand[0, n_sorted) are the
 *                   n_sorted best candidates in order (logit desc, id asc)
 *                   and every later one ranks after cand[n_sorted - 1]
 *   tmp, kbuf, prob scratch for typical_p (reordering, keys, probabilities)
 *   counts[n_vocab] occurrence counts for penalties; all zero between calls
 *   hist[window]    ring of the last accepted tokens
 *
 * With 0 < top_k < n_vocab, build_top_k() fills cand straight from work
 * through a k-element heap (sorted at the end) instead of listing the whole
 * vocabulary.
 *
 * The sorted-prefix invariant lets top_k and top_p sort only what they keep:
 * cand_prefix(s, m) grows the prefix with a quickselect over the unsorted
 * tail followed by a sort of the m - n_sorted selected ones.  Filters that
 * keep a subset by compacting in place (min_p) preserve the invariant; one
 * that reorders (typical_p) resets n_sorted to 0.
 *
 * Probabilities are computed in double from max-subtracted logits. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mullama/sampler.h"

struct cand {
        float logit;
        int32_t id;
};

struct keyed {
        double key;
        int32_t id;
        int32_t pos;  /* index into cand */
};

struct sampler {
        struct sampler_params p;
        int n_vocab;
        int window;          /* effective repeat_last_n; 0 = no history */
        int *hist;           /* [window] ring */
        int n_hist, hist_next;
        int *counts;         /* [n_vocab] */
        float *work;         /* [n_vocab] */
        struct cand *cand;   /* [n_vocab] */
        struct cand *tmp;    /* [n_vocab] */
        struct keyed *kbuf;  /* [n_vocab] */
        double *prob;        /* [n_vocab] */
        int n_cand, n_sorted;
        uint64_t seed;
        uint64_t rng[4];     /* xoshiro256** state */
        sampler_logit_filter filter;
        void *filter_user;
};

struct sampler_params sampler_default_params(void)
{
        struct sampler_params p = {
                .temperature = 0.8f,
                .top_k = 40,
                .top_p = 0.9f,
                .min_p = 0.0f,
                .typical_p = 1.0f,
                .repeat_penalty = 1.0f,
                .repeat_last_n = 64,
                .presence_penalty = 0.0f,
                .frequency_penalty = 0.0f,
                .seed = -1,
        };
        return p;
}

/* ---- random numbers: splitmix64 seeding, xoshiro256** stream ------------ */

static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static void rng_seed(uint64_t st[4], uint64_t seed)
{
        uint64_t x = seed;
        for (int i = 0; i < 4; i++)
                st[i] = splitmix64(&x);  /* distinct outputs: never all zero */
}

static uint64_t rng_next(uint64_t st[4])
{
        uint64_t r = rotl64(st[1] * 5, 7) * 9;
        uint64_t t = st[1] << 17;
        st[2] ^= st[0];
        st[3] ^= st[1];
        st[1] ^= st[2];
        st[0] ^= st[3];
        st[2] ^= t;
        st[3] = rotl64(st[3], 45);
        return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t st[4])
{
        return (double)(rng_next(st) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t random_seed(void)
{
        uint64_t v = 0;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
                return v;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)getpid() << 32;
        x ^= (uint64_t)(uintptr_t)&v;
        return splitmix64(&x);
}

/* ---- create / free ------------------------------------------------------ */

static int check_float(struct mu_err *err, const char *name, float v)
{
        if (isnan(v))
                return mu_fail(err, MU_EINVAL, "sampler parameter '%s' is not a number", name);
        return 0;
}

struct sampler *sampler_create(const struct sampler_params *p, int n_vocab,
                               int n_ctx, struct mu_err *err)
{
        struct sampler *s;
        int window;

        if (n_vocab <= 0) {
                mu_fail(err, MU_EINVAL, "sampler needs a vocabulary, got n_vocab %d", n_vocab);
                return NULL;
        }
        if (check_float(err, "temperature", p->temperature) ||
            check_float(err, "top_p", p->top_p) ||
            check_float(err, "min_p", p->min_p) ||
            check_float(err, "typical_p", p->typical_p) ||
            check_float(err, "repeat_penalty", p->repeat_penalty) ||
            check_float(err, "presence_penalty", p->presence_penalty) ||
            check_float(err, "frequency_penalty", p->frequency_penalty))
                return NULL;
        if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty)) {
                mu_fail(err, MU_EINVAL, "sampler parameter 'repeat_penalty' must be > 0, got %g",
                        (double)p->repeat_penalty);
                return NULL;
        }
        if (isinf(p->presence_penalty) || isinf(p->frequency_penalty)) {
                mu_fail(err, MU_EINVAL, "sampler penalties must be finite");
                return NULL;
        }
        if (p->repeat_last_n < -1) {
                mu_fail(err, MU_EINVAL, "sampler parameter 'repeat_last_n' must be >= -1, got %d",
                        p->repeat_last_n);
                return NULL;
        }
        window = p->repeat_last_n;
        if (window == -1) {
                if (n_ctx <= 0) {
                        mu_fail(err, MU_EINVAL, "repeat_last_n -1 needs a context size, got %d", n_ctx);
                        return NULL;
                }
                window = n_ctx;
        }

        s = mu_xcalloc(1, sizeof *s);
        s->p = *p;
        s->n_vocab = n_vocab;
        s->window = window;
        s->hist = window > 0 ? mu_xcalloc((size_t)window, sizeof *s->hist) : NULL;
        s->counts = mu_xcalloc((size_t)n_vocab, sizeof *s->counts);
        s->work = mu_xmalloc((size_t)n_vocab * sizeof *s->work);
        s->cand = mu_xmalloc((size_t)n_vocab * sizeof *s->cand);
        s->tmp = mu_xmalloc((size_t)n_vocab * sizeof *s->tmp);
        s->kbuf = mu_xmalloc((size_t)n_vocab * sizeof *s->kbuf);
        s->prob = mu_xmalloc((size_t)n_vocab * sizeof *s->prob);
        s->seed = p->seed == -1 ? random_seed() : (uint64_t)p->seed;
        rng_seed(s->rng, s->seed);
        return s;
}

void sampler_free(struct sampler *s)
{
        if (!s)
                return;
        free(s->hist);
        free(s->counts);
        free(s->work);
        free(s->cand);
        free(s->tmp);
        free(s->kbuf);
        free(s->prob);
        free(s);
}

void sampler_reset(struct sampler *s)
{
        s->n_hist = 0;
        s->hist_next = 0;
        rng_seed(s->rng, s->seed);
}

void sampler_set_logit_filter(struct sampler *s, sampler_logit_filter fn, void *user)
{
        s->filter = fn;
        s->filter_user = fn ? user : NULL;
}

uint64_t sampler_seed(const struct sampler *s)
{
        return s->seed;
}

int sampler_accept(struct sampler *s, int token, struct mu_err *err)
{
        if (token < 0 || token >= s->n_vocab)
                return mu_fail(err, MU_EINVAL, "token %d outside the vocabulary (%d tokens)",
                               token, s->n_vocab);
        if (s->window == 0)
                return 0;
        s->hist[s->hist_next] = token;
        s->hist_next = (s->hist_next + 1) % s->window;
        if (s->n_hist < s->window)
                s->n_hist++;
        return 0;
}

/* ---- candidate ordering -------------------------------------------------- */

/* a ranks before b: larger logit, then smaller id (a total order). */
static int cand_before(const struct cand *a, const struct cand *b)
{
        return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cand_cmp(const void *pa, const void *pb)
{
        const struct cand *a = pa, *b = pb;
        if (cand_before(a, b))
                return -1;
        return cand_before(b, a) ? 1 : 0;
}

static void cand_swap(struct cand *a, struct cand *b)
{
        struct cand t = *a;
        *a = *b;
        *b = t;
}

/* Rearrange a[0, n) so that a[0, k) hold the k best (in any order),
 * 0 < k < n.  Quickselect with a median-of-three pivot and a Lomuto
 * partition; after 64 rounds (a pathological input) it sorts the rest. */
static void cand_select(struct cand *a, size_t n, size_t k)
{
        size_t lo = 0, hi = n;
        int rounds = 0;

        while (hi - lo > 16) {
                size_t mid = lo + (hi - lo) / 2, store = lo;
                if (++rounds > 64)
                        break;
                /* median of a[lo], a[mid], a[hi-1] goes to a[hi-1] */
                if (cand_before(&a[mid], &a[lo]))
                        cand_swap(&a[mid], &a[lo]);
                if (cand_before(&a[hi - 1], &a[lo]))
                        cand_swap(&a[hi - 1], &a[lo]);
                if (cand_before(&a[mid], &a[hi - 1]))
                        cand_swap(&a[mid], &a[hi - 1]);
                struct cand pv = a[hi - 1];
                for (size_t x = lo; x < hi - 1; x++)
                        if (cand_before(&a[x], &pv))
                                cand_swap(&a[x], &a[store++]);
                cand_swap(&a[store], &a[hi - 1]);
                /* a[lo, store) rank before the pivot, a[store] is the pivot */
                if (store == k || store + 1 == k)
                        return;
                if (k < store)
                        hi = store;
                else
                        lo = store + 1;
        }
        qsort(a + lo, hi - lo, sizeof *a, cand_cmp);
}

/* Make cand[0, m) the m best candidates, in order. */
static void cand_prefix(struct sampler *s, int m)
{
        if (m > s->n_cand)
                m = s->n_cand;
        if (m <= s->n_sorted)
                return;
        if (m == 1) {  /* just the best: a scan, no partitioning */
                int best = 0;
                for (int i = 1; i < s->n_cand; i++)
                        if (cand_before(&s->cand[i], &s->cand[best]))
                                best = i;
                cand_swap(&s->cand[0], &s->cand[best]);
                s->n_sorted = 1;
                return;
        }
        struct cand *tail = s->cand + s->n_sorted;
        size_t n_tail = (size_t)(s->n_cand - s->n_sorted);
        size_t want = (size_t)(m - s->n_sorted);
        if (want < n_tail)
                cand_select(tail, n_tail, want);
        qsort(tail, want, sizeof *tail, cand_cmp);
        s->n_sorted = m;
}

static float cand_max_logit(const struct sampler *s)
{
        float max;
        if (s->n_sorted > 0)
                return s->cand[0].logit;
        max = s->cand[0].logit;
        for (int i = 1; i < s->n_cand; i++)
                if (s->cand[i].logit > max)
                        max = s->cand[i].logit;
        return max;
}

/* ---- pipeline stages ----------------------------------------------------- */

static void apply_penalties(struct sampler *s)
{
        const struct sampler_params *p = &s->p;
        if (s->n_hist == 0 || (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f &&
                               p->frequency_penalty == 0.0f))
                return;
        for (int k = 0; k < s->n_hist; k++)
                s->counts[s->hist[k]]++;
        for (int k = 0; k < s->n_hist; k++) {
                int t = s->hist[k], c = s->counts[t];
                if (c == 0)
                        continue;  /* already done */
                s->counts[t] = 0;
                float l = s->work[t];
                if (l > 0.0f)
                        l /= p->repeat_penalty;
                else
                        l *= p->repeat_penalty;
                l -= (float)c * p->frequency_penalty + p->presence_penalty;
                s->work[t] = l;
        }
}

/* NaN and -inf never become candidates; +inf is clamped to FLT_MAX so that
 * max-subtracted exponentials stay defined. */
static void build_candidates(struct sampler *s)
{
        int n = 0;
        for (int i = 0; i < s->n_vocab; i++) {
                float l = s->work[i];
                if (isnan(l) || l == -INFINITY)
                        continue;
                if (l == INFINITY)
                        l = FLT_MAX;
                s->cand[n].logit = l;
                s->cand[n].id = i;
                n++;
        }
        s->n_cand = n;
        s->n_sorted = 0;
}

/* build_candidates() fused with top_k, for 0 < k < n_vocab: a heap of the
 * k best so far with the worst at the root, so most of the vocabulary costs
 * one float comparison and nothing is written for it.  Ids arrive in
 * ascending order, so a newcomer tied with the root ranks after it. */
static void build_top_k(struct sampler *s, int k)
{
        struct cand *h = s->cand;
        int n = 0;
        for (int i = 0; i < s->n_vocab; i++) {
                float l = s->work[i];
                if (n == k && !(l > h[0].logit))
                        continue;  /* also drops NaN */
                if (isnan(l) || l == -INFINITY)
                        continue;
                if (l == INFINITY)
                        l = FLT_MAX;
                struct cand c = {l, i};
                int j;
                if (n < k) {  /* sift up */
                        for (j = n++; j > 0 && cand_before(&h[(j - 1) / 2], &c); j = (j - 1) / 2)
                                h[j] = h[(j - 1) / 2];
                        h[j] = c;
                        continue;
                }
                for (j = 0;;) {  /* replace the root, sift down */
                        int w = 2 * j + 1;
                        if (w >= n)
                                break;
                        if (w + 1 < n && cand_before(&h[w], &h[w + 1]))
                                w++;
                        if (!cand_before(&c, &h[w]))
                                break;
                        h[j] = h[w];
                        j = w;
                }
                h[j] = c;
        }
        qsort(h, (size_t)n, sizeof *h, cand_cmp);
        s->n_cand = n;
        s->n_sorted = n;
}

static void apply_top_k(struct sampler *s)
{
        int k = s->p.top_k;
        if (k <= 0 || k >= s->n_cand)
                return;
        cand_prefix(s, k);
        s->n_cand = k;
}

static int keyed_cmp(const void *pa, const void *pb)
{
        const struct keyed *a = pa, *b = pb;
        if (a->key != b->key)
                return a->key < b->key ? -1 : 1;
        return (a->id > b->id) - (a->id < b->id);
}

static void apply_typical(struct sampler *s)
{
        double p = s->p.typical_p, max, z = 0.0, h = 0.0, cum = 0.0;
        int n = s->n_cand, keep = n;
        if (p >= 1.0 || n <= 1)
                return;
        max = cand_max_logit(s);
        for (int i = 0; i < n; i++) {
                s->prob[i] = exp((double)s->cand[i].logit - max);
                z += s->prob[i];
        }
        for (int i = 0; i < n; i++) {
                s->prob[i] /= z;
                if (s->prob[i] > 0.0)
                        h -= s->prob[i] * log(s->prob[i]);
        }
        for (int i = 0; i < n; i++) {
                double pi = s->prob[i];
                s->kbuf[i].key = pi > 0.0 ? fabs(-log(pi) - h) : INFINITY;
                s->kbuf[i].id = s->cand[i].id;
                s->kbuf[i].pos = i;
        }
        qsort(s->kbuf, (size_t)n, sizeof *s->kbuf, keyed_cmp);
        for (int i = 0; i < n; i++) {
                cum += s->prob[s->kbuf[i].pos];
                if (cum > p) {
                        keep = i + 1;
                        break;
                }
        }
        for (int i = 0; i < keep; i++)
                s->tmp[i] = s->cand[s->kbuf[i].pos];
        struct cand *t = s->cand;
        s->cand = s->tmp;
        s->tmp = t;
        s->n_cand = keep;
        s->n_sorted = 0;
}

static void apply_top_p(struct sampler *s)
{
        double p = s->p.top_p, max, z = 0.0, cum = 0.0;
        int n = s->n_cand, i = 0;
        if (p >= 1.0 || n <= 1)
                return;
        max = cand_max_logit(s);
        for (int j = 0; j < n; j++)
                z += exp((double)s->cand[j].logit - max);
        for (;;) {
                if (i == s->n_sorted)
                        cand_prefix(s, s->n_sorted < 32 ? 64 : 2 * s->n_sorted);
                cum += exp((double)s->cand[i].logit - max) / z;
                i++;
                if (cum >= p || i == n)
                        break;
        }
        s->n_cand = i;
        if (s->n_sorted > i)
                s->n_sorted = i;
}

static void apply_min_p(struct sampler *s)
{
        double p = s->p.min_p, max, logp;
        int n = s->n_cand, kept = 0, kept_sorted = 0;
        if (p <= 0.0 || n <= 1)
                return;
        cand_prefix(s, 1);  /* the best candidate always stays */
        max = s->cand[0].logit;
        logp = log(p);
        for (int i = 0; i < n; i++) {
                /* p_i >= min_p * p_max, i.e. exp(l - max) >= min_p; the
                 * log form decides all but the close calls */
                double d = (double)s->cand[i].logit - max;
                int keep = i == 0 || d >= logp + 1e-9 ||
                           (d > logp - 1e-9 && exp(d) >= p);
                if (keep) {
                        if (i < s->n_sorted)
                                kept_sorted++;
                        s->cand[kept++] = s->cand[i];
                }
        }
        s->n_cand = kept;
        s->n_sorted = kept_sorted;
}

/* ---- entry points -------------------------------------------------------- */

/* Copy, penalize, filter.  Returns 0 or a negative code. */
static int prepare(struct sampler *s, const float *logits, struct mu_err *err)
{
        memcpy(s->work, logits, (size_t)s->n_vocab * sizeof *s->work);
        apply_penalties(s);
        if (s->filter) {
                int rc = s->filter(s->filter_user, s->work, s->n_vocab, err);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

static int greedy(struct sampler *s, struct mu_err *err)
{
        int best = -1;
        for (int i = 0; i < s->n_vocab; i++) {
                float l = s->work[i];
                if (isnan(l) || l == -INFINITY)
                        continue;
                if (best < 0 || l > s->work[best])
                        best = i;
        }
        if (best < 0)
                return mu_fail(err, MU_EINVAL, "no token left to sample: every logit is masked");
        return best;
}

/* Candidates after all filters; returns their count or a negative code. */
static int run_filters(struct sampler *s, struct mu_err *err)
{
        if (s->p.top_k > 0 && s->p.top_k < s->n_vocab)
                build_top_k(s, s->p.top_k);
        else
                build_candidates(s);
        if (s->n_cand == 0)
                return mu_fail(err, MU_EINVAL, "no token left to sample: every logit is masked");
        apply_top_k(s);
        apply_typical(s);
        apply_top_p(s);
        apply_min_p(s);
        return s->n_cand;
}

/* prob[i] = exp((logit_i - max) / T) for every candidate; returns the sum. */
static double temper(struct sampler *s)
{
        double t = s->p.temperature, max = cand_max_logit(s), z = 0.0;
        for (int i = 0; i < s->n_cand; i++) {
                s->prob[i] = exp(((double)s->cand[i].logit - max) / t);
                z += s->prob[i];
        }
        return z;
}

int sampler_sample(struct sampler *s, const float *logits, struct mu_err *err)
{
        int rc = prepare(s, logits, err);
        if (rc < 0)
                return rc;
        if (!(s->p.temperature > 0.0f))
                return greedy(s, err);
        rc = run_filters(s, err);
        if (rc < 0)
                return rc;
        if (s->n_cand == 1)
                return s->cand[0].id;
        double z = temper(s);
        double target = rng_uniform(s->rng) * z, cum = 0.0;
        for (int i = 0; i < s->n_cand; i++) {
                cum += s->prob[i];
                if (target < cum)
                        return s->cand[i].id;
        }
        /* rounding left target >= the summed mass: take the last with mass */
        for (int i = s->n_cand - 1; i > 0; i--)
                if (s->prob[i] > 0.0)
                        return s->cand[i].id;
        return s->cand[0].id;
}

int sampler_candidates(struct sampler *s, const float *logits, int *ids,
                       float *probs, int max, struct mu_err *err)
{
        int rc = prepare(s, logits, err);
        if (rc < 0)
                return rc;
        if (!(s->p.temperature > 0.0f)) {
                rc = greedy(s, err);
                if (rc < 0)
                        return rc;
                if (max > 0) {
                        ids[0] = rc;
                        probs[0] = 1.0f;
                }
                return 1;
        }
        rc = run_filters(s, err);
        if (rc < 0)
                return rc;
        cand_prefix(s, s->n_cand);
        double z = temper(s);
        for (int i = 0; i < s->n_cand && i < max; i++) {
                ids[i] = s->cand[i].id;
                probs[i] = (float)(s->prob[i] / z);
        }
        return s->n_cand;
}
