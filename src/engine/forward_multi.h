/* forward_multi.h -- one forward pass over one token of each of several
 * sessions of the same model (forward_multi.c), and what the decode group
 * (decode_group.c) keeps for it.  Internal to the engine. */
#ifndef MULLAMA_ENGINE_FORWARD_MULTI_H
#define MULLAMA_ENGINE_FORWARD_MULTI_H

#include "engine/engine.h"

/* Scratch for up to max rows (one per sequence), its own thread pool and
 * matmul workspace.  Driven by one thread at a time. */
struct multi_ws {
        struct model *m;
        int max;
        struct mu_pool *pool;
        struct matmul_ws *ws;
        const struct cpu_kernels *k;
        float *scratch;
        float *x, *xn, *tmp, *q, *kx, *vx, *att, *gate, *up, *qkv, *logits, *rope_cs;
        /* attention: per thread */
        float *att_acc, *att_vrow, *att_qf;
        void *att_q;
        size_t att_q_stride;
};

int multi_ws_init(struct multi_ws *w, struct model *m, int max, int n_threads,
                  struct mu_err *err);
void multi_ws_release(struct multi_ws *w);

/* Evaluate toks[i] at position ss[i]->n_past in session ss[i] for i < n <=
 * w->max (distinct CPU-only sessions of w->m, each with room for one more
 * position; checked by the caller), leave each one's logits in its
 * s->logits and advance its n_past. */
void forward_multi(struct multi_ws *w, struct session *const *ss, const int32_t *toks, int n);

#endif
