/* body.c -- request bodies (JSON objects through cJSON) and error responses
 * in Ollama's {"error":"..."} or OpenAI's {"error":{"message",...}} shape. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/server.h"

void resp_json(struct http_resp *resp, int status, cJSON *o)
{
        char *s = cJSON_PrintUnformatted(o);

        cJSON_Delete(o);
        http_resp_set(resp, status, "application/json; charset=utf-8", s);
}

void resp_error(struct http_resp *resp, int status, int openai, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        cJSON *o = cJSON_CreateObject();

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (openai) {
                cJSON *e = cJSON_AddObjectToObject(o, "error");
                cJSON_AddStringToObject(e, "message", msg);
                cJSON_AddStringToObject(e, "type", status == 404 ? "not_found_error"
                                                   : status >= 500 ? "api_error"
                                                                   : "invalid_request_error");
                cJSON_AddNullToObject(e, "param");
                cJSON_AddNullToObject(e, "code");
        } else {
                cJSON_AddStringToObject(o, "error", msg);
        }
        resp_json(resp, status, o);
}

cJSON *body_parse(struct http_req *req, struct http_resp *resp, int openai)
{
        cJSON *o;
        const char *end = NULL;

        if (req->body_too_large) {
                resp_error(resp, 413, openai, "request body too large");
                return NULL;
        }
        if (!req->body || !req->body_len) {
                resp_error(resp, 400, openai, "missing request body");
                return NULL;
        }
        if (strlen(req->body) != req->body_len) {
                resp_error(resp, 400, openai, "invalid JSON body: NUL byte");
                return NULL;
        }
        o = cJSON_ParseWithOpts(req->body, &end, 1);
        if (!o) {
                size_t off = end ? (size_t)(end - req->body) : 0;
                resp_error(resp, 400, openai, "invalid JSON body at offset %zu", off);
                return NULL;
        }
        if (!cJSON_IsObject(o)) {
                cJSON_Delete(o);
                resp_error(resp, 400, openai, "request body must be a JSON object");
                return NULL;
        }
        return o;
}

int body_str(const cJSON *o, const char *key, const char **out, struct http_resp *resp,
             int openai)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!x || cJSON_IsNull(x))
                return 0;
        if (!cJSON_IsString(x)) {
                resp_error(resp, 400, openai, "field '%s' must be a string", key);
                return -1;
        }
        *out = x->valuestring;
        return 0;
}

int body_bool(const cJSON *o, const char *key, int *out, struct http_resp *resp, int openai)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!x || cJSON_IsNull(x))
                return 0;
        if (!cJSON_IsBool(x)) {
                resp_error(resp, 400, openai, "field '%s' must be a boolean", key);
                return -1;
        }
        *out = cJSON_IsTrue(x);
        return 0;
}

int parse_duration(const char *s, int64_t *ns)
{
        static const struct {
                const char *u;
                double mul;
        } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;
        int neg = 0, any = 0;
        char *end;

        while (isspace((unsigned char)*s))
                s++;
        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (!*s)
                return -1;
        /* a bare number is seconds */
        double v = strtod(s, &end);
        if (end != s && !*end) {
                total = v * 1e9;
                *ns = (int64_t)(neg ? -total : total);
                return 0;
        }
        while (*s) {
                v = strtod(s, &end);
                if (end == s)
                        return -1;
                s = end;
                size_t best = 0;
                double mul = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        size_t l = strlen(units[i].u);
                        if (!strncmp(s, units[i].u, l) && l > best) {
                                best = l;
                                mul = units[i].mul;
                        }
                }
                if (!best)
                        return -1;
                s += best;
                total += v * mul;
                any = 1;
        }
        if (!any)
                return -1;
        if (total > 9.2e18)
                total = 9.2e18;
        *ns = (int64_t)(neg ? -total : total);
        return 0;
}

int body_keep_alive(const cJSON *o, int64_t *ns, struct http_resp *resp, int openai)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "keep_alive");

        *ns = SRV_KEEP_DEFAULT;
        if (!x || cJSON_IsNull(x))
                return 0;
        if (cJSON_IsNumber(x)) {
                double d = x->valuedouble;
                *ns = d < 0 ? -1 : d > 9.2e9 ? SRV_KEEP_FOREVER : (int64_t)(d * 1e9);
                return 0;
        }
        if (cJSON_IsString(x) && parse_duration(x->valuestring, ns) == 0) {
                if (*ns < 0)
                        *ns = -1;
                return 0;
        }
        resp_error(resp, 400, openai, "invalid keep_alive: expected a duration like \"5m\" or a "
                                      "number of seconds");
        return -1;
}

int64_t wall_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void time_rfc3339(char *buf, size_t n, int64_t t)
{
        time_t sec = (time_t)(t / 1000000000);
        struct tm tm;
        char b[40];

        gmtime_r(&sec, &tm);
        strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%09lldZ", b, (long long)(t % 1000000000));
}

int status_for(int code)
{
        switch (code) {
        case MU_EINVAL:
        case MU_EFORMAT:
        case MU_ERANGE:
                return 400;
        case MU_ENOTFOUND:
                return 404;
        case MU_EUNSUPPORTED:
                return 400;
        case MU_EEXIST:
                return 409;
        case MU_ECANCELED:
                return 499;
        default:
                return 500;
        }
}
