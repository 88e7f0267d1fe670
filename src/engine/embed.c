/* embed.c -- sentence embeddings from a decoder model: every token's final
 * hidden state after the output norm, mean-pooled over the sequence and
 * L2-normalized (llama.cpp's --pooling mean with --embd-normalize 2, what
 * Ollama returns for a generative model).  The session's KV cache is
 * cleared first and left holding the sequence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

int session_embed(struct session *s, const int32_t *tokens, int n, float *out,
                  struct mu_err *err)
{
        const struct model_hparams *hp = &s->m->hp;
        const int E = hp->n_embd;
        double *acc;
        double norm = 0;
        int rc = 0;

        if (n <= 0)
                return mu_fail(err, MU_EINVAL, "no tokens to embed");
        if (n > s->kv.n_ctx)
                return mu_fail(err, MU_ERANGE, "input of %d tokens does not fit the context "
                               "of %d", n, s->kv.n_ctx);
        for (int i = 0; i < n; i++)
                if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
                        return mu_fail(err, MU_EINVAL, "token id %d is outside the vocabulary",
                                       tokens[i]);
        session_truncate(s, 0);
        acc = mu_xcalloc((size_t)E, sizeof(double));
        for (int i = 0; i < n && !rc; i += s->p.n_batch) {
                int nb = n - i < s->p.n_batch ? n - i : s->p.n_batch;
                if ((rc = forward_batch(s, tokens + i, nb, 0, err)) < 0)
                        break;
                s->n_past += nb;
                for (int t = 0; t < nb; t++) {
                        op_rmsnorm(s->xn, s->x + (size_t)t * E, s->m->output_norm.data, E,
                                   hp->norm_eps);
                        for (int j = 0; j < E; j++)
                                acc[j] += s->xn[j];
                }
        }
        if (!rc) {
                for (int j = 0; j < E; j++) {
                        acc[j] /= n;
                        norm += acc[j] * acc[j];
                }
                norm = norm > 0 ? 1.0 / sqrt(norm) : 0;
                for (int j = 0; j < E; j++)
                        out[j] = (float)(acc[j] * norm);
        }
        free(acc);
        return rc;
}
