/* ps.c -- `mullama ps`: ask the running server (MULLAMA_HOST) for its
 * loaded models (GET /api/ps) and print Ollama's table: NAME, ID, SIZE,
 * PROCESSOR, CONTEXT, UNTIL.  MULLAMA_API_KEY is sent as a Bearer token. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
        mu_buf_add(ud, p, sz * n);
        return sz * n;
}

/* "2026-01-01T12:00:00.123Z" -> seconds since the epoch (UTC), -1 if bad */
static int64_t parse_time(const char *s)
{
        struct tm tm = {0};

        if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                return -1;
        return (int64_t)timegm(&tm);
}

static void until_text(const char *expires, char *buf, size_t n)
{
        int64_t t = parse_time(expires), d = t - (int64_t)time(NULL);

        if (t < 0)
                snprintf(buf, n, "-");
        else if (t > (int64_t)time(NULL) + 100LL * 365 * 86400)
                snprintf(buf, n, "Forever");
        else if (d <= 0)
                snprintf(buf, n, "Stopping...");
        else if (d < 60)
                snprintf(buf, n, "%d seconds from now", (int)d);
        else if (d < 7200)
                snprintf(buf, n, "%d minutes from now", (int)((d + 30) / 60));
        else
                snprintf(buf, n, "%d hours from now", (int)((d + 1800) / 3600));
}

static void human_size(double b, char *buf, size_t n)
{
        if (b >= 1e9)
                snprintf(buf, n, "%.1f GB", b / 1e9);
        else if (b >= 1e6)
                snprintf(buf, n, "%.0f MB", b / 1e6);
        else if (b >= 1e3)
                snprintf(buf, n, "%.0f KB", b / 1e3);
        else
                snprintf(buf, n, "%.0f B", b);
}

int cmd_ps(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {"ps", "", "List the models loaded by the server "
                                           "(MULLAMA_HOST).", NULL};
        int json = 0;
        const struct opt opts[] = {
                {"json", 0, OPT_BOOL, &json, NULL, "print the server's JSON"},
                {0},
        };
        char **pos = NULL, *url;
        int np = 0, rc;
        struct mu_buf body = MU_BUF_INIT;
        CURL *c;
        CURLcode cr;
        long status = 0;
        struct curl_slist *hdr = NULL;
        const char *host = cfg->host, *key = getenv("MULLAMA_API_KEY");

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        free(pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np)
                return opt_error(&u, "ps takes no arguments");
        if (!strncmp(host, "http://", 7) || !strncmp(host, "https://", 8))
                url = mu_xasprintf("%s/api/ps", host);
        else if (host[0] == ':')
                url = mu_xasprintf("http://127.0.0.1%s/api/ps", host);
        else if (strchr(host, ':'))
                url = mu_xasprintf("http://%s/api/ps", host);
        else
                url = mu_xasprintf("http://%s:11434/api/ps", host);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
        if (key && *key) {
                char *h = mu_xasprintf("Authorization: Bearer %s", key);
                hdr = curl_slist_append(hdr, h);
                free(h);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        }
        cr = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_slist_free_all(hdr);
        curl_global_cleanup();
        if (cr != CURLE_OK) {
                fprintf(stderr, "error: could not connect to the mullama server at %s (%s); is "
                                "'mullama serve' running?\n", host, curl_easy_strerror(cr));
                rc = MU_EXIT_NET;
                goto out;
        }
        cJSON *root = cJSON_Parse(mu_buf_str(&body));
        if (status != 200 || !root) {
                cJSON *e = cJSON_GetObjectItem(root, "error");
                fprintf(stderr, "error: server answered %ld: %s\n", status,
                        cJSON_IsString(e) ? e->valuestring : "unexpected response");
                cJSON_Delete(root);
                rc = MU_EXIT_NET;
                goto out;
        }
        if (json) {
                printf("%s\n", mu_buf_str(&body));
                cJSON_Delete(root);
                rc = 0;
                goto out;
        }
        printf("%-40s %-14s %-10s %-10s %-9s %s\n", "NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT",
               "UNTIL");
        cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(root, "models"))
        {
                cJSON *name = cJSON_GetObjectItem(m, "name"), *dg = cJSON_GetObjectItem(m, "digest");
                cJSON *sz = cJSON_GetObjectItem(m, "size"), *ctx = cJSON_GetObjectItem(m, "context_length");
                cJSON *ex = cJSON_GetObjectItem(m, "expires_at");
                char sbuf[32], ubuf[64], id[13] = "";
                if (cJSON_IsString(dg))
                        snprintf(id, sizeof(id), "%.12s", dg->valuestring);
                human_size(cJSON_IsNumber(sz) ? sz->valuedouble : 0, sbuf, sizeof(sbuf));
                until_text(cJSON_IsString(ex) ? ex->valuestring : NULL, ubuf, sizeof(ubuf));
                printf("%-40s %-14s %-10s %-10s %-9d %s\n",
                       cJSON_IsString(name) ? name->valuestring : "?", id, sbuf, "100% CPU",
                       cJSON_IsNumber(ctx) ? ctx->valueint : 0, ubuf);
        }
        cJSON_Delete(root);
        rc = 0;
out:
        mu_buf_release(&body);
        free(url);
        return rc;
}
