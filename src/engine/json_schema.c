/* json_schema.c -- a byte-level checker of JSON output against a compiled
 * subset of JSON Schema (see json_schema.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

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
};

struct json_schema {
        struct js_node *nodes;
        int n;
};

enum { F_ROOT, F_OBJ, F_ARR, F_STR, F_NUM, F_LIT };

static int add_node(struct json_schema *s)
{
        s->nodes = mu_xrealloc(s->nodes, (size_t)(s->n + 1) * sizeof(*s->nodes));
        memset(&s->nodes[s->n], 0, sizeof(s->nodes[0]));
        s->nodes[s->n].items = -1;
        s->nodes[s->n].types = T_ANY;
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

static int compile_node(struct json_schema *s, const cJSON *j, int depth)
{
        int id = add_node(s);
        const cJSON *x;

        if (!cJSON_IsObject(j) || depth > JSON_SCHEMA_MAX_DEPTH)
                return id;
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
                        props[k].node = compile_node(s, p, depth + 1);
                        k++;
                }
                s->nodes[id].props = props;
                s->nodes[id].n_props = n;
        }
        x = cJSON_GetObjectItemCaseSensitive(j, "items");
        if (cJSON_IsObject(x)) {
                int it = compile_node(s, x, depth + 1);
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
        return id;
}

int json_schema_compile(const char *schema_json, struct json_schema **out, struct mu_err *err)
{
        cJSON *j = cJSON_Parse(schema_json);
        struct json_schema *s;

        *out = NULL;
        if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return mu_fail(err, MU_EINVAL, "a JSON schema must be an object");
        }
        s = mu_xcalloc(1, sizeof(*s));
        compile_node(s, j, 0);
        cJSON_Delete(j);
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

/* A value of node id starts with c: push its frame. */
static int value_start(struct json_schema_state *st, int id, char c)
{
        const struct js_node *n = node_of(st, id);
        unsigned t = n ? n->types : T_ANY;
        struct json_schema_frame *f;
        uint8_t kind;

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
                if (c >= '0' && c <= '9')
                        return ++f->prop > JSON_SCHEMA_MAX_DIGITS ? -1 : 0;
                f->prop = 0;
                if (c == '-' || c == '+')
                        return 0;
                if (c == '.' || c == 'e' || c == 'E')
                        return f->phase == 1 ? -1 : 0;
                value_end(st);
                return feed1(st, c);
        case F_LIT:
                if (c >= 'a' && c <= 'z')
                        return 0;
                value_end(st);
                return feed1(st, c);
        case F_STR:
                if (st->esc) {
                        st->esc = 0;
                        if (n && n->enums)
                                return -1; /* escapes never match our enum strings */
                        return 0;
                }
                if (c == '\\') {
                        st->esc = 1;
                        return 0;
                }
                if (c == '"') {
                        if (n && n->enums && !enum_ok(st, n, 1))
                                return -1;
                        value_end(st);
                        return 0;
                }
                if (n && n->enums) {
                        if (st->slen >= JSON_SCHEMA_MAX_STR - 1)
                                return -1;
                        st->str[st->slen++] = c;
                        return enum_ok(st, n, 0) ? 0 : -1;
                }
                return 0;
        case F_ARR:
                if (is_ws(c))
                        return 0;
                if (f->phase == 0 && c == ']') {
                        value_end(st);
                        return 0;
                }
                if (f->phase == 1) {
                        if (c == ',') {
                                f->phase = 2;
                                return 0;
                        }
                        if (c == ']') {
                                value_end(st);
                                return 0;
                        }
                        return -1;
                }
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
                        if (c == '\\') {
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
