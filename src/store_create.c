/* store_create.c -- build a model in the store from a parsed Modelfile
 * (store_create() in store.h; used by `mullama create` and the server's
 * /api/create).  A FROM file must pass gguf_open(); its architecture,
 * file type and parameter count fill the config blob as Ollama's would.  Order matters for integrity: every blob is committed
 * (hashed, fsynced, renamed) before the manifest, which is written last and
 * atomically; a failure on the way leaves at most unreferenced blobs. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/types.h"
#include "mullama/modelfile.h"
#include "mullama/quantize.h"
#include "mullama/sha256.h"
#include "mullama/store.h"

struct ctx {
        const struct mu_config *cfg;
        const struct store_create_opts *o;
        struct store_manifest out;
        const char *quantize;
};

static void status(struct ctx *c, const char *msg, const char *digest, uint64_t done,
                   uint64_t total)
{
        if (c->o && c->o->status)
                c->o->status(c->o->ud, msg, digest, done, total);
}

static void copy_progress(void *ud, uint64_t done, uint64_t total)
{
        status(ud, "copying file", NULL, done, total);
}

/* FROM/ADAPTER argument -> file path, or NULL when it names a model. */
static char *file_arg(const char *base_dir, const char *arg)
{
        char *e = mu_expand_home(arg), *j;
        size_t n = strlen(arg);
        struct stat st;

        if (e[0] == '/')
                return e;
        j = base_dir && *base_dir ? mu_xasprintf("%s/%s", base_dir, e) : mu_xstrdup(e);
        free(e);
        if (stat(j, &st) == 0)
                return j;
        if (!strncmp(arg, "./", 2) || !strncmp(arg, "../", 3) || !strncmp(arg, "~/", 2) ||
            (n > 5 && !strcasecmp(arg + n - 5, ".gguf")))
                return j;
        free(j);
        return NULL;
}

/* What the config blob says about the weights (from GGUF keys). */
struct gguf_facts {
        char arch[64];       /* general.architecture */
        char file_type[32];  /* general.file_type name, "Q4_K_M" */
        char params[32];     /* parameter count, Ollama style: "8.0B", "134.52M" */
};

/* Ollama's way of writing a parameter count. */
static void human_count(uint64_t n, char *out, size_t cap)
{
        double v;

        if (n >= 1000000000ULL) {
                v = (double)n / 1e9;
                snprintf(out, cap, v == (double)(uint64_t)v ? "%.0fB" : "%.1fB", v);
        } else if (n >= 1000000ULL) {
                v = (double)n / 1e6;
                snprintf(out, cap, v == (double)(uint64_t)v ? "%.0fM" : "%.2fM", v);
        } else if (n >= 1000ULL) {
                snprintf(out, cap, "%.0fK", (double)n / 1e3);
        } else {
                snprintf(out, cap, "%llu", (unsigned long long)n);
        }
}

/* The file must exist, not be a directory, and pass gguf_open()'s full
 * validation; facts (may be NULL) gets the config blob's fields. */
static int check_gguf(const char *path, const char *what, int line, struct gguf_facts *facts,
                      struct mu_err *err)
{
        struct gguf *g = NULL;
        struct stat st;
        int64_t ft;
        int rc;

        if (stat(path, &st) < 0)
                return mu_fail(err, MU_ENOTFOUND, "%s file '%s' not found (line %d)", what, path,
                               line);
        if (S_ISDIR(st.st_mode))
                return mu_fail(err, MU_EUNSUPPORTED,
                               "%s '%s' is a directory; only GGUF files are supported", what, path);
        rc = gguf_open(&g, path, err);
        if (rc) {
                if (rc == MU_ENOTFOUND)
                        rc = MU_EIO; /* it exists: this is a read problem */
                if (!err)
                        return rc;
                err->code = rc;
                return mu_err_prefix(err, "%s '%s'", what, path);
        }
        if (facts) {
                const char *a = gguf_get_str(g, "general.architecture");
                uint64_t n = 0;
                snprintf(facts->arch, sizeof(facts->arch), "%s", a ? a : "");
                facts->file_type[0] = '\0';
                if (gguf_get_i64(g, "general.file_type", &ft) == 0 && ft >= 0 && ft < 1000 &&
                    strcmp(mu_ftype_name((int)ft), "unknown"))
                        snprintf(facts->file_type, sizeof(facts->file_type), "%s",
                                 mu_ftype_name((int)ft));
                for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                        const struct gguf_tensor_info *t = gguf_tensor(g, i);
                        uint64_t e = 1;
                        for (int d = 0; d < t->n_dims; d++)
                                e *= (uint64_t)t->ne[d];
                        n += e;
                }
                human_count(n, facts->params, sizeof(facts->params));
        }
        gguf_close(g);
        return 0;
}

static int import_file(struct ctx *c, const char *path, const char *mt, struct mu_err *err)
{
        char dg[72];
        uint64_t size = 0;
        int rc = store_blob_import(c->cfg->models_dir, path, NULL, dg, &size, copy_progress, c,
                                   err);

        if (rc)
                return rc;
        status(c, "copying file", dg, size, size);
        store_manifest_add(&c->out, mt, dg, size);
        return 0;
}

static int add_text(struct ctx *c, const char *mt, const char *text, struct mu_err *err)
{
        size_t len = strlen(text);
        char dg[72], hex[65], *p;
        int existed, rc;

        mu_sha256_hex(text, len, hex);
        snprintf(dg, sizeof(dg), "sha256:%s", hex);
        p = store_blob_path(c->cfg->models_dir, dg);
        existed = mu_file_exists(p);
        free(p);
        rc = store_blob_write(c->cfg->models_dir, text, len, dg, err);
        if (rc)
                return rc;
        status(c, existed ? "using existing layer" : "creating new layer", dg, 0, 0);
        store_manifest_add(&c->out, mt, dg, len);
        return 0;
}

/* Keep a base layer: already ours, or imported (verified) from Ollama's. */
static int inherit(struct ctx *c, const struct store_model *base, const struct store_layer *l,
                   struct mu_err *err)
{
        if (base->from_ollama) {
                char *theirs = store_blob_path(base->dir, l->digest);
                char *mine = store_blob_path(c->cfg->models_dir, l->digest);
                char dg[72];
                uint64_t sz;
                int rc = 0;
                if (!mu_file_exists(mine)) {
                        rc = store_blob_import(c->cfg->models_dir, theirs, l->digest, dg, &sz,
                                               copy_progress, c, err);
                        if (!rc)
                                status(c, "copying file", dg, sz, sz);
                }
                free(theirs);
                free(mine);
                if (rc)
                        return rc;
        } else {
                status(c, "using existing layer", l->digest, 0, 0);
        }
        store_manifest_add(&c->out, l->media_type, l->digest, l->size);
        return 0;
}

/* Base params overlaid with the Modelfile's. */
static char *merged_params(const struct store_model *base, const struct modelfile *mf)
{
        char *mine = modelfile_params_json(mf), *s;
        cJSON *b, *m, *it;

        if (!base || !base->params_json)
                return mine;
        if (!mine)
                return mu_xstrdup(base->params_json);
        b = cJSON_Parse(base->params_json);
        m = cJSON_Parse(mine);
        if (!cJSON_IsObject(b)) {
                cJSON_Delete(b);
                cJSON_Delete(m);
                return mine;
        }
        cJSON_ArrayForEach(it, m) {
                cJSON_DeleteItemFromObjectCaseSensitive(b, it->string);
                cJSON_AddItemToObject(b, it->string, cJSON_Duplicate(it, 1));
        }
        s = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
        cJSON_Delete(m);
        free(mine);
        if (!s)
                abort();
        return s;
}

static char *config_json(const struct store_model *base, const struct modelfile *mf,
                         const struct gguf_facts *f)
{
        cJSON *o = base && base->config_json ? cJSON_Parse(base->config_json) : NULL;
        char *s;

        if (!cJSON_IsObject(o)) {
                cJSON_Delete(o);
                o = cJSON_CreateObject();
                cJSON *fams = cJSON_CreateArray();
                if (f->arch[0])
                        cJSON_AddItemToArray(fams, cJSON_CreateString(f->arch));
                cJSON_AddStringToObject(o, "model_format", "gguf");
                cJSON_AddStringToObject(o, "model_family", f->arch);
                cJSON_AddItemToObject(o, "model_families", fams);
                cJSON_AddStringToObject(o, "model_type", f->params);
                cJSON_AddStringToObject(o, "file_type", f->file_type);
#if defined(__aarch64__)
                cJSON_AddStringToObject(o, "architecture", "arm64");
#else
                cJSON_AddStringToObject(o, "architecture", "amd64");
#endif
                cJSON_AddStringToObject(o, "os", "linux");
        }
        if (mf->requires) {
                cJSON_DeleteItemFromObjectCaseSensitive(o, "requires");
                cJSON_AddStringToObject(o, "requires", mf->requires);
        }
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s)
                abort();
        return s;
}

/* --quantize: write src quantized to a temporary file in the blobs
 * directory and import that as the model layer. */
static int import_quantized(struct ctx *c, const char *src, struct gguf_facts *facts,
                            struct mu_err *err)
{
        char dir[4096], tmp[4200], msg[160];
        struct gguf *g = NULL;
        struct quantize_stats st;
        int64_t ft = -1;
        int rc;

        if (gguf_open(&g, src, NULL) == 0) {
                gguf_get_i64(g, "general.file_type", &ft);
                gguf_close(g);
        }
        snprintf(msg, sizeof(msg), "quantizing %s model to %s",
                 ft >= 0 ? mu_ftype_name((int)ft) : "F32", c->quantize);
        status(c, msg, NULL, 0, 0);
        snprintf(dir, sizeof(dir), "%s/blobs", c->cfg->models_dir);
        snprintf(tmp, sizeof(tmp), "%s/quantize-%ld.tmp", dir, (long)getpid());
        rc = mu_mkdir_p(dir, err);
        if (!rc)
                rc = quantize_file(src, tmp, c->quantize, 0, NULL, NULL, &st, err);
        if (!rc && facts)
                rc = check_gguf(tmp, "FROM", 0, facts, err);
        if (!rc)
                rc = import_file(c, tmp, STORE_MT_MODEL, err);
        unlink(tmp);
        return rc;
}

static int build(struct ctx *c, const struct modelfile *mf, struct store_model **basep,
                 struct mu_err *err)
{
        const char *bd = c->o ? c->o->base_dir : NULL;
        char *path = file_arg(bd, mf->from), *json;
        struct store_model *base = NULL;
        struct gguf_facts facts = {"", "", ""};
        int rc = 0;

        if (path) {
                rc = check_gguf(path, "FROM", mf->from_line, &facts, err);
                if (!rc && c->quantize)
                        rc = import_quantized(c, path, &facts, err);
                else if (!rc)
                        rc = import_file(c, path, STORE_MT_MODEL, err);
                free(path);
                if (rc)
                        return rc;
        } else {
                rc = store_resolve(c->cfg, mf->from, &base, err);
                if (rc == MU_ENOTFOUND)
                        mu_fail(err, rc, "FROM '%s' (line %d) is neither a file nor a local model",
                                mf->from, mf->from_line);
                if (rc)
                        return rc;
                *basep = base;
                for (int i = 0; i < base->manifest.n_layers && !rc; i++) {
                        const struct store_layer *l = &base->manifest.layers[i];
                        const char *t = l->media_type;
                        if ((mf->tmpl && (!strcmp(t, STORE_MT_TEMPLATE) || !strcmp(t, STORE_MT_PROMPT))) ||
                            (mf->system && !strcmp(t, STORE_MT_SYSTEM)) ||
                            (mf->n_messages && !strcmp(t, STORE_MT_MESSAGES)) ||
                            (mf->n_licenses && !strcmp(t, STORE_MT_LICENSE)) ||
                            !strcmp(t, STORE_MT_PARAMS))
                                continue; /* replaced (params: merged below) */
                        if (c->quantize && !strcmp(t, STORE_MT_MODEL)) {
                                char *bp = store_blob_path(base->dir, l->digest);
                                rc = import_quantized(c, bp, NULL, err);
                                free(bp);
                                continue;
                        }
                        rc = inherit(c, base, l, err);
                }
                if (rc)
                        return rc;
        }
        for (int i = 0; i < mf->n_adapters; i++) {
                char *ap = file_arg(bd, mf->adapters[i]);
                if (!ap)
                        return mu_fail(err, MU_EUNSUPPORTED,
                                       "ADAPTER '%s': only GGUF adapter files are supported",
                                       mf->adapters[i]);
                rc = check_gguf(ap, "ADAPTER", 0, NULL, err);
                if (!rc)
                        rc = import_file(c, ap, STORE_MT_ADAPTER, err);
                free(ap);
                if (rc)
                        return rc;
        }
        if (mf->tmpl && (rc = add_text(c, STORE_MT_TEMPLATE, mf->tmpl, err)))
                return rc;
        if (mf->system && (rc = add_text(c, STORE_MT_SYSTEM, mf->system, err)))
                return rc;
        json = merged_params(base, mf);
        if (json) {
                rc = add_text(c, STORE_MT_PARAMS, json, err);
                free(json);
                if (rc)
                        return rc;
        }
        json = modelfile_messages_json(mf);
        if (json) {
                rc = add_text(c, STORE_MT_MESSAGES, json, err);
                free(json);
                if (rc)
                        return rc;
        }
        for (int i = 0; i < mf->n_licenses && !rc; i++)
                rc = add_text(c, STORE_MT_LICENSE, mf->licenses[i], err);
        if (rc)
                return rc;
        json = config_json(base, mf, &facts);
        {
                char dg[72];
                size_t len = strlen(json);
                rc = store_blob_write(c->cfg->models_dir, json, len, dg, err);
                free(json);
                if (rc)
                        return rc;
                snprintf(c->out.config.media_type, sizeof(c->out.config.media_type), "%s",
                         STORE_MT_CONFIG);
                snprintf(c->out.config.digest, sizeof(c->out.config.digest), "%s", dg);
                c->out.config.size = len;
        }
        return 0;
}

int store_create(const struct mu_config *cfg, const char *name, const struct modelfile *mf,
                 const struct store_create_opts *opts, struct mu_err *err)
{
        return store_create_quantized(cfg, name, mf, opts, NULL, err);
}

int store_create_quantized(const struct mu_config *cfg, const char *name,
                           const struct modelfile *mf, const struct store_create_opts *opts,
                           const char *quantize, struct mu_err *err)
{
        struct ctx c = {cfg, opts, {{{0}, {0}, 0, NULL}, NULL, 0}, quantize};
        struct store_model *base = NULL;
        struct store_ref ref;
        int rc;

        rc = store_ref_parse(&ref, name, err);
        if (rc)
                return rc;
        if (!mf->from)
                return mu_fail(err, MU_EFORMAT, "Modelfile has no FROM");
        status(&c, "gathering model components", NULL, 0, 0);
        rc = build(&c, mf, &base, err);
        if (!rc) {
                /* replacing a model: its old layers may become garbage */
                char *mpath = store_manifest_path(cfg->models_dir, &ref);
                struct store_manifest old;
                int had_old = mu_file_exists(mpath) &&
                              store_read_manifest(mpath, &old, NULL, NULL) == 0;
                status(&c, "writing manifest", NULL, 0, 0);
                rc = store_write_manifest(cfg, &ref, &c.out, NULL, err);
                if (had_old) {
                        if (!rc)
                                store_prune(cfg, &old);
                        store_manifest_release(&old);
                }
                free(mpath);
        }
        if (!rc)
                status(&c, "success", NULL, 0, 0);
        store_model_free(base);
        store_manifest_release(&c.out);
        return rc;
}
