/* runner.h -- a loaded model ready to chat: the model, its tokenizer, one
 * session (KV cache) and a sampler, plus the Ollama options that drive them.
 * `run` (one-shot and REPL), `serve` and `bench --pg` use it.
 *
 * Conversation reuse: runner_generate() takes the whole prompt text (the
 * conversation rendered by the chat template); it tokenizes it, keeps the
 * longest prefix of tokens already in the KV cache, evaluates only the rest,
 * then samples.  So turn N of a chat costs only its new tokens.  The tokens
 * generated are appended to the cache too, so the next turn's prompt, which
 * repeats them, matches.
 *
 * Options follow Ollama's names and defaults (api/types.go DefaultOptions):
 * num_ctx (0: min(training context, 4096)), num_predict -1, num_keep 4,
 * temperature 0.8, top_k 40, top_p 0.9, min_p 0, typical_p 1, repeat_penalty
 * 1, repeat_last_n 64, presence/frequency_penalty 0, seed -1, stop [],
 * num_batch 512, num_thread 0 (physical cores), num_gpu -1 (CPU for now).
 * The KV cache type comes from MULLAMA_KV_CACHE_TYPE or OLLAMA_KV_CACHE_TYPE
 * (f16 default, q8_0, f32), read by runner_options_init().
 * Precedence is the caller's: defaults, then the Modelfile's params layer,
 * then the request / command line. */
#ifndef MULLAMA_RUNNER_H
#define MULLAMA_RUNNER_H

#include <stdint.h>

#include "mullama/mullama.h"
#include "mullama/template.h"

#define RUNNER_MAX_STOP 16

struct runner_options {
        int num_ctx, num_predict, num_keep, num_batch, num_thread, num_gpu;
        int top_k, repeat_last_n;
        float temperature, top_p, min_p, typical_p, repeat_penalty;
        float presence_penalty, frequency_penalty;
        int64_t seed;
        char *stop[RUNNER_MAX_STOP];  /* owned copies */
        int n_stop;
        int kv_type;                  /* MU_TYPE_F16 (default) / Q8_0 / F32 */
        int shift;                    /* 1: shift the context when full */
};

void runner_options_init(struct runner_options *o);     /* Ollama defaults */
void runner_options_release(struct runner_options *o);
void runner_options_copy(struct runner_options *dst, const struct runner_options *src);
/* Set one option from text ("temperature", "0.7"); "stop" appends.  Unknown
 * names and bad values are MU_EINVAL with a message; deprecated Ollama
 * options are accepted and ignored with a warning. */
int runner_options_set(struct runner_options *o, const char *key, const char *value,
                       struct mu_err *err);
/* Apply a JSON object of options (a Modelfile params layer or an API
 * "options" object): numbers, booleans, strings, and "stop" as a string or
 * an array of strings. */
int runner_options_apply_json(struct runner_options *o, const char *json,
                              struct mu_err *err);

struct runner;

/* Load model_path and create the session for o (num_ctx, threads, batch,
 * kv type).  Progress (a spinner after 1 s) goes to stderr when show_progress
 * is set and stderr is a terminal; show_progress 2 (--verbose) also prints
 * the memory estimate (weights + KV cache + scratch) before the session's
 * buffers are allocated. */
int runner_open(struct runner **out, const char *model_path,
                const struct runner_options *o, int show_progress, struct mu_err *err);
void runner_close(struct runner *r);  /* NULL is a no-op */

/* A second runner on base's model and tokenizer (weights shared, its own
 * session and KV cache), for parallel slots of a server.  base must outlive
 * it; the two may generate at the same time from different threads. */
int runner_open_shared(struct runner **out, struct runner *base,
                       const struct runner_options *o, struct mu_err *err);
/* Estimated bytes: weights + this runner's session (a shared runner counts
 * only its session).  runner_weights_bytes: the weights alone. */
uint64_t runner_memory_bytes(const struct runner *r);
uint64_t runner_weights_bytes(const struct runner *r);
/* Device memory of the model's Vulkan offload (0: all on the CPU). */
uint64_t runner_gpu_bytes(const struct runner *r);

/* Re-create the session if o changes num_ctx / threads / batch / kv type. */
int runner_configure(struct runner *r, const struct runner_options *o,
                     struct mu_err *err);

const char *runner_arch(const struct runner *r);
int runner_n_ctx(const struct runner *r);
const char *runner_chat_template(const struct runner *r);  /* GGUF's, or NULL */

/* Render a conversation to prompt text.  go_template (a Modelfile TEMPLATE)
 * wins over the GGUF's Jinja template; with neither, the last user message
 * is used as is (what Ollama does for a model without a template).  raw: the
 * last user message unchanged.  Caller frees *out. */
int runner_render(struct runner *r, const char *go_template, const char *system,
                  const struct chat_msg *msgs, int n, int raw, char **out,
                  struct mu_err *err);

struct runner_stats {
        int64_t load_ns;           /* model load (runner_open) */
        int prompt_eval_count;     /* tokens evaluated for the prompt (new ones) */
        int prompt_tokens;         /* prompt length in tokens (incl. reused) */
        int64_t prompt_eval_ns;
        int eval_count;            /* tokens generated */
        int64_t eval_ns;
        int64_t total_ns;
        const char *done_reason;   /* "stop", "length", "canceled" */
        int ctx_shifted;           /* tokens dropped by context shifts while
                                    * generating (0: the context never filled) */
};

/* Called with each piece of generated text (complete UTF-8, stop strings
 * never included).  Return nonzero to stop generating. */
typedef int (*runner_piece_fn)(void *ud, const char *text, size_t len);

/* Generate a reply to prompt (text after templating).  format_json: only
 * tokens that keep the output a valid JSON prefix are sampled, and
 * generation ends when the JSON value is complete.  cancel may be NULL.
 * Returns 0 (stats filled, also on cancel with done_reason "canceled"), or
 * MU_E* (MU_ERANGE when the prompt does not fit the context). */
int runner_generate(struct runner *r, const char *prompt, const struct runner_options *o,
                    int format_json, volatile int *cancel, runner_piece_fn cb, void *ud,
                    struct runner_stats *st, struct mu_err *err);

/* Tokenize text as runner_generate does (BOS, special tokens parsed).
 * Caller frees *out. */
int runner_tokenize(struct runner *r, const char *text, int32_t **out, int *n,
                    struct mu_err *err);

/* Forget the conversation (empty KV cache). */
void runner_reset(struct runner *r);

/* Print Ollama's --verbose timing lines to f. */
void runner_stats_print(FILE *f, const struct runner_stats *st);

/* Embed text (tokenized with BOS, no chat template): a vector of
 * runner_n_embd() floats, mean-pooled and normalized.  truncate: cut input
 * longer than the context instead of failing with MU_ERANGE.  *n_tokens gets
 * the tokens evaluated.  Clears the conversation. */
int runner_n_embd(const struct runner *r);
int runner_embed(struct runner *r, const char *text, const struct runner_options *o,
                 int truncate, float *out, int *n_tokens, volatile int *cancel,
                 struct mu_err *err);

/* JSON mode (format_json) also follows this schema (json_schema.h); NULL
 * for plain JSON.  Borrowed until cleared. */
struct json_schema;
void runner_set_json_schema(struct runner *r, const struct json_schema *s);

/* Batched decoding of parallel slots (model.h, decode groups): a group on
 * base's model for up to max_seqs runners, with its own n_threads pool
 * (MU_EUNSUPPORTED when the model has blocks on a GPU).  A runner given a
 * group evaluates each generated token in the group's shared step instead
 * of alone (the prompt still runs alone).  Free with decode_group_free()
 * after the runners stop generating.  NULL: decode alone. */
struct decode_group;
int runner_group_create(struct runner *base, int max_seqs, int n_threads,
                        struct decode_group **out, struct mu_err *err);
void runner_set_group(struct runner *r, struct decode_group *g);

#endif
