/* server.h -- what the files of `mullama serve` share (internal to src/net).
 *
 * server.c: the model registry.  A model loads on first use and stays for
 * its keep_alive (default 5m, 0: unload when idle, negative: forever).  Each
 * loaded model has `parallel` slots: runners sharing the weights, each with
 * its own KV cache, created on first use.  A request takes a free slot or
 * waits in a queue of at most max_queue requests (then 503).  Loading a new
 * model first unloads idle models, least recently used first, while more
 * than max_loaded models or more than max_memory bytes would be loaded.
 *
 * With more than one slot, the slots' runners share a decode group
 * (runner.h): each generated token is evaluated in one forward pass together
 * with the other slots' next tokens (--no-batch: one at a time).
 *
 * gen.c: a generation job, run in its own thread: acquire a slot, render
 * the chat, generate, hand text to the API's formatter, which writes to the
 * request's http_chan.
 *
 * api_ollama.c, api_openai.c: the endpoints; body.c: request-body helpers;
 * routes.c: dispatch, auth, CORS. */
#ifndef MULLAMA_NET_SERVER_H
#define MULLAMA_NET_SERVER_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>

#include "mullama/mullama.h"
#include "mullama/runner.h"
#include "mullama/store.h"
#include "mullama/template.h"
#include "net/httpd.h"

#define SRV_KEEP_FOREVER INT64_MAX

struct srv_config {
        const struct mu_config *cfg;
        const char *host;
        int port;
        const char *api_key;      /* NULL: no auth */
        const char *origins;      /* extra allowed CORS origins, comma-separated; "*" all */
        int parallel;             /* slots per model */
        int max_queue;
        int max_loaded;
        uint64_t max_memory;      /* bytes */
        int64_t keep_alive_ns;    /* default; SRV_KEEP_FOREVER */
        size_t max_body;
        int num_ctx;              /* default context (0: the runner's) */
        int num_thread;           /* per slot (0: cores / parallel) */
        int grace_s;              /* shutdown grace period */
        int no_batch;             /* 1: slots decode one at a time */
        int num_gpu;              /* --gpu-layers; SRV_GPU_ANY: unset (runner default) */
};
#define SRV_GPU_ANY INT32_MIN

struct srv_model {
        struct srv_model *next;
        char *name;               /* display name ("llama3:latest") or the path */
        char *path;               /* GGUF */
        struct store_model *sm;   /* NULL for a path */
        struct runner **slots;    /* [n_slots]; NULL until first used */
        int n_slots;
        int *busy;
        int n_busy;
        int loading;
        int64_t expires_ns;       /* monotonic; SRV_KEEP_FOREVER */
        int64_t expires_wall;     /* seconds since the epoch, for /api/ps */
        int64_t last_used;
        uint64_t mem;             /* estimated bytes */
        int n_ctx;
        struct decode_group *group; /* batched decoding of the slots, or NULL */
        int num_gpu;              /* num_gpu asked for at load (SRV_GPU_ANY: default) */
};

struct gen_job;

struct srv {
        struct srv_config c;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct srv_model *models;
        int n_waiting;
        int n_active;             /* requests holding or waiting for a slot */
        struct gen_job *jobs;     /* running generation jobs */
        int n_jobs;
        int stopping;
        int draining;             /* refuse new requests (shutdown) */
        pthread_t reaper;
        int reaper_started;
        struct http_server *http;
};

int srv_init(struct srv *s, const struct srv_config *c, struct mu_err *err);
void srv_shutdown(struct srv *s);  /* after the HTTP server stopped: unload all */
/* Graceful stop: refuse new requests, wait up to grace_ns for running ones,
 * then cancel what is left.  *interrupt (a second signal) cuts the wait. */
void srv_drain(struct srv *s, int64_t grace_ns, volatile int *interrupt);

/* A slot of a model, held while generating. */
struct srv_lease {
        struct srv *s;
        struct srv_model *m;
        int slot;
        struct runner *r;
        int64_t load_ns;          /* time spent loading for this request */
};

/* Acquire a slot of model `name` (loading it if needed).  Returns 0, or an
 * HTTP status (404 unknown model, 503 queue full or shutting down, 499
 * canceled, 400/500) with err filled. */
int srv_acquire(struct srv *s, const char *name, volatile int *cancel, struct srv_lease *l,
                struct mu_err *err);
/* The same for a request that asks for num_gpu blocks on the GPU: a model
 * loaded with another num_gpu is reloaded (once idle), as Ollama does.
 * SRV_GPU_ANY takes the model as loaded. */
int srv_acquire_gpu(struct srv *s, const char *name, volatile int *cancel, int num_gpu,
                    struct srv_lease *l, struct mu_err *err);
/* Give the slot back; keep_alive_ns < -1 means "use the default". */
void srv_release(struct srv_lease *l, int64_t keep_alive_ns);
#define SRV_KEEP_DEFAULT INT64_MIN
/* Unload now if idle (else when the last request finishes).  0 if it was loaded. */
int srv_unload(struct srv *s, const char *name);
/* Canonical name for a reference: "llama3" -> "llama3:latest"; paths as is. */
char *srv_model_name(const char *ref);
/* Options for a request: server defaults, then the model's params layer,
 * then the request's options object (unknown keys ignored with a warning). */
int srv_options(struct srv *s, const struct srv_model *m, const cJSON *req_opts,
                struct runner_options *o, struct mu_err *err);
/* /api/ps body. */
char *srv_ps_json(struct srv *s);
/* Begin/end a request counted for the graceful shutdown. */
int srv_enter(struct srv *s);   /* 0, or -1 when shutting down */
void srv_leave(struct srv *s);

/* ---- gen.c ---------------------------------------------------------------- */

struct gen_job;
struct gen_fmt {
        /* streamed piece (only when stream is set) */
        void (*piece)(struct gen_job *j, const char *text, size_t len);
        /* after generation: final chunk (stream) or the whole body */
        void (*done)(struct gen_job *j);
        /* error before anything was sent (status set) or mid-stream (status 0) */
        void (*error)(struct gen_job *j, int status, const char *msg);
};

struct gen_job {
        struct gen_job *next;
        struct srv *s;
        struct http_chan *chan;
        const struct gen_fmt *fmt;
        void *api;                /* formatter data, freed with free() */
        char *model;              /* canonical name */
        struct chat_msg *msgs;    /* owned strings */
        int n_msgs;
        char *system;             /* override or NULL */
        char *tmpl;               /* Go template override or NULL */
        int raw;
        int chat;                 /* 1: prepend the Modelfile's MESSAGEs */
        int stream;
        int format_json;
        char *schema_json;        /* JSON schema the output must follow, or NULL */
        cJSON *options;           /* owned, may be NULL */
        int64_t keep_alive_ns;    /* SRV_KEEP_DEFAULT when unset */
        int64_t t_start;          /* mu_time_ns() */
        int64_t created;          /* time(NULL) */
        /* results */
        struct mu_buf text;
        struct runner_stats st;
        int64_t load_ns;
        int started;
};

struct gen_job *gen_job_new(struct srv *s, const char *model, const struct gen_fmt *fmt);
void gen_job_add_msg(struct gen_job *j, const char *role, const char *content);
/* Start the job thread; the job owns itself from here.  Returns a channel
 * reference for the response (caller unrefs or hands it to the response). */
struct http_chan *gen_job_start(struct gen_job *j);
/* Free a job that was never started. */
void gen_job_discard(struct gen_job *j);

/* Respond to a generation request: wait for the job's status, then stream
 * (ctype) or send the whole body. */
void gen_respond(struct http_req *req, struct http_resp *resp, struct http_chan *ch,
                 int stream, const char *stream_ctype);

/* ---- body.c ----------------------------------------------------------------- */

/* Parse the request body as a JSON object; on failure fills resp with a 400
 * (or 413 when too large) in the Ollama error shape (openai: OpenAI's) and
 * returns NULL. */
cJSON *body_parse(struct http_req *req, struct http_resp *resp, int openai);
/* Set an error response: {"error":"msg"} or OpenAI's {"error":{...}}. */
void resp_error(struct http_resp *resp, int status, int openai, const char *fmt, ...)
        MU_PRINTF(4, 5);
void resp_json(struct http_resp *resp, int status, cJSON *o);  /* frees o */
/* Typed field access: 0 ok (absent leaves *out), -1 wrong type (resp set). */
int body_str(const cJSON *o, const char *key, const char **out, struct http_resp *resp,
             int openai);
int body_bool(const cJSON *o, const char *key, int *out, struct http_resp *resp, int openai);
/* keep_alive: a number of seconds or a Go duration ("5m", "1h30m", "-1"). */
int body_keep_alive(const cJSON *o, int64_t *ns, struct http_resp *resp, int openai);
/* Parse a duration string; 0 on success. */
int parse_duration(const char *s, int64_t *ns);
/* RFC 3339 with nanoseconds in UTC ("2026-01-01T12:00:00.123456789Z"). */
void time_rfc3339(char *buf, size_t n, int64_t wall_ns);
int64_t wall_ns(void);
/* The HTTP status for a MU_E* code. */
int status_for(int code);

/* ---- api ------------------------------------------------------------------------ */

void api_ollama(struct srv *s, struct http_req *req, struct http_resp *resp);
void api_openai(struct srv *s, struct http_req *req, struct http_resp *resp);
void routes_handle(void *ud, struct http_req *req, struct http_resp *resp);

#endif
