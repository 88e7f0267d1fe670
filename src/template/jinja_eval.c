/* jinja_eval.c -- tree-walking evaluator for the Jinja AST, and the render entry.
 *
 * Scoping follows @huggingface/jinja: the render's variables and the
 * globals share the root scope; a for loop gets one child scope (loop vars,
 * `loop`, and any {% set %} inside stay there); a macro call gets a child of
 * the caller's scope.  {% set x.attr %} only works on namespace() objects.
 * Every evaluated node counts toward JINJA_MAX_STEPS and nests toward a
 * depth cap, so runaway loops and recursion end with MU_ERANGE. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "template/jinja.h"

#define EVAL_MAX_DEPTH (JINJA_MAX_DEPTH * 4)

static void step(struct jctx *c, size_t pos)
{
        if (++c->steps > JINJA_MAX_STEPS)
                jctx_fail(c, MU_ERANGE, pos, "evaluation step limit (%lld) exceeded",
                          (long long)JINJA_MAX_STEPS);
}

static void enter(struct jctx *c, size_t pos)
{
        if (++c->depth > EVAL_MAX_DEPTH)
                jctx_fail(c, MU_ERANGE, pos, "recursion deeper than %d", EVAL_MAX_DEPTH);
}

static struct jscope *scope_new(struct jctx *c, struct jscope *parent)
{
        struct jscope *s = jalloc(c, sizeof(*s));

        s->parent = parent;
        return s;
}

struct jv jscope_lookup(struct jscope *s, const char *name, size_t n)
{
        for (; s; s = s->parent) {
                struct jv *v = jdict_get(&s->vars, name, n);
                if (v)
                        return *v;
        }
        return jv_undef();
}

/* ---- member access ------------------------------------------------------ */

static struct jv bound_method(struct jctx *c, struct jv self, const char *name)
{
        struct jv f = jv_func(c, JF_METHOD, 0, name);

        f.u.fn->self = self;
        return f;
}

static struct jv get_attr(struct jctx *c, struct jv obj, const char *name, size_t n)
{
        if (obj.t == JV_DICT || obj.t == JV_NS) {
                struct jv *v = jdict_get(obj.u.d, name, n);
                if (v)
                        return *v;
        }
        if (obj.t == JV_LIST && n == 6 && memcmp(name, "length", 6) == 0)
                return jv_int((long long)obj.u.l->n);
        if (obj.t == JV_STR && n == 6 && memcmp(name, "length", 6) == 0)
                return jv_int((long long)utf8_count(obj.u.s->p, obj.u.s->n));
        if (strlen(name) == n && jinja_has_method(obj, name))
                return bound_method(c, obj, jstrndup(c, name, n));
        return jv_undef();
}

static struct jv get_item(struct jctx *c, struct jv obj, struct jv key, size_t pos)
{
        if (key.t == JV_STR)
                return get_attr(c, obj, key.u.s->p, key.u.s->n);
        if (key.t != JV_INT && key.t != JV_BOOL)
                jctx_fail(c, MU_EINVAL, pos, "cannot index %s with %s", jv_type_name(obj.t),
                          jv_type_name(key.t));
        long long i = key.t == JV_INT ? key.u.i : key.u.b;
        if (obj.t == JV_LIST) {
                long long n = (long long)obj.u.l->n;
                if (i < 0)
                        i += n;
                return i >= 0 && i < n ? obj.u.l->v[i] : jv_undef();
        }
        if (obj.t == JV_STR) {
                const char *s = obj.u.s->p;
                size_t n = obj.u.s->n;
                long long cnt = (long long)utf8_count(s, n);
                if (i < 0)
                        i += cnt;
                if (i < 0 || i >= cnt)
                        return jv_undef();
                size_t off = 0;
                for (long long k = 0; k < i; k++)
                        off = utf8_next(s, n, off);
                return jv_str(c, s + off, utf8_next(s, n, off) - off);
        }
        if (obj.t == JV_DICT || obj.t == JV_NS || obj.t == JV_UNDEF)
                jctx_fail(c, MU_EINVAL, pos, "cannot index %s with an integer", jv_type_name(obj.t));
        return jv_undef();
}

/* ---- arguments ---------------------------------------------------------- */

static void eval_args(struct jctx *c, struct jscope *s, const struct jnode_list *l, struct jargs *a)
{
        memset(a, 0, sizeof(*a));
        if (!l->n)
                return;
        a->pos = jalloc(c, (size_t)l->n * sizeof(struct jv));
        a->kwv = jalloc(c, (size_t)l->n * sizeof(struct jv));
        a->kwk = jalloc(c, (size_t)l->n * sizeof(struct jstr *));
        for (int i = 0; i < l->n; i++)
                if (l->v[i]->kind != JN_KWARG)
                        a->pos[a->npos++] = jinja_eval(c, s, l->v[i]);
        for (int i = 0; i < l->n; i++) {
                if (l->v[i]->kind != JN_KWARG)
                        continue;
                for (int k = 0; k < a->nkw; k++)
                        if (a->kwk[k]->n == l->v[i]->str->n &&
                            memcmp(a->kwk[k]->p, l->v[i]->str->p, a->kwk[k]->n) == 0)
                                jctx_fail(c, MU_EINVAL, l->v[i]->pos, "keyword argument '%s' repeated",
                                          l->v[i]->str->p);
                a->kwk[a->nkw] = l->v[i]->str;
                a->kwv[a->nkw++] = jinja_eval(c, s, l->v[i]->a);
        }
}

struct jv *jargs_kw(struct jargs *a, const char *name)
{
        for (int i = 0; i < a->nkw; i++)
                if (strcmp(a->kwk[i]->p, name) == 0)
                        return &a->kwv[i];
        return NULL;
}

struct jv *jargs_get(struct jargs *a, int i, const char *name)
{
        if (i >= 0 && i < a->npos)
                return &a->pos[i];
        return name ? jargs_kw(a, name) : NULL;
}

/* ---- macros ------------------------------------------------------------- */

static void bind_params(struct jctx *c, struct jscope *ms, const struct jnode_list *params,
                        struct jargs *a)
{
        int used_kw[64] = {0};
        struct jv varargs = jv_list(c), kwargs = jv_dict(c);

        for (int i = 0; i < params->n; i++) {
                const struct jnode *p = params->v[i];
                struct jv *v = i < a->npos ? &a->pos[i] : NULL;
                if (!v)
                        for (int k = 0; k < a->nkw; k++)
                                if (strcmp(a->kwk[k]->p, p->str->p) == 0) {
                                        v = &a->kwv[k];
                                        if (k < 64)
                                                used_kw[k] = 1;
                                }
                jdict_set(c, &ms->vars, p->str, v ? *v : jv_undef());
        }
        for (int i = params->n; i < a->npos; i++)
                jlist_push(c, varargs.u.l, a->pos[i]);
        for (int k = 0; k < a->nkw; k++)
                if (k >= 64 || !used_kw[k])
                        jdict_set(c, kwargs.u.d, a->kwk[k], a->kwv[k]);
        jdict_setc(c, &ms->vars, "varargs", varargs);
        jdict_setc(c, &ms->vars, "kwargs", kwargs);
        /* defaults are evaluated after every name is bound */
        for (int i = 0; i < params->n; i++) {
                const struct jnode *p = params->v[i];
                if (p->kind == JN_KWARG && jdict_get(&ms->vars, p->str->p, p->str->n)->t == JV_UNDEF)
                        jdict_set(c, &ms->vars, p->str, jinja_eval(c, ms, p->a));
        }
}

struct jv jinja_call(struct jctx *c, struct jscope *s, struct jv fn, struct jargs *a, size_t pos)
{
        if (fn.t != JV_FUNC)
                jctx_fail(c, MU_EINVAL, pos, "cannot call %s", jv_type_name(fn.t));
        struct jfunc *f = fn.u.fn;
        switch (f->kind) {
        case JF_GLOBAL:
                return jinja_global_call(c, f->id, a, pos);
        case JF_METHOD:
                return jinja_method_call(c, f->self, f->name, a, pos);
        case JF_MACRO:
        case JF_CALLER: {
                struct jscope *ms = scope_new(c, f->kind == JF_MACRO ? s : f->scope);
                struct jbuf out = {0};
                int ctl = 0;
                enter(c, pos);
                bind_params(c, ms, &f->node->args, a);
                jinja_exec_block(c, ms, &f->node->body, &out, &ctl);
                c->depth--;
                return jv_strv(jbuf_str(c, &out));
        }
        }
        return jv_undef();
}

/* ---- operators ---------------------------------------------------------- */

static struct jv arith_int(struct jctx *c, int op, long long a, long long b, size_t pos)
{
        long long r;

        switch (op) {
        case JOP_ADD:
                return __builtin_add_overflow(a, b, &r) ? jv_float((double)a + (double)b) : jv_int(r);
        case JOP_SUB:
                return __builtin_sub_overflow(a, b, &r) ? jv_float((double)a - (double)b) : jv_int(r);
        case JOP_MUL:
                return __builtin_mul_overflow(a, b, &r) ? jv_float((double)a * (double)b) : jv_int(r);
        case JOP_FLOORDIV:
                if (b == 0)
                        jctx_fail(c, MU_EINVAL, pos, "division by zero");
                if (a == LLONG_MIN && b == -1)
                        return jv_float(-(double)a);
                r = a / b;
                if ((a % b != 0) && ((a < 0) != (b < 0)))
                        r--;
                return jv_int(r);
        case JOP_MOD:
                if (b == 0)
                        jctx_fail(c, MU_EINVAL, pos, "division by zero");
                if (b == -1)
                        return jv_int(0);
                return jv_int(a % b);
        case JOP_POW: {
                if (b < 0)
                        return jv_float(pow((double)a, (double)b));
                long long base = a, acc = 1;
                unsigned long long e = (unsigned long long)b;
                while (e) {
                        if ((e & 1) && __builtin_mul_overflow(acc, base, &acc))
                                return jv_float(pow((double)a, (double)b));
                        e >>= 1;
                        if (e && __builtin_mul_overflow(base, base, &base))
                                return jv_float(pow((double)a, (double)b));
                }
                return jv_int(acc);
        }
        }
        return jv_undef();
}

static int str_cmp(const struct jstr *a, const struct jstr *b)
{
        size_t n = a->n < b->n ? a->n : b->n;
        int r = memcmp(a->p, b->p, n);
        return r ? r : (a->n > b->n) - (a->n < b->n);
}

static int contains(struct jctx *c, struct jv hay, struct jv needle, size_t pos)
{
        if (hay.t == JV_LIST) {
                for (size_t i = 0; i < hay.u.l->n; i++)
                        if (jv_strict_eq(hay.u.l->v[i], needle))
                                return 1;
                return 0;
        }
        if (hay.t == JV_STR && needle.t == JV_STR)
                return memmem(hay.u.s->p, hay.u.s->n, needle.u.s->p, needle.u.s->n) != NULL ||
                       needle.u.s->n == 0;
        if ((hay.t == JV_DICT || hay.t == JV_NS) && needle.t == JV_STR)
                return jdict_get(hay.u.d, needle.u.s->p, needle.u.s->n) != NULL;
        jctx_fail(c, MU_EINVAL, pos, "cannot test %s in %s", jv_type_name(needle.t),
                  jv_type_name(hay.t));
}

static struct jv binop(struct jctx *c, int op, struct jv a, struct jv b, size_t pos)
{
        if (op == JOP_EQ)
                return jv_bool(jv_loose_eq(a, b));
        if (op == JOP_NE)
                return jv_bool(!jv_loose_eq(a, b));
        if (a.t == JV_UNDEF || b.t == JV_UNDEF) {
                if (b.t == JV_UNDEF && (op == JOP_IN || op == JOP_NOTIN))
                        return jv_bool(op == JOP_NOTIN);
                jctx_fail(c, MU_EINVAL, pos, "operation on an undefined value");
        }
        if (a.t == JV_NONE || b.t == JV_NONE)
                jctx_fail(c, MU_EINVAL, pos, "operation on a none value");
        if (op == JOP_IN || op == JOP_NOTIN)
                return jv_bool(contains(c, b, a, pos) == (op == JOP_IN));
        if (op == JOP_CONCAT) {
                struct jbuf buf = {0};
                jv_print(c, &buf, a, pos);
                jv_print(c, &buf, b, pos);
                return jv_strv(jbuf_str(c, &buf));
        }
        int anum = a.t == JV_INT || a.t == JV_FLOAT, bnum = b.t == JV_INT || b.t == JV_FLOAT;
        if (op == JOP_POW && jv_is_num(a) && jv_is_num(b)) {
                if (a.t != JV_FLOAT && b.t != JV_FLOAT)
                        return arith_int(c, op, (long long)jv_num(a), (long long)jv_num(b), pos);
                double r = pow(jv_num(a), jv_num(b));
                if (!isfinite(r))
                        jctx_fail(c, MU_EINVAL, pos, "exponentiation result is not finite");
                return jv_float(r);
        }
        if (anum && bnum) {
                double x = jv_num(a), y = jv_num(b);
                switch (op) {
                case JOP_LT: return jv_bool(x < y);
                case JOP_GT: return jv_bool(x > y);
                case JOP_LE: return jv_bool(x <= y);
                case JOP_GE: return jv_bool(x >= y);
                case JOP_DIV:
                        if (y == 0)
                                jctx_fail(c, MU_EINVAL, pos, "division by zero");
                        return jv_float(x / y);
                }
                if (a.t == JV_INT && b.t == JV_INT)
                        return arith_int(c, op, a.u.i, b.u.i, pos);
                switch (op) {
                case JOP_ADD: return jv_float(x + y);
                case JOP_SUB: return jv_float(x - y);
                case JOP_MUL: return jv_float(x * y);
                case JOP_FLOORDIV:
                        if (y == 0)
                                jctx_fail(c, MU_EINVAL, pos, "division by zero");
                        return jv_float(floor(x / y));
                case JOP_MOD:
                        if (y == 0)
                                jctx_fail(c, MU_EINVAL, pos, "division by zero");
                        return jv_float(fmod(x, y));
                }
        }
        if (a.t == JV_LIST && b.t == JV_LIST && op == JOP_ADD) {
                struct jv r = jv_list(c);
                for (size_t i = 0; i < a.u.l->n; i++)
                        jlist_push(c, r.u.l, a.u.l->v[i]);
                for (size_t i = 0; i < b.u.l->n; i++)
                        jlist_push(c, r.u.l, b.u.l->v[i]);
                return r;
        }
        if ((a.t == JV_STR || b.t == JV_STR) && op == JOP_ADD) {
                struct jbuf buf = {0};
                jv_print(c, &buf, a, pos);
                jv_print(c, &buf, b, pos);
                return jv_strv(jbuf_str(c, &buf));
        }
        if (a.t == JV_STR && b.t == JV_STR && op >= JOP_LT && op <= JOP_GE) {
                int r = str_cmp(a.u.s, b.u.s);
                return jv_bool(op == JOP_LT ? r < 0 : op == JOP_GT ? r > 0 : op == JOP_LE ? r <= 0 : r >= 0);
        }
        if (op == JOP_MUL && ((a.t == JV_STR && b.t == JV_INT) || (a.t == JV_INT && b.t == JV_STR))) {
                struct jstr *s = a.t == JV_STR ? a.u.s : b.u.s;
                long long k = a.t == JV_INT ? a.u.i : b.u.i;
                struct jbuf buf = {0};
                if (k > 0 && s->n && (unsigned long long)k > JINJA_MAX_OUTPUT / s->n)
                        jctx_fail(c, MU_ENOMEM, pos, "string repetition too large");
                for (long long i = 0; i < k; i++)
                        jbuf_add(c, &buf, s->p, s->n);
                return jv_strv(jbuf_str(c, &buf));
        }
        static const char *const names[] = {"", "+", "-", "~", "*", "/", "//", "%", "**", "==", "!=",
                                            "<", ">", "<=", ">=", "in", "not in"};
        jctx_fail(c, MU_EINVAL, pos, "unsupported operator '%s' between %s and %s", names[op],
                  jv_type_name(a.t), jv_type_name(b.t));
}

/* ---- expressions -------------------------------------------------------- */

struct jv jinja_eval(struct jctx *c, struct jscope *s, const struct jnode *n)
{
        struct jv r, a, b;
        struct jargs args;

        step(c, n->pos);
        enter(c, n->pos);
        switch (n->kind) {
        case JN_STR: r = jv_strv(n->str); break;
        case JN_INT: r = jv_int(n->i); break;
        case JN_FLOAT: r = jv_float(n->f); break;
        case JN_NAME: r = jscope_lookup(s, n->str->p, n->str->n); break;
        case JN_LIST:
        case JN_TUPLE:
                r = jv_list(c);
                for (int i = 0; i < n->args.n; i++)
                        jlist_push(c, r.u.l, jinja_eval(c, s, n->args.v[i]));
                break;
        case JN_DICT:
                r = jv_dict(c);
                for (int i = 0; i + 1 < n->args.n; i += 2) {
                        a = jinja_eval(c, s, n->args.v[i]);
                        if (a.t != JV_STR)
                                jctx_fail(c, MU_EINVAL, n->args.v[i]->pos, "dict keys must be strings");
                        jdict_set(c, r.u.d, a.u.s, jinja_eval(c, s, n->args.v[i + 1]));
                }
                break;
        case JN_ATTR:
                r = get_attr(c, jinja_eval(c, s, n->a), n->str->p, n->str->n);
                break;
        case JN_INDEX:
                a = jinja_eval(c, s, n->a);
                r = get_item(c, a, jinja_eval(c, s, n->b), n->pos);
                break;
        case JN_SLICE:
                a = jinja_eval(c, s, n->a);
                r = jinja_slice(c, a, n->b ? jinja_eval(c, s, n->b) : jv_undef(),
                                n->c ? jinja_eval(c, s, n->c) : jv_undef(),
                                n->args.n ? jinja_eval(c, s, n->args.v[0]) : jv_undef(), n->pos);
                break;
        case JN_CALL:
                eval_args(c, s, &n->args, &args);
                r = jinja_call(c, s, jinja_eval(c, s, n->a), &args, n->pos);
                break;
        case JN_FILTER:
                a = jinja_eval(c, s, n->a);
                eval_args(c, s, &n->args, &args);
                r = jinja_filter(c, s, a, n->str->p, &args, n->op, n->pos);
                break;
        case JN_TEST:
                a = jinja_eval(c, s, n->a);
                eval_args(c, s, &n->args, &args);
                r = jv_bool(jinja_test(c, a, n->str->p, &args, n->pos) != n->op);
                break;
        case JN_UNARY:
                a = jinja_eval(c, s, n->a);
                if (a.t == JV_FLOAT)
                        r = jv_float(n->op == '-' ? -a.u.f : a.u.f);
                else if (a.t == JV_INT || a.t == JV_BOOL) {
                        long long v = a.t == JV_INT ? a.u.i : a.u.b;
                        r = n->op == '-' && v != LLONG_MIN ? jv_int(-v) : n->op == '-' ? jv_float(-(double)v)
                                                                                      : jv_int(v);
                } else {
                        jctx_fail(c, MU_EINVAL, n->pos, "unary '%c' on %s", n->op, jv_type_name(a.t));
                }
                break;
        case JN_BINARY:
                a = jinja_eval(c, s, n->a);
                b = jinja_eval(c, s, n->b);
                r = binop(c, n->op, a, b, n->pos);
                break;
        case JN_AND:
                a = jinja_eval(c, s, n->a);
                r = jv_truthy(a) ? jinja_eval(c, s, n->b) : a;
                break;
        case JN_OR:
                a = jinja_eval(c, s, n->a);
                r = jv_truthy(a) ? a : jinja_eval(c, s, n->b);
                break;
        case JN_NOT:
                r = jv_bool(!jv_truthy(jinja_eval(c, s, n->a)));
                break;
        case JN_TERNARY:
                r = jinja_eval(c, s, jv_truthy(jinja_eval(c, s, n->b)) ? n->a : n->c);
                break;
        case JN_SELECT:
                r = jv_truthy(jinja_eval(c, s, n->b)) ? jinja_eval(c, s, n->a) : jv_undef();
                break;
        default:
                jctx_fail(c, MU_EINVAL, n->pos, "statement used as an expression");
        }
        c->depth--;
        return r;
}

/* ---- statements --------------------------------------------------------- */

static void bind_target(struct jctx *c, struct jscope *s, const struct jnode *t, struct jv v)
{
        if (t->kind == JN_NAME) {
                jdict_set(c, &s->vars, t->str, v);
                return;
        }
        if (v.t != JV_LIST)
                jctx_fail(c, MU_EINVAL, t->pos, "cannot unpack %s", jv_type_name(v.t));
        if ((size_t)t->args.n != v.u.l->n)
                jctx_fail(c, MU_EINVAL, t->pos, "cannot unpack %zu values into %d names", v.u.l->n,
                          t->args.n);
        for (int i = 0; i < t->args.n; i++) {
                if (t->args.v[i]->kind != JN_NAME)
                        jctx_fail(c, MU_EINVAL, t->pos, "cannot unpack into an expression");
                jdict_set(c, &s->vars, t->args.v[i]->str, v.u.l->v[i]);
        }
}

static struct jv iterable(struct jctx *c, struct jv v, size_t pos)
{
        if (v.t == JV_LIST)
                return v;
        struct jv r = jv_list(c);
        if (v.t == JV_DICT) {
                for (size_t i = 0; i < v.u.d->n; i++)
                        jlist_push(c, r.u.l, jv_strv(v.u.d->k[i]));
        } else if (v.t == JV_STR) {
                for (size_t i = 0; i < v.u.s->n;) {
                        size_t j = utf8_next(v.u.s->p, v.u.s->n, i);
                        jlist_push(c, r.u.l, jv_str(c, v.u.s->p + i, j - i));
                        i = j;
                }
        } else {
                jctx_fail(c, MU_EINVAL, pos, "cannot iterate over %s", jv_type_name(v.t));
        }
        return r;
}

static void exec_for(struct jctx *c, struct jscope *s, const struct jnode *n, struct jbuf *out)
{
        struct jscope *ls = scope_new(c, s);
        struct jv src = iterable(c, jinja_eval(c, ls, n->b), n->pos);
        struct jlist *items = src.u.l;
        int iterated = 0;

        if (n->c) {
                struct jv kept = jv_list(c);
                for (size_t i = 0; i < src.u.l->n; i++) {
                        struct jscope *ts = scope_new(c, ls);
                        step(c, n->pos);
                        bind_target(c, ts, n->a, src.u.l->v[i]);
                        if (jv_truthy(jinja_eval(c, ts, n->c)))
                                jlist_push(c, kept.u.l, src.u.l->v[i]);
                }
                items = kept.u.l;
        }
        size_t len = items->n;
        /* one loop object per loop, updated in place: no allocation per iteration */
        static const char *const keys[] = {"index", "index0", "revindex", "revindex0", "first",
                                           "last", "length", "previtem", "nextitem"};
        struct jv loop = jv_dict(c);
        struct jdict *d = loop.u.d;
        for (int k = 0; k < 9; k++)
                jdict_setc(c, d, keys[k], jv_undef());
        jdict_setc(c, &ls->vars, "loop", loop);
        for (size_t i = 0; i < len; i++) {
                int ctl = 0;
                step(c, n->pos);
                d->v[0] = jv_int((long long)i + 1);
                d->v[1] = jv_int((long long)i);
                d->v[2] = jv_int((long long)(len - i));
                d->v[3] = jv_int((long long)(len - i - 1));
                d->v[4] = jv_bool(i == 0);
                d->v[5] = jv_bool(i == len - 1);
                d->v[6] = jv_int((long long)len);
                d->v[7] = i > 0 ? items->v[i - 1] : jv_undef();
                d->v[8] = i + 1 < len ? items->v[i + 1] : jv_undef();
                bind_target(c, ls, n->a, items->v[i]);
                jinja_exec_block(c, ls, &n->body, out, &ctl);
                if (ctl == 1)
                        break;
                if (ctl == 2)
                        continue;
                iterated = 1;
        }
        if (!iterated) {
                int ctl = 0;
                jinja_exec_block(c, ls, &n->alt, out, &ctl);
        }
}

static void exec_set(struct jctx *c, struct jscope *s, const struct jnode *n)
{
        struct jv v;

        if (n->b) {
                v = jinja_eval(c, s, n->b);
        } else {
                struct jbuf b = {0};
                int ctl = 0;
                jinja_exec_block(c, s, &n->body, &b, &ctl);
                v = jv_strv(jbuf_str(c, &b));
        }
        if (n->a->kind == JN_ATTR) {
                struct jv obj = jinja_eval(c, s, n->a->a);
                if (obj.t != JV_NS)
                        jctx_fail(c, MU_EINVAL, n->pos, "cannot assign an attribute of %s (only namespace)",
                                  jv_type_name(obj.t));
                jdict_set(c, obj.u.d, n->a->str, v);
                return;
        }
        bind_target(c, s, n->a, v);
}

void jinja_exec_block(struct jctx *c, struct jscope *s, const struct jnode_list *body,
                      struct jbuf *out, int *ctl)
{
        enter(c, body->n ? body->v[0]->pos : JNOPOS);
        for (int i = 0; i < body->n && !*ctl; i++) {
                const struct jnode *n = body->v[i];
                struct jv v;
                struct jargs args;
                step(c, n->pos);
                switch (n->kind) {
                case JN_TEXT:
                        jbuf_add(c, out, n->str->p, n->str->n);
                        break;
                case JN_OUTPUT:
                        jv_print(c, out, jinja_eval(c, s, n->a), n->pos);
                        break;
                case JN_IF:
                        jinja_exec_block(c, s, jv_truthy(jinja_eval(c, s, n->a)) ? &n->body : &n->alt,
                                         out, ctl);
                        break;
                case JN_FOR:
                        exec_for(c, s, n, out);
                        break;
                case JN_SET:
                        exec_set(c, s, n);
                        break;
                case JN_MACRO:
                        v = jv_func(c, JF_MACRO, 0, n->str->p);
                        v.u.fn->node = n;
                        jdict_set(c, &s->vars, n->str, v);
                        break;
                case JN_CALLBLOCK: {
                        struct jscope *cs = scope_new(c, s);
                        struct jv caller = jv_func(c, JF_CALLER, 0, "caller");
                        caller.u.fn->node = n;
                        caller.u.fn->scope = s;
                        jdict_setc(c, &cs->vars, "caller", caller);
                        eval_args(c, s, &n->a->args, &args);
                        v = jinja_call(c, cs, jinja_eval(c, s, n->a->a), &args, n->pos);
                        jv_print(c, out, v, n->pos);
                        break;
                }
                case JN_FILTERBLOCK: {
                        struct jbuf b = {0};
                        int inner = 0;
                        jinja_exec_block(c, s, &n->body, &b, &inner);
                        eval_args(c, s, &n->args, &args);
                        v = jinja_filter(c, s, jv_strv(jbuf_str(c, &b)), n->str->p, &args, n->op, n->pos);
                        jv_print(c, out, v, n->pos);
                        break;
                }
                case JN_BREAK:
                        *ctl = 1;
                        break;
                case JN_CONTINUE:
                        *ctl = 2;
                        break;
                default:
                        jctx_fail(c, MU_EINVAL, n->pos, "expression used as a statement");
                }
        }
        c->depth--;
}
