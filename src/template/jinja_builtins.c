/* jinja_builtins.c -- global functions, methods, filters and tests.
 *
 * Globals: range, namespace, dict, raise_exception, strftime_now.
 * str methods: upper lower strip lstrip rstrip title capitalize startswith
 *   endswith split replace join find count; dict methods: get items keys
 *   values; list/str .length.
 * Filters: safe tojson(indent, separators, sort_keys, ensure_ascii) trim
 *   length count string lower upper title capitalize first last join(sep,
 *   attribute) default/d list items dictsort map(attribute= | filter name)
 *   select reject selectattr rejectattr int float abs round replace indent
 *   reverse sort unique sum bool escape/e.
 * Tests: defined undefined none string number integer float boolean true
 *   false mapping iterable sequence callable odd even lower upper equalto eq
 *   ne sameas divisibleby in.
 * Where @huggingface/jinja and Python Jinja differ, the reference's result
 * is kept (e.g. capitalize leaves the tail alone, iterable excludes dicts),
 * except str.strip/lstrip/rstrip(chars), which honour chars like Python. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "template/jinja.h"

const char *const jinja_global_names[JG_COUNT] = {"range", "namespace", "dict", "raise_exception",
                                                   "strftime_now"};

static _Noreturn void bad_arg(struct jctx *c, size_t pos, const char *fn, const char *what)
{
        jctx_fail(c, MU_EINVAL, pos, "%s: %s", fn, what);
}

static const struct jstr *arg_str(struct jctx *c, struct jargs *a, int i, const char *kw,
                                  const char *fn, size_t pos)
{
        struct jv *v = jargs_get(a, i, kw);

        if (!v || v->t != JV_STR)
                bad_arg(c, pos, fn, "expected a string argument");
        return v->u.s;
}

static long long arg_int(struct jctx *c, struct jargs *a, int i, const char *kw, long long def,
                         const char *fn, size_t pos)
{
        struct jv *v = jargs_get(a, i, kw);

        if (!v || v->t == JV_NONE || v->t == JV_UNDEF)
                return def;
        if (v->t == JV_INT)
                return v->u.i;
        if (v->t == JV_BOOL)
                return v->u.b;
        bad_arg(c, pos, fn, "expected an integer argument");
}

static int arg_bool(struct jargs *a, int i, const char *kw, int def)
{
        struct jv *v = jargs_get(a, i, kw);

        return v ? jv_truthy(*v) : def;
}

/* ---- globals ------------------------------------------------------------ */

static struct jv copy_dict(struct jctx *c, struct jv src, struct jargs *a, enum jv_type t,
                           size_t pos)
{
        struct jv r = jv_dict(c);

        r.t = t;
        if (src.t == JV_DICT || src.t == JV_NS) {
                for (size_t i = 0; i < src.u.d->n; i++)
                        jdict_set(c, r.u.d, src.u.d->k[i], src.u.d->v[i]);
        } else if (src.t == JV_LIST) {
                for (size_t i = 0; i < src.u.l->n; i++) {
                        struct jv p = src.u.l->v[i];
                        if (p.t != JV_LIST || p.u.l->n != 2 || p.u.l->v[0].t != JV_STR)
                                jctx_fail(c, MU_EINVAL, pos, "expected [key, value] pairs");
                        jdict_set(c, r.u.d, p.u.l->v[0].u.s, p.u.l->v[1]);
                }
        } else if (src.t != JV_UNDEF) {
                jctx_fail(c, MU_EINVAL, pos, "cannot build a mapping from %s", jv_type_name(src.t));
        }
        for (int i = 0; i < a->nkw; i++)
                jdict_set(c, r.u.d, a->kwk[i], a->kwv[i]);
        return r;
}

struct jv jinja_global_call(struct jctx *c, int id, struct jargs *a, size_t pos)
{
        switch (id) {
        case JG_RANGE: {
                long long start = 0, stop, stepv = 1;
                if (a->npos == 0 || a->npos > 3)
                        bad_arg(c, pos, "range", "expected 1 to 3 arguments");
                if (a->npos == 1) {
                        stop = arg_int(c, a, 0, NULL, 0, "range", pos);
                } else {
                        start = arg_int(c, a, 0, NULL, 0, "range", pos);
                        stop = arg_int(c, a, 1, NULL, 0, "range", pos);
                        stepv = arg_int(c, a, 2, NULL, 1, "range", pos);
                }
                if (stepv == 0)
                        bad_arg(c, pos, "range", "step must not be zero");
                double count = ceil(((double)stop - (double)start) / (double)stepv);
                if (count > JINJA_MAX_RANGE)
                        jctx_fail(c, MU_ERANGE, pos, "range of %.0f items exceeds the limit of %d",
                                  count, JINJA_MAX_RANGE);
                struct jv r = jv_list(c);
                for (long long i = start; stepv > 0 ? i < stop : i > stop; i += stepv)
                        jlist_push(c, r.u.l, jv_int(i));
                return r;
        }
        case JG_NAMESPACE:
        case JG_DICT:
                if (a->npos > 1)
                        bad_arg(c, pos, jinja_global_names[id], "expected at most 1 positional argument");
                return copy_dict(c, a->npos ? a->pos[0] : jv_undef(), a, id == JG_NAMESPACE ? JV_NS
                                                                                            : JV_DICT,
                                 pos);
        case JG_RAISE: {
                struct jv *m = jargs_get(a, 0, NULL);
                struct jstr *s = m ? jv_to_str(c, *m, pos) : jstr_new(c, "", 0);
                jctx_fail(c, MU_EINVAL, pos, "raise_exception: %s", s->p);
        }
        case JG_STRFTIME: {
                const struct jstr *fmt = arg_str(c, a, 0, NULL, "strftime_now", pos);
                char out[512];
                time_t now = time(NULL);
                struct tm tm;
                localtime_r(&now, &tm);
                size_t n = fmt->n < 200 ? strftime(out, sizeof(out), fmt->p, &tm) : 0;
                return jv_str(c, out, n);
        }
        }
        return jv_undef();
}

/* ---- string helpers ----------------------------------------------------- */

static int has_cp(const struct jstr *set, const char *s, size_t len)
{
        for (size_t i = 0; i < set->n; i = utf8_next(set->p, set->n, i))
                if (utf8_next(set->p, set->n, i) - i == len && memcmp(set->p + i, s, len) == 0)
                        return 1;
        return 0;
}

/* strip: which = 1 left, 2 right, 3 both; chars NULL -> whitespace */
static struct jv strip(struct jctx *c, const struct jstr *s, const struct jstr *chars, int which)
{
        size_t a = 0, b = s->n;

        if (which & 1) {
                while (a < b) {
                        size_t k = chars ? utf8_next(s->p, b, a) - a : utf8_ws_len(s->p + a, b - a);
                        if (!k || (chars && !has_cp(chars, s->p + a, k)))
                                break;
                        a += k;
                }
        }
        if (which & 2) {
                while (b > a) {
                        size_t k;
                        if (chars) {
                                k = 1;
                                while (k < b - a && ((unsigned char)s->p[b - k] & 0xc0) == 0x80)
                                        k++;
                                if (!has_cp(chars, s->p + b - k, k))
                                        break;
                        } else if (!(k = utf8_ws_len_back(s->p + a, b - a))) {
                                break;
                        }
                        b -= k;
                }
        }
        return jv_str(c, s->p + a, b - a);
}

static struct jv case_map(struct jctx *c, const struct jstr *s, int mode)
{
        struct jstr *r = jstr_new(c, s->p, s->n);
        int prev_word = 0;

        for (size_t i = 0; i < r->n; i++) {
                char ch = r->p[i];
                int word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                           ch == '_';
                int up = mode == 'U' || (mode == 'T' && !prev_word) || (mode == 'C' && i == 0);
                if (mode == 'L' && ch >= 'A' && ch <= 'Z')
                        r->p[i] = (char)(ch + 32);
                else if (up && ch >= 'a' && ch <= 'z')
                        r->p[i] = (char)(ch - 32);
                prev_word = word;
        }
        return jv_strv(r);
}

static struct jv str_replace(struct jctx *c, const struct jstr *s, const struct jstr *old,
                             const struct jstr *rep, long long count)
{
        struct jbuf b = {0};
        size_t i = 0;

        if (count == 0)
                return jv_strv((struct jstr *)s);
        if (!old->n) {
                for (;;) {
                        if (count-- != 0)
                                jbuf_add(c, &b, rep->p, rep->n);
                        if (i >= s->n)
                                break;
                        size_t j = utf8_next(s->p, s->n, i);
                        jbuf_add(c, &b, s->p + i, j - i);
                        i = j;
                }
                return jv_strv(jbuf_str(c, &b));
        }
        while (i < s->n) {
                const char *hit = count != 0 ? memmem(s->p + i, s->n - i, old->p, old->n) : NULL;
                if (!hit)
                        break;
                jbuf_add(c, &b, s->p + i, (size_t)(hit - (s->p + i)));
                jbuf_add(c, &b, rep->p, rep->n);
                i = (size_t)(hit - s->p) + old->n;
                if (count > 0)
                        count--;
        }
        jbuf_add(c, &b, s->p + i, s->n - i);
        return jv_strv(jbuf_str(c, &b));
}

static struct jv str_split(struct jctx *c, const struct jstr *s, struct jv *sepv, long long maxsplit,
                           size_t pos)
{
        struct jv r = jv_list(c);
        size_t i = 0;

        if (!sepv || sepv->t == JV_NONE || sepv->t == JV_UNDEF) {
                for (;;) {
                        while (i < s->n && utf8_ws_len(s->p + i, s->n - i))
                                i += utf8_ws_len(s->p + i, s->n - i);
                        if (i >= s->n)
                                break;
                        if (maxsplit >= 0 && (long long)r.u.l->n >= maxsplit) {
                                jlist_push(c, r.u.l, jv_str(c, s->p + i, s->n - i));
                                break;
                        }
                        size_t j = i;
                        while (j < s->n && !utf8_ws_len(s->p + j, s->n - j))
                                j = utf8_next(s->p, s->n, j);
                        jlist_push(c, r.u.l, jv_str(c, s->p + i, j - i));
                        i = j;
                }
                return r;
        }
        if (sepv->t != JV_STR)
                bad_arg(c, pos, "split", "separator must be a string");
        const struct jstr *sep = sepv->u.s;
        if (!sep->n)
                bad_arg(c, pos, "split", "empty separator");
        for (;;) {
                const char *hit = maxsplit < 0 || (long long)r.u.l->n < maxsplit
                                          ? memmem(s->p + i, s->n - i, sep->p, sep->n)
                                          : NULL;
                if (!hit) {
                        jlist_push(c, r.u.l, jv_str(c, s->p + i, s->n - i));
                        break;
                }
                jlist_push(c, r.u.l, jv_str(c, s->p + i, (size_t)(hit - (s->p + i))));
                i = (size_t)(hit - s->p) + sep->n;
        }
        return r;
}

static int prefix_match(struct jctx *c, const struct jstr *s, struct jv *p, int end, size_t pos)
{
        if (!p)
                bad_arg(c, pos, end ? "endswith" : "startswith", "missing argument");
        if (p->t == JV_LIST) {
                for (size_t i = 0; i < p->u.l->n; i++)
                        if (prefix_match(c, s, &p->u.l->v[i], end, pos))
                                return 1;
                return 0;
        }
        if (p->t != JV_STR)
                bad_arg(c, pos, end ? "endswith" : "startswith", "expected a string");
        const struct jstr *x = p->u.s;
        if (x->n > s->n)
                return 0;
        return memcmp(end ? s->p + s->n - x->n : s->p, x->p, x->n) == 0;
}

static struct jv join(struct jctx *c, struct jv list, const char *sep, size_t seplen,
                      const struct jstr *attr, size_t pos)
{
        struct jbuf b = {0};

        for (size_t i = 0; i < list.u.l->n; i++) {
                struct jv v = list.u.l->v[i];
                if (i)
                        jbuf_add(c, &b, sep, seplen);
                if (attr && (v.t == JV_DICT || v.t == JV_NS)) {
                        struct jv *x = jdict_get(v.u.d, attr->p, attr->n);
                        v = x ? *x : jv_undef();
                }
                jv_print(c, &b, v, pos);
        }
        return jv_strv(jbuf_str(c, &b));
}

static struct jv chars_of(struct jctx *c, const struct jstr *s)
{
        struct jv r = jv_list(c);

        for (size_t i = 0; i < s->n;) {
                size_t j = utf8_next(s->p, s->n, i);
                jlist_push(c, r.u.l, jv_str(c, s->p + i, j - i));
                i = j;
        }
        return r;
}

static struct jv items_of(struct jctx *c, struct jdict *d)
{
        struct jv r = jv_list(c);

        for (size_t i = 0; i < d->n; i++) {
                struct jv p = jv_list(c);
                jlist_push(c, p.u.l, jv_strv(d->k[i]));
                jlist_push(c, p.u.l, d->v[i]);
                jlist_push(c, r.u.l, p);
        }
        return r;
}

/* ---- methods ------------------------------------------------------------ */

static const char *const str_methods[] = {"upper", "lower", "strip", "lstrip", "rstrip", "title",
                                          "capitalize", "startswith", "endswith", "split", "replace",
                                          "join", "find", "count", NULL};
static const char *const dict_methods[] = {"get", "items", "keys", "values", NULL};

static int in_list(const char *const *l, const char *name)
{
        for (; *l; l++)
                if (strcmp(*l, name) == 0)
                        return 1;
        return 0;
}

int jinja_has_method(struct jv self, const char *name)
{
        if (self.t == JV_STR)
                return in_list(str_methods, name);
        if (self.t == JV_DICT)
                return in_list(dict_methods, name);
        return 0;
}

struct jv jinja_method_call(struct jctx *c, struct jv self, const char *name, struct jargs *a,
                            size_t pos)
{
        if (self.t == JV_DICT) {
                struct jdict *d = self.u.d;
                if (strcmp(name, "get") == 0) {
                        const struct jstr *k = arg_str(c, a, 0, NULL, "get", pos);
                        struct jv *v = jdict_get(d, k->p, k->n), *def = jargs_get(a, 1, "default");
                        return v ? *v : def ? *def : jv_none();
                }
                if (strcmp(name, "items") == 0)
                        return items_of(c, d);
                struct jv r = jv_list(c);
                for (size_t i = 0; i < d->n; i++)
                        jlist_push(c, r.u.l, name[0] == 'k' ? jv_strv(d->k[i]) : d->v[i]);
                return r;
        }
        const struct jstr *s = self.u.s;
        if (strcmp(name, "upper") == 0)
                return case_map(c, s, 'U');
        if (strcmp(name, "lower") == 0)
                return case_map(c, s, 'L');
        if (strcmp(name, "title") == 0)
                return case_map(c, s, 'T');
        if (strcmp(name, "capitalize") == 0)
                return case_map(c, s, 'C');
        if (strstr(name, "strip")) {
                struct jv *ch = jargs_get(a, 0, "chars");
                const struct jstr *chars = ch && ch->t == JV_STR ? ch->u.s : NULL;
                return strip(c, s, chars, name[0] == 'l' ? 1 : name[0] == 'r' ? 2 : 3);
        }
        if (strcmp(name, "startswith") == 0 || strcmp(name, "endswith") == 0)
                return jv_bool(prefix_match(c, s, jargs_get(a, 0, NULL), name[0] == 'e', pos));
        if (strcmp(name, "split") == 0)
                return str_split(c, s, jargs_get(a, 0, "sep"), arg_int(c, a, 1, "maxsplit", -1, name, pos),
                                 pos);
        if (strcmp(name, "replace") == 0)
                return str_replace(c, s, arg_str(c, a, 0, NULL, name, pos), arg_str(c, a, 1, NULL, name, pos),
                                   arg_int(c, a, 2, "count", -1, name, pos));
        if (strcmp(name, "join") == 0) {
                struct jv *l = jargs_get(a, 0, NULL);
                if (!l || l->t != JV_LIST)
                        bad_arg(c, pos, name, "expected a list");
                return join(c, *l, s->p, s->n, NULL, pos);
        }
        const struct jstr *sub = arg_str(c, a, 0, NULL, name, pos);
        if (strcmp(name, "find") == 0) {
                const char *hit = sub->n ? memmem(s->p, s->n, sub->p, sub->n) : s->p;
                return jv_int(hit ? (long long)utf8_count(s->p, (size_t)(hit - s->p)) : -1);
        }
        long long k = 0;  /* count */
        if (!sub->n)
                return jv_int((long long)utf8_count(s->p, s->n) + 1);
        for (const char *p = s->p; (p = memmem(p, s->n - (size_t)(p - s->p), sub->p, sub->n));
             p += sub->n)
                k++;
        return jv_int(k);
}

/* ---- slicing ------------------------------------------------------------ */

struct jv jinja_slice(struct jctx *c, struct jv v, struct jv start, struct jv stop, struct jv stepv,
                      size_t pos)
{
        struct jv src = v;
        int is_str = v.t == JV_STR;

        if (v.t != JV_LIST && !is_str)
                jctx_fail(c, MU_EINVAL, pos, "cannot slice %s", jv_type_name(v.t));
        if ((start.t != JV_INT && start.t != JV_UNDEF && start.t != JV_NONE) ||
            (stop.t != JV_INT && stop.t != JV_UNDEF && stop.t != JV_NONE) ||
            (stepv.t != JV_INT && stepv.t != JV_UNDEF && stepv.t != JV_NONE))
                jctx_fail(c, MU_EINVAL, pos, "slice indices must be integers");
        if (is_str) {  /* slice code points */
                src = jv_list(c);
                for (size_t i = 0; i < v.u.s->n;) {
                        size_t j = utf8_next(v.u.s->p, v.u.s->n, i);
                        jlist_push(c, src.u.l, jv_str(c, v.u.s->p + i, j - i));
                        i = j;
                }
        }
        long long n = (long long)src.u.l->n;
        long long st = stepv.t == JV_INT ? stepv.u.i : 1;
        if (st == 0)
                jctx_fail(c, MU_EINVAL, pos, "slice step cannot be zero");
        long long a, b;
        if (st > 0) {
                a = start.t == JV_INT ? start.u.i : 0;
                b = stop.t == JV_INT ? stop.u.i : n;
                a = a < 0 ? (a + n < 0 ? 0 : a + n) : (a > n ? n : a);
                b = b < 0 ? (b + n < 0 ? 0 : b + n) : (b > n ? n : b);
        } else {
                a = start.t == JV_INT ? start.u.i : n - 1;
                b = stop.t == JV_INT ? stop.u.i : -1 - n;
                a = a < 0 ? (a + n < -1 ? -1 : a + n) : (a > n - 1 ? n - 1 : a);
                b = b < 0 ? (b + n < -1 ? -1 : b + n) : (b > n - 1 ? n - 1 : b);
        }
        struct jv r = jv_list(c);
        for (long long i = a; st > 0 ? i < b : i > b; i += st)
                jlist_push(c, r.u.l, src.u.l->v[i]);
        if (!is_str)
                return r;
        struct jbuf buf = {0};
        for (size_t i = 0; i < r.u.l->n; i++)
                jbuf_add(c, &buf, r.u.l->v[i].u.s->p, r.u.l->v[i].u.s->n);
        return jv_strv(jbuf_str(c, &buf));
}

/* ---- tests -------------------------------------------------------------- */

int jinja_test(struct jctx *c, struct jv v, const char *name, struct jargs *a, size_t pos)
{
        struct jv *x = jargs_get(a, 0, NULL);

        if (!strcmp(name, "defined"))
                return v.t != JV_UNDEF;
        if (!strcmp(name, "undefined"))
                return v.t == JV_UNDEF;
        if (!strcmp(name, "none"))
                return v.t == JV_NONE;
        if (!strcmp(name, "string"))
                return v.t == JV_STR;
        if (!strcmp(name, "number"))
                return v.t == JV_INT || v.t == JV_FLOAT;
        if (!strcmp(name, "integer"))
                return v.t == JV_INT;
        if (!strcmp(name, "float"))
                return v.t == JV_FLOAT;
        if (!strcmp(name, "boolean"))
                return v.t == JV_BOOL;
        if (!strcmp(name, "true"))
                return v.t == JV_BOOL && v.u.b;
        if (!strcmp(name, "false"))
                return v.t == JV_BOOL && !v.u.b;
        if (!strcmp(name, "mapping"))
                return v.t == JV_DICT;
        if (!strcmp(name, "iterable"))
                return v.t == JV_LIST || v.t == JV_STR;
        if (!strcmp(name, "sequence"))
                return v.t == JV_LIST || v.t == JV_STR || v.t == JV_DICT;
        if (!strcmp(name, "callable"))
                return v.t == JV_FUNC;
        if (!strcmp(name, "odd") || !strcmp(name, "even")) {
                if (v.t != JV_INT)
                        jctx_fail(c, MU_EINVAL, pos, "test '%s' needs an integer", name);
                return (v.u.i % 2 != 0) == (name[0] == 'o');
        }
        if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
                if (v.t != JV_STR)
                        return 0;
                for (size_t i = 0; i < v.u.s->n; i++) {
                        char ch = v.u.s->p[i];
                        if (name[0] == 'l' ? (ch >= 'A' && ch <= 'Z') : (ch >= 'a' && ch <= 'z'))
                                return 0;
                }
                return 1;
        }
        if (!strcmp(name, "equalto") || !strcmp(name, "eq") || !strcmp(name, "sameas"))
                return x ? jv_strict_eq(v, *x) : v.t == JV_UNDEF;
        if (!strcmp(name, "ne"))
                return !(x ? jv_strict_eq(v, *x) : v.t == JV_UNDEF);
        if (!strcmp(name, "divisibleby")) {
                long long d = arg_int(c, a, 0, NULL, 0, name, pos);
                if (v.t != JV_INT || d == 0)
                        jctx_fail(c, MU_EINVAL, pos, "bad operands for divisibleby");
                return d == -1 || v.u.i % d == 0;
        }
        if (!strcmp(name, "in")) {
                if (!x)
                        bad_arg(c, pos, name, "missing argument");
                if (x->t == JV_LIST) {
                        for (size_t i = 0; i < x->u.l->n; i++)
                                if (jv_strict_eq(x->u.l->v[i], v))
                                        return 1;
                        return 0;
                }
                if (x->t == JV_STR && v.t == JV_STR)
                        return memmem(x->u.s->p, x->u.s->n, v.u.s->p, v.u.s->n) != NULL || !v.u.s->n;
                if (x->t == JV_DICT && v.t == JV_STR)
                        return jdict_get(x->u.d, v.u.s->p, v.u.s->n) != NULL;
                return 0;
        }
        jctx_fail(c, MU_EINVAL, pos, "unknown test '%s'", name);
}

/* ---- filters ------------------------------------------------------------ */

static struct jv list_of(struct jctx *c, struct jv v, const char *f, size_t pos)
{
        if (v.t != JV_LIST)
                jctx_fail(c, MU_EINVAL, pos, "filter '%s' needs a list, got %s", f, jv_type_name(v.t));
        return v;
}

static struct jv attr_path(struct jv item, const struct jstr *path)
{
        const char *p = path->p, *end = path->p + path->n;

        while (p <= end) {
                const char *dot = memchr(p, '.', (size_t)(end - p));
                size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
                if (item.t == JV_DICT || item.t == JV_NS) {
                        struct jv *x = jdict_get(item.u.d, p, len);
                        if (!x)
                                return jv_undef();
                        item = *x;
                } else if (item.t == JV_LIST) {
                        char *e;
                        char tmp[24];
                        if (len == 0 || len >= sizeof(tmp))
                                return jv_undef();
                        memcpy(tmp, p, len);
                        tmp[len] = 0;
                        long idx = strtol(tmp, &e, 10);
                        if (*e || idx < 0 || (size_t)idx >= item.u.l->n)
                                return jv_undef();
                        item = item.u.l->v[idx];
                } else {
                        return jv_undef();
                }
                if (!dot)
                        break;
                p = dot + 1;
        }
        return item;
}

struct sort_item {
        struct jv key, val;
        size_t idx;
        int fold;
};

static int sort_cmp(const void *pa, const void *pb)
{
        const struct sort_item *a = pa, *b = pb;
        int r;

        if (a->key.t == JV_STR) {
                const struct jstr *x = a->key.u.s, *y = b->key.u.s;
                size_t n = x->n < y->n ? x->n : y->n;
                r = 0;
                for (size_t i = 0; i < n && !r; i++) {
                        int cx = (unsigned char)x->p[i], cy = (unsigned char)y->p[i];
                        if (a->fold) {
                                cx = cx >= 'A' && cx <= 'Z' ? cx + 32 : cx;
                                cy = cy >= 'A' && cy <= 'Z' ? cy + 32 : cy;
                        }
                        r = (cx > cy) - (cx < cy);
                }
                if (!r)
                        r = (x->n > y->n) - (x->n < y->n);
        } else {
                double x = jv_num(a->key), y = jv_num(b->key);
                r = (x > y) - (x < y);
        }
        return r ? r : (a->idx > b->idx) - (a->idx < b->idx);
}

static struct jv sort_list(struct jctx *c, struct jv list, int reverse, int case_sensitive,
                           const struct jstr *attr, int by_value, size_t pos)
{
        size_t n = list.u.l->n;
        struct sort_item *it = jalloc(c, (n + 1) * sizeof(*it));
        int kind = -1;

        for (size_t i = 0; i < n; i++) {
                struct jv v = list.u.l->v[i];
                it[i].val = v;
                it[i].idx = i;
                it[i].fold = !case_sensitive;
                it[i].key = by_value >= 0 ? v.u.l->v[by_value] : attr ? attr_path(v, attr) : v;
                int k = it[i].key.t == JV_STR ? 1 : jv_is_num(it[i].key) ? 0 : 2;
                if (k == 2 || (kind >= 0 && k != kind))
                        jctx_fail(c, MU_EINVAL, pos, "cannot sort a list of mixed or unsortable values");
                kind = k;
        }
        qsort(it, n, sizeof(*it), sort_cmp);
        struct jv r = jv_list(c);
        for (size_t i = 0; i < n; i++)
                jlist_push(c, r.u.l, it[reverse ? n - 1 - i : i].val);
        return r;
}

static struct jv tojson(struct jctx *c, struct jv v, struct jargs *a, size_t pos)
{
        struct jjson_opts o = {0};
        struct jv *sep = jargs_kw(a, "separators");

        o.indent = (int)arg_int(c, a, 0, "indent", 0, "tojson", pos);
        if (o.indent > 64)
                o.indent = 64;
        o.ensure_ascii = arg_bool(a, -1, "ensure_ascii", 0);
        o.sort_keys = arg_bool(a, -1, "sort_keys", 0);
        o.undef_as_null = 1;
        if (sep && sep->t != JV_NONE) {
                if (sep->t != JV_LIST || sep->u.l->n != 2 || sep->u.l->v[0].t != JV_STR ||
                    sep->u.l->v[1].t != JV_STR)
                        bad_arg(c, pos, "tojson", "separators must be two strings");
                o.item_sep = sep->u.l->v[0].u.s->p;
                o.key_sep = sep->u.l->v[1].u.s->p;
        }
        struct jbuf b = {0};
        jv_tojson(c, &b, v, &o, 0, pos);
        return jv_strv(jbuf_str(c, &b));
}

static struct jv num_filter(struct jctx *c, struct jv v, struct jargs *a, int is_int, size_t pos)
{
        struct jv *def = jargs_get(a, 0, "default");
        struct jv d = def ? *def : is_int ? jv_int(0) : jv_float(0);

        if (v.t == JV_STR) {
                char *e;
                const char *p = v.u.s->p;
                while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
                        p++;
                if (is_int) {
                        long long x = strtoll(p, &e, 10);
                        return e == p ? d : jv_int(x);
                }
                double x = strtod(p, &e);
                return e == p ? d : jv_float(x);
        }
        if (v.t == JV_INT || v.t == JV_BOOL)
                return is_int ? jv_int(v.t == JV_INT ? v.u.i : v.u.b) : jv_float(jv_num(v));
        if (v.t == JV_FLOAT) {
                if (!is_int)
                        return v;
                return isfinite(v.u.f) && fabs(v.u.f) < 9e18 ? jv_int((long long)floor(v.u.f)) : d;
        }
        return d;
}

static struct jv select_filter(struct jctx *c, struct jv v, const char *name, struct jargs *a,
                               size_t pos)
{
        int attr_mode = strstr(name, "attr") != NULL, reject = name[0] == 'r';
        struct jv r = jv_list(c);
        int ti = attr_mode ? 1 : 0;
        const struct jstr *attr = attr_mode ? arg_str(c, a, 0, NULL, name, pos) : NULL;
        struct jv *test = jargs_get(a, ti, NULL);
        struct jargs targs = {0};

        if (test && test->t != JV_STR)
                bad_arg(c, pos, name, "test name must be a string");
        if (a->npos > ti + 1) {
                targs.pos = a->pos + ti + 1;
                targs.npos = a->npos - ti - 1;
        }
        list_of(c, v, name, pos);
        for (size_t i = 0; i < v.u.l->n; i++) {
                struct jv item = v.u.l->v[i], x = item;
                int ok;
                if (attr_mode) {
                        if (item.t != JV_DICT && item.t != JV_NS)
                                jctx_fail(c, MU_EINVAL, pos, "%s needs a list of mappings", name);
                        struct jv *p = jdict_get(item.u.d, attr->p, attr->n);
                        if (!p) {
                                if (reject)
                                        jlist_push(c, r.u.l, item);
                                continue;
                        }
                        x = *p;
                }
                ok = test ? jinja_test(c, x, test->u.s->p, &targs, pos) : jv_truthy(x);
                if (ok != reject)
                        jlist_push(c, r.u.l, item);
        }
        return r;
}

static struct jv indent(struct jctx *c, const struct jstr *s, struct jargs *a, size_t pos)
{
        struct jv *w = jargs_get(a, 0, "width");
        int first = arg_bool(a, 1, "first", 0), blank = arg_bool(a, 2, "blank", 0);
        struct jbuf pad = {0}, b = {0};

        if (w && w->t == JV_STR) {
                jbuf_add(c, &pad, w->u.s->p, w->u.s->n);
        } else {
                long long k = arg_int(c, a, 0, "width", 4, "indent", pos);
                for (long long i = 0; i < k && i < 256; i++)
                        jbuf_add(c, &pad, " ", 1);
        }
        size_t i = 0;
        for (int line = 0;; line++) {
                const char *nl = memchr(s->p + i, '\n', s->n - i);
                size_t len = nl ? (size_t)(nl - (s->p + i)) : s->n - i;
                if ((line > 0 || first) && (len > 0 || blank))
                        jbuf_add(c, &b, pad.p, pad.n);
                jbuf_add(c, &b, s->p + i, len);
                if (!nl)
                        break;
                jbuf_add(c, &b, "\n", 1);
                i += len + 1;
        }
        return jv_strv(jbuf_str(c, &b));
}

struct jv jinja_filter(struct jctx *c, struct jscope *s, struct jv v, const char *f,
                       struct jargs *a, int has_call, size_t pos)
{
        (void)s;
        (void)has_call;
        if (!strcmp(f, "safe"))
                return v;
        if (!strcmp(f, "tojson"))
                return tojson(c, v, a, pos);
        if (!strcmp(f, "default") || !strcmp(f, "d")) {
                struct jv *def = jargs_get(a, 0, "default_value");
                if (v.t == JV_UNDEF || (arg_bool(a, 1, "boolean", 0) && !jv_truthy(v)))
                        return def ? *def : jv_str(c, "", 0);
                return v;
        }
        if (!strcmp(f, "length") || !strcmp(f, "count")) {
                if (v.t == JV_STR)
                        return jv_int((long long)utf8_count(v.u.s->p, v.u.s->n));
                if (v.t == JV_LIST)
                        return jv_int((long long)v.u.l->n);
                if (v.t == JV_DICT || v.t == JV_NS)
                        return jv_int((long long)v.u.d->n);
                jctx_fail(c, MU_EINVAL, pos, "filter '%s' cannot apply to %s", f, jv_type_name(v.t));
        }
        if (!strcmp(f, "string"))
                return jv_strv(jv_to_str(c, v, pos));
        if (!strcmp(f, "int") || !strcmp(f, "float"))
                return num_filter(c, v, a, f[0] == 'i', pos);
        if (!strcmp(f, "bool"))
                return jv_bool(jv_truthy(v));
        if (!strcmp(f, "list")) {
                if (v.t == JV_LIST)
                        return v;
                if (v.t == JV_STR)
                        return chars_of(c, v.u.s);
                if (v.t == JV_DICT) {
                        struct jv r = jv_list(c);
                        for (size_t i = 0; i < v.u.d->n; i++)
                                jlist_push(c, r.u.l, jv_strv(v.u.d->k[i]));
                        return r;
                }
        }
        if (!strcmp(f, "items") || !strcmp(f, "dictsort")) {
                if (v.t != JV_DICT && v.t != JV_NS)
                        jctx_fail(c, MU_EINVAL, pos, "filter '%s' needs a mapping", f);
                struct jv r = items_of(c, v.u.d);
                if (f[0] == 'd') {
                        struct jv *by = jargs_get(a, 1, "by");
                        int by_value = by && by->t == JV_STR && !strcmp(by->u.s->p, "value");
                        r = sort_list(c, r, arg_bool(a, 2, "reverse", 0), arg_bool(a, 0, "case_sensitive", 0),
                                      NULL, by_value, pos);
                }
                return r;
        }
        if (v.t == JV_STR) {
                const struct jstr *str = v.u.s;
                if (!strcmp(f, "trim")) {
                        struct jv *ch = jargs_get(a, 0, "chars");
                        return strip(c, str, ch && ch->t == JV_STR ? ch->u.s : NULL, 3);
                }
                if (!strcmp(f, "upper"))
                        return case_map(c, str, 'U');
                if (!strcmp(f, "lower"))
                        return case_map(c, str, 'L');
                if (!strcmp(f, "title"))
                        return case_map(c, str, 'T');
                if (!strcmp(f, "capitalize"))
                        return case_map(c, str, 'C');
                if (!strcmp(f, "replace"))
                        return str_replace(c, str, arg_str(c, a, 0, NULL, f, pos), arg_str(c, a, 1, NULL, f, pos),
                                           arg_int(c, a, 2, "count", -1, f, pos));
                if (!strcmp(f, "indent"))
                        return indent(c, str, a, pos);
                if (!strcmp(f, "join"))
                        return v;
                if (!strcmp(f, "first") || !strcmp(f, "last") || !strcmp(f, "reverse")) {
                        struct jv l = chars_of(c, str);
                        if (f[0] == 'r')
                                return jinja_slice(c, v, jv_undef(), jv_undef(), jv_int(-1), pos);
                        return l.u.l->n ? l.u.l->v[f[0] == 'f' ? 0 : l.u.l->n - 1] : jv_undef();
                }
                if (!strcmp(f, "escape") || !strcmp(f, "e")) {
                        struct jbuf b = {0};
                        for (size_t i = 0; i < str->n; i++) {
                                const char *r = NULL;
                                switch (str->p[i]) {
                                case '&': r = "&amp;"; break;
                                case '<': r = "&lt;"; break;
                                case '>': r = "&gt;"; break;
                                case '"': r = "&#34;"; break;
                                case '\'': r = "&#39;"; break;
                                }
                                if (r)
                                        jbuf_adds(c, &b, r);
                                else
                                        jbuf_add(c, &b, str->p + i, 1);
                        }
                        return jv_strv(jbuf_str(c, &b));
                }
        }
        if (v.t == JV_INT || v.t == JV_FLOAT || v.t == JV_BOOL) {
                if (!strcmp(f, "abs"))
                        return v.t == JV_FLOAT ? jv_float(fabs(v.u.f))
                                               : jv_int(v.t == JV_INT ? llabs(v.u.i) : v.u.b);
                if (!strcmp(f, "round")) {
                        long long prec = arg_int(c, a, 0, "precision", 0, f, pos);
                        struct jv *m = jargs_get(a, 1, "method");
                        const char *method = m && m->t == JV_STR ? m->u.s->p : "common";
                        double x = jv_num(v), k = pow(10, (double)(prec < 0 ? 0 : prec > 15 ? 15 : prec));
                        double r = !strcmp(method, "floor") ? floor(x * k) / k
                                 : !strcmp(method, "ceil")  ? ceil(x * k) / k
                                                            : round(x * k) / k;
                        return jv_float(r);
                }
        }
        if (v.t == JV_LIST) {
                struct jlist *l = v.u.l;
                if (!strcmp(f, "first"))
                        return l->n ? l->v[0] : jv_undef();
                if (!strcmp(f, "last"))
                        return l->n ? l->v[l->n - 1] : jv_undef();
                if (!strcmp(f, "join")) {
                        struct jv *sep = jargs_get(a, 0, "d");
                        struct jv *attr = jargs_kw(a, "attribute");
                        if (sep && sep->t != JV_STR)
                                bad_arg(c, pos, f, "separator must be a string");
                        return join(c, v, sep ? sep->u.s->p : "", sep ? sep->u.s->n : 0,
                                    attr && attr->t == JV_STR ? attr->u.s : NULL, pos);
                }
                if (!strcmp(f, "reverse"))
                        return jinja_slice(c, v, jv_undef(), jv_undef(), jv_int(-1), pos);
                if (!strcmp(f, "unique")) {
                        struct jv r = jv_list(c);
                        for (size_t i = 0; i < l->n; i++) {
                                int dup = 0;
                                for (size_t k = 0; k < r.u.l->n && !dup; k++)
                                        dup = jv_strict_eq(r.u.l->v[k], l->v[i]);
                                if (!dup)
                                        jlist_push(c, r.u.l, l->v[i]);
                        }
                        return r;
                }
                if (!strcmp(f, "sort")) {
                        struct jv *attr = jargs_get(a, 2, "attribute");
                        return sort_list(c, v, arg_bool(a, 0, "reverse", 0), arg_bool(a, 1, "case_sensitive", 0),
                                         attr && attr->t == JV_STR ? attr->u.s : NULL, -1, pos);
                }
                if (!strcmp(f, "map")) {
                        struct jv *attr = jargs_kw(a, "attribute"), *def = jargs_kw(a, "default");
                        struct jv r = jv_list(c);
                        if (attr && attr->t != JV_STR)
                                bad_arg(c, pos, f, "attribute must be a string");
                        struct jv *fname = attr ? NULL : jargs_get(a, 0, NULL);
                        if (!attr && (!fname || fname->t != JV_STR))
                                bad_arg(c, pos, f, "needs attribute= or a filter name");
                        struct jargs rest = {0};
                        if (fname && a->npos > 1) {
                                rest.pos = a->pos + 1;
                                rest.npos = a->npos - 1;
                        }
                        for (size_t i = 0; i < l->n; i++) {
                                struct jv x;
                                if (attr) {
                                        x = attr_path(l->v[i], attr->u.s);
                                        if (x.t == JV_UNDEF && def)
                                                x = *def;
                                } else {
                                        x = jinja_filter(c, s, l->v[i], fname->u.s->p, &rest, 1, pos);
                                }
                                jlist_push(c, r.u.l, x);
                        }
                        return r;
                }
                if (!strcmp(f, "select") || !strcmp(f, "reject") || !strcmp(f, "selectattr") ||
                    !strcmp(f, "rejectattr"))
                        return select_filter(c, v, f, a, pos);
                if (!strcmp(f, "sum")) {
                        struct jv *attr = jargs_kw(a, "attribute");
                        struct jv acc = jv_int(0);
                        for (size_t i = 0; i < l->n; i++) {
                                struct jv x = attr && attr->t == JV_STR ? attr_path(l->v[i], attr->u.s) : l->v[i];
                                if (!jv_is_num(x))
                                        jctx_fail(c, MU_EINVAL, pos, "sum of non-numbers");
                                if (acc.t == JV_INT && x.t != JV_FLOAT &&
                                    !__builtin_add_overflow(acc.u.i, (long long)jv_num(x), &acc.u.i))
                                        continue;
                                acc = jv_float(jv_num(acc) + jv_num(x));
                        }
                        return acc;
                }
        }
        if (!strcmp(f, "map") || !strcmp(f, "selectattr") || !strcmp(f, "rejectattr") ||
            !strcmp(f, "select") || !strcmp(f, "reject") || !strcmp(f, "join") || !strcmp(f, "sort") ||
            !strcmp(f, "first") || !strcmp(f, "last") || !strcmp(f, "trim") || !strcmp(f, "upper") ||
            !strcmp(f, "lower") || !strcmp(f, "title") || !strcmp(f, "capitalize") ||
            !strcmp(f, "replace") || !strcmp(f, "indent") || !strcmp(f, "abs") || !strcmp(f, "round") ||
            !strcmp(f, "reverse") || !strcmp(f, "unique") || !strcmp(f, "sum") || !strcmp(f, "list") ||
            !strcmp(f, "escape") || !strcmp(f, "e"))
                jctx_fail(c, MU_EINVAL, pos, "filter '%s' cannot apply to %s", f, jv_type_name(v.t));
        jctx_fail(c, MU_EINVAL, pos, "unknown filter '%s'", f);
}
