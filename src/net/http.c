/* http.c -- libcurl set-up, retry policy and environment knobs shared by
 * the registry client and the downloader (see net.h). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void net_init(void) { pthread_once(&init_once, do_init); }

void net_easy_defaults(CURL *h)
{
        curl_easy_setopt(h, CURLOPT_USERAGENT, "mullama/" MU_VERSION);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* manifests may come gzipped */
}

int net_cancelled(volatile int *cancel)
{
        return mu_interrupted || (cancel && *cancel);
}

int64_t net_backoff_ms(int attempt)
{
        int64_t ms = 250;

        for (int i = 0; i < attempt && ms < 8000; i++)
                ms *= 2;
        return ms > 8000 ? 8000 : ms;
}

int net_backoff(int attempt, volatile int *cancel)
{
        int64_t left = net_backoff_ms(attempt);

        while (left > 0) {
                struct timespec ts = {0, 50 * 1000000L};
                if (net_cancelled(cancel))
                        return 1;
                nanosleep(&ts, NULL);
                left -= 50;
        }
        return net_cancelled(cancel);
}

static long env_long(const char *name, long def, long lo, long hi)
{
        const char *s = getenv(name);
        char *end;
        long v;

        if (!s || !*s)
                return def;
        v = strtol(s, &end, 10);
        if (*end || v < lo || v > hi) {
                MU_LOG_WARN("ignoring %s='%s' (expected %ld..%ld)", name, s, lo, hi);
                return def;
        }
        return v;
}

int net_env_retries(void) { return (int)env_long("MULLAMA_PULL_RETRIES", 6, 0, 100); }
int net_env_stall_s(void) { return (int)env_long("MULLAMA_PULL_STALL_TIMEOUT", 30, 1, 3600); }
int net_env_connections(void) { return (int)env_long("MULLAMA_PULL_CONNECTIONS", 8, 1, 64); }

int64_t net_env_part_size(void)
{
        const char *s = getenv("MULLAMA_PULL_PART_SIZE");
        char *end;
        double v;

        if (!s || !*s)
                return 0;
        v = strtod(s, &end);
        switch (toupper((unsigned char)*end)) {
        case 'K': v *= 1024; end++; break;
        case 'M': v *= 1024 * 1024; end++; break;
        case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
        }
        if ((*end == 'B' || *end == 'b') && end[1] == '\0')
                end++;
        if (*end || v < 1024 || v > 64.0 * 1024 * 1024 * 1024) {
                MU_LOG_WARN("ignoring MULLAMA_PULL_PART_SIZE='%s' (expected 1K..64G)", s);
                return 0;
        }
        return (int64_t)v;
}

void net_url_origin(const char *url, char *out, size_t n)
{
        const char *p = strstr(url, "://");
        size_t len;

        p = p ? p + 3 : url;
        len = strcspn(p, "/?#");
        snprintf(out, n, "%.*s%.*s", (int)(p - url), url, (int)len, p);
        for (char *c = out; *c; c++)
                *c = (char)tolower((unsigned char)*c);
}

char *net_error_text(const char *body, size_t len)
{
        struct mu_buf b = MU_BUF_INIT;
        cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
        const char *msg = NULL;

        if (root) {
                cJSON *e = cJSON_GetObjectItem(root, "error");
                cJSON *es = cJSON_GetObjectItem(root, "errors");
                if (cJSON_IsString(e))
                        msg = e->valuestring;
                else if (cJSON_IsArray(es) && cJSON_GetArraySize(es) > 0) {
                        cJSON *m = cJSON_GetObjectItem(cJSON_GetArrayItem(es, 0), "message");
                        if (cJSON_IsString(m))
                                msg = m->valuestring;
                }
        }
        if (!msg && body && len && !root) {
                msg = body;
        }
        if (msg) {
                size_t n = 0;
                for (const char *c = msg; *c && *c != '\n' && n < 200 && (root || c < body + len);
                     c++, n++)
                        mu_buf_addc(&b, isprint((unsigned char)*c) ? *c : '?');
                if (n == 200)
                        mu_buf_adds(&b, "...");
        }
        cJSON_Delete(root);
        return mu_buf_detach(&b);
}
