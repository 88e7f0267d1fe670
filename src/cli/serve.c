/* serve.c -- `mullama serve`: the HTTP server with Ollama's and OpenAI's
 * APIs (src/net/).  Binds MULLAMA_HOST / --host (default 127.0.0.1:11434);
 * a non-loopback address needs --api-key or --no-auth.  SIGTERM/SIGINT:
 * stop accepting, let running requests finish within --grace seconds,
 * cancel the rest, exit 0 (a second signal cancels at once). */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/server.h"

static int parse_size(const char *s, uint64_t *out)
{
        char *end;
        double v = strtod(s, &end);

        if (end == s || v < 0)
                return -1;
        switch (*end) {
        case 'k': case 'K': v *= 1024; end++; break;
        case 'm': case 'M': v *= 1048576; end++; break;
        case 'g': case 'G': v *= 1073741824.0; end++; break;
        case 't': case 'T': v *= 1099511627776.0; end++; break;
        default: break;
        }
        if (*end == 'i' || *end == 'I')
                end++;
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end)
                return -1;
        *out = (uint64_t)v;
        return 0;
}

/* "http://h:p", "h:p", "[v6]:p", ":p", "h" -> host and port */
static int split_host(const char *in, char *host, size_t hn, int *port)
{
        const char *p = in, *colon;

        *port = 11434;
        if (!strncmp(p, "http://", 7))
                p += 7;
        else if (!strncmp(p, "https://", 8))
                p += 8;
        if (*p == '[') {
                const char *e = strchr(p, ']');
                if (!e)
                        return -1;
                snprintf(host, hn, "%.*s", (int)(e - p - 1), p + 1);
                colon = e[1] == ':' ? e + 1 : NULL;
        } else {
                colon = strrchr(p, ':');
                if (colon && strchr(p, ':') != colon) { /* bare IPv6 */
                        snprintf(host, hn, "%s", p);
                        colon = NULL;
                } else {
                        snprintf(host, hn, "%.*s", colon ? (int)(colon - p) : (int)strlen(p), p);
                }
        }
        size_t l = strlen(host);
        if (l && host[l - 1] == '/')
                host[l - 1] = '\0';
        if (!*host)
                snprintf(host, hn, "127.0.0.1");
        if (colon) {
                char *end;
                long v = strtol(colon + 1, &end, 10);
                if (end == colon + 1 || (*end && *end != '/') || v < 0 || v > 65535)
                        return -1;
                *port = (int)v;
        }
        return 0;
}

static int is_loopback(const char *host)
{
        struct in_addr a4;
        struct in6_addr a6;

        if (!strcmp(host, "localhost"))
                return 1;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, host, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6);
        return 0;
}

static const char *env_or(const char *name, const char *def)
{
        const char *e = getenv(name);

        return e && *e ? e : def;
}

int cmd_serve(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "serve", "",
                "Start the HTTP server: Ollama's /api and OpenAI's /v1 endpoints.",
                "Environment: MULLAMA_HOST, MULLAMA_API_KEY, MULLAMA_ORIGINS,\n"
                "MULLAMA_KEEP_ALIVE, MULLAMA_NUM_PARALLEL, MULLAMA_MAX_QUEUE,\n"
                "MULLAMA_MAX_LOADED_MODELS (flags win)."};
        const char *host = NULL, *api_key = NULL, *origins = NULL, *keep = NULL;
        const char *max_mem = NULL, *max_body = NULL, *gpu_layers = NULL;
        int no_auth = 0, parallel = 0, max_queue = -1, max_loaded = 0, num_ctx = 0;
        int threads = 0, grace = 10, no_batch = 0;
        char **preload = NULL;
        const struct opt opts[] = {
                {"host", 0, OPT_STR, &host, "ADDR", "address to listen on (host:port)"},
                {"api-key", 0, OPT_STR, &api_key, "KEY", "require Authorization: Bearer KEY"},
                {"no-auth", 0, OPT_BOOL, &no_auth, NULL, "allow a non-loopback bind without a key"},
                {"origins", 0, OPT_STR, &origins, "LIST", "extra CORS origins (comma list, * all)"},
                {"parallel", 'p', OPT_INT, &parallel, "N", "parallel requests per model (1)"},
                {"max-queue", 0, OPT_INT, &max_queue, "N", "queued requests before 503 (512)"},
                {"max-loaded", 0, OPT_INT, &max_loaded, "N", "models loaded at once (3)"},
                {"max-memory", 0, OPT_STR, &max_mem, "SIZE", "memory budget for models (80% of RAM)"},
                {"keep-alive", 0, OPT_STR, &keep, "DUR", "default keep_alive (5m; -1 forever)"},
                {"max-body", 0, OPT_STR, &max_body, "SIZE", "largest request body (32M)"},
                {"ctx", 'c', OPT_INT, &num_ctx, "N", "default context length (num_ctx)"},
                {"threads", 't', OPT_INT, &threads, "N", "threads per slot (cores / parallel)"},
                {"gpu-layers", 0, OPT_STR, &gpu_layers, "N|all",
                 "blocks to offload to a Vulkan GPU (num_gpu)"},
                {"preload", 0, OPT_LIST, &preload, "MODEL", "load MODEL at start, keep it (repeatable)"},
                {"grace", 0, OPT_INT, &grace, "SEC", "shutdown grace period (10)"},
                {"no-batch", 0, OPT_BOOL, &no_batch, NULL, "parallel slots decode one at a time"},
                {0},
        };
        struct srv_config c = {0};
        struct srv *s = NULL;
        struct http_server_opts ho = {0};
        struct mu_err err = {0};
        char hostbuf[300];
        char **pos = NULL;
        int np = 0, rc, port;
        sigset_t set;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        free(pos);
        if (rc != OPT_OK) {
                free(preload);
                return rc == OPT_HELP ? 0 : MU_EXIT_USAGE;
        }
        if (np > 0) {
                free(preload);
                return opt_error(&u, "serve takes no arguments");
        }
        c.cfg = cfg;
        if (split_host(host ? host : cfg->host, hostbuf, sizeof(hostbuf), &port)) {
                free(preload);
                return opt_error(&u, "bad address '%s' (expected HOST:PORT)", host ? host : cfg->host);
        }
        c.host = hostbuf;
        c.port = port;
        c.api_key = api_key ? api_key : getenv("MULLAMA_API_KEY");
        if (c.api_key && !*c.api_key)
                c.api_key = NULL;
        if (!is_loopback(hostbuf) && !c.api_key && !no_auth) {
                free(preload);
                return opt_error(&u, "binding %s (not loopback) needs --api-key KEY or --no-auth",
                                 hostbuf);
        }
        c.origins = origins ? origins : getenv("MULLAMA_ORIGINS");
        c.parallel = parallel > 0 ? parallel : atoi(env_or("MULLAMA_NUM_PARALLEL", "1"));
        c.max_queue = max_queue >= 0 ? max_queue : atoi(env_or("MULLAMA_MAX_QUEUE", "512"));
        c.max_loaded = max_loaded > 0 ? max_loaded : atoi(env_or("MULLAMA_MAX_LOADED_MODELS", "3"));
        c.num_ctx = num_ctx;
        c.num_thread = threads;
        c.grace_s = grace;
        c.no_batch = no_batch;
        c.num_gpu = SRV_GPU_ANY;
        if (gpu_layers) {
                char *end;
                long v = strtol(gpu_layers, &end, 10);
                if (!strcmp(gpu_layers, "all"))
                        v = 999, end = (char *)"";
                if (end == gpu_layers || *end || v < -1 || v > 100000) {
                        free(preload);
                        return opt_error(&u, "--gpu-layers: '%s' is not a number of blocks "
                                         "or 'all'", gpu_layers);
                }
                c.num_gpu = v < 0 ? 999 : (int)v;
        }
        {
                const char *k = keep ? keep : env_or("MULLAMA_KEEP_ALIVE", "5m");
                int64_t ns;
                if (parse_duration(k, &ns)) {
                        free(preload);
                        return opt_error(&u, "bad keep-alive '%s' (e.g. 5m, 1h, -1)", k);
                }
                c.keep_alive_ns = ns < 0 ? SRV_KEEP_FOREVER : ns;
        }
        {
                uint64_t v = 32u << 20;
                if (max_body && parse_size(max_body, &v)) {
                        free(preload);
                        return opt_error(&u, "bad size '%s'", max_body);
                }
                c.max_body = (size_t)v;
                long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
                v = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 10 * 8 : (8ull << 30);
                if (max_mem && parse_size(max_mem, &v)) {
                        free(preload);
                        return opt_error(&u, "bad size '%s'", max_mem);
                }
                c.max_memory = v;
        }

        /* every thread inherits this mask; signals are taken by sigwait */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        s = mu_xcalloc(1, sizeof(*s));
        if (srv_init(s, &c, &err)) {
                free(s);
                free(preload);
                return cli_fail(&err);
        }
        for (char **p = preload; p && *p; p++) {
                struct srv_lease l;
                char *name = srv_model_name(*p);
                rc = srv_acquire(s, name, NULL, &l, &err);
                free(name);
                if (rc) {
                        fprintf(stderr, "error: preload %s: %s\n", *p, err.msg);
                        srv_shutdown(s);
                        free(s);
                        free(preload);
                        return rc == 404 ? MU_EXIT_NOTFOUND : MU_EXIT_ERROR;
                }
                srv_release(&l, SRV_KEEP_FOREVER);
        }
        free(preload);
        ho.host = c.host;
        ho.port = c.port;
        ho.max_body = c.max_body;
        ho.handler = routes_handle;
        ho.ud = s;
        if (http_server_start(&s->http, &ho, &err)) {
                srv_shutdown(s);
                free(s);
                return cli_fail(&err);
        }
        fprintf(stderr, "mullama %s: listening on %s%s%s:%d (parallel %d, keep_alive %s%s)\n",
                MU_VERSION, strchr(c.host, ':') ? "[" : "", c.host, strchr(c.host, ':') ? "]" : "",
                http_server_port(s->http), c.parallel,
                keep ? keep : env_or("MULLAMA_KEEP_ALIVE", "5m"),
                c.api_key ? ", API key required" : "");
        {
                int sig = 0;
                sigwait(&set, &sig);
                fprintf(stderr, "mullama: %s received, shutting down (grace %ds)\n",
                        sig == SIGTERM ? "SIGTERM" : "SIGINT", c.grace_s);
                http_server_quiesce(s->http);
                /* a second signal ends the grace period */
                static volatile int again;
                struct timespec ts = {0, 0};
                int64_t end = mu_time_ns() + (int64_t)c.grace_s * 1000000000;
                pthread_mutex_lock(&s->mu);
                s->draining = 1;
                pthread_mutex_unlock(&s->mu);
                while (mu_time_ns() < end) {
                        int busy;
                        pthread_mutex_lock(&s->mu);
                        busy = s->n_jobs || s->n_active;
                        pthread_mutex_unlock(&s->mu);
                        if (!busy)
                                break;
                        ts.tv_nsec = 50 * 1000000L;
                        if (sigtimedwait(&set, NULL, &ts) > 0) {
                                again = 1;
                                break;
                        }
                }
                srv_drain(s, 0, &again);
                /* let finished responses drain to their clients (keep-alive
                 * connections that sit idle are closed by the stop) */
                end = mu_time_ns() + INT64_C(2000000000);
                while (!again && http_server_connections(s->http) > 0 && mu_time_ns() < end) {
                        ts.tv_nsec = 20 * 1000000L;
                        if (sigtimedwait(&set, NULL, &ts) > 0)
                                break;
                }
        }
        http_server_stop(s->http);
        srv_shutdown(s);
        free(s);
        fprintf(stderr, "mullama: stopped\n");
        return 0;
}
