/* json_schema.c -- a byte-level checker of JSON output against a compiled
 * subset of JSON Schema (see json_schema.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json_regex.h"
#include "mullama/json_schema.h"

enum { T_OBJ = 1, T_ARR = 2, T_STR = 4, T_NUM = 8, T_INT = 16, T_BOOL = 32, T_NULL = 64,
       T_ANY = 127 };

struct js_prop {
        char *name;
        int node;
        int required;
};

struct js_node {
        unsigned types;
        struct js_prop *props;
        int n_props;         /* > 0: a closed set of keys */
        int items;           /* node of array items, -1 any */
        char **enums;        /* allowed strings (raw), NULL: any */
        int n_enums;
        int alt[5];          /* anyOf/oneOf: node per value kind (F_OBJ..F_LIT - 1), -2 none */
        int has_alts;
        int has_min, has_max, xmin, xmax;  /* bounds; x: exclusive */
        double min, max;
        int64_t min_len, max_len;          /* -1: none */
        int64_t min_items, max_items;      /* -1: none */
        struct json_regex *re;             /* pattern, NULL: any */
};

#define MAX_NODES 30000

struct json_schema {
        struct js_node *nodes;
        int n;
};

/* compile-time state: the document (for $ref) and the refs compiled */
struct js_ctx {
        struct json_schema *s;
        const cJSON *root;
        const cJSON **ref_target;
        int *ref_node;
        int n_refs;
        int too_big;
};

enum { F_ROOT, F_OBJ, F_ARR, F_STR, F_NUM, F_LIT };

static int add_node(struct json_schema *s)
{
        s->nodes = mu_xrealloc(s->nodes, (size_t)(s->n + 1) * sizeof(*s->nodes));
        memset(&s->nodes[s->n], 0, sizeof(s->nodes[0]));
        s->nodes[s->n].items = -1;
        s->nodes[s->n].types = T_ANY;
        s->nodes[s->n].min_len = s->nodes[s->n].max_len = -1;
        s->nodes[s->n].min_items = s->nodes[s->n].max_items = -1;
        for (int k = 0; k < 5; k++)
                s->nodes[s->n].alt[k] = -2;
        return s->n++;
}

static unsigned type_bit(const char *t)
{
        static const struct {
                const char *name;
                unsigned bit;
        } m[] = {{"object", T_OBJ}, {"array", T_ARR}, {"string", T_STR}, {"number", T_NUM | T_INT},
                 {"integer", T_INT}, {"boolean", T_BOOL}, {"null", T_NULL}};
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
                if (!strcmp(t, m[i].name))
                        return m[i].bit;
        return T_ANY;
}

static int compile_node(struct js_ctx *cx, const cJSON *j, int depth);

/* A local JSON pointer ("#", "#/$defs/x", "#/a/0/b", ~0 ~1 escapes), or
 * NULL. */
static const cJSON *resolve_ref(const cJSON *root, const char *ref)
{
        const cJSON *cur = root;
        char tok[256];

        if (ref[0] != '#')
                return NULL;
        ref++;
        while (*ref == '/') {
                size_t n = 0;
                ref++;
                while (*ref && *ref != '/' && n < sizeof(tok) - 1) {
                        if (ref[0] == '~' && ref[1] == '0')
                                tok[n++] = '~', ref += 2;
                        else if (ref[0] == '~' && ref[1] == '1')
                                tok[n++] = '/', ref += 2;
                        else
                                tok[n++] = *ref++;
                }
                tok[n] = '\0';
                if (cJSON_IsArray(cur)) {
                        char *end;
                        long i = strtol(tok, &end, 10);
                        cur = *end || end == tok ? NULL : cJSON_GetArrayItem(cur, (int)i);
                } else {
                        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
                }
                if (!cur)
                        return NULL;
        }
        return *ref ? NULL : cur;
}

/* kind index (F_OBJ..F_LIT - 1) of the values a type set starts */
static unsigned kinds_of(unsigned types)
{
        unsigned k = 0;

        if (types & T_OBJ)
                k |= 1u << 0;
        if (types & T_ARR)
                k |= 1u << 1;
        if (types & T_STR)
                k |= 1u << 2;
        if (types & (T_NUM | T_INT))
                k |= 1u << 3;
        if (types & (T_BOOL | T_NULL))
                k |= 1u << 4;
        return k;
}

static char *xstrdup_or_null(const char *p) { return p ? mu_xstrdup(p) : NULL; }

/* The union of nodes a and b (a new node): what either accepts, or more. */
static int merge_nodes(struct js_ctx *cx, int a, int b, int depth)
{
        struct json_schema *s = cx->s;
        int id;

        if (a < 0 || b < 0 || a == b)
                return a == b ? a : -1;
        if (s->nodes[a].has_alts || s->nodes[b].has_alts || s->n >= MAX_NODES || depth > 8)
                return -1;
        id = add_node(s);
        struct js_node *x = &s->nodes[a], *y = &s->nodes[b], *m = &s->nodes[id];
        m->types = x->types | y->types;
        m->items = x->items == y->items ? x->items : -1;
        if (x->n_props > 0 && y->n_props > 0) {
                int n = 0, cap = x->n_props + y->n_props;
                struct js_prop *pr = mu_xcalloc((size_t)cap, sizeof(*pr));
                for (int pass = 0; pass < 2; pass++) {
                        const struct js_node *src = pass ? y : x, *oth = pass ? x : y;
                        for (int i = 0; i < src->n_props; i++) {
                                int dup = 0, other = -1;
                                for (int k = 0; k < n; k++)
                                        dup |= !strcmp(pr[k].name, src->props[i].name);
                                if (dup)
                                        continue;
                                for (int k = 0; k < oth->n_props; k++)
                                        if (!strcmp(oth->props[k].name, src->props[i].name))
                                                other = k;
                                int pn = src->props[i].node;
                                int on = other >= 0 ? oth->props[other].node : pn;
                                pr[n].name = mu_xstrdup(src->props[i].name);
                                pr[n].required = other >= 0 && src->props[i].required &&
                                                 oth->props[other].required;
                                /* a key in both: the union of its two schemas
                                 * (merging adds nodes: re-read x and y after) */
                                pr[n].node = merge_nodes(cx, pn, on, depth + 1);
                                x = &s->nodes[a], y = &s->nodes[b];
                                src = pass ? y : x, oth = pass ? x : y;
                                n++;
                        }
                }
                if (n > 32) {
                        for (int k = 0; k < n; k++)
                                free(pr[k].name);
                        free(pr);
                } else {
                        m = &s->nodes[id];
                        m->props = pr;
                        m->n_props = n;
                }
        }
        x = &s->nodes[a], y = &s->nodes[b], m = &s->nodes[id];
        if (x->enums && y->enums) {
                m->enums = mu_xcalloc((size_t)(x->n_enums + y->n_enums), sizeof(char *));
                for (int i = 0; i < x->n_enums; i++)
                        m->enums[m->n_enums++] = xstrdup_or_null(x->enums[i]);
                for (int i = 0; i < y->n_enums; i++)
                        m->enums[m->n_enums++] = xstrdup_or_null(y->enums[i]);
        }
        if (x->has_min && y->has_min) {
                m->has_min = 1;
                m->min = fmin(x->min, y->min);
                m->xmin = (x->min < y->min ? x->xmin : y->min < x->min ? y->xmin
                                                                     : x->xmin && y->xmin);
        }
        if (x->has_max && y->has_max) {
                m->has_max = 1;
                m->max = fmax(x->max, y->max);
                m->xmax = (x->max > y->max ? x->xmax : y->max > x->max ? y->xmax
                                                                     : x->xmax && y->xmax);
        }
        if (x->min_len >= 0 && y->min_len >= 0)
                m->min_len = x->min_len < y->min_len ? x->min_len : y->min_len;
        if (x->max_len >= 0 && y->max_len >= 0)
                m->max_len = x->max_len > y->max_len ? x->max_len : y->max_len;
        if (x->min_items >= 0 && y->min_items >= 0)
                m->min_items = x->min_items < y->min_items ? x->min_items : y->min_items;
        if (x->max_items >= 0 && y->max_items >= 0)
                m->max_items = x->max_items > y->max_items ? x->max_items : y->max_items;
        return id;
}

/* anyOf / oneOf: per value kind, the one alternative of that kind or the
 * union of several. */
static void compile_alts(struct js_ctx *cx, int id, const cJSON *arr, int depth)
{
        int per[5] = {-2, -2, -2, -2, -2};
        const cJSON *e;

        cJSON_ArrayForEach(e, arr)
        {
                int a = compile_node(cx, e, depth + 1);
                /* a nested anyOf contributes its own per-kind nodes */
                for (int k = 0; k < 5; k++) {
                        int ak;
                        if (cx->s->nodes[a].has_alts)
                                ak = cx->s->nodes[a].alt[k];
                        else
                                ak = (kinds_of(cx->s->nodes[a].types) >> k) & 1 ? a : -2;
                        if (ak == -2)
                                continue;
                        per[k] = per[k] == -2 ? ak : merge_nodes(cx, per[k], ak, 0);
                }
        }
        for (int k = 0; k < 5; k++)
                cx->s->nodes[id].alt[k] = per[k];
        cx->s->nodes[id].has_alts = 1;
}

static int num_of(const cJSON *j, const char *key, double *v)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);

        if (!cJSON_IsNumber(x))
                return 0;
        *v = x->valuedouble;
        return 1;
}

static void compile_into(struct js_ctx *cx, const cJSON *j, int id, int depth)
{
        struct json_schema *s = cx->s;
        const cJSON *x;
        double v;

        if (!cJSON_IsObject(j) || depth > JSON_SCHEMA_MAX_DEPTH * 2)
                return;
        x = cJSON_GetObjectItemCaseSensitive(j, "anyOf");
        if (!cJSON_IsArray(x) || !cJSON_GetArraySize(x))
                x = cJSON_GetObjectItemCaseSensitive(j, "oneOf");
        if (cJSON_IsArray(x) && cJSON_GetArraySize(x) > 0) {
                compile_alts(cx, id, x, depth);
                return;
        }
        x = cJSON_GetObjectItemCaseSensitive(j, "type");
        if (cJSON_IsString(x))
                s->nodes[id].types = type_bit(x->valuestring);
        else if (cJSON_IsArray(x)) {
                unsigned t = 0;
                const cJSON *e;
                cJSON_ArrayForEach(e, x) t |= cJSON_IsString(e) ? type_bit(e->valuestring) : T_ANY;
                s->nodes[id].types = t ? t : T_ANY;
        }
        x = cJSON_GetObjectItemCaseSensitive(j, "properties");
        if (cJSON_IsObject(x) && cJSON_GetArraySize(x) > 0 && cJSON_GetArraySize(x) <= 32) {
                const cJSON *p, *req = cJSON_GetObjectItemCaseSensitive(j, "required");
                int n = cJSON_GetArraySize(x), k = 0;
                struct js_prop *props = mu_xcalloc((size_t)n, sizeof(*props));
                if (!cJSON_GetObjectItemCaseSensitive(j, "type"))
                        s->nodes[id].types = T_OBJ;
                cJSON_ArrayForEach(p, x)
                {
                        props[k].name = mu_xstrdup(p->string);
                        if (cJSON_IsArray(req)) {
                                const cJSON *r;
                                cJSON_ArrayForEach(r, req) if (cJSON_IsString(r) &&
                                                               !strcmp(r->valuestring, p->string))
                                        props[k].required = 1;
                        }
                        props[k].node = compile_node(cx, p, depth + 1);
                        k++;
                }
                s->nodes[id].props = props;
                s->nodes[id].n_props = n;
        }
        x = cJSON_GetObjectItemCaseSensitive(j, "items");
        if (cJSON_IsObject(x)) {
                int it = compile_node(cx, x, depth + 1);
                s->nodes[id].items = it;
        }
        x = cJSON_GetObjectItemCaseSensitive(j, "enum");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "const");
        if ((cJSON_IsArray(x) && cJSON_GetArraySize(x) > 0) || cJSON_IsString(c)) {
                int all_str = 1, n = 0;
                const cJSON *e;
                if (cJSON_IsString(c))
                        n = 1;
                else
                        cJSON_ArrayForEach(e, x)
                        {
                                all_str &= cJSON_IsString(e) && strlen(e->valuestring) < JSON_SCHEMA_MAX_STR;
                                n++;
                        }
                if (all_str) {
                        s->nodes[id].enums = mu_xcalloc((size_t)n, sizeof(char *));
                        if (cJSON_IsString(c))
                                s->nodes[id].enums[0] = mu_xstrdup(c->valuestring);
                        else {
                                int k = 0;
                                cJSON_ArrayForEach(e, x) s->nodes[id].enums[k++] = mu_xstrdup(e->valuestring);
                        }
                        s->nodes[id].n_enums = n;
                        s->nodes[id].types = T_STR;
                }
        }
        struct js_node *n = &s->nodes[id];
        if (num_of(j, "minimum", &v))
                n->has_min = 1, n->min = v;
        if (num_of(j, "exclusiveMinimum", &v) && (!n->has_min || v >= n->min))
                n->has_min = 1, n->min = v, n->xmin = 1;
        if (n->has_min && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "exclusiveMinimum")))
                n->xmin = 1;  /* draft 4: a boolean next to minimum */
        if (num_of(j, "maximum", &v))
                n->has_max = 1, n->max = v;
        if (n->has_max && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "exclusiveMaximum")))
                n->xmax = 1;
        if (num_of(j, "exclusiveMaximum", &v) && (!n->has_max || v <= n->max))
                n->has_max = 1, n->max = v, n->xmax = 1;
        if (num_of(j, "minLength", &v) && v >= 0)
                n->min_len = v > 1e9 ? 1000000000 : (int64_t)ceil(v);
        if (num_of(j, "maxLength", &v) && v >= 0)
                n->max_len = v > 1e9 ? 1000000000 : (int64_t)floor(v);
        if (num_of(j, "minItems", &v) && v >= 0)
                n->min_items = v > 1e9 ? 1000000000 : (int64_t)ceil(v);
        if (num_of(j, "maxItems", &v) && v >= 0)
                n->max_items = v > 1e9 ? 1000000000 : (int64_t)floor(v);
        x = cJSON_GetObjectItemCaseSensitive(j, "pattern");
        if (cJSON_IsString(x) && !n->enums) {
                n->re = json_regex_compile(x->valuestring);
                if (!n->re)
                        MU_LOG_DEBUG("json schema: pattern '%s' is outside the supported "
                                     "subset; not enforced", x->valuestring);
        }
}

static int compile_node(struct js_ctx *cx, const cJSON *j, int depth)
{
        const cJSON *ref = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "$ref") : NULL;
        int id;

        if (cx->s->n >= MAX_NODES) {
                cx->too_big = 1;
                return -1;
        }
        if (cJSON_IsString(ref)) {
                const cJSON *t = resolve_ref(cx->root, ref->valuestring);
                if (!t)
                        return add_node(cx->s);  /* a remote or broken ref: any value */
                for (int i = 0; i < cx->n_refs; i++)
                        if (cx->ref_target[i] == t)
                                return cx->ref_node[i];
                id = add_node(cx->s);
                cx->ref_target = mu_xrealloc(cx->ref_target, (size_t)(cx->n_refs + 1) *
                                                                    sizeof(*cx->ref_target));
                cx->ref_node = mu_xrealloc(cx->ref_node, (size_t)(cx->n_refs + 1) *
                                                                sizeof(*cx->ref_node));
                cx->ref_target[cx->n_refs] = t;
                cx->ref_node[cx->n_refs++] = id;
                compile_into(cx, t, id, depth + 1);
                return id;
        }
        id = add_node(cx->s);
        compile_into(cx, j, id, depth);
        return id;
}

int json_schema_compile(const char *schema_json, struct json_schema **out, struct mu_err *err)
{
        cJSON *j = cJSON_Parse(schema_json);
        struct js_ctx cx = {0};
        struct json_schema *s;

        *out = NULL;
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return mu_fail(err, MU_EINVAL, "a JSON schema must be an object");
        }
        s = mu_xcalloc(1, sizeof(*s));
        cx.s = s;
        cx.root = j;
        compile_node(&cx, j, 0);  /* the root is node 0 (also when it is a $ref) */
        cJSON_Delete(j);
        free(cx.ref_target);
        free(cx.ref_node);
        if (cx.too_big) {
                json_schema_free(s);
                return mu_fail(err, MU_EINVAL, "JSON schema too large (over %d nodes)", MAX_NODES);
        }
        *out = s;
        return 0;
}

void json_schema_free(struct json_schema *s)
{
        if (!s)
                return;
        for (int i = 0; i < s->n; i++) {
                struct js_node *n = &s->nodes[i];
                for (int k = 0; k < n->n_props; k++)
                        free(n->props[k].name);
                free(n->props);
                for (int k = 0; k < n->n_enums; k++)
                        free(n->enums[k]);
                free(n->enums);
                json_regex_free(n->re);
        }
        free(s->nodes);
        free(s);
}

void json_schema_state_init(struct json_schema_state *st, const struct json_schema *s)
{
        memset(st, 0, sizeof(*st));
        st->s = s;
        st->depth = 1;
        st->st[0].kind = F_ROOT;
        st->st[0].node = 0;
        st->st[0].prop = -1;
}

int json_schema_done(const struct json_schema_state *st) { return st->done; }

static const struct js_node *node_of(const struct json_schema_state *st, int id)
{
        return id >= 0 ? &st->s->nodes[id] : NULL;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Is st->str[0..slen) a prefix (or, full, an exact match) of an unseen
 * property name of object frame f?  Returns the property index, -2 when a
 * prefix only, -1 when nothing fits. */
static int key_match(const struct json_schema_state *st, const struct json_schema_frame *f, int full)
{
        const struct js_node *n = node_of(st, f->node);
        int any = 0;

        for (int i = 0; i < n->n_props; i++) {
                const char *name = n->props[i].name;
                if (i < 32 && (f->seen >> i) & 1)
                        continue;
                if (strncmp(name, st->str, st->slen))
                        continue;
                if (full && name[st->slen] == '\0')
                        return i;
                any = 1;
        }
        return any && !full ? -2 : -1;
}

static int enum_ok(const struct json_schema_state *st, const struct js_node *n, int full)
{
        for (int i = 0; i < n->n_enums; i++)
                if (!strncmp(n->enums[i], st->str, st->slen) && (!full || !n->enums[i][st->slen]))
                        return 1;
        return 0;
}

static int closed(const struct json_schema_state *st, const struct json_schema_frame *f)
{
        const struct js_node *n = node_of(st, f->node);

        return n && n->n_props > 0;
}

static int required_ok(const struct json_schema_state *st, const struct json_schema_frame *f)
{
        const struct js_node *n = node_of(st, f->node);

        if (!n)
                return 1;
        for (int i = 0; i < n->n_props && i < 32; i++)
                if (n->props[i].required && !((f->seen >> i) & 1))
                        return 0;
        return 1;
}

static int any_unseen(const struct json_schema_state *st, const struct json_schema_frame *f)
{
        const struct js_node *n = node_of(st, f->node);

        for (int i = 0; i < n->n_props && i < 32; i++)
                if (!((f->seen >> i) & 1))
                        return 1;
        return 0;
}

/* ---- number bounds --------------------------------------------------------- */

static int above_min(const struct js_node *n, double v)
{
        return !n->has_min || (n->xmin ? v > n->min : v >= n->min);
}

static int below_max(const struct js_node *n, double v)
{
        return !n->has_max || (n->xmax ? v < n->max : v <= n->max);
}

/* Can a number in [a, b) of magnitude (sign from neg) meet n's bounds? */
static int span_ok(const struct js_node *n, int neg, double a, double b)
{
        if (!neg)  /* [a, b) */
                return below_max(n, a) && (!n->has_min || b > n->min);
        /* (-b, -a] */
        return above_min(n, -a) && (!n->has_max || -b < n->max);
}

/* Can the number read so far still end inside n's bounds (final: does it)? */
static int num_ok(const struct json_schema_state *st, const struct js_node *n, int int_only,
                  int final)
{
        double scale = 10;

        if (!n || (!n->has_min && !n->has_max))
                return 1;
        if (final) {
                double v = st->nint + st->nfrac;
                v = st->nneg ? -v : v;
                return above_min(n, v) && below_max(n, v);
        }
        if (st->ndot)
                return span_ok(n, st->nneg, st->nint + st->nfrac,
                               st->nint + st->nfrac + pow(10, -st->nfdig));
        if (st->nidig == 0)  /* just '-' */
                return span_ok(n, 1, 0, INFINITY);
        if (int_only) {  /* the integer itself */
                double v = st->nneg ? -st->nint : st->nint;
                if (above_min(n, v) && below_max(n, v))
                        return 1;
        } else if (span_ok(n, st->nneg, st->nint, st->nint + 1)) {
                return 1;
        }
        if (st->nint == 0)  /* "0", "-0": no more integer digits */
                return 0;
        for (int k = 1; st->nidig + k <= JSON_SCHEMA_MAX_DIGITS; k++, scale *= 10)
                if (span_ok(n, st->nneg, st->nint * scale, (st->nint + 1) * scale))
                        return 1;
        return 0;
}

/* A value of node id starts with c: push its frame. */
static int value_start(struct json_schema_state *st, int id, char c)
{
        const struct js_node *n;
        unsigned t;
        struct json_schema_frame *f;
        uint8_t kind;
        int k = c == '{' ? 0 : c == '[' ? 1 : c == '"' ? 2
                : c == '-' || (c >= '0' && c <= '9') ? 3 : 4;

        /* anyOf / oneOf: the alternative for this kind of value (bounded:
         * a recursive $ref may point back at its own anyOf) */
        for (int hop = 0; id >= 0 && st->s->nodes[id].has_alts; hop++) {
                if (hop == 8) {
                        id = -1;
                        break;
                }
                id = st->s->nodes[id].alt[k];
                if (id == -2)
                        return -1;
        }
        n = node_of(st, id);
        t = n ? n->types : T_ANY;

        if (c == '{' && (t & T_OBJ))
                kind = F_OBJ;
        else if (c == '[' && (t & T_ARR))
                kind = F_ARR;
        else if (c == '"' && (t & T_STR))
                kind = F_STR;
        else if ((c == '-' || (c >= '0' && c <= '9')) && (t & (T_NUM | T_INT)))
                kind = F_NUM;
        else if (((c == 't' || c == 'f') && (t & T_BOOL)) || (c == 'n' && (t & T_NULL)))
                kind = F_LIT;
        else
                return -1;
        if (st->depth >= JSON_SCHEMA_MAX_DEPTH)
                return -1;
        f = &st->st[st->depth++];
        memset(f, 0, sizeof(*f));
        f->kind = kind;
        f->node = (int16_t)(n ? id : -1);
        f->prop = (int16_t)(kind == F_NUM ? (c >= '0' && c <= '9') : -1); /* digits */
        f->phase = (uint8_t)(kind == F_NUM && !(t & T_NUM) ? 1 : 0); /* 1: integer only */
        st->slen = 0;
        st->esc = 0;
        st->uesc = 0;
        st->nchar = 0;
        st->re = 0;
        st->re_started = 0;
        if (kind == F_NUM) {
                st->nneg = c == '-';
                st->ndot = st->nexp = st->nfdig = 0;
                st->nidig = c != '-';
                st->nint = c != '-' ? c - '0' : 0;
                st->nfrac = 0;
                return num_ok(st, n, f->phase == 1, 0) ? 0 : -1;
        }
        return 0;
}

/* The value on top is complete: pop it and advance its parent. */
static void value_end(struct json_schema_state *st)
{
        struct json_schema_frame *p;

        st->depth--;
        p = &st->st[st->depth - 1];
        if (p->kind == F_ROOT) {
                p->phase = 1;
                st->done = 1;
        } else if (p->kind == F_OBJ) {
                if (p->prop >= 0 && p->prop < 32)
                        p->seen |= 1u << p->prop;
                p->phase = 4;
        } else if (p->kind == F_ARR) {
                p->phase = 1;
        }
}

/* One character of a string value (sym: ASCII, or 128 for any other). */
static int str_char(struct json_schema_state *st, const struct js_node *n, int sym)
{
        st->nchar++;
        if (!n)
                return 0;
        if (n->max_len >= 0 && st->nchar > n->max_len)
                return -1;
        if (n->re && json_regex_step(n->re, &st->re, &st->re_started, sym))
                return -1;
        return 0;
}

static int feed1(struct json_schema_state *st, char c)
{
        struct json_schema_frame *f = &st->st[st->depth - 1];
        const struct js_node *n = node_of(st, f->node);

        switch (f->kind) {
        case F_ROOT:
                if (is_ws(c))
                        return 0;
                if (f->phase == 1)
                        return -1;
                return value_start(st, f->node, c);
        case F_NUM:
                /* at most 15 digits in a row (llama.cpp's integral-part
                 * limit), so a model cannot loop on digits */
                if (c >= '0' && c <= '9') {
                        if (++f->prop > JSON_SCHEMA_MAX_DIGITS)
                                return -1;
                        if (st->nexp)
                                return 0;
                        if (st->ndot)
                                st->nfrac += (c - '0') * pow(10, -++st->nfdig);
                        else
                                st->nint = st->nint * 10 + (c - '0'), st->nidig++;
                        return num_ok(st, n, f->phase == 1, 0) ? 0 : -1;
                }
                f->prop = 0;
                if (c == '-' || c == '+')
                        return 0;
                if (c == '.' || c == 'e' || c == 'E') {
                        if (f->phase == 1)
                                return -1;
                        if (c == '.') {
                                st->ndot = 1;
                                return num_ok(st, n, 0, 0) ? 0 : -1;
                        }
                        if (n && (n->has_min || n->has_max))
                                return -1;  /* bounded: no exponent */
                        st->nexp = 1;
                        return 0;
                }
                if (!num_ok(st, n, f->phase == 1, 1))
                        return -1;
                value_end(st);
                return feed1(st, c);
        case F_LIT:
                if (c >= 'a' && c <= 'z')
                        return 0;
                value_end(st);
                return feed1(st, c);
        case F_STR:
                if (st->uesc) {  /* \uXXXX: the character once complete */
                        int h = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
                        st->ucode = (uint16_t)(st->ucode * 16 + (h & 15));
                        if (--st->uesc == 0)
                                return str_char(st, n, st->ucode < 128 ? st->ucode : 128);
                        return 0;
                }
                if (st->esc) {
                        st->esc = 0;
                        if (n && n->enums)
                                return -1; /* escapes never match our enum strings */
                        if (c == 'u') {
                                if (n && n->re)  /* \uXXXX: a prefix may lead nowhere */
                                        return -1;
                                st->uesc = 4;
                                st->ucode = 0;
                                return 0;
                        }
                        return str_char(st, n, c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r'
                                               : c == 'b' ? '\b' : c == 'f' ? '\f' : c);
                }
                if (c == '\\') {
                        /* only where some escape can continue the string */
                        if (n && (n->enums || (n->max_len >= 0 && st->nchar >= n->max_len)))
                                return -1;
                        if (n && n->re) {
                                static const char short_esc[] = "\"\\/\b\f\n\r\t";
                                int any = 0;
                                for (const char *e = short_esc; *e && !any; e++) {
                                        uint64_t set = st->re;
                                        uint8_t started = st->re_started;
                                        any = json_regex_step(n->re, &set, &started, *e) == 0;
                                }
                                if (!any)
                                        return -1;
                        }
                        st->esc = 1;
                        return 0;
                }
                if (c == '"') {
                        if (n && n->enums && !enum_ok(st, n, 1))
                                return -1;
                        if (n && n->min_len >= 0 && st->nchar < n->min_len)
                                return -1;
                        if (n && n->re && !json_regex_accepts(n->re, st->re, st->re_started))
                                return -1;
                        value_end(st);
                        return 0;
                }
                if (((unsigned char)c & 0xC0) != 0x80 &&
                    str_char(st, n, (unsigned char)c < 128 ? c : 128))
                        return -1;
                if (n && n->enums) {
                        if (st->slen >= JSON_SCHEMA_MAX_STR - 1)
                                return -1;
                        st->str[st->slen++] = c;
                        return enum_ok(st, n, 0) ? 0 : -1;
                }
                return 0;
        case F_ARR:  /* f->seen: items so far */
                if (is_ws(c))
                        return 0;
                if ((f->phase == 0 || f->phase == 1) && c == ']') {
                        if (n && n->min_items >= 0 && f->seen < n->min_items)
                                return -1;
                        value_end(st);
                        return 0;
                }
                if (f->phase == 1) {
                        if (c == ',') {
                                if (n && n->max_items >= 0 && f->seen >= n->max_items)
                                        return -1;
                                f->phase = 2;
                                return 0;
                        }
                        return -1;
                }
                if (n && n->max_items >= 0 && f->seen >= n->max_items)
                        return -1;  /* "[" of maxItems 0 */
                f->seen++;
                return value_start(st, n ? n->items : -1, c);
        case F_OBJ:
                switch (f->phase) {
                case 0: /* after '{' */
                case 5: /* after ',' */
                        if (is_ws(c))
                                return 0;
                        if (c == '}' && f->phase == 0) {
                                if (!required_ok(st, f))
                                        return -1;
                                value_end(st);
                                return 0;
                        }
                        if (c != '"')
                                return -1;
                        f->phase = 1;
                        st->slen = 0;
                        st->esc = 0;
                        return 0;
                case 1: /* in a key */
                        if (st->esc) {
                                st->esc = 0;
                                return closed(st, f) ? -1 : 0;
                        }
                        if (c == '\\') {  /* our keys have no escapes */
                                if (closed(st, f))
                                        return -1;
                                st->esc = 1;
                                return 0;
                        }
                        if (c == '"') {
                                f->prop = -1;
                                if (closed(st, f)) {
                                        int k = key_match(st, f, 1);
                                        if (k < 0)
                                                return -1;
                                        f->prop = (int16_t)k;
                                }
                                f->phase = 2;
                                return 0;
                        }
                        if (!closed(st, f))
                                return 0;
                        if (st->slen >= JSON_SCHEMA_MAX_STR - 1)
                                return -1;
                        st->str[st->slen++] = c;
                        return key_match(st, f, 0) == -1 ? -1 : 0;
                case 2:
                        if (is_ws(c))
                                return 0;
                        if (c != ':')
                                return -1;
                        f->phase = 3;
                        return 0;
                case 3:
                        if (is_ws(c))
                                return 0;
                        return value_start(st, f->prop >= 0 ? n->props[f->prop].node : -1, c);
                case 4:
                        if (is_ws(c))
                                return 0;
                        if (c == ',') {
                                if (closed(st, f) && !any_unseen(st, f))
                                        return -1;
                                f->phase = 5;
                                return 0;
                        }
                        if (c == '}') {
                                if (!required_ok(st, f))
                                        return -1;
                                value_end(st);
                                return 0;
                        }
                        return -1;
                }
        }
        return -1;
}

int json_schema_feed(struct json_schema_state *st, const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (feed1(st, p[i]))
                        return -1;
        return 0;
}
