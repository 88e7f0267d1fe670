/* runner.c -- model + tokenizer + session + sampler behind one chat-oriented
 * API (see runner.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mullama/gguf.h"
#include "mullama/json_prefix.h"
#include "mullama/json_schema.h"
#include "mullama/model.h"
#include "mullama/modelfile.h"
#include "mullama/runner.h"
#include "mullama/sampler.h"
#include "mullama/spinner.h"
#include "mullama/stop.h"
#include "mullama/tokenizer.h"
#include "mullama/types.h"

struct runner {
        struct model *model;
        struct tokenizer *tok;
        struct session *sess;
        struct session_params sp;
        int32_t *cache;        /* tokens in the KV cache, in order */
        int n_cache;
        int n_vocab;
        char **pieces;         /* token bytes, built on first JSON-mode use */
        size_t *piece_len;
        int64_t load_ns;
        int shared;            /* model and tokenizer borrowed from another runner */
        const struct json_schema *schema;  /* JSON mode: also this schema (borrowed) */
        struct decode_group *group;  /* decode steps batched with other slots (borrowed) */
};

/* ---- options -------------------------------------------------------------- */

void runner_options_init(struct runner_options *o)
{
        memset(o, 0, sizeof(*o));
        o->num_ctx = 0;
        o->num_predict = -1;
        o->num_keep = 4;
        o->num_batch = 512;
        o->num_thread = 0;
        o->num_gpu = -1;
        o->top_k = 40;
        o->repeat_last_n = 64;
        o->temperature = 0.8f;
        o->top_p = 0.9f;
        o->min_p = 0.0f;
        o->typical_p = 1.0f;
        o->repeat_penalty = 1.0f;
        o->seed = -1;
        o->kv_type = MU_TYPE_F16;
        o->shift = 1;
        /* the KV cache type is a server setting in Ollama (environment) */
        {
                const char *kv = getenv("MULLAMA_KV_CACHE_TYPE");
                if (!kv || !*kv)
                        kv = getenv("OLLAMA_KV_CACHE_TYPE");
                if (kv && *kv) {
                        int t = mu_type_from_name(kv);
                        if (t == MU_TYPE_F16 || t == MU_TYPE_Q8_0 || t == MU_TYPE_F32)
                                o->kv_type = t;
                        else
                                MU_LOG_WARN("KV cache type '%s' is not supported (f16, q8_0, "
                                            "f32): using f16", kv);
                }
        }
}

void runner_options_release(struct runner_options *o)
{
        for (int i = 0; i < o->n_stop; i++)
                free(o->stop[i]);
        o->n_stop = 0;
}

void runner_options_copy(struct runner_options *dst, const struct runner_options *src)
{
        *dst = *src;
        for (int i = 0; i < src->n_stop; i++)
                dst->stop[i] = mu_xstrdup(src->stop[i]);
}

struct opt_field {
        const char *name;
        size_t off;
        char kind; /* i int, f float, l int64, b bool-as-int */
};

#define OF(n, k) {#n, offsetof(struct runner_options, n), k}
static const struct opt_field fields[] = {
        OF(num_ctx, 'i'), OF(num_predict, 'i'), OF(num_keep, 'i'), OF(num_batch, 'i'),
        OF(num_thread, 'i'), OF(num_gpu, 'i'), OF(top_k, 'i'), OF(repeat_last_n, 'i'),
        OF(temperature, 'f'), OF(top_p, 'f'), OF(min_p, 'f'), OF(typical_p, 'f'),
        OF(repeat_penalty, 'f'), OF(presence_penalty, 'f'), OF(frequency_penalty, 'f'),
        OF(seed, 'l'),
};

static int add_stop(struct runner_options *o, const char *s, struct mu_err *err)
{
        if (o->n_stop >= RUNNER_MAX_STOP)
                return mu_fail(err, MU_EINVAL, "too many stop strings (max %d)",
                               RUNNER_MAX_STOP);
        if (!*s)
                return 0;
        o->stop[o->n_stop++] = mu_xstrdup(s);
        return 0;
}

int runner_options_set(struct runner_options *o, const char *key, const char *value,
                       struct mu_err *err)
{
        enum modelfile_ptype type;
        int deprecated = 0;
        char *end;

        if (!strcmp(key, "stop"))
                return add_stop(o, value, err);
        if (modelfile_param_type(key, &type, &deprecated) != 0)
                return mu_fail(err, MU_EINVAL, "unknown parameter '%s'", key);
        if (deprecated) {
                MU_LOG_WARN("parameter '%s' is deprecated and ignored", key);
                return 0;
        }
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                if (strcmp(fields[i].name, key))
                        continue;
                char *dst = (char *)o + fields[i].off;
                if (fields[i].kind == 'f') {
                        float v = strtof(value, &end);
                        if (end == value || *end)
                                return mu_fail(err, MU_EINVAL,
                                               "parameter '%s' expects a number, got '%s'",
                                               key, value);
                        memcpy(dst, &v, sizeof(v));
                } else {
                        long long v = strtoll(value, &end, 10);
                        if (end == value || *end)
                                return mu_fail(err, MU_EINVAL,
                                               "parameter '%s' expects an integer, got '%s'",
                                               key, value);
                        if (fields[i].kind == 'l') {
                                int64_t x = v;
                                memcpy(dst, &x, sizeof(x));
                        } else {
                                int x = (int)v;
                                memcpy(dst, &x, sizeof(x));
                        }
                }
                return 0;
        }
        /* valid Ollama parameter we do not act on (use_mmap, main_gpu, ...) */
        MU_LOG_DEBUG("parameter '%s' has no effect here", key);
        return 0;
}

int runner_options_apply_json(struct runner_options *o, const char *json,
                              struct mu_err *err)
{
        cJSON *root = cJSON_Parse(json), *it;
        char buf[64];
        int rc = 0;

        if (!root || !cJSON_IsObject(root)) {
                cJSON_Delete(root);
                return mu_fail(err, MU_EFORMAT, "options must be a JSON object");
        }
        cJSON_ArrayForEach(it, root)
        {
                const char *k = it->string;
                if (!strcmp(k, "stop")) {
                        /* a new stop list replaces the old one */
                        runner_options_release(o);
                        if (cJSON_IsString(it))
                                rc = add_stop(o, it->valuestring, err);
                        else if (cJSON_IsArray(it)) {
                                cJSON *s;
                                cJSON_ArrayForEach(s, it)
                                {
                                        if (!cJSON_IsString(s)) {
                                                rc = mu_fail(err, MU_EINVAL,
                                                             "stop must hold strings");
                                                break;
                                        }
                                        if ((rc = add_stop(o, s->valuestring, err)))
                                                break;
                                }
                        } else if (!cJSON_IsNull(it))
                                rc = mu_fail(err, MU_EINVAL, "stop must be a string or a list");
                } else if (cJSON_IsNumber(it)) {
                        double d = it->valuedouble;
                        if (d == (double)(long long)d)
                                snprintf(buf, sizeof(buf), "%lld", (long long)d);
                        else
                                snprintf(buf, sizeof(buf), "%.9g", d);
                        rc = runner_options_set(o, k, buf, err);
                } else if (cJSON_IsBool(it)) {
                        rc = runner_options_set(o, k, cJSON_IsTrue(it) ? "1" : "0", err);
                        if (rc == 0)
                                continue;
                } else if (cJSON_IsString(it)) {
                        rc = runner_options_set(o, k, it->valuestring, err);
                } else if (!cJSON_IsNull(it)) {
                        rc = mu_fail(err, MU_EINVAL, "option '%s' has an unsupported type", k);
                }
                if (rc)
                        break;
        }
        cJSON_Delete(root);
        return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void session_params_from(struct session_params *sp, const struct runner_options *o)
{
        *sp = session_default_params();
        sp->n_ctx = o->num_ctx;
        sp->n_threads = o->num_thread;
        sp->n_batch = o->num_batch > 0 ? o->num_batch : 512;
        sp->kv_type = o->kv_type;
}

int runner_open(struct runner **out, const char *model_path, const struct runner_options *o,
                int show_progress, struct mu_err *err)
{
        struct model_params mp = model_default_params();
        struct runner *r = mu_xcalloc(1, sizeof(*r));
        struct mu_spinner sp = {0};
        int64_t t0 = mu_time_ns();
        int rc;

        *out = NULL;
        /* num_gpu: -1 (default) offloads everything only when a device was
         * chosen with MULLAMA_VULKAN_DEVICE; otherwise no Vulkan instance is
         * even created.  An explicit count (999: all) looks for a GPU. */
        mp.n_gpu_layers = o->num_gpu;
        if (o->num_gpu < 0)
                mp.n_gpu_layers = getenv("MULLAMA_VULKAN_DEVICE") ? -1 : 0;
        if (show_progress)
                mu_spinner_start(&sp, "loading model");
        rc = model_load(&r->model, model_path, &mp, err);
        if (!rc)
                rc = tokenizer_create(&r->tok, model_gguf(r->model), err);
        if (!rc) {
                r->n_vocab = model_n_vocab(r->model);
                session_params_from(&r->sp, o);
                if (show_progress >= 2 || mu_log_get_level() >= MU_LOG_DEBUG) {
                        struct model_memory mm;
                        model_memory_estimate(r->model, r->sp.n_ctx, r->sp.kv_type,
                                              r->sp.n_batch, &mm);
                        fprintf(stderr, "memory estimate: %.1f MiB = weights %.1f MiB + KV "
                                "cache %.1f MiB (%d tokens, %s) + scratch %.1f MiB\n",
                                mm.total / 1048576.0, mm.weights / 1048576.0,
                                mm.kv_cache / 1048576.0, mm.n_ctx, mu_type_name(r->sp.kv_type),
                                mm.scratch / 1048576.0);
                }
                rc = session_create(&r->sess, r->model, &r->sp, err);
        }
        if (show_progress)
                mu_spinner_stop(&sp);
        if (rc) {
                runner_close(r);
                return rc;
        }
        r->cache = mu_xcalloc((size_t)session_n_ctx(r->sess) + 1, sizeof(int32_t));
        r->load_ns = mu_time_ns() - t0;
        *out = r;
        return 0;
}

int runner_open_shared(struct runner **out, struct runner *base,
                       const struct runner_options *o, struct mu_err *err)
{
        struct runner *r = mu_xcalloc(1, sizeof(*r));
        int rc;

        *out = NULL;
        r->model = base->model;
        r->tok = base->tok;
        r->shared = 1;
        r->n_vocab = base->n_vocab;
        r->load_ns = base->load_ns;
        session_params_from(&r->sp, o);
        rc = session_create(&r->sess, r->model, &r->sp, err);
        if (rc) {
                runner_close(r);
                return rc;
        }
        r->cache = mu_xcalloc((size_t)session_n_ctx(r->sess) + 1, sizeof(int32_t));
        *out = r;
        return 0;
}

uint64_t runner_memory_bytes(const struct runner *r)
{
        uint64_t total = model_estimate_memory(r->model, session_n_ctx(r->sess),
                                               r->sp.kv_type, r->sp.n_batch);

        /* a shared runner adds only its session (KV cache and scratch) */
        return r->shared ? total - model_size_bytes(r->model) : total;
}

uint64_t runner_weights_bytes(const struct runner *r) { return model_size_bytes(r->model); }
uint64_t runner_gpu_bytes(const struct runner *r) { return model_gpu_mem(r->model); }

void runner_close(struct runner *r)
{
        if (!r)
                return;
        session_free(r->sess);
        if (!r->shared) {
                tokenizer_free(r->tok);
                model_free(r->model);
        }
        if (r->pieces)
                for (int i = 0; i < r->n_vocab; i++)
                        free(r->pieces[i]);
        free(r->pieces);
        free(r->piece_len);
        free(r->cache);
        free(r);
}

int runner_configure(struct runner *r, const struct runner_options *o, struct mu_err *err)
{
        struct session_params sp;
        struct session *s = NULL;
        int rc;

        session_params_from(&sp, o);
        if (!memcmp(&sp, &r->sp, sizeof(sp)))
                return 0;
        rc = session_create(&s, r->model, &sp, err);
        if (rc)
                return rc;
        session_free(r->sess);
        r->sess = s;
        r->sp = sp;
        free(r->cache);
        r->cache = mu_xcalloc((size_t)session_n_ctx(s) + 1, sizeof(int32_t));
        r->n_cache = 0;
        return 0;
}

const char *runner_arch(const struct runner *r) { return model_arch_name(r->model); }
int runner_n_ctx(const struct runner *r) { return session_n_ctx(r->sess); }

const char *runner_chat_template(const struct runner *r)
{
        return gguf_get_str(model_gguf(r->model), "tokenizer.chat_template");
}

int runner_tokenize(struct runner *r, const char *text, int32_t **out, int *n,
                    struct mu_err *err)
{
        size_t nt = 0;
        int rc = tokenizer_encode(r->tok, text, strlen(text), 1, 1, out, &nt, err);

        *n = rc ? 0 : (int)nt;
        return rc;
}

void runner_reset(struct runner *r)
{
        session_truncate(r->sess, 0);
        r->n_cache = 0;
}

/* ---- templating --------------------------------------------------------- */

static const char *special_text(const struct runner *r, const char *key)
{
        int64_t id;

        if (gguf_get_i64(model_gguf(r->model), key, &id) || id < 0 || id >= r->n_vocab)
                return "";
        const char *s = tokenizer_token_text(r->tok, (int32_t)id, NULL);

        return s ? s : "";
}

int runner_render(struct runner *r, const char *go_template, const char *system,
                  const struct chat_msg *msgs, int n, int raw, char **out,
                  struct mu_err *err)
{
        const char *jinja = runner_chat_template(r);
        struct chat_msg *all;
        int rc, k = 0;

        *out = NULL;
        if (raw || (!go_template && !jinja)) {
                for (int i = n - 1; i >= 0; i--)
                        if (!strcmp(msgs[i].role, "user")) {
                                *out = mu_xstrdup(msgs[i].content);
                                return 0;
                        }
                *out = mu_xstrdup("");
                return 0;
        }
        if (go_template)
                return chat_render_go(go_template, system, msgs, n, out, err);
        /* the system prompt becomes the first message for Jinja templates */
        all = mu_xcalloc((size_t)n + 1, sizeof(*all));
        if (system && *system && !(n > 0 && !strcmp(msgs[0].role, "system")))
                all[k++] = (struct chat_msg){"system", system};
        for (int i = 0; i < n; i++)
                all[k++] = msgs[i];
        rc = chat_render_jinja(jinja, all, k, 1,
                               special_text(r, "tokenizer.ggml.bos_token_id"),
                               special_text(r, "tokenizer.ggml.eos_token_id"), out, err);
        free(all);
        return rc;
}

/* ---- generation --------------------------------------------------------- */

static int build_pieces(struct runner *r)
{
        if (r->pieces)
                return 0;
        r->pieces = mu_xcalloc((size_t)r->n_vocab, sizeof(char *));
        r->piece_len = mu_xcalloc((size_t)r->n_vocab, sizeof(size_t));
        for (int i = 0; i < r->n_vocab; i++) {
                size_t len = 0;
                const char *p = tokenizer_is_control(r->tok, i)
                                        ? "" : tokenizer_piece(r->tok, i, 0, &len);
                r->piece_len[i] = len;
                r->pieces[i] = mu_xstrndup(p, len);
        }
        return 0;
}

struct json_filter {
        struct runner *r;
        struct json_prefix state;
        struct json_schema_state ss;  /* when r->schema */
};

static int schema_fits(const struct json_filter *f, int tok)
{
        struct json_schema_state t = f->ss;

        return json_schema_feed(&t, f->r->pieces[tok], f->r->piece_len[tok]) == 0;
}

void runner_set_json_schema(struct runner *r, const struct json_schema *s) { r->schema = s; }

int runner_group_create(struct runner *base, int max_seqs, int n_threads,
                        struct decode_group **out, struct mu_err *err)
{
        return decode_group_create(out, base->model, max_seqs, n_threads, err);
}

void runner_set_group(struct runner *r, struct decode_group *g) { r->group = g; }

/* Mask every token whose bytes would break the JSON prefix; end-of-generation
 * tokens stay allowed only once the object is complete. */
static int json_filter_fn(void *ud, float *logits, int n_vocab, struct mu_err *err)
{
        struct json_filter *f = ud;
        const float ninf = -__builtin_inff();
        int any = 0;

        (void)err;
        for (int i = 0; i < n_vocab; i++) {
                if (logits[i] == ninf)
                        continue;
                if (tokenizer_is_eog(f->r->tok, i)) {
                        if (!json_prefix_done(&f->state) ||
                            (f->r->schema && !json_schema_done(&f->ss)))
                                logits[i] = ninf;
                        else
                                any = 1;
                        continue;
                }
                struct json_prefix t = f->state;
                if (f->r->piece_len[i] == 0 ||
                    json_prefix_feed(&t, f->r->pieces[i], f->r->piece_len[i]) != 0)
                        logits[i] = ninf;
                else if (f->r->schema && !schema_fits(f, i))
                        logits[i] = ninf;
                else
                        any = 1;
        }
        return any ? 0 : mu_fail(err, MU_EINVAL, "JSON schema: no token can continue the output");
}

static void sampler_params_from(struct sampler_params *sp, const struct runner_options *o)
{
        *sp = sampler_default_params();
        sp->temperature = o->temperature;
        sp->top_k = o->top_k;
        sp->top_p = o->top_p;
        sp->min_p = o->min_p;
        sp->typical_p = o->typical_p;
        sp->repeat_penalty = o->repeat_penalty;
        sp->repeat_last_n = o->repeat_last_n;
        sp->presence_penalty = o->presence_penalty;
        sp->frequency_penalty = o->frequency_penalty;
        sp->seed = o->seed;
}

/* Evaluate toks[from..n) after making the cache hold toks[0..from). */
static int eval_tokens(struct runner *r, const int32_t *toks, int from, int n,
                       struct mu_err *err)
{
        int rc;

        if (n <= from)
                return 0;
        rc = session_eval(r->sess, toks + from, n - from, err);
        if (rc) {
                /* the session state is unknown after a failure: start over */
                runner_reset(r);
                return rc;
        }
        memcpy(r->cache + from, toks + from, (size_t)(n - from) * sizeof(int32_t));
        r->n_cache = n;
        return 0;
}

/* Drop the oldest tokens after num_keep when the context is full (Ollama's
 * shift: half of what is past num_keep). */
static int shift_context(struct runner *r, int n_keep, struct mu_err *err)
{
        int n_ctx = session_n_ctx(r->sess);
        int n_discard = (r->n_cache - n_keep) / 2;
        int rc;

        if (n_keep >= r->n_cache || n_discard <= 0)
                return mu_fail(err, MU_ERANGE, "context of %d tokens is full", n_ctx);
        rc = session_shift(r->sess, n_keep, n_discard);
        if (rc)
                return mu_fail(err, rc, "cannot shift the context");
        memmove(r->cache + n_keep, r->cache + n_keep + n_discard,
                (size_t)(r->n_cache - n_keep - n_discard) * sizeof(int32_t));
        r->n_cache -= n_discard;
        MU_LOG_INFO("context full: dropped %d old tokens", n_discard);
        return 0;
}

int runner_generate(struct runner *r, const char *prompt, const struct runner_options *o,
                    int format_json, volatile int *cancel, runner_piece_fn cb, void *ud,
                    struct runner_stats *st, struct mu_err *err)
{
        struct sampler_params spp;
        struct sampler *smp = NULL;
        struct stop_matcher *stop = NULL;
        struct detok dt;
        struct json_filter jf;
        struct mu_buf piece = MU_BUF_INIT, safe = MU_BUF_INIT;
        int32_t *toks = NULL;
        size_t n_tok_sz = 0;
        int n_toks = 0, common = 0, rc, n_ctx, stopped = 0, joined = 0;
        int64_t t0 = mu_time_ns(), t1;

        memset(st, 0, sizeof(*st));
        st->load_ns = r->load_ns;
        st->done_reason = "stop";
        rc = runner_configure(r, o, err);
        if (rc)
                return rc;
        n_ctx = session_n_ctx(r->sess);
        detok_init(&dt, r->tok, 0);
        rc = tokenizer_encode(r->tok, prompt, strlen(prompt), 1, 1, &toks, &n_tok_sz, err);
        if (rc) {
                detok_release(&dt);
                return rc;
        }
        n_toks = (int)n_tok_sz;
        if (n_toks == 0) {
                rc = mu_fail(err, MU_EINVAL, "empty prompt");
                goto out;
        }
        if (n_toks >= n_ctx) {
                rc = mu_fail(err, MU_ERANGE,
                             "prompt of %d tokens does not fit the context of %d (raise "
                             "num_ctx)", n_toks, n_ctx);
                goto out;
        }
        /* reuse the cached prefix; always re-evaluate at least the last token
         * so its logits are fresh */
        while (common < n_toks && common < r->n_cache && toks[common] == r->cache[common])
                common++;
        if (common == n_toks)
                common--;
        session_truncate(r->sess, common);
        r->n_cache = common;
        session_set_cancel(r->sess, cancel);
        rc = eval_tokens(r, toks, common, n_toks, err);
        if (rc)
                goto out;
        st->prompt_tokens = n_toks;
        st->prompt_eval_count = n_toks - common;
        t1 = mu_time_ns();
        st->prompt_eval_ns = t1 - t0;

        sampler_params_from(&spp, o);
        smp = sampler_create(&spp, r->n_vocab, n_ctx, err);
        if (!smp) {
                rc = err->code ? err->code : MU_EINVAL;
                goto out;
        }
        for (int i = 0; i < n_toks; i++)
                sampler_accept(smp, toks[i], NULL);
        if (format_json) {
                build_pieces(r);
                jf.r = r;
                json_prefix_init(&jf.state);
                if (r->schema)
                        json_schema_state_init(&jf.ss, r->schema);
                sampler_set_logit_filter(smp, json_filter_fn, &jf);
        }
        stop = stop_matcher_create((const char *const *)o->stop, o->n_stop);
        if (r->group) {
                decode_group_join(r->group);
                joined = 1;
        }
        for (;;) {
                int32_t id;
                if (cancel && *cancel) {
                        st->done_reason = "canceled";
                        break;
                }
                if (o->num_predict >= 0 && st->eval_count >= o->num_predict) {
                        st->done_reason = "length";
                        break;
                }
                id = sampler_sample(smp, session_logits(r->sess), err);
                if (id < 0) {
                        rc = id;
                        goto out;
                }
                if (tokenizer_is_eog(r->tok, id))
                        break;
                sampler_accept(smp, id, NULL);
                st->eval_count++;
                {
                        size_t plen = 0;
                        const char *p = detok_push(&dt, id, &plen);
                        mu_buf_reset(&piece);
                        mu_buf_add(&piece, p, plen);
                }
                if (format_json && r->pieces) {
                        json_prefix_feed(&jf.state, r->pieces[id], r->piece_len[id]);
                        if (r->schema)
                                json_schema_feed(&jf.ss, r->pieces[id], r->piece_len[id]);
                }
                mu_buf_reset(&safe);
                stopped = stop_matcher_feed(stop, piece.data ? piece.data : "", piece.len,
                                            &safe);
                if (safe.len && cb && cb(ud, safe.data, safe.len)) {
                        st->done_reason = "canceled";
                        break;
                }
                if (stopped)
                        break;
                if (format_json && json_prefix_done(&jf.state))
                        break;
                if (r->n_cache + 1 >= n_ctx) {
                        int before = r->n_cache;
                        if (!o->shift || (rc = shift_context(r, o->num_keep, err))) {
                                if (rc == MU_ERANGE || !o->shift) {
                                        rc = 0;
                                        st->done_reason = "length";
                                }
                                break;
                        }
                        st->ctx_shifted += before - r->n_cache;
                }
                rc = joined ? decode_group_eval(r->group, r->sess, id, err)
                            : session_eval(r->sess, &id, 1, err);
                if (rc) {
                        runner_reset(r);
                        goto out;
                }
                r->cache[r->n_cache++] = id;
        }
        if (!stopped) {
                size_t plen = 0;
                const char *p = detok_flush(&dt, &plen);
                mu_buf_reset(&piece);
                mu_buf_add(&piece, p, plen);
                mu_buf_reset(&safe);
                stop_matcher_feed(stop, piece.data ? piece.data : "", piece.len, &safe);
                stop_matcher_flush(stop, &safe);
                if (safe.len && cb)
                        cb(ud, safe.data, safe.len);
        }
        st->eval_ns = mu_time_ns() - t1;
out:
        if (joined)
                decode_group_leave(r->group);
        if (rc == MU_ECANCELED) {
                rc = 0;
                st->done_reason = "canceled";
        }
        session_set_cancel(r->sess, NULL);
        st->total_ns = mu_time_ns() - t0;
        detok_release(&dt);
        stop_matcher_free(stop);
        sampler_free(smp);
        mu_buf_release(&piece);
        mu_buf_release(&safe);
        free(toks);
        return rc;
}

int runner_n_embd(const struct runner *r) { return model_n_embd(r->model); }

int runner_embed(struct runner *r, const char *text, const struct runner_options *o,
                 int truncate, float *out, int *n_tokens, volatile int *cancel,
                 struct mu_err *err)
{
        int32_t *toks = NULL;
        size_t n = 0;
        int rc, n_ctx;

        *n_tokens = 0;
        rc = runner_configure(r, o, err);
        if (rc)
                return rc;
        n_ctx = session_n_ctx(r->sess);
        rc = tokenizer_encode(r->tok, text, strlen(text), 1, 0, &toks, &n, err);
        if (rc)
                return rc;
        if (n == 0) {
                free(toks);
                return mu_fail(err, MU_EINVAL, "empty input");
        }
        if ((int)n > n_ctx) {
                if (!truncate) {
                        free(toks);
                        return mu_fail(err, MU_ERANGE, "input of %zu tokens exceeds the "
                                       "context length of %d", n, n_ctx);
                }
                n = (size_t)n_ctx;
        }
        r->n_cache = 0;
        session_set_cancel(r->sess, cancel);
        rc = session_embed(r->sess, toks, (int)n, out, err);
        session_set_cancel(r->sess, NULL);
        runner_reset(r);
        free(toks);
        if (!rc)
                *n_tokens = (int)n;
        return rc;
}

static void print_duration(FILE *f, const char *label, int64_t ns)
{
        double s = ns / 1e9;

        if (s >= 1)
                fprintf(f, "%-22s%.6fs\n", label, s);
        else
                fprintf(f, "%-22s%.6fms\n", label, ns / 1e6);
}

void runner_stats_print(FILE *f, const struct runner_stats *st)
{
        print_duration(f, "total duration:", st->total_ns + st->load_ns);
        print_duration(f, "load duration:", st->load_ns);
        fprintf(f, "%-22s%d token(s)\n", "prompt eval count:", st->prompt_eval_count);
        print_duration(f, "prompt eval duration:", st->prompt_eval_ns);
        fprintf(f, "%-22s%.2f tokens/s\n", "prompt eval rate:",
                st->prompt_eval_ns ? st->prompt_eval_count * 1e9 / st->prompt_eval_ns : 0.0);
        fprintf(f, "%-22s%d token(s)\n", "eval count:", st->eval_count);
        print_duration(f, "eval duration:", st->eval_ns);
        fprintf(f, "%-22s%.2f tokens/s\n", "eval rate:",
                st->eval_ns ? st->eval_count * 1e9 / st->eval_ns : 0.0);
}
