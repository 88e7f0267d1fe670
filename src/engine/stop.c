/* stop.c -- stop strings over streamed text (contract in mullama/stop.h).
 *
 * State: pending, the text fed but not yet emitted.  Invariant between
 * calls: pending holds no complete stop string, and it is the shortest
 * suffix of the text so far that (a) contains every position where a stop
 * string could still start and (b) begins at a UTF-8 character boundary.
 *
 * Each feed appends the piece to pending, looks for the match that ends
 * first (each stop string's first occurrence is its earliest end), and
 * otherwise keeps back the longest suffix of pending that is a proper prefix
 * of some stop string, plus any incomplete trailing UTF-8 sequence.
 * pending stays shorter than the longest stop string plus one piece. */
#include <stdlib.h>
#include <string.h>

#include "mullama/stop.h"

struct stop_matcher {
        char **stops;        /* non-empty stop strings */
        size_t *lens;
        int *index;          /* position in the caller's array */
        int n;
        size_t max_len;
        struct mu_buf pending;
        int stopped;         /* index of the match, or -1 */
};

struct stop_matcher *stop_matcher_create(const char *const *stops, int n_stops)
{
        struct stop_matcher *m = mu_xcalloc(1, sizeof *m);
        int n = n_stops > 0 ? n_stops : 0;

        m->stops = mu_xcalloc((size_t)n + 1, sizeof *m->stops);
        m->lens = mu_xcalloc((size_t)n + 1, sizeof *m->lens);
        m->index = mu_xcalloc((size_t)n + 1, sizeof *m->index);
        for (int i = 0; i < n; i++) {
                if (!stops[i] || !stops[i][0])
                        continue;
                m->stops[m->n] = mu_xstrdup(stops[i]);
                m->lens[m->n] = strlen(stops[i]);
                m->index[m->n] = i;
                if (m->lens[m->n] > m->max_len)
                        m->max_len = m->lens[m->n];
                m->n++;
        }
        m->stopped = -1;
        return m;
}

void stop_matcher_free(struct stop_matcher *m)
{
        if (!m)
                return;
        for (int i = 0; i < m->n; i++)
                free(m->stops[i]);
        free(m->stops);
        free(m->lens);
        free(m->index);
        mu_buf_release(&m->pending);
        free(m);
}

void stop_matcher_reset(struct stop_matcher *m)
{
        mu_buf_reset(&m->pending);
        m->stopped = -1;
}

int stop_matcher_which(const struct stop_matcher *m)
{
        return m->stopped;
}

size_t stop_matcher_held(const struct stop_matcher *m)
{
        return m->pending.len;
}

static int utf8_cont(unsigned char c)
{
        return (c & 0xc0) == 0x80;
}

static size_t utf8_seq_len(unsigned char c)
{
        if (c >= 0xf0 && c <= 0xf7)
                return 4;
        if (c >= 0xe0)
                return c <= 0xef ? 3 : 1;
        if (c >= 0xc0)
                return 2;
        return 1;  /* ASCII, or a stray byte we do not try to repair */
}

/* Move cut in s[0, len) back so that it does not split a character. */
static size_t utf8_boundary(const char *s, size_t cut)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t k;

        if (cut == 0)
                return 0;
        k = cut - 1;
        while (k > 0 && utf8_cont(u[k]) && cut - k < 4)
                k--;
        if (utf8_cont(u[k]))
                return cut;  /* no lead byte in reach: not UTF-8, leave it */
        return k + utf8_seq_len(u[k]) > cut ? k : cut;
}

/* Length of the longest suffix of s[0, len) that is a proper prefix of a
 * stop string. */
static size_t hold_len(const struct stop_matcher *m, const char *s, size_t len)
{
        size_t k = m->max_len ? m->max_len - 1 : 0;
        if (k > len)
                k = len;
        for (; k > 0; k--)
                for (int i = 0; i < m->n; i++)
                        if (m->lens[i] > k && memcmp(s + len - k, m->stops[i], k) == 0)
                                return k;
        return 0;
}

static void emit(struct stop_matcher *m, size_t cut, struct mu_buf *out)
{
        struct mu_buf *p = &m->pending;
        mu_buf_add(out, p->data, cut);
        memmove(p->data, p->data + cut, p->len - cut);
        p->len -= cut;
        p->data[p->len] = '\0';
}

int stop_matcher_feed(struct stop_matcher *m, const char *piece, size_t len,
                      struct mu_buf *out)
{
        struct mu_buf *p = &m->pending;
        size_t best_end = (size_t)-1, best_start = 0;
        int best = -1;

        if (m->stopped >= 0)
                return 1;
        if (len == 0)
                return 0;
        mu_buf_add(p, piece, len);
        for (int i = 0; i < m->n; i++) {
                const char *hit = memmem(p->data, p->len, m->stops[i], m->lens[i]);
                if (!hit)
                        continue;
                size_t start = (size_t)(hit - p->data), end = start + m->lens[i];
                if (end < best_end || (end == best_end && start < best_start)) {
                        best = i;
                        best_end = end;
                        best_start = start;
                }
        }
        if (best >= 0) {
                mu_buf_add(out, p->data, utf8_boundary(p->data, best_start));
                mu_buf_reset(p);
                m->stopped = m->index[best];
                return 1;
        }
        size_t cut = utf8_boundary(p->data, p->len - hold_len(m, p->data, p->len));
        if (cut > 0)
                emit(m, cut, out);
        return 0;
}

void stop_matcher_flush(struct stop_matcher *m, struct mu_buf *out)
{
        if (m->stopped >= 0 || m->pending.len == 0)
                return;
        emit(m, m->pending.len, out);
}
