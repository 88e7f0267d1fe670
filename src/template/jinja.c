/* jinja.c -- public entry points for Jinja chat templates (template.h).
 *
 * One render = one heap-allocated struct jctx holding the arena; a setjmp()
 * here catches every error raised below (jctx_fail), frees the arena and
 * returns the MU_E* code.  Template variables come either from chat
 * messages (chat_render_jinja) or from a JSON object parsed with cJSON
 * (chat_render_jinja_json); JSON numbers that are whole become integers,
 * as in JavaScript. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/template.h"
#include "template/jinja.h"

typedef void bind_fn(struct jctx *c, struct jdict *root, const void *ud);

static void arena_free(struct jctx *c)
{
        while (c->arena) {
                struct jarena_chunk *n = c->arena->next;
                free(c->arena);
                c->arena = n;
        }
}

static void bind_globals(struct jctx *c, struct jdict *root)
{
        jdict_setc(c, root, "true", jv_bool(1));
        jdict_setc(c, root, "false", jv_bool(0));
        jdict_setc(c, root, "none", jv_none());
        jdict_setc(c, root, "True", jv_bool(1));
        jdict_setc(c, root, "False", jv_bool(0));
        jdict_setc(c, root, "None", jv_none());
        for (int i = 0; i < JG_COUNT; i++)
                jdict_setc(c, root, jinja_global_names[i],
                           jv_func(c, JF_GLOBAL, i, jinja_global_names[i]));
        jdict_setc(c, root, "add_generation_prompt", jv_bool(0));
        jdict_setc(c, root, "bos_token", jv_str(c, "", 0));
        jdict_setc(c, root, "eos_token", jv_str(c, "", 0));
}

static int render(const char *tmpl, bind_fn *bind, const void *ud, char **out, struct mu_err *err)
{
        struct jctx *c = mu_xcalloc(1, sizeof(*c));
        int rc = 0;

        *out = NULL;
        c->err = err;
        c->src = tmpl ? tmpl : "";
        c->src_len = strlen(c->src);
        if (setjmp(c->jmp) == 0) {
                if (c->src_len > JINJA_MAX_SOURCE)
                        jctx_fail(c, MU_ENOMEM, JNOPOS, "template larger than %u bytes",
                                  JINJA_MAX_SOURCE);
                jinja_lex(c);
                struct jnode_list prog = jinja_parse(c);
                struct jscope *root = jalloc(c, sizeof(*root));
                c->globals = root;
                bind_globals(c, &root->vars);
                bind(c, &root->vars, ud);
                struct jbuf b = {0};
                int ctl = 0;
                c->depth = 0;
                jinja_exec_block(c, root, &prog, &b, &ctl);
                *out = mu_xstrndup(b.p ? b.p : "", b.n);
        } else {
                rc = c->err && c->err->code ? c->err->code : MU_EINVAL;
                if (!c->err)
                        rc = MU_EINVAL;
        }
        arena_free(c);
        free(c);
        return rc;
}

/* ---- messages ----------------------------------------------------------- */

struct msgs_ud {
        const struct chat_msg *msgs;
        int n, agp;
        const char *bos, *eos;
};

static void bind_msgs(struct jctx *c, struct jdict *root, const void *p)
{
        const struct msgs_ud *u = p;
        struct jv list = jv_list(c);

        for (int i = 0; i < u->n; i++) {
                struct jv m = jv_dict(c);
                jdict_setc(c, m.u.d, "role", jv_cstr(c, u->msgs[i].role ? u->msgs[i].role : ""));
                jdict_setc(c, m.u.d, "content",
                           jv_cstr(c, u->msgs[i].content ? u->msgs[i].content : ""));
                jlist_push(c, list.u.l, m);
        }
        jdict_setc(c, root, "messages", list);
        jdict_setc(c, root, "add_generation_prompt", jv_bool(u->agp));
        jdict_setc(c, root, "bos_token", jv_cstr(c, u->bos ? u->bos : ""));
        jdict_setc(c, root, "eos_token", jv_cstr(c, u->eos ? u->eos : ""));
}

int chat_render_jinja(const char *tmpl, const struct chat_msg *msgs, int n,
                      int add_generation_prompt, const char *bos, const char *eos, char **out,
                      struct mu_err *err)
{
        struct msgs_ud u = {msgs, n < 0 ? 0 : n, !!add_generation_prompt, bos, eos};

        return render(tmpl, bind_msgs, &u, out, err);
}

/* ---- JSON variables ----------------------------------------------------- */

static struct jv from_json(struct jctx *c, const cJSON *j, int depth)
{
        if (depth > JINJA_MAX_DEPTH)
                jctx_fail(c, MU_ERANGE, JNOPOS, "variables nested deeper than %d", JINJA_MAX_DEPTH);
        if (cJSON_IsBool(j))
                return jv_bool(cJSON_IsTrue(j));
        if (cJSON_IsNull(j))
                return jv_none();
        if (cJSON_IsNumber(j)) {
                double d = j->valuedouble;
                if (d == floor(d) && fabs(d) < 9007199254740992.0)
                        return jv_int((long long)d);
                return jv_float(d);
        }
        if (cJSON_IsString(j))
                return jv_cstr(c, j->valuestring ? j->valuestring : "");
        if (cJSON_IsArray(j)) {
                struct jv l = jv_list(c);
                for (const cJSON *e = j->child; e; e = e->next)
                        jlist_push(c, l.u.l, from_json(c, e, depth + 1));
                return l;
        }
        if (cJSON_IsObject(j)) {
                struct jv d = jv_dict(c);
                for (const cJSON *e = j->child; e; e = e->next)
                        jdict_setc(c, d.u.d, e->string ? e->string : "", from_json(c, e, depth + 1));
                return d;
        }
        return jv_undef();
}

static void bind_json(struct jctx *c, struct jdict *root, const void *p)
{
        const cJSON *obj = p;

        for (const cJSON *e = obj->child; e; e = e->next)
                jdict_setc(c, root, e->string ? e->string : "", from_json(c, e, 0));
}

int chat_render_jinja_json(const char *tmpl, const char *vars_json, char **out,
                           struct mu_err *err)
{
        cJSON *vars = cJSON_Parse(vars_json ? vars_json : "{}");
        int rc;

        *out = NULL;
        if (!vars || !cJSON_IsObject(vars)) {
                cJSON_Delete(vars);
                return mu_fail(err, MU_EINVAL, "template variables are not a JSON object");
        }
        rc = render(tmpl, bind_json, vars, out, err);
        cJSON_Delete(vars);
        return rc;
}
