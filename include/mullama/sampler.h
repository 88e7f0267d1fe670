/* sampler.h -- turns one vector of logits into one token id.
 *
 * Parameters carry Ollama's option names and defaults (api.Options); the
 * pipeline runs in llama.cpp's default order:
 *
 *   logits --copy--> penalties (repeat, then presence/frequency, over the last
 *   repeat_last_n accepted tokens) --> logit filter hook (optional) -->
 *   top_k --> typical_p --> top_p --> min_p --> temperature --> draw
 *
 * top_p, typical_p and min_p see the distribution at temperature 1 (as in
 * llama.cpp); temperature only reshapes what survives them.  temperature <= 0
 * is greedy: after penalties and the filter, the largest logit wins, ties go
 * to the lowest token id; no random number is consumed.  Candidates are
 * ordered by (logit descending, id ascending) everywhere, so every filter has
 * a deterministic kept set even with tied logits.
 *
 * Rules of the filters (p is softmax of the current candidates, T = 1):
 *   top_k      k <= 0 or k >= n: off.  Keep the k first.
 *   typical_p  >= 1: off.  H = -sum p log p; order by |-log p - H| ascending
 *              (ties: id ascending); keep the shortest prefix whose mass
 *              exceeds typical_p (strictly), at least one token.
 *   top_p      >= 1: off.  Keep the shortest prefix (in logit order) whose
 *              cumulative mass reaches top_p (>=), at least one token.
 *   min_p      <= 0: off.  Keep p_i >= min_p * p_max, at least one token.
 *
 * Penalties (llama.cpp's rule): for every distinct token t among the last
 * repeat_last_n accepted tokens, seen c times,
 *   logit[t] = logit[t] > 0 ? logit[t] / repeat_penalty
 *                           : logit[t] * repeat_penalty;
 *   logit[t] -= c * frequency_penalty + presence_penalty;
 *
 * Random numbers: xoshiro256** (Blackman and Vigna), its 256-bit state filled
 * by splitmix64 from the 64-bit seed; one draw per sampled token, a 53-bit
 * uniform double in [0, 1).  seed -1 takes a seed from getrandom() (or the
 * clock and pid when that fails); any other value makes the output a function
 * of (seed, logits, accepted tokens) only.
 *
 * Cost per token: one pass over the vocabulary for the copy and one for the
 * candidates.  With top_k set, the second pass keeps a k-element heap (one
 * float comparison for most tokens) and only the k survivors are sorted; the
 * full vocabulary is never sorted.  With top_k off, top_p sorts only as far
 * as its prefix reaches (growing quickselect partitions); typical_p sorts its
 * candidates.  Every buffer is allocated once in sampler_create(); sampling
 * allocates nothing.
 *
 * A struct sampler is owned by one session and is not thread-safe. */
#ifndef MULLAMA_SAMPLER_H
#define MULLAMA_SAMPLER_H

#include <stdint.h>

#include "mullama/mullama.h"

struct sampler_params {
        float temperature;        /* 0.8;  <= 0: greedy */
        int top_k;                /* 40;   <= 0: off */
        float top_p;              /* 0.9;  >= 1: off */
        float min_p;              /* 0.0;  <= 0: off */
        float typical_p;          /* 1.0;  >= 1: off */
        float repeat_penalty;     /* 1.0;  1: off, must be > 0 */
        int repeat_last_n;        /* 64;   0: off, -1: n_ctx */
        float presence_penalty;   /* 0.0 */
        float frequency_penalty;  /* 0.0 */
        int64_t seed;             /* -1: random */
};

/* Ollama's defaults (api/types.go DefaultOptions, as summarized in
 * shared/reference/ollama-compat.md section 1.3). */
struct sampler_params sampler_default_params(void);

struct sampler;

/* Optional hook that may mask logits before the filters run (for a later
 * JSON grammar): it gets the penalized logits of the whole vocabulary and may
 * set any of them to -INFINITY (or change them).  Return 0, or a negative
 * MU_E* code (with err filled) to make sampler_sample() fail with it. */
typedef int (*sampler_logit_filter)(void *user, float *logits, int n_vocab,
                                    struct mu_err *err);

/* n_vocab > 0; n_ctx is only used when repeat_last_n == -1 (then it must be
 * > 0).  Returns NULL with err filled (MU_EINVAL) on bad parameters. */
struct sampler *sampler_create(const struct sampler_params *p, int n_vocab,
                               int n_ctx, struct mu_err *err);
void sampler_free(struct sampler *s);  /* NULL is a no-op */

/* Sample one token from logits[n_vocab] (not modified).  Returns the token
 * id (>= 0), or a negative MU_E* code: MU_EINVAL when no token is left (all
 * logits -inf or NaN, or the filter masked them all), or the filter's code.
 * Does not record the token: call sampler_accept() with what was used. */
int sampler_sample(struct sampler *s, const float *logits, struct mu_err *err);

/* The candidates sampler_sample() would draw from, after every filter and
 * the temperature: up to max ids with their probabilities, most probable
 * first (ties: lowest id first).  Returns how many survived (may exceed max;
 * only max are written), or a negative MU_E* code as sampler_sample().
 * Consumes no random number.  For tests, logprobs and debugging. */
int sampler_candidates(struct sampler *s, const float *logits, int *ids,
                       float *probs, int max, struct mu_err *err);

/* Record a token (prompt or generated) in the penalty history.  Returns
 * MU_EINVAL for an id outside [0, n_vocab). */
int sampler_accept(struct sampler *s, int token, struct mu_err *err);

/* Forget the history and rewind the random stream to its seed, so that the
 * same inputs give the same tokens again. */
void sampler_reset(struct sampler *s);

/* Install (fn != NULL) or remove (fn == NULL) the logit filter hook. */
void sampler_set_logit_filter(struct sampler *s, sampler_logit_filter fn,
                              void *user);

/* The 64-bit seed in use (the drawn one when params.seed was -1). */
uint64_t sampler_seed(const struct sampler *s);

#endif
