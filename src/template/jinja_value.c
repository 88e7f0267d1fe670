/* jinja_value.c -- arena, values, printing and JSON for the Jinja interpreter.
 *
 * Contract: see jinja.h.  All memory comes from the render's arena; jalloc()
 * fails the render (longjmp, MU_ENOMEM) past JINJA_MAX_ARENA bytes.  Number
 * and JSON formatting follow JavaScript's rules because the reference
 * renderer (@huggingface/jinja) prints through them: 3.0 prints "3.0" as a
 * value but "3" inside tojson. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "template/jinja.h"

/* ---- errors and arena --------------------------------------------------- */

_Noreturn void jctx_fail(struct jctx *c, int code, size_t pos, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (pos != JNOPOS && pos <= c->src_len) {
                int line = 1, col = 1;
                for (size_t i = 0; i < pos; i++) {
                        if (c->src[i] == '\n') {
                                line++;
                                col = 1;
                        } else if (((unsigned char)c->src[i] & 0xc0) != 0x80) {
                                col++;
                        }
                }
                mu_fail(c->err, code, "template %d:%d: %s", line, col, msg);
        } else {
                mu_fail(c->err, code, "template: %s", msg);
        }
        longjmp(c->jmp, 1);
}

void *jalloc(struct jctx *c, size_t n)
{
        struct jarena_chunk *ch = c->arena;

        n = (n + 15) & ~(size_t)15;
        if (n > JINJA_MAX_ARENA || c->arena_bytes + n > JINJA_MAX_ARENA)
                jctx_fail(c, MU_ENOMEM, JNOPOS, "memory limit of %zu MiB exceeded",
                          JINJA_MAX_ARENA >> 20);
        if (!ch || ch->cap - ch->used < n) {
                size_t cap = n > 65536 ? n : 65536;
                ch = mu_xmalloc(sizeof(*ch) + cap);
                ch->next = c->arena;
                ch->used = 0;
                ch->cap = cap;
                c->arena = ch;
                c->arena_bytes += sizeof(*ch) + cap;
        }
        void *p = (char *)ch->data + ch->used;
        ch->used += n;
        memset(p, 0, n);
        return p;
}

char *jstrndup(struct jctx *c, const char *s, size_t n)
{
        char *p = jalloc(c, n + 1);

        memcpy(p, s, n);
        return p;
}

/* ---- buffers and strings ------------------------------------------------ */

void jbuf_add(struct jctx *c, struct jbuf *b, const char *s, size_t n)
{
        if (!n)
                return;
        if (b->n + n > JINJA_MAX_OUTPUT)
                jctx_fail(c, MU_ENOMEM, JNOPOS, "output exceeds %zu MiB",
                          JINJA_MAX_OUTPUT >> 20);
        if (b->n + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 256;
                while (cap < b->n + n + 1)
                        cap *= 2;
                char *p = jalloc(c, cap);
                if (b->n)
                        memcpy(p, b->p, b->n);
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = 0;
}

void jbuf_adds(struct jctx *c, struct jbuf *b, const char *s)
{
        jbuf_add(c, b, s, strlen(s));
}

struct jstr *jstr_new(struct jctx *c, const char *s, size_t n)
{
        if (n > JINJA_MAX_OUTPUT)
                jctx_fail(c, MU_ENOMEM, JNOPOS, "string exceeds %zu MiB",
                          JINJA_MAX_OUTPUT >> 20);
        struct jstr *r = jalloc(c, sizeof(*r) + n + 1);
        r->n = n;
        if (n)
                memcpy(r->p, s, n);
        return r;
}

struct jstr *jbuf_str(struct jctx *c, struct jbuf *b)
{
        return jstr_new(c, b->p ? b->p : "", b->n);
}

/* ---- constructors ------------------------------------------------------- */

struct jv jv_undef(void) { return (struct jv){.t = JV_UNDEF}; }
struct jv jv_none(void) { return (struct jv){.t = JV_NONE}; }
struct jv jv_bool(int b) { return (struct jv){.t = JV_BOOL, .u.b = !!b}; }
struct jv jv_int(long long i) { return (struct jv){.t = JV_INT, .u.i = i}; }
struct jv jv_float(double f) { return (struct jv){.t = JV_FLOAT, .u.f = f}; }
struct jv jv_strv(struct jstr *s) { return (struct jv){.t = JV_STR, .u.s = s}; }

struct jv jv_str(struct jctx *c, const char *s, size_t n)
{
        return jv_strv(jstr_new(c, s, n));
}

struct jv jv_cstr(struct jctx *c, const char *s)
{
        return jv_str(c, s, strlen(s));
}

struct jv jv_list(struct jctx *c)
{
        return (struct jv){.t = JV_LIST, .u.l = jalloc(c, sizeof(struct jlist))};
}

struct jv jv_dict(struct jctx *c)
{
        return (struct jv){.t = JV_DICT, .u.d = jalloc(c, sizeof(struct jdict))};
}

struct jv jv_func(struct jctx *c, enum jfunc_kind kind, int id, const char *name)
{
        struct jfunc *f = jalloc(c, sizeof(*f));

        f->kind = kind;
        f->id = id;
        f->name = name;
        return (struct jv){.t = JV_FUNC, .u.fn = f};
}

void jlist_push(struct jctx *c, struct jlist *l, struct jv v)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 8;
                struct jv *nv = jalloc(c, cap * sizeof(*nv));
                if (l->n)
                        memcpy(nv, l->v, l->n * sizeof(*nv));
                l->v = nv;
                l->cap = cap;
        }
        l->v[l->n++] = v;
}

struct jv *jdict_get(const struct jdict *d, const char *k, size_t n)
{
        for (size_t i = 0; i < d->n; i++)
                if (d->k[i]->n == n && memcmp(d->k[i]->p, k, n) == 0)
                        return &d->v[i];
        return NULL;
}

void jdict_set(struct jctx *c, struct jdict *d, struct jstr *k, struct jv v)
{
        struct jv *old = jdict_get(d, k->p, k->n);

        if (old) {
                *old = v;
                return;
        }
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 8;
                struct jstr **nk = jalloc(c, cap * sizeof(*nk));
                struct jv *nv = jalloc(c, cap * sizeof(*nv));
                if (d->n) {
                        memcpy(nk, d->k, d->n * sizeof(*nk));
                        memcpy(nv, d->v, d->n * sizeof(*nv));
                }
                d->k = nk;
                d->v = nv;
                d->cap = cap;
        }
        d->k[d->n] = k;
        d->v[d->n++] = v;
}

void jdict_setc(struct jctx *c, struct jdict *d, const char *k, struct jv v)
{
        jdict_set(c, d, jstr_new(c, k, strlen(k)), v);
}

/* ---- predicates --------------------------------------------------------- */

const char *jv_type_name(enum jv_type t)
{
        static const char *const names[] = {"undefined", "none", "boolean", "integer", "float",
                                            "string", "list", "dict", "namespace", "function"};
        return names[t];
}

int jv_truthy(struct jv v)
{
        switch (v.t) {
        case JV_UNDEF:
        case JV_NONE: return 0;
        case JV_BOOL: return v.u.b;
        case JV_INT: return v.u.i != 0;
        case JV_FLOAT: return v.u.f != 0 && !isnan(v.u.f);
        case JV_STR: return v.u.s->n > 0;
        case JV_LIST: return v.u.l->n > 0;
        case JV_DICT: return v.u.d->n > 0;
        case JV_NS:
        case JV_FUNC: return 1;
        }
        return 0;
}

int jv_is_num(struct jv v)
{
        return v.t == JV_INT || v.t == JV_FLOAT || v.t == JV_BOOL;
}

double jv_num(struct jv v)
{
        return v.t == JV_INT ? (double)v.u.i : v.t == JV_FLOAT ? v.u.f : v.t == JV_BOOL ? v.u.b : 0;
}

/* JavaScript Number(string): trimmed decimal, "" -> 0, junk -> NaN. */
static double js_str_num(const struct jstr *s)
{
        size_t a = 0, b = s->n;
        while (a < b && utf8_ws_len(s->p + a, b - a))
                a += utf8_ws_len(s->p + a, b - a);
        while (b > a && utf8_ws_len_back(s->p + a, b - a))
                b -= utf8_ws_len_back(s->p + a, b - a);
        if (a == b)
                return 0;
        char tmp[64];
        if (b - a >= sizeof(tmp))
                return NAN;
        memcpy(tmp, s->p + a, b - a);
        tmp[b - a] = 0;
        char *end;
        double d = strtod(tmp, &end);
        return *end ? NAN : d;
}

int jv_strict_eq(struct jv a, struct jv b)
{
        if ((a.t == JV_INT || a.t == JV_FLOAT) && (b.t == JV_INT || b.t == JV_FLOAT))
                return jv_num(a) == jv_num(b);
        if (a.t != b.t)
                return 0;
        switch (a.t) {
        case JV_UNDEF:
        case JV_NONE: return 1;
        case JV_BOOL: return a.u.b == b.u.b;
        case JV_STR: return a.u.s->n == b.u.s->n && memcmp(a.u.s->p, b.u.s->p, a.u.s->n) == 0;
        case JV_LIST: return a.u.l == b.u.l;
        case JV_DICT:
        case JV_NS: return a.u.d == b.u.d;
        case JV_FUNC: return a.u.fn == b.u.fn;
        default: return 0;
        }
}

int jv_loose_eq(struct jv a, struct jv b)
{
        int an = a.t == JV_UNDEF || a.t == JV_NONE, bn = b.t == JV_UNDEF || b.t == JV_NONE;

        if (an || bn)
                return an && bn;
        if (a.t == b.t || (jv_is_num(a) && jv_is_num(b) && a.t != JV_BOOL && b.t != JV_BOOL))
                return jv_strict_eq(a, b);
        /* mixed primitive types: JavaScript converts both to numbers */
        if ((jv_is_num(a) || a.t == JV_STR) && (jv_is_num(b) || b.t == JV_STR)) {
                double x = a.t == JV_STR ? js_str_num(a.u.s) : jv_num(a);
                double y = b.t == JV_STR ? js_str_num(b.u.s) : jv_num(b);
                return x == y;
        }
        return 0;
}

/* ---- number formatting (JavaScript Number#toString) --------------------- */

static void js_num(char *out, size_t cap, double v)
{
        if (isnan(v)) {
                snprintf(out, cap, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(out, cap, v < 0 ? "-Infinity" : "Infinity");
                return;
        }
        if (v == 0) {
                snprintf(out, cap, "0");
                return;
        }
        char e[40];
        int prec;
        for (prec = 0; prec < 17; prec++) {
                snprintf(e, sizeof(e), "%.*e", prec, v);
                if (strtod(e, NULL) == v)
                        break;
        }
        /* e = [-]D[.DDD]e[+-]XX */
        char digits[24];
        int nd = 0, neg = e[0] == '-';
        const char *p = e + neg;
        for (; *p && *p != 'e'; p++)
                if (*p != '.')
                        digits[nd++] = *p;
        digits[nd] = 0;
        int ex = atoi(p + 1);
        size_t o = 0;
        if (neg)
                out[o++] = '-';
        if (ex >= 21 || ex <= -7) {
                out[o++] = digits[0];
                if (nd > 1) {
                        out[o++] = '.';
                        for (int i = 1; i < nd; i++)
                                out[o++] = digits[i];
                }
                snprintf(out + o, cap - o, "e%c%d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
                return;
        }
        if (ex < 0) {
                out[o++] = '0';
                out[o++] = '.';
                for (int i = 0; i < -ex - 1; i++)
                        out[o++] = '0';
                for (int i = 0; i < nd; i++)
                        out[o++] = digits[i];
        } else {
                for (int i = 0; i <= ex || i < nd; i++) {
                        if (i == ex + 1)
                                out[o++] = '.';
                        out[o++] = i < nd ? digits[i] : '0';
                }
        }
        out[o] = 0;
}

static void float_print(char *out, size_t cap, double v)
{
        if (v == 0 && signbit(v))
                snprintf(out, cap, "-0.0");
        else if (isfinite(v) && v == floor(v) && fabs(v) < 1e21)
                snprintf(out, cap, "%.1f", v);
        else
                js_num(out, cap, v);
}

/* ---- printing ----------------------------------------------------------- */

void jv_print(struct jctx *c, struct jbuf *b, struct jv v, size_t pos)
{
        char tmp[64];

        switch (v.t) {
        case JV_UNDEF:
        case JV_NONE:
                return;
        case JV_BOOL:
                jbuf_adds(c, b, v.u.b ? "true" : "false");
                return;
        case JV_INT:
                snprintf(tmp, sizeof(tmp), "%lld", v.u.i);
                jbuf_adds(c, b, tmp);
                return;
        case JV_FLOAT:
                float_print(tmp, sizeof(tmp), v.u.f);
                jbuf_adds(c, b, tmp);
                return;
        case JV_STR:
                jbuf_add(c, b, v.u.s->p, v.u.s->n);
                return;
        case JV_LIST:
        case JV_DICT:
        case JV_NS: {
                struct jjson_opts o = {0};
                jv_tojson(c, b, v, &o, 0, pos);
                return;
        }
        case JV_FUNC:
                jbuf_adds(c, b, "<function>");
                return;
        }
}

struct jstr *jv_to_str(struct jctx *c, struct jv v, size_t pos)
{
        struct jbuf b = {0};

        if (v.t == JV_STR)
                return v.u.s;
        if (v.t == JV_NONE) {
                jbuf_adds(c, &b, "null");
                return jbuf_str(c, &b);
        }
        if (v.t == JV_UNDEF)
                return jstr_new(c, "", 0);
        jv_print(c, &b, v, pos);
        return jbuf_str(c, &b);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_string(struct jctx *c, struct jbuf *b, const char *s, size_t n, int ascii)
{
        char tmp[16];

        jbuf_add(c, b, "\"", 1);
        for (size_t i = 0; i < n;) {
                unsigned char ch = (unsigned char)s[i];
                const char *esc = NULL;
                switch (ch) {
                case '"': esc = "\\\""; break;
                case '\\': esc = "\\\\"; break;
                case '\b': esc = "\\b"; break;
                case '\f': esc = "\\f"; break;
                case '\n': esc = "\\n"; break;
                case '\r': esc = "\\r"; break;
                case '\t': esc = "\\t"; break;
                }
                if (esc) {
                        jbuf_adds(c, b, esc);
                        i++;
                } else if (ch < 0x20) {
                        snprintf(tmp, sizeof(tmp), "\\u%04x", ch);
                        jbuf_adds(c, b, tmp);
                        i++;
                } else if (ascii && ch >= 0x7f) {
                        size_t j = utf8_next(s, n, i);
                        unsigned cp = ch;
                        if (ch >= 0xc0 && j - i > 1) {
                                int len = (int)(j - i);
                                cp = ch & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
                                for (size_t k = i + 1; k < j; k++)
                                        cp = (cp << 6) | ((unsigned char)s[k] & 0x3f);
                        }
                        if (cp >= 0x10000) {
                                cp -= 0x10000;
                                snprintf(tmp, sizeof(tmp), "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
                                         0xdc00 + (cp & 0x3ff));
                        } else {
                                snprintf(tmp, sizeof(tmp), "\\u%04x", cp);
                        }
                        jbuf_adds(c, b, tmp);
                        i = j;
                } else {
                        size_t j = i;
                        while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\' &&
                               !(ascii && (unsigned char)s[j] >= 0x7f))
                                j++;
                        jbuf_add(c, b, s + i, j - i);
                        i = j;
                }
        }
        jbuf_add(c, b, "\"", 1);
}

static void json_newline(struct jctx *c, struct jbuf *b, int indent, int depth)
{
        jbuf_add(c, b, "\n", 1);
        for (int i = 0; i < indent * depth; i++)
                jbuf_add(c, b, " ", 1);
}

static int key_cmp(const void *a, const void *b)
{
        const struct jstr *x = *(struct jstr *const *)a, *y = *(struct jstr *const *)b;
        size_t n = x->n < y->n ? x->n : y->n;
        int r = memcmp(x->p, y->p, n);
        return r ? r : (x->n > y->n) - (x->n < y->n);
}

void jv_tojson(struct jctx *c, struct jbuf *b, struct jv v, const struct jjson_opts *o,
               int depth, size_t pos)
{
        char tmp[64];
        const char *isep = o->item_sep ? o->item_sep : o->indent > 0 ? "," : ", ";
        const char *ksep = o->key_sep ? o->key_sep : ": ";

        if (depth > JINJA_MAX_DEPTH)
                jctx_fail(c, MU_ERANGE, pos, "tojson nesting deeper than %d", JINJA_MAX_DEPTH);
        switch (v.t) {
        case JV_UNDEF:
                jbuf_adds(c, b, o->undef_as_null ? "null" : "undefined");
                return;
        case JV_NONE:
                jbuf_adds(c, b, "null");
                return;
        case JV_BOOL:
        case JV_INT:
                jv_print(c, b, v, pos);
                return;
        case JV_FLOAT:
                if (!isfinite(v.u.f))
                        jbuf_adds(c, b, "null");
                else {
                        js_num(tmp, sizeof(tmp), v.u.f);
                        jbuf_adds(c, b, tmp);
                }
                return;
        case JV_STR:
                json_string(c, b, v.u.s->p, v.u.s->n, o->ensure_ascii);
                return;
        case JV_LIST: {
                struct jlist *l = v.u.l;
                jbuf_add(c, b, "[", 1);
                for (size_t i = 0; i < l->n; i++) {
                        if (i)
                                jbuf_adds(c, b, isep);
                        if (o->indent > 0)
                                json_newline(c, b, o->indent, depth + 1);
                        jv_tojson(c, b, l->v[i], o, depth + 1, pos);
                }
                if (o->indent > 0 && l->n)
                        json_newline(c, b, o->indent, depth);
                jbuf_add(c, b, "]", 1);
                return;
        }
        case JV_DICT:
        case JV_NS: {
                struct jdict *d = v.u.d;
                size_t *order = jalloc(c, (d->n + 1) * sizeof(*order));
                for (size_t i = 0; i < d->n; i++)
                        order[i] = i;
                if (o->sort_keys && d->n > 1) {
                        /* stable insertion sort by key */
                        for (size_t i = 1; i < d->n; i++) {
                                size_t x = order[i], j = i;
                                while (j > 0 && key_cmp(&d->k[order[j - 1]], &d->k[x]) > 0) {
                                        order[j] = order[j - 1];
                                        j--;
                                }
                                order[j] = x;
                        }
                }
                jbuf_add(c, b, "{", 1);
                for (size_t i = 0; i < d->n; i++) {
                        size_t k = order[i];
                        if (i)
                                jbuf_adds(c, b, isep);
                        if (o->indent > 0)
                                json_newline(c, b, o->indent, depth + 1);
                        json_string(c, b, d->k[k]->p, d->k[k]->n, o->ensure_ascii);
                        jbuf_adds(c, b, ksep);
                        jv_tojson(c, b, d->v[k], o, depth + 1, pos);
                }
                if (o->indent > 0 && d->n)
                        json_newline(c, b, o->indent, depth);
                jbuf_add(c, b, "}", 1);
                return;
        }
        case JV_FUNC:
                jctx_fail(c, MU_EINVAL, pos, "cannot convert a function to JSON");
        }
}

/* ---- UTF-8 -------------------------------------------------------------- */

size_t utf8_next(const char *s, size_t n, size_t i)
{
        unsigned char ch = (unsigned char)s[i];
        size_t len = ch < 0x80 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;

        if (ch >= 0x80 && ch < 0xc0)
                len = 1;
        for (size_t k = 1; k < len; k++)
                if (i + k >= n || ((unsigned char)s[i + k] & 0xc0) != 0x80)
                        return i + k;
        return i + len;
}

size_t utf8_count(const char *s, size_t n)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i = utf8_next(s, n, i))
                k++;
        return k;
}

/* JavaScript's \s: ASCII space class plus the Unicode space separators. */
static int is_uspace(unsigned cp)
{
        return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
               cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

static unsigned decode(const unsigned char *p, size_t len)
{
        if (len == 2)
                return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
        if (len == 3)
                return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
        return 0;
}

size_t utf8_ws_len(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;

        if (!n)
                return 0;
        if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
                return 1;
        if (p[0] == 0xc2 && n >= 2 && p[1] == 0xa0)
                return 2;
        if ((p[0] == 0xe1 || p[0] == 0xe2 || p[0] == 0xe3 || p[0] == 0xef) && n >= 3 &&
            is_uspace(decode(p, 3)))
                return 3;
        return 0;
}

size_t utf8_ws_len_back(const char *s, size_t n)
{
        if (!n)
                return 0;
        if (utf8_ws_len(s + n - 1, 1) == 1)
                return 1;
        if (n >= 2 && utf8_ws_len(s + n - 2, 2) == 2)
                return 2;
        if (n >= 3 && utf8_ws_len(s + n - 3, 3) == 3)
                return 3;
        return 0;
}
