/* download.c -- resumable, verified blob downloads (see net.h).
 *
 * A blob is split into parts of part_size bytes, fetched with up to
 * `connections` parallel ranged GETs through one curl multi handle.  Bytes go
 * straight to their offset in blobs/sha256-<hex>-partial (pwrite); the bytes
 * done per part are saved about once a second in
 * blobs/sha256-<hex>-partial.state (after an fdatasync of the data), so the
 * state never claims bytes that are not on disk and a later run, after a
 * crash or kill -9, resumes every part where it stopped.  A flock on the
 * partial file keeps two pulls of one blob from interleaving.
 *
 * Failures: a part whose connection drops, errs, or delivers no byte for
 * stall_s seconds is restarted from its current offset after a backoff;
 * `retries` failures in a row without progress fail the part (the other
 * parts run to completion first, so their bytes are kept).  4xx answers
 * other than 408/429 fail at once.  The registry's blob URL is resolved
 * with HEAD first: same-host redirects are followed, a cross-host redirect
 * (a CDN) is taken as the URL for the ranged GETs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/sha256.h"
#include "net/net.h"

#define MAX_PARTS 100000
#define STATE_MAGIC "mullama-partial 1"
#define MSG_CANCEL "pull interrupted; pulling again resumes where it stopped"

enum { P_WAIT, P_ACTIVE, P_DONE, P_FAILED };

struct dl;

struct part {
        int64_t start, end; /* [start, end) of the blob */
        int64_t done;       /* bytes on disk from start */
        int64_t done0;      /* done when this attempt began */
        int state, tries;
        int64_t next_ns;
        int64_t last_data_ns; /* last byte (or start) of this attempt */
        CURL *h;
        int gen; /* d->gen when this attempt started */
        struct curl_slist *hdr;
        int range_bad, werr, cut;
        int got200; /* a 200 answer to a ranged request */
        struct mu_buf ebody;
        char ebuf[CURL_ERROR_SIZE];
        struct dl *d;
};

struct dl {
        const struct dl_opts *o;
        const char *what;
        const char *reg_url; /* the registry's blob URL */
        char *url;           /* where the parts go (a CDN after a redirect) */
        int gen;             /* bumped each time url is resolved */
        int reresolve;       /* the CDN refused a signed URL: resolve again */
        int no_ranges;       /* the server ignores Range: one part, from 0 */
        int fd;
        int64_t size;
        struct part *parts;
        int n;
        char *partial, *state;
};

void dl_opts_from_env(struct dl_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->retries = net_env_retries();
        o->stall_s = net_env_stall_s();
        o->part_size = net_env_part_size();
        o->connections = net_env_connections();
}

/* ---- part state ---------------------------------------------------------- */

static void layout(struct dl *d, int64_t part_size)
{
        if (part_size <= 0) {
                part_size = d->size / 16;
                if (part_size < 100 * 1000 * 1000)
                        part_size = 100 * 1000 * 1000;
                if (part_size > 1000 * 1000 * 1000)
                        part_size = 1000 * 1000 * 1000;
        }
        if ((d->size + part_size - 1) / part_size > MAX_PARTS)
                part_size = (d->size + MAX_PARTS - 1) / MAX_PARTS;
        d->n = d->size ? (int)((d->size + part_size - 1) / part_size) : 0;
        d->parts = mu_xcalloc((size_t)d->n + 1, sizeof(*d->parts));
        for (int i = 0; i < d->n; i++) {
                d->parts[i].start = (int64_t)i * part_size;
                d->parts[i].end = i == d->n - 1 ? d->size : (int64_t)(i + 1) * part_size;
        }
}

/* Load saved part state; 0 when it was valid and matches hex/size. */
static int load_state(struct dl *d, const char *hex, int64_t file_size)
{
        char *text = NULL, *line, *save = NULL;
        size_t len;
        struct part *parts = NULL;
        int n = 0, cap = 0, ok = 0;
        int64_t at = 0;

        if (mu_read_file(d->state, 64u << 20, &text, &len, NULL))
                return -1;
        line = strtok_r(text, "\n", &save);
        if (!line || strcmp(line, STATE_MAGIC))
                goto out;
        line = strtok_r(NULL, "\n", &save);
        {
                char h[80];
                long long sz;
                if (!line || sscanf(line, "sha256:%70s %lld", h, &sz) != 2 || strcmp(h, hex) ||
                    sz != d->size)
                        goto out;
        }
        while ((line = strtok_r(NULL, "\n", &save))) {
                long long a, b, dn;
                if (sscanf(line, "%lld %lld %lld", &a, &b, &dn) != 3 || a != at || b <= a ||
                    b > d->size || dn < 0 || dn > b - a || n >= MAX_PARTS)
                        goto out;
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        parts = mu_xrealloc(parts, (size_t)cap * sizeof(*parts));
                }
                memset(&parts[n], 0, sizeof(parts[n]));
                parts[n].start = a;
                parts[n].end = b;
                /* never trust bytes past the end of the file */
                parts[n].done = a + dn <= file_size ? dn : (file_size > a ? file_size - a : 0);
                at = b;
                n++;
        }
        if (at != d->size || (d->size && !n))
                goto out;
        ok = 1;
        free(d->parts);
        d->parts = parts;
        d->n = n;
        parts = NULL;
out:
        free(parts);
        free(text);
        return ok ? 0 : -1;
}

static int save_state(struct dl *d, const char *hex, struct mu_err *err)
{
        struct mu_buf b = MU_BUF_INIT;
        int rc;

        if (fdatasync(d->fd) < 0 && errno != EINVAL)
                return mu_fail(err, MU_EIO, "cannot sync '%s': %s", d->partial, strerror(errno));
        mu_buf_addf(&b, "%s\nsha256:%s %" PRId64 "\n", STATE_MAGIC, hex, d->size);
        for (int i = 0; i < d->n; i++)
                mu_buf_addf(&b, "%" PRId64 " %" PRId64 " %" PRId64 "\n", d->parts[i].start,
                            d->parts[i].end, d->parts[i].done);
        rc = mu_write_file_atomic(d->state, b.data, b.len, err);
        mu_buf_release(&b);
        return rc;
}

static int64_t total_done(const struct dl *d)
{
        int64_t t = 0;

        for (int i = 0; i < d->n; i++)
                t += d->parts[i].done;
        return t;
}

int64_t download_partial_done(const char *blobs_dir, const char *hex, int64_t size)
{
        struct dl d = {0};
        struct stat st;
        int64_t t = 0;

        d.size = size;
        d.partial = mu_xasprintf("%s/sha256-%s-partial", blobs_dir, hex);
        d.state = mu_xasprintf("%s/sha256-%s-partial.state", blobs_dir, hex);
        if (stat(d.partial, &st) == 0 && load_state(&d, hex, (int64_t)st.st_size) == 0)
                t = total_done(&d);
        free(d.parts);
        free(d.partial);
        free(d.state);
        return t;
}

/* ---- resolving the blob URL ------------------------------------------------ */

static size_t discard(char *p, size_t sz, size_t nm, void *ud)
{
        (void)p, (void)ud;
        return sz * nm;
}

/* The auth header list for url (NULL when it goes elsewhere). */
static struct curl_slist *auth_for(const struct dl_opts *o, const char *url)
{
        char origin[512], want[512];

        if (!o->auth || !o->auth_origin)
                return NULL;
        net_url_origin(url, origin, sizeof(origin));
        net_url_origin(o->auth_origin, want, sizeof(want));
        return strcmp(origin, want) ? NULL : curl_slist_append(NULL, o->auth);
}

static int resolve_url(struct dl *d, const char *url, struct mu_err *err)
{
        char origin[512], o2[512], ebuf[CURL_ERROR_SIZE];
        char *cur = mu_xstrdup(url);
        CURL *h = curl_easy_init();
        int rc = 0, attempt = 0;

        net_url_origin(url, origin, sizeof(origin));
        for (int hops = 0;; ) {
                long status = 0;
                CURLcode c;
                char *loc = NULL;
                struct curl_slist *hdr = auth_for(d->o, cur);

                curl_easy_reset(h);
                net_easy_defaults(h);
                curl_easy_setopt(h, CURLOPT_URL, cur);
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
                curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
                curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
                curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(d->o->stall_s + 30));
                ebuf[0] = '\0';
                c = curl_easy_perform(h);
                curl_slist_free_all(hdr);
                if (net_cancelled(d->o->cancel)) {
                        rc = mu_fail(err, MU_ECANCELED, MSG_CANCEL);
                        break;
                }
                if (c != CURLE_OK) {
                        if (attempt < d->o->retries && c != CURLE_COULDNT_RESOLVE_HOST) {
                                net_backoff(attempt++, d->o->cancel);
                                continue;
                        }
                        rc = mu_fail(err, MU_ENET, "cannot download layer %s: %s", d->what,
                                     ebuf[0] ? ebuf : curl_easy_strerror(c));
                        break;
                }
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 300 && status < 400) {
                        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
                        if (!loc || ++hops > 10) {
                                rc = mu_fail(err, MU_ENET, "cannot download layer %s: %s", d->what,
                                             loc ? "too many redirects" : "redirect without Location");
                                break;
                        }
                        free(cur);
                        cur = mu_xstrdup(loc);
                        net_url_origin(cur, o2, sizeof(o2));
                        if (strcmp(o2, origin))
                                break; /* a CDN: ranged GETs go there */
                        continue;
                }
                if (status < 300 || status == 405 || status == 501)
                        break; /* no HEAD support: the GETs follow redirects themselves */
                if ((status >= 500 || status == 429 || status == 408) && attempt < d->o->retries) {
                        net_backoff(attempt++, d->o->cancel);
                        continue;
                }
                if (status == 404)
                        rc = mu_fail(err, MU_ENOTFOUND,
                                     "layer %s is missing from the registry (HTTP 404)", d->what);
                else if (status == 401 || status == 403)
                        rc = mu_fail(err, MU_ENET,
                                     "layer %s: the registry requires authentication (HTTP %ld)",
                                     d->what, status);
                else
                        rc = mu_fail(err, MU_ENET, "layer %s: the registry answered HTTP %ld",
                                     d->what, status);
                break;
        }
        curl_easy_cleanup(h);
        if (rc) {
                free(cur);
        } else {
                free(d->url);
                d->url = cur;
                d->gen++;
        }
        return rc;
}

/* ---- transfers ---------------------------------------------------------------- */

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
        struct part *pt = ud;
        size_t n = sz * nm;

        if (n > 14 && !strncasecmp(p, "Content-Range:", 14)) {
                long long a = -1;
                const char *s = p + 14;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (sscanf(s, "bytes %lld-", &a) != 1 || a != pt->start + pt->done)
                        pt->range_bad = 1;
        }
        return n;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
        struct part *pt = ud;
        size_t n = sz * nm, take;
        long status = 0;
        int64_t want;

        curl_easy_getinfo(pt->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 && status != 206) {
                if (pt->ebody.len < 4096)
                        mu_buf_add(&pt->ebody, p, n);
                return n;
        }
        if (status == 200 && pt->start + pt->done0 != 0)
                pt->range_bad = pt->got200 = 1; /* the server ignored Range */
        if (pt->range_bad)
                return 0;
        pt->last_data_ns = mu_time_ns();
        want = pt->end - pt->start - pt->done;
        take = (int64_t)n > want ? (size_t)want : n;
        for (size_t off = 0; off < take;) {
                ssize_t w = pwrite(pt->d->fd, p + off, take - off,
                                   (off_t)(pt->start + pt->done));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        pt->werr = w < 0 ? errno : ENOSPC;
                        return 0;
                }
                off += (size_t)w;
                pt->done += w;
        }
        if (take < n) {
                pt->cut = 1; /* more than the part: stop here */
                return 0;
        }
        return n;
}

static int on_xfer(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
        struct part *pt = ud;

        (void)dt, (void)dn, (void)ut, (void)un;
        return net_cancelled(pt->d->o->cancel);
}

static void part_start(struct dl *d, struct part *p, CURLM *m)
{
        char range[64];
        CURL *h = curl_easy_init();

        if (!h)
                abort();
        p->h = h;
        p->d = d;
        p->gen = d->gen;
        if (d->no_ranges)
                p->done = 0; /* no way to resume: from the start */
        p->done0 = p->done;
        p->range_bad = p->werr = p->cut = p->got200 = 0;
        mu_buf_reset(&p->ebody);
        p->ebuf[0] = '\0';
        snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, p->start + p->done, p->end - 1);
        net_easy_defaults(h);
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL); /* bytes as stored */
        curl_easy_setopt(h, CURLOPT_URL, d->url);
        p->hdr = auth_for(d->o, d->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, p->hdr);
        if (!d->no_ranges)
                curl_easy_setopt(h, CURLOPT_RANGE, range);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p->ebuf);
        curl_easy_setopt(h, CURLOPT_PRIVATE, p);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(d->o->stall_s < 30 ? d->o->stall_s : 30));
        p->last_data_ns = mu_time_ns();
        curl_multi_add_handle(m, h);
        p->state = P_ACTIVE;
}

/* A finished transfer: done, retry later, or a failure (rc < 0). */
static int part_finish(struct dl *d, struct part *p, CURLcode c, struct mu_err *perr)
{
        long status = 0;
        int rc = 0;

        curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
        if (p->done == p->end - p->start) {
                p->state = P_DONE;
                return 0;
        }
        p->state = P_WAIT;
        if (net_cancelled(d->o->cancel))
                return 0;
        if (p->werr)
                return mu_fail(perr, MU_EIO, "cannot write '%s': %s", d->partial,
                               p->werr == ENOSPC ? "disk full" : strerror(p->werr));
        if (p->range_bad && p->got200) {
                d->no_ranges = 1; /* transfer() switches to one plain GET */
                return 0;
        }
        if (p->range_bad)
                return mu_fail(perr, MU_ENET,
                               "layer %s: the server does not honour byte ranges (%s)", d->what,
                               d->url);
        if (c == CURLE_OK && (status == 401 || status == 403 || status == 410)) {
                char o1[512], o2[512];
                net_url_origin(d->url, o1, sizeof(o1));
                net_url_origin(d->reg_url, o2, sizeof(o2));
                if (strcmp(o1, o2) && d->gen < 20) {
                        /* a signed CDN URL expired: ask the registry again */
                        if (p->gen == d->gen)
                                d->reresolve = 1;
                        p->next_ns = 0;
                        return 0;
                }
        }
        if (c == CURLE_OK && status >= 400 && status < 500 && status != 408 && status != 429) {
                char *why = net_error_text(p->ebody.data, p->ebody.len);
                rc = mu_fail(perr, status == 404 ? MU_ENOTFOUND : MU_ENET,
                             "layer %s: HTTP %ld%s%s", d->what, status, *why ? ": " : "", why);
                free(why);
                return rc;
        }
        if (p->done > p->done0 && !d->no_ranges)
                p->tries = 0; /* it moved: a fresh run of retries (when resumable) */
        if (p->tries >= d->o->retries) {
                p->state = P_FAILED;
                if (c != CURLE_OK)
                        return mu_fail(perr, MU_ENET, "layer %s: download failed after %d %s: %s",
                                       d->what, p->tries, p->tries == 1 ? "retry" : "retries",
                                       c == CURLE_OPERATION_TIMEDOUT
                                               ? "stalled (no data)"
                                               : p->ebuf[0] ? p->ebuf : curl_easy_strerror(c));
                return mu_fail(perr, MU_ENET, "layer %s: download failed after %d retries: HTTP %ld",
                               d->what, p->tries, status);
        }
        MU_LOG_DEBUG("part %" PRId64 ": %s, retrying", p->start,
                     c != CURLE_OK ? curl_easy_strerror(c) : "short answer");
        p->next_ns = mu_time_ns() + net_backoff_ms(p->tries) * 1000000;
        p->tries++;
        return 0;
}

static int transfer(struct dl *d, const char *hex, struct mu_err *err)
{
        CURLM *m = curl_multi_init();
        struct mu_err perr = {0};
        int64_t last_save = mu_time_ns(), last_prog = 0;
        int active = 0, rc = 0, conns = d->o->connections > 0 ? d->o->connections : 1;

        for (;;) {
                int64_t now = mu_time_ns();
                int waiting = 0, running = 0, msgs;
                CURLMsg *msg;

                if (net_cancelled(d->o->cancel)) {
                        rc = mu_fail(err, MU_ECANCELED, MSG_CANCEL);
                        break;
                }
                if (d->reresolve) {
                        d->reresolve = 0;
                        MU_LOG_DEBUG("%s: the CDN refused its URL, resolving again", d->what);
                        rc = resolve_url(d, d->reg_url, err);
                        if (rc)
                                break;
                        now = mu_time_ns();
                }
                for (int i = 0; i < d->n && !perr.code; i++) {
                        struct part *p = &d->parts[i];
                        if (p->state != P_WAIT)
                                continue;
                        waiting++;
                        if (active < conns && now >= p->next_ns) {
                                part_start(d, p, m);
                                active++;
                        }
                }
                if (!active) {
                        if (perr.code) {
                                rc = perr.code;
                                *err = perr;
                                break;
                        }
                        if (!waiting) {
                                for (int i = 0; i < d->n; i++)
                                        if (d->parts[i].state == P_FAILED)
                                                rc = MU_ENET;
                                if (rc)
                                        mu_fail(err, rc, "layer %s: download failed", d->what);
                                break;
                        }
                        struct timespec ts = {0, 20 * 1000000L};
                        nanosleep(&ts, NULL);
                        continue;
                }
                curl_multi_perform(m, &running);
                while ((msg = curl_multi_info_read(m, &msgs))) {
                        struct part *p = NULL;
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
                        struct mu_err e1 = {0};
                        int r = part_finish(d, p, msg->data.result, &e1);
                        curl_multi_remove_handle(m, p->h);
                        curl_easy_cleanup(p->h);
                        curl_slist_free_all(p->hdr);
                        p->h = NULL;
                        p->hdr = NULL;
                        active--;
                        if (r && !perr.code)
                                perr = e1;
                        if (r && r != MU_ENET)
                                p->state = P_FAILED; /* fatal: no retry */
                }
                /* stall detection (curl's low-speed check averages over
                 * several seconds; this is exact) */
                now = mu_time_ns();
                for (int i = 0; i < d->n; i++) {
                        struct part *p = &d->parts[i];
                        struct mu_err e1 = {0};
                        if (!p->h || now - p->last_data_ns < (int64_t)d->o->stall_s * 1000000000LL)
                                continue;
                        MU_LOG_DEBUG("part %" PRId64 ": no data for %d s, reconnecting", p->start,
                                     d->o->stall_s);
                        curl_multi_remove_handle(m, p->h);
                        int r = part_finish(d, p, CURLE_OPERATION_TIMEDOUT, &e1);
                        curl_easy_cleanup(p->h);
                        curl_slist_free_all(p->hdr);
                        p->h = NULL;
                        p->hdr = NULL;
                        active--;
                        if (r && !perr.code)
                                perr = e1;
                }
                if (d->no_ranges && d->n > 1) {
                        MU_LOG_DEBUG("%s: the server ignores Range, fetching it whole", d->what);
                        for (int i = 0; i < d->n; i++) {
                                if (d->parts[i].h) {
                                        curl_multi_remove_handle(m, d->parts[i].h);
                                        curl_easy_cleanup(d->parts[i].h);
                                        curl_slist_free_all(d->parts[i].hdr);
                                }
                                mu_buf_release(&d->parts[i].ebody);
                        }
                        free(d->parts);
                        layout(d, d->size > 0 ? d->size : 1);
                        active = 0;
                        continue;
                }
                if (perr.code && perr.code != MU_ENET) {
                        /* disk full, 404, bad ranges: stop the others now */
                        for (int i = 0; i < d->n; i++)
                                if (d->parts[i].h) {
                                        curl_multi_remove_handle(m, d->parts[i].h);
                                        curl_easy_cleanup(d->parts[i].h);
                                        curl_slist_free_all(d->parts[i].hdr);
                                        d->parts[i].h = NULL;
                                        d->parts[i].hdr = NULL;
                                        d->parts[i].state = P_WAIT;
                                }
                        active = 0;
                        rc = perr.code;
                        *err = perr;
                        break;
                }
                if (active)
                        curl_multi_poll(m, NULL, 0, 100, NULL);
                now = mu_time_ns();
                if (now - last_save > 1000000000LL) {
                        save_state(d, hex, NULL);
                        last_save = now;
                }
                if (d->o->progress && now - last_prog > 50000000LL) {
                        d->o->progress(d->o->ud, total_done(d), d->size);
                        last_prog = now;
                }
        }
        for (int i = 0; i < d->n; i++)
                if (d->parts[i].h) {
                        curl_multi_remove_handle(m, d->parts[i].h);
                        curl_easy_cleanup(d->parts[i].h);
                        curl_slist_free_all(d->parts[i].hdr);
                        d->parts[i].h = NULL;
                        d->parts[i].hdr = NULL;
                }
        curl_multi_cleanup(m);
        return rc;
}

/* ---- the whole blob -------------------------------------------------------------- */

/* Remove state files a killed writer left half-written
 * (sha256-<hex>-partial.state.tmp-<pid>); only called under the lock. */
static void sweep_state_tmp(const char *blobs_dir, const char *hex)
{
        char *prefix = mu_xasprintf("sha256-%s-partial.state.tmp-", hex);
        size_t pl = strlen(prefix);
        DIR *dir = opendir(blobs_dir);
        struct dirent *de;

        while (dir && (de = readdir(dir))) {
                if (strncmp(de->d_name, prefix, pl))
                        continue;
                char *p = mu_xasprintf("%s/%s", blobs_dir, de->d_name);
                unlink(p);
                free(p);
        }
        if (dir)
                closedir(dir);
        free(prefix);
}

static int lock_fd(int fd, volatile int *cancel)
{
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                struct timespec ts = {0, 100 * 1000000L};
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return 0; /* no locks here: carry on unlocked */
                if (net_cancelled(cancel))
                        return -1;
                nanosleep(&ts, NULL);
        }
        return 0;
}

int download_blob(const char *url, const char *blobs_dir, const char *hex, int64_t size,
                  const char *what, const struct dl_opts *o, struct mu_err *err)
{
        struct dl d = {0};
        struct stat st, st2;
        char *final = mu_xasprintf("%s/sha256-%s", blobs_dir, hex);
        int rc = 0;

        net_init();
        d.o = o;
        d.what = what;
        d.reg_url = url;
        d.size = size;
        d.fd = -1;
        d.partial = mu_xasprintf("%s/sha256-%s-partial", blobs_dir, hex);
        d.state = mu_xasprintf("%s/sha256-%s-partial.state", blobs_dir, hex);
        for (;;) {
                if (mu_file_exists(final))
                        goto out; /* another pull finished it */
                d.fd = open(d.partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                if (d.fd < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", d.partial,
                                     strerror(errno));
                        goto out;
                }
                if (lock_fd(d.fd, o->cancel)) {
                        rc = mu_fail(err, MU_ECANCELED, MSG_CANCEL);
                        goto out;
                }
                if (mu_file_exists(final)) { /* finished while we waited */
                        unlink(d.partial);
                        unlink(d.state);
                        goto out;
                }
                /* still the file at that name (not renamed by the holder)? */
                if (fstat(d.fd, &st) == 0 && stat(d.partial, &st2) == 0 && st.st_ino == st2.st_ino &&
                    st.st_dev == st2.st_dev)
                        break;
                close(d.fd);
                d.fd = -1;
        }
        sweep_state_tmp(blobs_dir, hex);
        if (load_state(&d, hex, (int64_t)st.st_size)) {
                layout(&d, o->part_size);
                if (ftruncate(d.fd, 0) < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot truncate '%s': %s", d.partial,
                                     strerror(errno));
                        goto out;
                }
        }
        if ((int64_t)st.st_size != size && ftruncate(d.fd, (off_t)size) < 0) {
                rc = mu_fail(err, MU_EIO, "cannot size '%s': %s", d.partial, strerror(errno));
                goto out;
        }
        for (int i = 0; i < d.n; i++)
                d.parts[i].state = d.parts[i].done == d.parts[i].end - d.parts[i].start ? P_DONE
                                                                                         : P_WAIT;
        if (o->progress)
                o->progress(o->ud, total_done(&d), size);
        if (total_done(&d) < size) {
                rc = resolve_url(&d, url, err);
                if (!rc)
                        rc = transfer(&d, hex, err);
        }
        {
                struct mu_err e2;
                if (save_state(&d, hex, &e2) && !rc)
                        rc = mu_fail(err, e2.code, "%s", e2.msg);
        }
        if (o->progress)
                o->progress(o->ud, total_done(&d), size);
out:
        if (d.fd >= 0)
                close(d.fd);
        for (int i = 0; i < d.n; i++)
                mu_buf_release(&d.parts[i].ebody);
        free(d.parts);
        free(d.partial);
        free(d.state);
        free(d.url);
        free(final);
        return rc;
}

void download_forget(const char *blobs_dir, const char *hex)
{
        char *partial = mu_xasprintf("%s/sha256-%s-partial", blobs_dir, hex);
        char *state = mu_xasprintf("%s/sha256-%s-partial.state", blobs_dir, hex);

        unlink(state);
        unlink(partial);
        sweep_state_tmp(blobs_dir, hex);
        free(partial);
        free(state);
}

int download_commit(const char *blobs_dir, const char *hex, int64_t size, const char *what,
                    volatile int *cancel, struct mu_err *err)
{
        char *final = mu_xasprintf("%s/sha256-%s", blobs_dir, hex);
        char *partial = mu_xasprintf("%s/sha256-%s-partial", blobs_dir, hex);
        char *state = mu_xasprintf("%s/sha256-%s-partial.state", blobs_dir, hex);
        size_t cap = 1u << 20;
        char *buf = NULL, got[65];
        struct mu_sha256 *h = NULL;
        struct stat st;
        int64_t off = 0;
        int fd = -1, rc = 0;

        if (mu_file_exists(final))
                goto done;
        fd = open(partial, O_RDWR | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && mu_file_exists(final))
                goto done; /* another pull committed it meanwhile */
        if (fd < 0) {
                rc = mu_fail(err, MU_EIO, "cannot open '%s': %s", partial, strerror(errno));
                goto out;
        }
        if (lock_fd(fd, cancel)) {
                rc = mu_fail(err, MU_ECANCELED, "pull interrupted");
                goto out;
        }
        if (mu_file_exists(final))
                goto done;
        if (fstat(fd, &st) < 0 || (int64_t)st.st_size != size) {
                rc = mu_fail(err, MU_EIO, "'%s' has the wrong size", partial);
                goto out;
        }
        buf = mu_xmalloc(cap);
        h = mu_sha256_create();
        while (off < size) {
                ssize_t n = pread(fd, buf, cap, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        rc = mu_fail(err, MU_EIO, "cannot read '%s': %s", partial,
                                     n < 0 ? strerror(errno) : "short file");
                        goto out;
                }
                mu_sha256_update(h, buf, (size_t)n);
                off += n;
                if (net_cancelled(cancel)) {
                        rc = mu_fail(err, MU_ECANCELED, "pull interrupted");
                        goto out;
                }
        }
        mu_sha256_final_hex(h, got);
        if (strcasecmp(got, hex)) {
                unlink(state);
                unlink(partial);
                rc = mu_fail(err, MU_EINTEGRITY,
                             "layer %s failed verification: its data has digest sha256:%s; "
                             "the download was deleted", what, got);
                goto out;
        }
        if (fsync(fd) < 0) {
                rc = mu_fail(err, MU_EIO, "cannot sync '%s': %s", partial, strerror(errno));
                goto out;
        }
        if (rename(partial, final) < 0) {
                rc = mu_fail(err, MU_EIO, "cannot rename '%s': %s", partial, strerror(errno));
                goto out;
        }
        unlink(state);
        mu_fsync_dir(blobs_dir);
        goto out;
done:
        /* the blob is there: whatever partial is left is useless */
        unlink(partial);
        unlink(state);
out:
        if (!rc)
                sweep_state_tmp(blobs_dir, hex);
        if (fd >= 0)
                close(fd);
        mu_sha256_free(h);
        free(buf);
        free(final);
        free(partial);
        free(state);
        return rc;
}
