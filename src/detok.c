/* detok.c -- streaming detokenizer (struct detok in tokenizer.h).
 *
 * Each pushed id's piece is appended after the bytes held back last time;
 * everything up to the last complete UTF-8 character is returned and an
 * incomplete trailing sequence (a lead byte with fewer continuation bytes
 * than it announces) is kept for the next push.  Bytes that can never form
 * a character (stray continuation bytes, invalid lead bytes) are passed
 * through at once: holding them would stall the stream for nothing. */
#include <string.h>

#include "tokenizer_impl.h"

void detok_init(struct detok *d, const struct tokenizer *t, unsigned flags)
{
        memset(d, 0, sizeof(*d));
        d->tok = t;
        d->flags = flags;
}

/* Length of the incomplete sequence at the end of s[0..n). */
static size_t incomplete_tail(const unsigned char *s, size_t n)
{
        for (size_t k = 1; k <= 3 && k <= n; k++) {
                unsigned char c = s[n - k];
                size_t need;

                if ((c & 0xC0) == 0x80)
                        continue;  /* continuation: look further back */
                need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
                return need > k ? k : 0;
        }
        return 0;
}

const char *detok_push(struct detok *d, int32_t id, size_t *len)
{
        size_t n, keep;
        const char *p = tokenizer_piece(d->tok, id, d->flags & DETOK_SPECIAL, &n);

        if (!d->started && n) {
                d->started = 1;
                if ((d->flags & DETOK_STRIP_LEADING) && tokenizer_add_space_prefix(d->tok) &&
                    p[0] == ' ')
                        p++, n--;
        }
        mu_buf_reset(&d->out);
        mu_buf_add(&d->out, d->pending.data ? d->pending.data : "", d->pending.len);
        mu_buf_add(&d->out, p, n);
        keep = incomplete_tail((const unsigned char *)d->out.data, d->out.len);
        mu_buf_reset(&d->pending);
        if (keep) {
                mu_buf_add(&d->pending, d->out.data + d->out.len - keep, keep);
                d->out.len -= keep;
                d->out.data[d->out.len] = 0;
        }
        *len = d->out.len;
        return mu_buf_str(&d->out);
}

const char *detok_flush(struct detok *d, size_t *len)
{
        mu_buf_reset(&d->out);
        mu_buf_add(&d->out, d->pending.data ? d->pending.data : "", d->pending.len);
        mu_buf_reset(&d->pending);
        *len = d->out.len;
        return mu_buf_str(&d->out);
}

void detok_release(struct detok *d)
{
        mu_buf_release(&d->pending);
        mu_buf_release(&d->out);
}
