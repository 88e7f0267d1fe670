/* buf.c -- allocation helpers that abort on OOM, and struct mu_buf. */
#include <stdlib.h>
#include <string.h>

#include "mullama/mullama.h"

static void oom(size_t n)
{
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
        abort();
}

void *mu_xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);

        if (!p)
                oom(n);
        return p;
}

void *mu_xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);

        if (!p)
                oom(n * size);
        return p;
}

void *mu_xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);

        if (!q)
                oom(n);
        return q;
}

char *mu_xstrdup(const char *s)
{
        return mu_xstrndup(s, strlen(s));
}

char *mu_xstrndup(const char *s, size_t n)
{
        char *p = mu_xmalloc(n + 1);

        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *mu_xasprintf(const char *fmt, ...)
{
        struct mu_buf b = MU_BUF_INIT;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        b.data = mu_xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b.data, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return b.data;
}

static void buf_grow(struct mu_buf *b, size_t extra)
{
        size_t need = b->len + extra + 1;

        if (need <= b->cap)
                return;
        if (need < b->cap * 2)
                need = b->cap * 2;
        if (need < 64)
                need = 64;
        b->data = mu_xrealloc(b->data, need);
        b->cap = need;
}

void mu_buf_add(struct mu_buf *b, const void *p, size_t n)
{
        buf_grow(b, n);
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void mu_buf_adds(struct mu_buf *b, const char *s) { mu_buf_add(b, s, strlen(s)); }
void mu_buf_addc(struct mu_buf *b, char c) { mu_buf_add(b, &c, 1); }

void mu_buf_vaddf(struct mu_buf *b, const char *fmt, va_list ap)
{
        va_list aq;
        int n;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return;
        buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
}

void mu_buf_addf(struct mu_buf *b, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        mu_buf_vaddf(b, fmt, ap);
        va_end(ap);
}

void mu_buf_reset(struct mu_buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

const char *mu_buf_str(const struct mu_buf *b) { return b->data ? b->data : ""; }

char *mu_buf_detach(struct mu_buf *b)
{
        char *p = b->data ? b->data : mu_xstrdup("");

        b->data = NULL;
        b->len = b->cap = 0;
        return p;
}

void mu_buf_release(struct mu_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
