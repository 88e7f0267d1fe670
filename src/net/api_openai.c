/* api_openai.c -- OpenAI-compatible endpoints: /v1/chat/completions,
 * /v1/completions (SSE "data: {...}\n\n" ... "data: [DONE]\n\n", or one
 * object), /v1/models, /v1/embeddings.  Request fields map to runner
 * options (max_tokens -> num_predict, stop, temperature, top_p, seed,
 * frequency/presence_penalty); an "options" object (e.g. num_ctx) is
 * accepted too, which Ollama cannot do over /v1. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/server.h"

#define SSE "text/event-stream"

int api_embed_run(struct srv *s, const char *model, const cJSON *inputs, int truncate,
                  int dims, int64_t ka, const cJSON *opts, cJSON *vecs, int *n_tokens,
                  int64_t *load_ns, struct http_req *req, struct http_resp *resp, int openai);
cJSON *api_embed_inputs(const cJSON *in, struct http_resp *resp, int openai);

struct oai {
        int chat;
        int include_usage;
        int sent_role;
        char id[48];
};

static cJSON *chunk_head(struct gen_job *j)
{
        struct oai *a = j->api;
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "id", a->id);
        cJSON_AddStringToObject(o, "object", a->chat ? (j->stream ? "chat.completion.chunk"
                                                                   : "chat.completion")
                                                     : "text_completion");
        cJSON_AddNumberToObject(o, "created", (double)j->created);
        cJSON_AddStringToObject(o, "model", j->model);
        cJSON_AddStringToObject(o, "system_fingerprint", "fp_mullama");
        return o;
}

static void sse(struct gen_job *j, cJSON *o)
{
        char *s = cJSON_PrintUnformatted(o);

        cJSON_Delete(o);
        http_chan_writes(j->chan, "data: ");
        http_chan_writes(j->chan, s);
        http_chan_writes(j->chan, "\n\n");
        free(s);
}

static cJSON *choice(struct gen_job *j, const char *text, size_t len, const char *finish)
{
        struct oai *a = j->api;
        cJSON *c = cJSON_CreateObject();
        char *t = mu_xstrndup(text, len);

        cJSON_AddNumberToObject(c, "index", 0);
        if (a->chat) {
                cJSON *m = cJSON_AddObjectToObject(c, j->stream ? "delta" : "message");
                if (!j->stream || !a->sent_role) {
                        cJSON_AddStringToObject(m, "role", "assistant");
                        a->sent_role = 1;
                }
                if (len || !j->stream || !finish)
                        cJSON_AddStringToObject(m, "content", t);
        } else {
                cJSON_AddStringToObject(c, "text", t);
                cJSON_AddNullToObject(c, "logprobs");
        }
        if (finish)
                cJSON_AddStringToObject(c, "finish_reason", finish);
        else
                cJSON_AddNullToObject(c, "finish_reason");
        free(t);
        return c;
}

static void add_usage(struct gen_job *j, cJSON *o)
{
        cJSON *u = cJSON_AddObjectToObject(o, "usage");

        cJSON_AddNumberToObject(u, "prompt_tokens", j->st.prompt_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", j->st.eval_count);
        cJSON_AddNumberToObject(u, "total_tokens", j->st.prompt_tokens + j->st.eval_count);
}

/* llama-server's timings object: speed over /v1 */
static void add_timings(struct gen_job *j, cJSON *o)
{
        cJSON *t = cJSON_AddObjectToObject(o, "timings");
        const struct runner_stats *st = &j->st;
        double pms = st->prompt_eval_ns / 1e6, ems = st->eval_ns / 1e6;

        cJSON_AddNumberToObject(t, "cache_n", st->prompt_tokens - st->prompt_eval_count);
        cJSON_AddNumberToObject(t, "prompt_n", st->prompt_eval_count);
        cJSON_AddNumberToObject(t, "prompt_ms", pms);
        cJSON_AddNumberToObject(t, "prompt_per_second",
                                pms > 0 ? st->prompt_eval_count * 1e3 / pms : 0);
        cJSON_AddNumberToObject(t, "predicted_n", st->eval_count);
        cJSON_AddNumberToObject(t, "predicted_ms", ems);
        cJSON_AddNumberToObject(t, "predicted_per_second", ems > 0 ? st->eval_count * 1e3 / ems : 0);
}

static void a_piece(struct gen_job *j, const char *text, size_t len)
{
        cJSON *o = chunk_head(j);
        cJSON *arr = cJSON_AddArrayToObject(o, "choices");

        cJSON_AddItemToArray(arr, choice(j, text, len, NULL));
        sse(j, o);
}

static void a_done(struct gen_job *j)
{
        struct oai *a = j->api;
        const char *finish = !strcmp(j->st.done_reason, "length") ? "length" : "stop";
        cJSON *o = chunk_head(j), *arr = cJSON_AddArrayToObject(o, "choices");

        if (j->stream) {
                cJSON_AddItemToArray(arr, choice(j, "", 0, finish));
                add_timings(j, o);
                sse(j, o);
                if (a->include_usage) {
                        o = chunk_head(j);
                        cJSON_AddArrayToObject(o, "choices");
                        add_usage(j, o);
                        sse(j, o);
                }
                http_chan_writes(j->chan, "data: [DONE]\n\n");
                return;
        }
        cJSON_AddItemToArray(arr, choice(j, mu_buf_str(&j->text), j->text.len, finish));
        add_usage(j, o);
        add_timings(j, o);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        http_chan_writes(j->chan, s);
        free(s);
}

static void a_error(struct gen_job *j, int status, const char *msg)
{
        cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
        char *s;

        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", status == 404 ? "not_found_error"
                                           : status >= 500 || !status ? "api_error"
                                                                      : "invalid_request_error");
        cJSON_AddNullToObject(e, "param");
        cJSON_AddNullToObject(e, "code");
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!status) { /* mid-stream */
                http_chan_writes(j->chan, "data: ");
                http_chan_writes(j->chan, s);
                http_chan_writes(j->chan, "\n\ndata: [DONE]\n\n");
        } else {
                http_chan_writes(j->chan, s);
        }
        free(s);
}

static const struct gen_fmt oai_fmt = {a_piece, a_done, a_error};

/* content: a string, or an array of parts where text parts are joined and
 * image parts are refused.  Returns a malloc'd string or NULL (resp set). */
static char *content_text(const cJSON *c, const char *model, struct http_resp *resp)
{
        struct mu_buf b = MU_BUF_INIT;
        const cJSON *p;

        if (!c || cJSON_IsNull(c))
                return mu_xstrdup("");
        if (cJSON_IsString(c))
                return mu_xstrdup(c->valuestring);
        if (!cJSON_IsArray(c)) {
                resp_error(resp, 400, 1, "message content must be a string or an array of parts");
                return NULL;
        }
        cJSON_ArrayForEach(p, c)
        {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
                const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, "text");
                if (cJSON_IsString(type) && !strcmp(type->valuestring, "text") &&
                    cJSON_IsString(text)) {
                        mu_buf_adds(&b, text->valuestring);
                        continue;
                }
                mu_buf_release(&b);
                if (cJSON_IsString(type) && strstr(type->valuestring, "image"))
                        resp_error(resp, 400, 1, "model '%s' does not support images: mullama "
                                   "has no vision support yet", model);
                else
                        resp_error(resp, 400, 1, "unsupported content part");
                return NULL;
        }
        return mu_buf_detach(&b);
}

static int num_field(const cJSON *b, const char *key, cJSON *opts, const char *opt,
                     struct http_resp *resp)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(b, key);

        if (!x || cJSON_IsNull(x))
                return 0;
        if (!cJSON_IsNumber(x)) {
                resp_error(resp, 400, 1, "'%s' must be a number", key);
                return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(opts, opt);
        cJSON_AddNumberToObject(opts, opt, x->valuedouble);
        return 0;
}

static void completions(struct srv *s, struct http_req *req, struct http_resp *resp, int chat)
{
        static unsigned long counter;
        cJSON *b = body_parse(req, resp, 1), *opts = NULL;
        const char *model = NULL, *prompt = NULL;
        const cJSON *x, *msgs = NULL;
        int stream = 0, fjson = 0;
        char *schema = NULL;
        int64_t ka = SRV_KEEP_DEFAULT;
        struct gen_job *j = NULL;

        if (!b)
                return;
        if (body_str(b, "model", &model, resp, 1) || body_bool(b, "stream", &stream, resp, 1))
                goto out;
        if (!model || !*model) {
                resp_error(resp, 400, 1, "model is required");
                goto out;
        }
        x = cJSON_GetObjectItemCaseSensitive(b, "options");
        opts = x && cJSON_IsObject(x) ? cJSON_Duplicate(x, 1) : cJSON_CreateObject();
        if (num_field(b, "max_tokens", opts, "num_predict", resp) ||
            num_field(b, "max_completion_tokens", opts, "num_predict", resp) ||
            num_field(b, "temperature", opts, "temperature", resp) ||
            num_field(b, "top_p", opts, "top_p", resp) || num_field(b, "seed", opts, "seed", resp) ||
            num_field(b, "frequency_penalty", opts, "frequency_penalty", resp) ||
            num_field(b, "presence_penalty", opts, "presence_penalty", resp))
                goto out;
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "stop")) && !cJSON_IsNull(x)) {
                if (!cJSON_IsString(x) && !cJSON_IsArray(x)) {
                        resp_error(resp, 400, 1, "'stop' must be a string or an array");
                        goto out;
                }
                cJSON_DeleteItemFromObjectCaseSensitive(opts, "stop");
                cJSON_AddItemToObject(opts, "stop", cJSON_Duplicate(x, 1));
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "n")) && cJSON_IsNumber(x) &&
            x->valuedouble != 1) {
                resp_error(resp, 400, 1, "n other than 1 is not supported");
                goto out;
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "tools")) && cJSON_IsArray(x) &&
            cJSON_GetArraySize(x) > 0) {
                resp_error(resp, 400, 1, "tools are not supported by mullama yet");
                goto out;
        }
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "response_format")) && !cJSON_IsNull(x)) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(x, "type");
                if (!cJSON_IsObject(x) || !cJSON_IsString(t)) {
                        resp_error(resp, 400, 1, "response_format must be an object with a type");
                        goto out;
                }
                if (!strcmp(t->valuestring, "json_object"))
                        fjson = 1;
                else if (!strcmp(t->valuestring, "json_schema")) {
                        const cJSON *js = cJSON_GetObjectItemCaseSensitive(x, "json_schema");
                        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(js, "schema");
                        fjson = 1;
                        free(schema);
                        schema = cJSON_IsObject(sc) ? cJSON_PrintUnformatted(sc) : NULL;
                }
                else if (strcmp(t->valuestring, "text")) {
                        resp_error(resp, 400, 1, "unsupported response_format type '%s'",
                                   t->valuestring);
                        goto out;
                }
        }
        if (body_keep_alive(b, &ka, resp, 1))
                goto out;
        j = gen_job_new(s, model, &oai_fmt);
        struct oai *a = mu_xcalloc(1, sizeof(*a));
        a->chat = chat;
        snprintf(a->id, sizeof(a->id), "%s-%lu%03lu", chat ? "chatcmpl" : "cmpl",
                 (unsigned long)time(NULL) % 100000,
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) % 1000);
        if ((x = cJSON_GetObjectItemCaseSensitive(b, "stream_options")) && cJSON_IsObject(x))
                a->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "include_usage"));
        j->api = a;
        j->stream = stream;
        j->chat = chat;
        j->format_json = fjson;
        j->schema_json = schema;
        schema = NULL;
        j->keep_alive_ns = ka;
        if (chat) {
                msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
                if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
                        resp_error(resp, 400, 1, "messages must be a non-empty array");
                        goto out;
                }
                cJSON_ArrayForEach(x, msgs)
                {
                        const cJSON *role = cJSON_GetObjectItemCaseSensitive(x, "role");
                        char *text;
                        if (!cJSON_IsString(role)) {
                                resp_error(resp, 400, 1, "each message needs a role");
                                goto out;
                        }
                        text = content_text(cJSON_GetObjectItemCaseSensitive(x, "content"), model,
                                            resp);
                        if (!text)
                                goto out;
                        /* OpenAI's "developer" role is a system message */
                        gen_job_add_msg(j, !strcmp(role->valuestring, "developer")
                                                   ? "system" : role->valuestring, text);
                        free(text);
                }
        } else {
                x = cJSON_GetObjectItemCaseSensitive(b, "prompt");
                if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 1 &&
                    cJSON_IsString(cJSON_GetArrayItem(x, 0)))
                        x = cJSON_GetArrayItem(x, 0);
                if (!cJSON_IsString(x)) {
                        resp_error(resp, 400, 1, "prompt must be a string");
                        goto out;
                }
                prompt = x->valuestring;
                if (!*prompt) {
                        resp_error(resp, 400, 1, "prompt must not be empty");
                        goto out;
                }
                gen_job_add_msg(j, "user", prompt);
                j->raw = 1; /* completions continue the text as is */
        }
        j->options = opts;
        opts = NULL;
        gen_respond(req, resp, gen_job_start(j), stream, SSE);
        j = NULL;
        if (stream && resp->chan)
                http_resp_header(resp, "Cache-Control", "no-cache");
out:
        if (j) /* never started */
                gen_job_discard(j);
        free(schema);
        cJSON_Delete(opts);
        cJSON_Delete(b);
}

static void models(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        struct store_entry *e = NULL;
        struct mu_err err = {0};
        char *warn = NULL;
        int n = 0;
        const char *one = NULL;

        if (!strncmp(req->path, "/v1/models/", 11))
                one = req->path + 11;
        if (store_list(s->c.cfg, &e, &n, &warn, &err)) {
                resp_error(resp, 500, 1, "%s", err.msg);
                return;
        }
        free(warn);
        cJSON *o = cJSON_CreateObject(), *arr = NULL;
        if (!one) {
                cJSON_AddStringToObject(o, "object", "list");
                arr = cJSON_AddArrayToObject(o, "data");
        }
        for (int i = 0; i < n; i++) {
                cJSON *m = one ? o : cJSON_CreateObject();
                char *want = one ? srv_model_name(one) : NULL;
                if (one && strcmp(want, e[i].name)) {
                        free(want);
                        continue;
                }
                free(want);
                cJSON_AddStringToObject(m, "id", e[i].name);
                cJSON_AddStringToObject(m, "object", "model");
                cJSON_AddNumberToObject(m, "created", (double)e[i].mtime);
                cJSON_AddStringToObject(m, "owned_by", e[i].ref.ns);
                if (one)
                        break;
                cJSON_AddItemToArray(arr, m);
        }
        free(e);
        if (one && !cJSON_GetObjectItem(o, "id")) {
                cJSON_Delete(o);
                resp_error(resp, 404, 1, "model '%s' not found", one);
                return;
        }
        resp_json(resp, 200, o);
}

static void embeddings(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        cJSON *b = body_parse(req, resp, 1), *inputs = NULL, *vecs = NULL;
        const char *model = NULL, *enc = NULL;
        int dims = 0, ntok = 0;
        int64_t load_ns = 0;
        const cJSON *d;

        if (!b)
                return;
        if (body_str(b, "model", &model, resp, 1) || body_str(b, "encoding_format", &enc, resp, 1))
                goto out;
        if (!model || !*model) {
                resp_error(resp, 400, 1, "model is required");
                goto out;
        }
        if (enc && strcmp(enc, "float") && strcmp(enc, "base64")) {
                resp_error(resp, 400, 1, "encoding_format must be float or base64");
                goto out;
        }
        if ((d = cJSON_GetObjectItemCaseSensitive(b, "dimensions")) && cJSON_IsNumber(d))
                dims = (int)d->valuedouble;
        inputs = api_embed_inputs(cJSON_GetObjectItemCaseSensitive(b, "input"), resp, 1);
        if (!inputs)
                goto out;
        if (cJSON_GetArraySize(inputs) == 0) {
                resp_error(resp, 400, 1, "input must not be empty");
                goto out;
        }
        vecs = cJSON_CreateArray();
        if (api_embed_run(s, model, inputs, 1, dims, SRV_KEEP_DEFAULT,
                          cJSON_GetObjectItemCaseSensitive(b, "options"), vecs, &ntok, &load_ns,
                          req, resp, 1))
                goto out;
        cJSON *o = cJSON_CreateObject(), *data = cJSON_AddArrayToObject(o, "data");
        cJSON_AddStringToObject(o, "object", "list");
        int i = 0;
        while (cJSON_GetArraySize(vecs)) {
                cJSON *v = cJSON_DetachItemFromArray(vecs, 0), *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "object", "embedding");
                if (enc && !strcmp(enc, "base64")) {
                        /* little-endian float32 bytes, base64 (what the openai
                         * package asks for by default) */
                        int n = cJSON_GetArraySize(v), k = 0;
                        float *f = mu_xcalloc((size_t)n + 1, sizeof(float));
                        unsigned char *b64 = mu_xmalloc(((size_t)n * 4 + 2) / 3 * 4 + 1);
                        const cJSON *x;
                        cJSON_ArrayForEach(x, v) f[k++] = (float)x->valuedouble;
                        EVP_EncodeBlock(b64, (const unsigned char *)f, n * 4);
                        cJSON_AddStringToObject(e, "embedding", (const char *)b64);
                        cJSON_Delete(v);
                        free(f);
                        free(b64);
                } else {
                        cJSON_AddItemToObject(e, "embedding", v);
                }
                cJSON_AddNumberToObject(e, "index", i++);
                cJSON_AddItemToArray(data, e);
        }
        char *name = srv_model_name(model);
        cJSON_AddStringToObject(o, "model", name);
        free(name);
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", ntok);
        cJSON_AddNumberToObject(u, "total_tokens", ntok);
        resp_json(resp, 200, o);
out:
        cJSON_Delete(vecs);
        cJSON_Delete(inputs);
        cJSON_Delete(b);
}

void api_openai(struct srv *s, struct http_req *req, struct http_resp *resp)
{
        const char *p = req->path;
        int post = !strcmp(req->method, "POST");
        int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");

        if (!strcmp(p, "/v1/chat/completions") && post)
                completions(s, req, resp, 1);
        else if (!strcmp(p, "/v1/completions") && post)
                completions(s, req, resp, 0);
        else if (!strcmp(p, "/v1/embeddings") && post)
                embeddings(s, req, resp);
        else if ((!strcmp(p, "/v1/models") || !strncmp(p, "/v1/models/", 11)) && get)
                models(s, req, resp);
        else if (!strcmp(p, "/v1/chat/completions") || !strcmp(p, "/v1/completions") ||
                 !strcmp(p, "/v1/embeddings") || !strncmp(p, "/v1/models", 10))
                resp_error(resp, 405, 1, "method %s not allowed", req->method);
        else
                resp_error(resp, 404, 1, "unknown endpoint %s", p);
}
