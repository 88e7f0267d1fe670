/* registry.c -- pull references and manifest fetches (see registry.h). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mullama/registry.h"
#include "net/net.h"

#define MANIFEST_MAX (4u << 20)
#define HF_DEFAULT_QUANT "Q4_K_M"

static int is_hf(const char *host)
{
        return !strcasecmp(host, "hf.co") || !strcasecmp(host, "huggingface.co");
}

int registry_ref_parse(struct registry_ref *r, const char *in, int insecure,
                       struct mu_err *err)
{
        const char *s = in, *scheme = NULL, *slash, *env;
        int rc;

        memset(r, 0, sizeof(*r));
        if (!strncmp(s, "http://", 7)) {
                if (!insecure)
                        return mu_fail(err, MU_EINVAL,
                                       "cannot pull '%s' over plain HTTP without --insecure", in);
                scheme = "http";
                s += 7;
        } else if (!strncmp(s, "https://", 8)) {
                scheme = "https";
                s += 8;
        }
        rc = store_ref_parse(&r->ref, s, err);
        if (rc)
                return rc;
        if (r->ref.digest[0])
                return mu_fail(err, MU_EINVAL,
                               "cannot pull '%s': pulling by digest is not supported, name a tag",
                               in);
        /* hf.co/user/repo without a tag: the default quantization */
        slash = strrchr(s, '/');
        if (is_hf(r->ref.host) && !strchr(slash ? slash : s, ':'))
                snprintf(r->ref.tag, sizeof(r->ref.tag), "%s", HF_DEFAULT_QUANT);
        if (!scheme)
                scheme = insecure ? "http" : "https";
        env = getenv("MULLAMA_REGISTRY");
        if (env && *env && !strcasecmp(r->ref.host, STORE_DEFAULT_HOST)) {
                const char *h = env;
                if (!strncmp(h, "http://", 7)) {
                        scheme = "http";
                        h += 7;
                } else if (!strncmp(h, "https://", 8)) {
                        scheme = "https";
                        h += 8;
                }
                size_t n = strcspn(h, "/");
                if (n == 0 || n > 350)
                        return mu_fail(err, MU_EINVAL, "MULLAMA_REGISTRY='%s' is not a host[:port]",
                                       env);
                snprintf(r->base, sizeof(r->base), "%s://%.*s", scheme, (int)n, h);
        } else {
                snprintf(r->base, sizeof(r->base), "%s://%s", scheme, r->ref.host);
        }
        snprintf(r->display, sizeof(r->display), "%s/%s/%s:%s", r->ref.host, r->ref.ns,
                 r->ref.name, r->ref.tag);
        return 0;
}

char *registry_manifest_url(const struct registry_ref *r)
{
        return mu_xasprintf("%s/v2/%s/%s/manifests/%s", r->base, r->ref.ns, r->ref.name,
                            r->ref.tag);
}

char *registry_blob_url(const struct registry_ref *r, const char *digest)
{
        return mu_xasprintf("%s/v2/%s/%s/blobs/%s", r->base, r->ref.ns, r->ref.name, digest);
}

struct body {
        struct mu_buf b;
        int too_big;
        volatile int *cancel;
        char challenge[2048]; /* WWW-Authenticate of the last answer */
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
        struct body *bd = ud;
        size_t n = sz * nm;

        if (bd->b.len + n > MANIFEST_MAX) {
                bd->too_big = 1;
                return 0;
        }
        mu_buf_add(&bd->b, p, n);
        return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
        struct body *bd = ud;
        size_t n = sz * nm;

        if (n > 5 && !strncmp(p, "HTTP/", 5))
                bd->challenge[0] = '\0';
        if (n > 17 && !strncasecmp(p, "WWW-Authenticate:", 17)) {
                size_t k = n - 17;
                const char *v = p + 17;
                while (k && (*v == ' ' || *v == '\t'))
                        v++, k--;
                while (k && (v[k - 1] == '\r' || v[k - 1] == '\n'))
                        k--;
                snprintf(bd->challenge, sizeof(bd->challenge), "%.*s", (int)k, v);
        }
        return n;
}

int registry_parse_challenge(const char *h, char realm[1024], char service[256], char scope[512])
{
        realm[0] = service[0] = scope[0] = '\0';
        if (strncasecmp(h, "Bearer ", 7))
                return -1;
        for (const char *p = h + 7; *p;) {
                char key[32], val[1024];
                size_t k = 0, v = 0;
                while (*p == ' ' || *p == ',')
                        p++;
                while (*p && *p != '=' && k < sizeof(key) - 1)
                        key[k++] = *p++;
                key[k] = '\0';
                if (*p++ != '=')
                        break;
                if (*p == '"') {
                        for (p++; *p && *p != '"'; p++)
                                if (v < sizeof(val) - 1)
                                        val[v++] = *p;
                        if (*p == '"')
                                p++;
                } else {
                        while (*p && *p != ',' && v < sizeof(val) - 1)
                                val[v++] = *p++;
                }
                val[v] = '\0';
                if (!strcasecmp(key, "realm"))
                        snprintf(realm, 1024, "%s", val);
                else if (!strcasecmp(key, "service"))
                        snprintf(service, 256, "%s", val);
                else if (!strcasecmp(key, "scope"))
                        snprintf(scope, 512, "%s", val);
        }
        return strncmp(realm, "https://", 8) && strncmp(realm, "http://", 7) ? -1 : 0;
}

/* Answer a Bearer challenge with an anonymous token: 0 and r->auth set. */
static int fetch_token(struct registry_ref *r, const char *challenge, volatile int *cancel)
{
        char realm[1024], service[256], scope[512], *url, *es, *esc;
        struct body bd = {MU_BUF_INIT, 0, cancel, ""};
        long status = 0;
        CURL *h;
        int rc = -1;

        if (registry_parse_challenge(challenge, realm, service, scope))
                return -1;
        h = curl_easy_init();
        if (!h)
                abort();
        es = curl_easy_escape(h, service, 0);
        esc = curl_easy_escape(h, scope, 0);
        url = mu_xasprintf("%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
                           es ? es : "", esc ? esc : "");
        curl_free(es);
        curl_free(esc);
        net_easy_defaults(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &bd);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
                cJSON *root = cJSON_ParseWithLength(bd.b.data ? bd.b.data : "", bd.b.len);
                cJSON *t = cJSON_GetObjectItem(root, "token");
                if (!cJSON_IsString(t))
                        t = cJSON_GetObjectItem(root, "access_token");
                if (cJSON_IsString(t) && *t->valuestring &&
                    strlen(t->valuestring) < sizeof(r->auth) - 40 &&
                    !strpbrk(t->valuestring, "\r\n")) {
                        snprintf(r->auth, sizeof(r->auth), "Authorization: Bearer %s",
                                 t->valuestring);
                        rc = 0;
                }
                cJSON_Delete(root);
        }
        mu_buf_release(&bd.b);
        curl_easy_cleanup(h);
        free(url);
        return rc;
}

static int on_xfer(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
        struct body *bd = ud;

        (void)dt, (void)dn, (void)ut, (void)un;
        return net_cancelled(bd->cancel);
}

/* Transient: worth retrying.  Refused connections and DNS failures are not
 * (the registry is unreachable; retrying only delays the message). */
static int transient(CURLcode c)
{
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return 1;
        default:
                return 0;
        }
}

int registry_fetch_manifest(struct registry_ref *r, int retries, volatile int *cancel,
                            char **out, size_t *outlen, struct mu_err *err)
{
        char *url = registry_manifest_url(r), ebuf[CURL_ERROR_SIZE];
        struct curl_slist *hdr = NULL;
        struct body bd = {MU_BUF_INIT, 0, cancel, ""};
        CURL *h;
        int rc = 0, tried_token = 0;

        *out = NULL;
        *outlen = 0;
        net_init();
        h = curl_easy_init();
        if (!h)
                abort();
        hdr = curl_slist_append(hdr, "Accept: application/vnd.docker.distribution.manifest.v2+json");
        net_easy_defaults(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &bd);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &bd);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &bd);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)net_env_stall_s());
        for (int attempt = 0;; attempt++) {
                long status = 0;
                CURLcode c;

                mu_buf_reset(&bd.b);
                bd.too_big = 0;
                ebuf[0] = '\0';
                c = curl_easy_perform(h);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                if (net_cancelled(cancel)) {
                        rc = mu_fail(err, MU_ECANCELED, "pull of '%s' cancelled", r->display);
                        break;
                }
                if (bd.too_big) {
                        rc = mu_fail(err, MU_EFORMAT, "manifest of '%s' is over %u bytes",
                                     r->display, MANIFEST_MAX);
                        break;
                }
                if (c != CURLE_OK) {
                        if (transient(c) && attempt < retries) {
                                net_backoff(attempt, cancel);
                                continue;
                        }
                        const char *why = ebuf[0] ? ebuf : curl_easy_strerror(c);
                        int tls = c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION;
                        rc = mu_fail(err, MU_ENET, "cannot reach registry %s: %s%s", r->base, why,
                                     tls && !strncmp(r->base, "https:", 6)
                                             ? " (for a plain HTTP registry use --insecure)"
                                             : "");
                        break;
                }
                if (status == 200) {
                        *outlen = bd.b.len;
                        *out = mu_buf_detach(&bd.b);
                        break;
                }
                if (status == 401 && !tried_token && bd.challenge[0]) {
                        tried_token = 1;
                        if (fetch_token(r, bd.challenge, cancel) == 0) {
                                hdr = curl_slist_append(hdr, r->auth);
                                curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
                                continue;
                        }
                }
                char *why = net_error_text(bd.b.data, bd.b.len);
                if ((status >= 500 || status == 429 || status == 408) && attempt < retries) {
                        free(why);
                        net_backoff(attempt, cancel);
                        continue;
                }
                if (status == 404)
                        rc = mu_fail(err, MU_ENOTFOUND,
                                     "model '%s' not found in registry %s (HTTP 404%s%s)",
                                     r->display, r->base, *why ? ": " : "", why);
                else if (status == 412)
                        rc = mu_fail(err, MU_EUNSUPPORTED,
                                     "model '%s' requires a newer version of mullama (registry "
                                     "answered 412%s%s)", r->display, *why ? ": " : "", why);
                else if (status == 401 || status == 403)
                        rc = mu_fail(err, MU_ENET,
                                     "registry %s requires authentication for '%s' (HTTP %ld%s%s)",
                                     r->base, r->display, status, *why ? ": " : "", why);
                else
                        rc = mu_fail(err, MU_ENET, "registry %s answered HTTP %ld for '%s'%s%s",
                                     r->base, status, r->display, *why ? ": " : "", why);
                free(why);
                break;
        }
        mu_buf_release(&bd.b);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        free(url);
        return rc;
}
