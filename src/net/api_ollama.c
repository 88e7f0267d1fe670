/* api_ollama.c -- Ollama's /api endpoints with Ollama's JSON shapes:
 * generate and chat (NDJSON streaming or one object, nanosecond timings,
 * done_reason), embed, tags, ps, show, create, copy, delete, version, pull. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "mullama/gguf.h"
#include "mullama/model_info.h"
#include "mullama/modelfile.h"
#include "net/server.h"

#define NDJSON "application/x-ndjson"

void srv_model_details(cJSON *o, const struct store_model *sm, const char *path);

struct ollama_api {
        int chat;
};

static void add_head(struct gen_job *j, cJSON *o)
{
        char t[64];

        time_rfc3339(t, sizeof(t), wall_ns());
        cJSON_AddStringToObject(o, "model", j->model);
        cJSON_AddStringToObject(o, "created_at", t);
}

static void add_text(struct gen_job *j, cJSON *o, const char *text, size_t len)
{
        struct ollama_api *a = j->api;
        char *s = mu_xstrndup(text, len);

        if (a->chat) {
                cJSON *m = cJSON_AddObjectToObject(o, "message");
                cJSON_AddStringToObject(m, "role", "assistant");
                cJSON_AddStringToObject(m, "content", s);
        } else {
                cJSON_AddStringToObject(o, "response", s);
        }
        free(s);
}

static void emit(struct gen_job *j, cJSON *o)
{
        char *s = cJSON_PrintUnformatted(o);

        cJSON_Delete(o);
        http_chan_writes(j->chan, s);
        http_chan_writes(j->chan, "\n");
        free(s);
}

static void o_piece(struct gen_job *j, const char *text, size_t len)
{
        cJSON *o = cJSON_CreateObject();

        add_head(j, o);
        add_text(j, o, text, len);
        cJSON_AddFalseToObject(o, "done");
        emit(j, o);
}

static void o_done(struct gen_job *j)
{
        cJSON *o = cJSON_CreateObject();
        const struct runner_stats *st = &j->st;

        add_head(j, o);
        if (j->stream)
                add_text(j, o, "", 0);
        else
                add_text(j, o, mu_buf_str(&j->text), j->text.len);
        cJSON_AddTrueToObject(o, "done");
        cJSON_AddStringToObject(o, "done_reason", st->done_reason);
        cJSON_AddNumberToObject(o, "total_duration", (double)(mu_time_ns() - j->t_start));
        cJSON_AddNumberToObject(o, "load_duration", (double)j->load_ns);
        cJSON_AddNumberToObject(o, "prompt_eval_count", st->prompt_tokens);
        cJSON_AddNumberToObject(o, "prompt_eval_duration", (double)st->prompt_eval_ns);
        cJSON_AddNumberToObject(o, "eval_count", st->eval_count);
        cJSON_AddNumberToObject(o, "eval_duration", (double)st->eval_ns);
        if (j->stream)
                emit(j, o);
        else {
                char *s = cJSON_PrintUnformatted(o);
                cJSON_Delete(o);
                http_chan_writes(j->chan, s);
                free(s);
        }
}

static void o_error(struct gen_job *j, int status, const char *msg)
{
        cJSON *o = cJSON_CreateObject();
        char *s;

        cJSON_AddStringToObject(o, "error", msg);
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        http_chan_writes(j->chan, s);
        if (!status)
                http_chan_writes(j->chan, "\n");
        free(s);
}

static const struct gen_fmt ollama_fmt = {o_piece, o_done, o_error};

/* ---- shared request fields ------------------------------------------------ */

static const char *model_field(const cJSON *b, struct http_resp *resp)
{
        const char *m = NULL;

        if (body_str(b, "model", &m, resp, 0))
                return NULL;
        if (!m && body_str(b, "name", &m, resp, 0))
                return NULL;
        if (!m || !*m) {
                resp_error(resp, 400, 0, "model is required");
                return NULL;
        }
        return m;
}

/* format: "json", a JSON schema object (*schema gets its text), "" or
 * null.  -1 on a bad value. */
static int format_field(const cJSON *b, int *json, char **schema, struct http_resp *resp,
                        int openai)
{
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(b, "format");

        *json = 0;
        *schema = NULL;
        if (!f || cJSON_IsNull(f))
                return 0;
        if (cJSON_IsString(f)) {
                if (!strcmp(f->valuestring, "json"))
                        *json = 1;
                else if (*f->valuestring) {
                        resp_error(resp, 400, openai, "invalid format '%s': expected \"json\" or "
                                   "a JSON schema", f->valuestring);
                        return -1;
                }
                return 0;
        }
        if (cJSON_IsObject(f)) {
                *json = 1;
                *schema = cJSON_PrintUnformatted(f);
                return 0;
        }
        resp_error(resp, 400, openai, "invalid format: expected \"json\" or a JSON schema");
        return -1;
}

static int has_images(const cJSON *o)
{
        const cJSON *im = cJSON_GetObjectItemCaseSensitive(o, "images");

        return im && !cJSON_IsNull(im) && (!cJSON_IsArray(im) || cJSON_GetArraySize(im) > 0);
}

/* A request with nothing to generate: load (or with keep_alive 0 unload)
 * the model and answer done_reason "load" / "unload". */
static void load_only(struct srv *s, const char *model, int chat, int64_t ka,
                      struct http_resp *resp)
{
        struct srv_lease l;
        struct mu_err err = {0};
        char *name = srv_model_name(model);
        const char *reason = "load";
        char t[64];
        int rc;

        if (ka == 0) {
                char *path = NULL;
                rc = cli_resolve_model(s->c.cfg, name, &path, NULL, &err);
                free(path);
                if (rc) {
                        resp_error(resp, status_for(rc), 0, "model '%s' not found", model);
                        free(name);
                        return;
                }
                srv_unload(s, name);
                reason = "unload";
        } else {
                rc = srv_acquire(s, name, NULL, &l, &err);
                if (rc) {
                        resp_error(resp, rc, 0, "%s", err.msg);
                        free(name);
                        return;
                }
                srv_release(&l, ka);
        }
        cJSON *o = cJSON_CreateObject();
        time_rfc3339(t, sizeof(t), wall_ns());
        cJSON_AddStringToObject(o, "model", name);
        cJSON_AddStringToObject(o, "created_at", t);
        if (chat) {
                cJSON *m = cJSON_AddObjectToObject(o, "message");
                cJSON_AddStringToObject(m, "role", "assistant");
                cJSON_AddStringToObject(m, "content", "");
        } else {
                cJSON_AddStringToObject(o, "response", "");
        }
        cJSON_AddTrueToObject(o, "done");
        cJSON_AddStringToObject(o, "done_reason", reason);
        resp_json(resp, 200, o);
        free(name);
}

static void generate(struct srv *s, struct http_req *req, struct http_resp *resp, int chat)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *model, *prompt = NULL, *system = NULL, *tmpl = NULL, *suffix = NULL;
        int stream = 1, raw = 0, fjson = 0;
        char *schema = NULL;
        int64_t ka;
        struct gen_job *j;
        const cJSON *msgs = NULL, *opts, *tools;

        if (!b)
                return;
        if (!(model = model_field(b, resp)) || body_str(b, "prompt", &prompt, resp, 0) ||
            body_str(b, "system", &system, resp, 0) || body_str(b, "template", &tmpl, resp, 0) ||
            body_str(b, "suffix", &suffix, resp, 0) || body_bool(b, "stream", &stream, resp, 0) ||
            body_bool(b, "raw", &raw, resp, 0) || format_field(b, &fjson, &schema, resp, 0) ||
            body_keep_alive(b, &ka, resp, 0))
                goto out;
        opts = cJSON_GetObjectItemCaseSensitive(b, "options");
        if (opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts)) {
                resp_error(resp, 400, 0, "options must be an object");
                goto out;
        }
        tools = cJSON_GetObjectItemCaseSensitive(b, "tools");
        if (tools && cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0) {
                resp_error(resp, 400, 0, "model '%s' does not support tools (tool calling is not "
                           "implemented in mullama yet)", model);
                goto out;
        }
        if (suffix && *suffix) {
                resp_error(resp, 400, 0, "model '%s' does not support insert (suffix)", model);
                goto out;
        }
        if (chat) {
                msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
                if (msgs && !cJSON_IsNull(msgs) && !cJSON_IsArray(msgs)) {
                        resp_error(resp, 400, 0, "messages must be an array");
                        goto out;
                }
                const cJSON *m;
                cJSON_ArrayForEach(m, msgs)
                {
                        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
                        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
                        if (!cJSON_IsObject(m) || !cJSON_IsString(role) || !*role->valuestring) {
                                resp_error(resp, 400, 0, "each message needs a role");
                                goto out;
                        }
                        if (content && !cJSON_IsNull(content) && !cJSON_IsString(content)) {
                                resp_error(resp, 400, 0, "message content must be a string");
                                goto out;
                        }
                        if (has_images(m)) {
                                resp_error(resp, 400, 0, "model '%s' does not support images: "
                                           "mullama has no vision support yet", model);
                                goto out;
                        }
                }
        } else if (has_images(b)) {
                resp_error(resp, 400, 0, "model '%s' does not support images: mullama has no "
                           "vision support yet", model);
                goto out;
        }
        if ((chat && cJSON_GetArraySize(msgs) == 0) || (!chat && (!prompt || !*prompt))) {
                load_only(s, model, chat, ka, resp);
                goto out;
        }
        j = gen_job_new(s, model, &ollama_fmt);
        struct ollama_api *a = mu_xcalloc(1, sizeof(*a));
        a->chat = chat;
        j->api = a;
        j->chat = 1; /* the Modelfile's MESSAGEs come first, as in `mullama run` */
        j->stream = stream;
        j->raw = raw;
        j->format_json = fjson;
        j->schema_json = schema;
        schema = NULL;
        j->keep_alive_ns = ka;
        j->system = system ? mu_xstrdup(system) : NULL;
        j->tmpl = tmpl && *tmpl ? mu_xstrdup(tmpl) : NULL;
        if (opts && cJSON_IsObject(opts))
                j->options = cJSON_Duplicate(opts, 1);
        if (chat) {
                const cJSON *m;
                cJSON_ArrayForEach(m, msgs)
                {
                        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
                        gen_job_add_msg(j, cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring,
                                        cJSON_IsString(c) ? c->valuestring : "");
                }
        } else {
                gen_job_add_msg(j, "user", prompt);
        }
        gen_respond(req, resp, gen_job_start(j), stream, NDJSON);
out:
        free(schema);
        cJSON_Delete(b);
}

/* ---- embeddings ----------------------------------------------------------------- */

/* Embed each string of inputs; fills vecs (array of arrays).  Returns 0 or an
 * HTTP status with resp set. */
int api_embed_run(struct srv *s, const char *model, const cJSON *inputs, int truncate,
                  int dims, int64_t ka, const cJSON *opts, cJSON *vecs, int *n_tokens,
                  int64_t *load_ns, struct http_req *req, struct http_resp *resp, int openai);
int api_embed_run(struct srv *s, const char *model, const cJSON *inputs, int truncate,
                  int dims, int64_t ka, const cJSON *opts, cJSON *vecs, int *n_tokens,
                  int64_t *load_ns, struct http_req *req, struct http_resp *resp, int openai)
{
        struct srv_lease l;
        struct mu_err err = {0};
        struct runner_options o;
        char *name = srv_model_name(model);
        const cJSON *it;
        float *v;
        int rc, E;

        (void)req;
        *n_tokens = 0;
        rc = srv_acquire(s, name, NULL, &l, &err);
        free(name);
        if (rc) {
                resp_error(resp, rc, openai, "%s", err.msg);
                return rc;
        }
        *load_ns = l.load_ns;
        rc = srv_options(s, l.m, opts, &o, &err);
        if (rc) {
                srv_release(&l, ka);
                resp_error(resp, 400, openai, "%s", err.msg);
                return 400;
        }
        E = runner_n_embd(l.r);
        v = mu_xmalloc((size_t)E * sizeof(float));
        cJSON_ArrayForEach(it, inputs)
        {
                int n = 0;
                rc = runner_embed(l.r, it->valuestring, &o, truncate, v, &n, NULL, &err);
                if (rc) {
                        rc = status_for(rc);
                        resp_error(resp, rc, openai, "%s", err.msg);
                        break;
                }
                *n_tokens += n;
                int d = dims > 0 && dims < E ? dims : E;
                double norm = 0;
                for (int i = 0; i < d; i++)
                        norm += (double)v[i] * v[i];
                norm = norm > 0 ? 1 / __builtin_sqrt(norm) : 0;
                cJSON *arr = cJSON_CreateArray();
                for (int i = 0; i < d; i++)
                        cJSON_AddItemToArray(arr, cJSON_CreateNumber((float)(v[i] * norm)));
                cJSON_AddItemToArray(vecs, arr);
        }
        free(v);
        runner_options_release(&o);
        srv_release(&l, ka);
        return rc;
}

/* inputs as a cJSON array of strings; NULL and resp set on bad input */
cJSON *api_embed_inputs(const cJSON *in, struct http_resp *resp, int openai);
cJSON *api_embed_inputs(const cJSON *in, struct http_resp *resp, int openai)
{
        cJSON *arr = cJSON_CreateArray();
        const cJSON *it;

        if (cJSON_IsString(in)) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(in->valuestring));
        } else if (cJSON_IsArray(in)) {
                cJSON_ArrayForEach(it, in)
                {
                        if (!cJSON_IsString(it)) {
                                cJSON_Delete(arr);
                                resp_error(resp, 400, openai, "input must be a string or an "
                                           "array of strings");
                                return NULL;
                        }
                        cJSON_AddItemToArray(arr, cJSON_CreateString(it->valuestring));
                }
        } else if (in && !cJSON_IsNull(in)) {
                cJSON_Delete(arr);
                resp_error(resp, 400, openai, "input must be a string or an array of strings");
                return NULL;
        }
        cJSON_ArrayForEach(it, arr) if (!*it->valuestring)
        {
                cJSON_Delete(arr);
                resp_error(resp, 400, openai, "input must not be empty");
                return NULL;
        }
        return arr;
}

static void embed(struct srv *s, struct http_req *req, struct http_resp *resp, int legacy)
{
        cJSON *b = body_parse(req, resp, 0), *inputs = NULL, *vecs;
        const char *model;
        int truncate = 1, dims = 0, ntok = 0;
        int64_t ka, t0 = mu_time_ns(), load_ns = 0;
        const cJSON *d;

        if (!b)
                return;
        if (!(model = model_field(b, resp)) || body_bool(b, "truncate", &truncate, resp, 0) ||
            body_keep_alive(b, &ka, resp, 0))
                goto out;
        d = cJSON_GetObjectItemCaseSensitive(b, "dimensions");
        if (d && !cJSON_IsNull(d)) {
                if (!cJSON_IsNumber(d) || d->valuedouble < 0) {
                        resp_error(resp, 400, 0, "dimensions must be a positive integer");
                        goto out;
                }
                dims = (int)d->valuedouble;
        }
        inputs = api_embed_inputs(cJSON_GetObjectItemCaseSensitive(b, legacy ? "prompt" : "input"),
                                  resp, 0);
        if (!inputs)
                goto out;
        vecs = cJSON_CreateArray();
        if (api_embed_run(s, model, inputs, truncate, dims, ka,
                          cJSON_GetObjectItemCaseSensitive(b, "options"), vecs, &ntok, &load_ns,
                          req, resp, 0)) {
                cJSON_Delete(vecs);
                goto out;
        }
        cJSON *o = cJSON_CreateObject();
        if (legacy) {
                cJSON *first = cJSON_DetachItemFromArray(vecs, 0);
                cJSON_AddItemToObject(o, "embedding", first ? first : cJSON_CreateArray());
                cJSON_Delete(vecs);
        } else {
                char *name = srv_model_name(model);
                cJSON_AddStringToObject(o, "model", name);
                free(name);
                cJSON_AddItemToObject(o, "embeddings", vecs);
                cJSON_AddNumberToObject(o, "total_duration", (double)(mu_time_ns() - t0));
                cJSON_AddNumberToObject(o, "load_duration", (double)load_ns);
                cJSON_AddNumberToObject(o, "prompt_eval_count", ntok);
        }
        resp_json(resp, 200, o);
out:
        cJSON_Delete(inputs);
        cJSON_Delete(b);
}

/* ---- model management ------------------------------------------------------ */

static void tags(struct srv *s, struct http_resp *resp)
{
        struct store_entry *e = NULL;
        struct mu_err err = {0};
        char *warn = NULL, t[64];
        int n = 0;

        if (store_list(s->c.cfg, &e, &n, &warn, &err)) {
                resp_error(resp, 500, 0, "%s", err.msg);
                return;
        }
        free(warn);
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "models");
        for (int i = 0; i < n; i++) {
                struct store_model *sm = NULL;
                cJSON *m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "name", e[i].name);
                cJSON_AddStringToObject(m, "model", e[i].name);
                time_rfc3339(t, sizeof(t), e[i].mtime * 1000000000);
                cJSON_AddStringToObject(m, "modified_at", t);
                cJSON_AddNumberToObject(m, "size", (double)e[i].size);
                cJSON_AddStringToObject(m, "digest", e[i].id);
                if (store_resolve(s->c.cfg, e[i].name, &sm, NULL) != 0)
                        sm = NULL;
                srv_model_details(m, sm, NULL);
                store_model_free(sm);
                cJSON_AddItemToArray(arr, m);
        }
        free(e);
        resp_json(resp, 200, o);
}

static void show(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *model;
        char *path = NULL, t[64];
        struct store_model *sm = NULL;
        struct gguf *g = NULL;
        struct model_info mi;
        struct mu_err err = {0};
        int verbose = 0, rc;

        if (!b)
                return;
        if (!(model = model_field(b, resp)) || body_bool(b, "verbose", &verbose, resp, 0))
                goto out;
        rc = cli_resolve_model(s->c.cfg, model, &path, &sm, &err);
        if (rc) {
                if (rc == MU_ENOTFOUND)
                        resp_error(resp, 404, 0, "model '%s' not found", model);
                else
                        resp_error(resp, status_for(rc), 0, "%s", err.msg);
                goto out;
        }
        if ((rc = gguf_open(&g, path, &err))) {
                resp_error(resp, 500, 0, "%s", err.msg);
                goto out;
        }
        model_info_get(&mi, g);
        cJSON *o = cJSON_CreateObject();
        const char *tmpl = sm && sm->tmpl ? sm->tmpl : mi.chat_template;
        const char *lic = sm && sm->n_licenses ? sm->licenses[0] : mi.license;
        struct mu_buf mf = MU_BUF_INIT, params = MU_BUF_INIT;
        mu_buf_addf(&mf, "# Modelfile generated by \"mullama show\"\nFROM %s\n", path);
        if (tmpl)
                modelfile_add_line(&mf, 1, tmpl, "TEMPLATE");
        if (sm && sm->system)
                modelfile_add_line(&mf, 1, sm->system, "SYSTEM");
        if (sm && sm->params_json) {
                cJSON *p = cJSON_Parse(sm->params_json), *it;
                cJSON_ArrayForEach(it, p)
                {
                        if (cJSON_IsArray(it)) {
                                cJSON *x;
                                cJSON_ArrayForEach(x, it) if (cJSON_IsString(x))
                                {
                                        mu_buf_addf(&params, "%-30s \"%s\"\n", it->string,
                                                    x->valuestring);
                                }
                        } else {
                                char *v = cJSON_IsString(it) ? mu_xstrdup(it->valuestring)
                                                             : cJSON_PrintUnformatted(it);
                                mu_buf_addf(&params, "%-30s %s\n", it->string, v);
                                free(v);
                        }
                }
                cJSON_Delete(p);
                const char *line = mu_buf_str(&params);
                while (*line) {
                        const char *nl = strchr(line, '\n');
                        mu_buf_addf(&mf, "PARAMETER %.*s\n", (int)(nl - line), line);
                        line = nl + 1;
                }
        }
        if (lic)
                modelfile_add_line(&mf, 1, lic, "LICENSE");
        cJSON_AddStringToObject(o, "license", lic ? lic : "");
        cJSON_AddStringToObject(o, "modelfile", mu_buf_str(&mf));
        cJSON_AddStringToObject(o, "parameters", mu_buf_str(&params));
        cJSON_AddStringToObject(o, "template", tmpl ? tmpl : "");
        if (sm && sm->system)
                cJSON_AddStringToObject(o, "system", sm->system);
        srv_model_details(o, sm, path);
        cJSON *d = cJSON_GetObjectItem(o, "details");
        /* fill what the config blob did not say from the GGUF */
        if (mi.arch && !*cJSON_GetObjectItem(d, "family")->valuestring) {
                char ps[32];
                cJSON_ReplaceItemInObject(d, "family", cJSON_CreateString(mi.arch));
                cJSON_AddItemToArray(cJSON_GetObjectItem(d, "families"), cJSON_CreateString(mi.arch));
                model_info_human_count(mi.n_params, ps, sizeof(ps));
                cJSON_ReplaceItemInObject(d, "parameter_size", cJSON_CreateString(ps));
                cJSON_ReplaceItemInObject(d, "quantization_level",
                                          cJSON_CreateString(mi.quant ? mi.quant : ""));
        }
        cJSON *info = cJSON_AddObjectToObject(o, "model_info");
        for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                const char *k = gguf_key(g, i);
                int ty = gguf_kv_type(g, i);
                if (ty == GGUF_TYPE_ARRAY) {
                        if (verbose) {
                                struct mu_buf v = MU_BUF_INIT;
                                model_info_kv_text(g, i, 0, &v);
                                cJSON *x = cJSON_Parse(mu_buf_str(&v));
                                cJSON_AddItemToObject(info, k, x ? x : cJSON_CreateArray());
                                mu_buf_release(&v);
                        } else {
                                cJSON_AddNullToObject(info, k);
                        }
                        continue;
                }
                struct mu_buf v = MU_BUF_INIT;
                model_info_kv_text(g, i, 0, &v);
                cJSON *x = cJSON_Parse(mu_buf_str(&v));
                if (ty == GGUF_TYPE_STRING || !x) {
                        cJSON_Delete(x);
                        const char *str = gguf_get_str(g, k);
                        x = cJSON_CreateString(str ? str : mu_buf_str(&v));
                }
                cJSON_AddItemToObject(info, k, x);
                mu_buf_release(&v);
        }
        cJSON *caps = cJSON_AddArrayToObject(o, "capabilities");
        if (mi.cap_completion)
                cJSON_AddItemToArray(caps, cJSON_CreateString("completion"));
        if (mi.cap_embedding || mi.cap_completion)
                cJSON_AddItemToArray(caps, cJSON_CreateString("embedding"));
        if (mi.cap_tools)
                cJSON_AddItemToArray(caps, cJSON_CreateString("tools"));
        time_rfc3339(t, sizeof(t), (sm ? sm->mtime : 0) * 1000000000);
        cJSON_AddStringToObject(o, "modified_at", t);
        resp_json(resp, 200, o);
        mu_buf_release(&mf);
        mu_buf_release(&params);
        model_info_release(&mi);
out:
        gguf_close(g);
        store_model_free(sm);
        free(path);
        cJSON_Delete(b);
}

struct create_log {
        struct mu_buf out;
};

static void create_status(void *ud, const char *msg, const char *digest, uint64_t done,
                          uint64_t total)
{
        struct create_log *c = ud;
        cJSON *o = cJSON_CreateObject();
        char *s;

        cJSON_AddStringToObject(o, "status", msg);
        if (digest)
                cJSON_AddStringToObject(o, "digest", digest);
        if (total) {
                cJSON_AddNumberToObject(o, "total", (double)total);
                cJSON_AddNumberToObject(o, "completed", (double)done);
        }
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        /* keep only one progress line per digest: drop byte-progress repeats */
        mu_buf_adds(&c->out, s);
        mu_buf_addc(&c->out, '\n');
        free(s);
}


static void create(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *model, *from = NULL, *modelfile = NULL, *tmpl = NULL, *system = NULL,
                   *quant = NULL;
        int stream = 1, rc;
        struct mu_buf mf = MU_BUF_INIT;
        struct modelfile parsed;
        struct mu_err err = {0};
        struct create_log log = {MU_BUF_INIT};
        const cJSON *x;
        int have_mf = 0;

        if (!b)
                return;
        if (!(model = model_field(b, resp)) || body_str(b, "from", &from, resp, 0) ||
            body_str(b, "modelfile", &modelfile, resp, 0) ||
            body_str(b, "template", &tmpl, resp, 0) || body_str(b, "system", &system, resp, 0) ||
            body_str(b, "quantize", &quant, resp, 0) || body_bool(b, "stream", &stream, resp, 0))
                goto out;
        if (quant && *quant) {
                resp_error(resp, 400, 0, "quantize is not supported by mullama yet");
                goto out;
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "files")) && cJSON_GetArraySize(x) > 0) {
                resp_error(resp, 400, 0, "files (uploaded blobs) are not supported; use \"from\"");
                goto out;
        }
        if (modelfile && *modelfile) {
                mu_buf_adds(&mf, modelfile);
                mu_buf_addc(&mf, '\n');
        } else if (from && *from) {
                mu_buf_addf(&mf, "FROM %s\n", from);
        } else {
                resp_error(resp, 400, 0, "neither 'from' nor 'modelfile' was given");
                goto out;
        }
        if (tmpl)
                modelfile_add_line(&mf, 1, tmpl, "TEMPLATE");
        if (system)
                modelfile_add_line(&mf, 1, system, "SYSTEM");
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "license"))) {
                const cJSON *l;
                if (cJSON_IsString(x))
                        modelfile_add_line(&mf, 1, x->valuestring, "LICENSE");
                if (cJSON_IsArray(x))
                        cJSON_ArrayForEach(l, x) if (cJSON_IsString(l))
                                modelfile_add_line(&mf, 1, l->valuestring, "LICENSE");
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "parameters")) && cJSON_IsObject(x)) {
                const cJSON *p;
                cJSON_ArrayForEach(p, x)
                {
                        if (cJSON_IsArray(p)) {
                                const cJSON *v;
                                cJSON_ArrayForEach(v, p) if (cJSON_IsString(v))
                                        modelfile_add_line(&mf, 1, v->valuestring, "PARAMETER stop");
                        } else if (cJSON_IsString(p)) {
                                modelfile_add_line(&mf, 1, p->valuestring, "PARAMETER %s", p->string);
                        } else if (cJSON_IsNumber(p) || cJSON_IsBool(p)) {
                                char *v = cJSON_PrintUnformatted(p);
                                mu_buf_addf(&mf, "PARAMETER %s %s\n", p->string, v);
                                free(v);
                        }
                }
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "messages")) && cJSON_IsArray(x)) {
                const cJSON *m;
                cJSON_ArrayForEach(m, x)
                {
                        const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");
                        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
                        if (!cJSON_IsString(r) || !cJSON_IsString(c)) {
                                resp_error(resp, 400, 0, "messages need role and content");
                                goto out;
                        }
                        modelfile_add_line(&mf, 1, c->valuestring, "MESSAGE %s", r->valuestring);
                }
        }
        rc = modelfile_parse(&parsed, "Modelfile", mu_buf_str(&mf), mf.len, &err);
        if (rc) {
                resp_error(resp, 400, 0, "%s", err.msg);
                goto out;
        }
        have_mf = 1;
        {
                struct store_create_opts co = {NULL, create_status, &log};
                rc = store_create(s->c.cfg, model, &parsed, &co, &err);
        }
        if (rc) {
                if (!stream || !log.out.len)
                        resp_error(resp, status_for(rc), 0, "%s", err.msg);
                else {
                        cJSON *e = cJSON_CreateObject();
                        char *es;
                        cJSON_AddStringToObject(e, "error", err.msg);
                        es = cJSON_PrintUnformatted(e);
                        cJSON_Delete(e);
                        mu_buf_addf(&log.out, "%s\n", es);
                        free(es);
                        http_resp_set(resp, 200, NDJSON, mu_buf_detach(&log.out));
                }
                goto out;
        }
        if (stream)
                http_resp_set(resp, 200, NDJSON, mu_buf_detach(&log.out));
        else
                http_resp_set(resp, 200, "application/json; charset=utf-8",
                              mu_xstrdup("{\"status\":\"success\"}"));
out:
        if (have_mf)
                modelfile_release(&parsed);
        mu_buf_release(&mf);
        mu_buf_release(&log.out);
        cJSON_Delete(b);
}

static void copy(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *src = NULL, *dst = NULL;
        struct mu_err err = {0};
        int rc;

        if (!b)
                return;
        if (body_str(b, "source", &src, resp, 0) || body_str(b, "destination", &dst, resp, 0))
                goto out;
        if (!src || !dst || !*src || !*dst) {
                resp_error(resp, 400, 0, "source and destination are required");
                goto out;
        }
        rc = store_copy(s->c.cfg, src, dst, &err);
        if (rc == MU_ENOTFOUND)
                resp_error(resp, 404, 0, "model '%s' not found", src);
        else if (rc)
                resp_error(resp, status_for(rc), 0, "%s", err.msg);
        else
                http_resp_set(resp, 200, NULL, NULL);
out:
        cJSON_Delete(b);
}

static void delete_model(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *model;
        struct mu_err err = {0};
        int rc;

        if (!b)
                return;
        if (!(model = model_field(b, resp)))
                goto out;
        rc = store_remove(s->c.cfg, model, &err);
        if (rc == MU_ENOTFOUND)
                resp_error(resp, 404, 0, "model '%s' not found", model);
        else if (rc)
                resp_error(resp, status_for(rc), 0, "%s", err.msg);
        else
                http_resp_set(resp, 200, NULL, NULL);
out:
        cJSON_Delete(b);
}

#if __has_include("mullama/pull.h")
#include "mullama/pull.h"

/* /api/pull: the pull runs in its own thread and writes NDJSON progress
 * ({"status","digest","total","completed"}) to a channel; a client that
 * disconnects cancels it.  stream:false answers {"status":"success"} or an
 * error once done. */
struct pull_job {
        struct srv *s;
        struct http_chan *ch;
        char *model;
        int insecure, stream, any;
};

static void pull_progress(const struct pull_event *ev, void *user)
{
        struct pull_job *j = user;
        cJSON *o;
        char *t;

        if (!j->stream)
                return;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", ev->status);
        if (ev->digest) {
                cJSON_AddStringToObject(o, "digest", ev->digest);
                cJSON_AddNumberToObject(o, "total", (double)ev->total);
                cJSON_AddNumberToObject(o, "completed", (double)ev->completed);
        }
        t = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        http_chan_writes(j->ch, t);
        http_chan_writes(j->ch, "\n");
        free(t);
        j->any = 1;
}

static void *pull_main(void *arg)
{
        struct pull_job *j = arg;
        struct pull_opts po = {j->insecure, pull_progress, j, http_chan_cancel_flag(j->ch)};
        struct mu_err err = {0};
        int rc = pull_model(j->s->c.cfg, j->model, &po, &err);

        if (rc) {
                cJSON *o = cJSON_CreateObject();
                char *t;
                cJSON_AddStringToObject(o, "error", err.msg);
                t = cJSON_PrintUnformatted(o);
                cJSON_Delete(o);
                if (!j->any) /* nothing sent yet: a real status */
                        http_chan_start(j->ch, rc == MU_ENOTFOUND ? 404 : rc == MU_EINVAL ? 400
                                                                   : rc == MU_ECANCELED ? 499 : 500);
                http_chan_writes(j->ch, t);
                if (j->any)
                        http_chan_writes(j->ch, "\n");
                free(t);
        } else if (!j->stream) {
                http_chan_writes(j->ch, "{\"status\":\"success\"}");
        }
        http_chan_close(j->ch);
        http_chan_unref(j->ch);
        srv_leave(j->s);
        free(j->model);
        free(j);
        return NULL;
}

static void pull(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);
        const char *model;
        struct pull_job *j;
        pthread_t t;
        pthread_attr_t attr;

        if (!b)
                return;
        j = mu_xcalloc(1, sizeof(*j));
        j->stream = 1;
        if (!(model = model_field(b, resp)) || body_bool(b, "insecure", &j->insecure, resp, 0) ||
            body_bool(b, "stream", &j->stream, resp, 0) || srv_enter(s)) {
                if (!resp->status)
                        resp_error(resp, 503, 0, "server is shutting down");
                free(j);
                cJSON_Delete(b);
                return;
        }
        j->s = s;
        j->model = mu_xstrdup(model);
        j->ch = http_chan_create();
        http_chan_ref(j->ch);
        /* the first event is "pulling manifest": the answer is 200 from here
         * unless the pull fails before any progress */
        int stream = j->stream;
        struct http_chan *ch = j->ch;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, pull_main, j)) {
                http_chan_unref(j->ch);
                http_chan_unref(j->ch);
                srv_leave(s);
                free(j->model);
                free(j);
                resp_error(resp, 500, 0, "cannot start a thread");
        } else {
                gen_respond(req, resp, ch, stream, NDJSON); /* j is the thread's now */
        }
        pthread_attr_destroy(&attr);
        cJSON_Delete(b);
}
#else
static void pull(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 0);

        (void)s;
        if (!b)
                return;
        resp_error(resp, 501, 0, "pulling models is not implemented in this build");
        cJSON_Delete(b);
}
#endif

static int method_is(const struct http_req *req, const char *m, struct http_resp *resp)
{
        if (!strcmp(req->method, m))
                return 1;
        http_resp_header(resp, "Allow", m);
        resp_error(resp, 405, 0, "method %s not allowed, use %s", req->method, m);
        return 0;
}

void api_ollama(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        const char *p = req->path;
        int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");

        if (!strcmp(p, "/api/version")) {
                if (get)
                        http_resp_set(resp, 200, "application/json; charset=utf-8",
                                      mu_xasprintf("{\"version\":\"%s\"}", MU_VERSION));
                else
                        method_is(req, "GET", resp);
        } else if (!strcmp(p, "/api/tags")) {
                if (get)
                        tags(s, resp);
                else
                        method_is(req, "GET", resp);
        } else if (!strcmp(p, "/api/ps")) {
                if (get)
                        http_resp_set(resp, 200, "application/json; charset=utf-8", srv_ps_json(s));
                else
                        method_is(req, "GET", resp);
        } else if (!strcmp(p, "/api/generate")) {
                if (method_is(req, "POST", resp))
                        generate(s, req, resp, 0);
        } else if (!strcmp(p, "/api/chat")) {
                if (method_is(req, "POST", resp))
                        generate(s, req, resp, 1);
        } else if (!strcmp(p, "/api/embed")) {
                if (method_is(req, "POST", resp))
                        embed(s, req, resp, 0);
        } else if (!strcmp(p, "/api/embeddings")) {
                if (method_is(req, "POST", resp))
                        embed(s, req, resp, 1);
        } else if (!strcmp(p, "/api/show")) {
                if (method_is(req, "POST", resp))
                        show(s, req, resp);
        } else if (!strcmp(p, "/api/create")) {
                if (method_is(req, "POST", resp))
                        create(s, req, resp);
        } else if (!strcmp(p, "/api/copy")) {
                if (method_is(req, "POST", resp))
                        copy(s, req, resp);
        } else if (!strcmp(p, "/api/delete")) {
                if (method_is(req, "DELETE", resp))
                        delete_model(s, req, resp);
        } else if (!strcmp(p, "/api/pull")) {
                if (method_is(req, "POST", resp))
                        pull(s, req, resp);
        } else {
                resp_error(resp, 404, 0, "404 page not found");
        }
}
