/* net.h -- internals shared by the registry client, the downloader and
 * pull: libcurl set-up, retry policy, environment knobs.
 *
 * Environment (read by net_env_*; documented in `mullama pull --help`):
 *   MULLAMA_PULL_RETRIES        retries per request / part (default 6)
 *   MULLAMA_PULL_STALL_TIMEOUT  seconds without a byte before a part is
 *                               restarted (default 30)
 *   MULLAMA_PULL_PART_SIZE      bytes per ranged part (K/M/G suffix; default
 *                               size/16 within 100 MB..1 GB)
 *   MULLAMA_PULL_CONNECTIONS    parts fetched at once (default 8) */
#ifndef MULLAMA_NET_H
#define MULLAMA_NET_H

#include <curl/curl.h>
#include <stdint.h>

#include "mullama/mullama.h"

/* curl_global_init once (thread-safe). */
void net_init(void);
/* Common options: user agent, HTTP/2 over TLS, protocols http(s) only,
 * connect timeout, TCP keepalive, no signals.  Proxies come from the
 * environment (libcurl reads http_proxy, HTTPS_PROXY, NO_PROXY, ...). */
void net_easy_defaults(CURL *h);
/* Sleep for the backoff of retry attempt n (0-based), waking early when
 * *cancel or mu_interrupted is set; returns 1 when cancelled. */
int net_backoff(int attempt, volatile int *cancel);
int64_t net_backoff_ms(int attempt);
int net_cancelled(volatile int *cancel);

int net_env_retries(void);
int net_env_stall_s(void);
int64_t net_env_part_size(void); /* 0: automatic */
int net_env_connections(void);

/* "scheme://host[:port]" of url into out (for cross-host redirect checks). */
void net_url_origin(const char *url, char *out, size_t n);

/* A short human explanation of an HTTP error body: the "error" string of an
 * Ollama body, the first "errors[].message" of a registry one, else the
 * first line of the text (sanitised, at most ~200 chars).  Caller frees. */
char *net_error_text(const char *body, size_t len);

/* ---- downloads (download.c) --------------------------------------------- */

struct dl_opts {
        int retries;
        int stall_s;
        int64_t part_size; /* 0: automatic */
        int connections;
        volatile int *cancel;
        /* "Authorization: ..." header sent only to URLs of auth_origin
         * ("scheme://host[:port]"), never to a CDN; both may be NULL */
        const char *auth;
        const char *auth_origin;
        /* bytes of the blob on disk so far (resumed ones included) */
        void (*progress)(void *ud, int64_t completed, int64_t total);
        void *ud;
};

void dl_opts_from_env(struct dl_opts *o);

/* Bytes of blob <hex> already downloaded into blobs_dir's partial file
 * (from its state file; 0 when none or when it does not match size). */
int64_t download_partial_done(const char *blobs_dir, const char *hex, int64_t size);

/* Download url (the registry's blob URL; a cross-host redirect is followed
 * once and the target used for the ranged GETs) into
 * blobs_dir/sha256-<hex>-partial, keeping part state in
 * sha256-<hex>-partial.state so a later call resumes.  Returns 0 when every
 * byte is on disk (not yet verified: see download_commit).  what names the
 * layer in messages. */
int download_blob(const char *url, const char *blobs_dir, const char *hex, int64_t size,
                  const char *what, const struct dl_opts *o, struct mu_err *err);

/* Drop the partial file and part state of a blob that is already in the
 * store (left by a pull killed while it committed). */
void download_forget(const char *blobs_dir, const char *hex);

/* Hash the complete partial file: on a match rename it to sha256-<hex>
 * (fsync'd) and drop the state; on a mismatch delete both and fail with
 * MU_EINTEGRITY naming what. */
int download_commit(const char *blobs_dir, const char *hex, int64_t size, const char *what,
                    volatile int *cancel, struct mu_err *err);

#endif
