/* routes.c -- every request passes here: CORS (Origin checked against
 * Ollama's default origins plus --origins; preflight answered), API key
 * (Authorization: Bearer, all but "/"), shutdown refusal, then dispatch to
 * the Ollama or OpenAI endpoints. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "net/server.h"

static const char *const default_origins[] = {
        "http://localhost",   "https://localhost",   "http://localhost:*",   "https://localhost:*",
        "http://127.0.0.1",   "https://127.0.0.1",   "http://127.0.0.1:*",   "https://127.0.0.1:*",
        "http://0.0.0.0",     "https://0.0.0.0",     "http://0.0.0.0:*",     "https://0.0.0.0:*",
        "http://[::1]",       "https://[::1]",       "http://[::1]:*",       "https://[::1]:*",
        "app://*",            "file://*",            "tauri://*",            "vscode-webview://*",
        "vscode-file://*",
};

static int origin_allowed(const struct srv *s, const char *origin)
{
        for (size_t i = 0; i < sizeof(default_origins) / sizeof(default_origins[0]); i++)
                if (!fnmatch(default_origins[i], origin, 0))
                        return 1;
        if (s->c.origins) {
                char *list = mu_xstrdup(s->c.origins), *save = NULL;
                int ok = 0;
                for (char *t = strtok_r(list, ",", &save); t && !ok;
                     t = strtok_r(NULL, ",", &save)) {
                        while (*t == ' ')
                                t++;
                        if (!strcmp(t, "*") || !fnmatch(t, origin, 0))
                                ok = 1;
                }
                free(list);
                return ok;
        }
        return 0;
}

/* constant-time comparison */
static int key_ok(const char *want, const char *got)
{
        size_t lw = strlen(want), lg = strlen(got);
        unsigned char d = lw != lg;

        for (size_t i = 0; i < lg; i++)
                d |= (unsigned char)(got[i] ^ want[i % (lw ? lw : 1)]);
        return d == 0;
}

void routes_handle(void *ud, struct http_req *req, struct http_resp *resp)
{
        struct srv *s = ud;
        const char *origin = http_header(req, "Origin");
        int openai = !strncmp(req->path, "/v1/", 4);
        int root = !strcmp(req->path, "/");

        if (origin) {
                if (!origin_allowed(s, origin)) {
                        resp_error(resp, 403, openai, "origin '%s' is not allowed", origin);
                        return;
                }
                http_resp_header(resp, "Access-Control-Allow-Origin", origin);
                http_resp_header(resp, "Vary", "Origin");
        }
        if (!strcmp(req->method, "OPTIONS")) {
                const char *h = http_header(req, "Access-Control-Request-Headers");
                http_resp_header(resp, "Access-Control-Allow-Methods",
                                 "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
                http_resp_header(resp, "Access-Control-Allow-Headers",
                                 h ? h : "Authorization, Content-Type, Accept, User-Agent");
                http_resp_header(resp, "Access-Control-Max-Age", "43200");
                http_resp_set(resp, 204, NULL, NULL);
                return;
        }
        if (s->c.api_key && !(root && (!strcmp(req->method, "GET") ||
                                       !strcmp(req->method, "HEAD")))) {
                const char *a = http_header(req, "Authorization");
                if (!a || strncasecmp(a, "Bearer ", 7) || !key_ok(s->c.api_key, a + 7)) {
                        http_resp_header(resp, "WWW-Authenticate", "Bearer");
                        resp_error(resp, 401, openai, "unauthorized: missing or wrong API key");
                        return;
                }
        }
        if (root) {
                if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
                        resp_error(resp, 405, 0, "method %s not allowed", req->method);
                        return;
                }
                http_resp_set(resp, 200, "text/plain; charset=utf-8",
                              mu_xstrdup("Ollama is running"));
                return;
        }
        if (srv_enter(s)) {
                resp_error(resp, 503, openai, "server is shutting down");
                return;
        }
        if (openai)
                api_openai(s, req, resp);
        else if (!strncmp(req->path, "/api/", 5))
                api_ollama(s, req, resp);
        else
                resp_error(resp, 404, 0, "404 page not found");
        srv_leave(s);
}
