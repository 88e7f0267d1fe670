/* decode_group.c -- sessions of one model that decode together (see
 * model.h): the step loop of a server's parallel slots.
 *
 * Each slot's thread keeps its own generation loop (sampler, stop strings,
 * streaming, cancellation) and, instead of evaluating its next token alone,
 * hands it to decode_group_eval() and waits.  A step runs when every joined
 * session has handed in its token: the thread that completes the set runs
 * one forward_multi() over all of them (in chunks of the group's maximum) on
 * the group's pool, then wakes the others.  A session that is still in its
 * prompt, or sampling, is not joined or has not handed in yet; a session
 * that stops generating leaves, which may complete the set for the others.
 * So nobody waits for more than the slowest slot's sampling time. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward_multi.h"
#include "mullama/model.h"

struct dg_entry {
        struct dg_entry *next;
        struct session *s;
        int32_t tok;
        int rc, done;
        struct mu_err err;
};

struct decode_group {
        struct multi_ws w;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int n_joined, n_pending, running;
        struct dg_entry *pending;
        uint64_t steps, tokens;
};

int decode_group_create(struct decode_group **out, struct model *m, int max_seqs,
                        int n_threads, struct mu_err *err)
{
        struct decode_group *g;
        int rc;

        *out = NULL;
        if (m->vk)
                return mu_fail(err, MU_EUNSUPPORTED,
                               "batched decoding runs on the CPU only (the model is offloaded)");
        g = mu_xcalloc(1, sizeof(*g));
        if ((rc = multi_ws_init(&g->w, m, max_seqs, n_threads, err)) < 0) {
                free(g);
                return rc;
        }
        pthread_mutex_init(&g->mu, NULL);
        pthread_cond_init(&g->cv, NULL);
        *out = g;
        return 0;
}

void decode_group_free(struct decode_group *g)
{
        if (!g)
                return;
        multi_ws_release(&g->w);
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
}

/* The checks session_eval() makes for one token. */
static int check_one(const struct decode_group *g, const struct session *s, int32_t tok,
                     struct mu_err *err)
{
        if (s->m != g->w.m)
                return mu_fail(err, MU_EINVAL, "session of another model in a decode group");
        if (s->n_past + 1 > s->kv.n_ctx)
                return mu_fail(err, MU_ERANGE, "context full: %d tokens past + 1 new exceed "
                               "the context size %d", s->n_past, s->kv.n_ctx);
        if (tok < 0 || tok >= s->m->hp.n_vocab)
                return mu_fail(err, MU_EINVAL, "token id %d is outside the vocabulary "
                               "(%d tokens)", tok, s->m->hp.n_vocab);
        return 0;
}

/* Rows per forward pass for n ready rows: all of them (up to max).  Below
 * GEMM_MIN_TOK (64) rows the matmuls go to the types' small-batch kernels
 * (quant_fns.mm), whose results have the one-row path's bits for every
 * quantized type but Q4_K (tokens in whole groups of 4 sum as its 4-token
 * dot product; the float types' multi-token path rounds differently too).
 * Measured (bench_decode_group, 2 threads, 16 steps, A/B on the shared VM,
 * 2026-12-03, with the mm kernels' prefetch), batched against one at a
 * time, 2 / 3 / 5 rows: TinyLlama Q4_0 1.41x / 1.62x / 1.98x, Q4_K_M
 * 1.21x / 1.68x / 2.27x, SmolLM2 Q4_1 1.47x / 1.61x / 1.70x; the plan
 * before (one at a time below 4 rows, passes of 4 below 8) gave 0.98x /
 * 1.00-1.06x / 1.42-1.82x. */
static int pass_rows(int n, int max)
{
        return n < max ? n : max;
}

int decode_group_eval_multi(struct decode_group *g, struct session *const *ss,
                            const int32_t *toks, int n, int *rcs, struct mu_err *errs)
{
        struct session *run[64];
        int32_t rtok[64];
        int nr = 0, first = 0;

        for (int i = 0; i < n; i++) {
                struct mu_err *e = errs ? &errs[i] : NULL;
                int rc = check_one(g, ss[i], toks[i], e);
                for (int k = 0; k < i && !rc; k++)
                        if (ss[k] == ss[i])
                                rc = mu_fail(e, MU_EINVAL, "a session twice in one decode step");
                if (!rc && ss[i]->vks) /* device blocks: this one goes alone */
                        rc = session_eval(ss[i], &toks[i], 1, e);
                else if (!rc) {
                        run[nr] = ss[i];
                        rtok[nr++] = toks[i];
                }
                if (rcs)
                        rcs[i] = rc;
                if (rc && !first)
                        first = rc;
                if (nr == 64 || (i == n - 1 && nr)) {
                        for (int d = 0; d < nr;) {
                                int k = pass_rows(nr - d, g->w.max);
                                forward_multi(&g->w, run + d, rtok + d, k);
                                d += k;
                        }
                        __atomic_add_fetch(&g->tokens, (uint64_t)nr, __ATOMIC_RELAXED);
                        nr = 0;
                }
        }
        __atomic_add_fetch(&g->steps, 1, __ATOMIC_RELAXED);
        return first;
}

void decode_group_join(struct decode_group *g)
{
        pthread_mutex_lock(&g->mu);
        g->n_joined++;
        pthread_mutex_unlock(&g->mu);
}

void decode_group_leave(struct decode_group *g)
{
        pthread_mutex_lock(&g->mu);
        g->n_joined--;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
}

/* Run the pending entries (g->mu held on entry and on return). */
static void run_step(struct decode_group *g)
{
        struct dg_entry *list = g->pending;
        struct session *ss[64];
        int32_t toks[64];
        int rcs[64];
        struct mu_err errs[64];

        g->pending = NULL;
        g->n_pending = 0;
        g->running = 1;
        pthread_mutex_unlock(&g->mu);
        while (list) {
                struct dg_entry *e[64];
                int n = 0;
                for (; list && n < 64; list = list->next) {
                        e[n] = list;
                        ss[n] = list->s;
                        toks[n++] = list->tok;
                }
                memset(errs, 0, sizeof(errs[0]) * (size_t)n);
                decode_group_eval_multi(g, ss, toks, n, rcs, errs);
                pthread_mutex_lock(&g->mu);
                for (int i = 0; i < n; i++) {
                        e[i]->rc = rcs[i];
                        e[i]->err = errs[i];
                        e[i]->done = 1;
                }
                pthread_mutex_unlock(&g->mu);
        }
        pthread_mutex_lock(&g->mu);
        g->running = 0;
        pthread_cond_broadcast(&g->cv);
}

int decode_group_eval(struct decode_group *g, struct session *s, int32_t tok,
                      struct mu_err *err)
{
        struct dg_entry e = {0};

        e.s = s;
        e.tok = tok;
        pthread_mutex_lock(&g->mu);
        e.next = g->pending;
        g->pending = &e;
        g->n_pending++;
        while (!e.done) {
                if (!g->running && g->n_pending >= g->n_joined)
                        run_step(g);
                else
                        pthread_cond_wait(&g->cv, &g->mu);
        }
        pthread_mutex_unlock(&g->mu);
        if (e.rc && err)
                *err = e.err;
        return e.rc;
}

void decode_group_stats(struct decode_group *g, uint64_t *steps, uint64_t *tokens)
{
        *steps = __atomic_load_n(&g->steps, __ATOMIC_RELAXED);
        *tokens = __atomic_load_n(&g->tokens, __ATOMIC_RELAXED);
}
