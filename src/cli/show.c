/* show.c -- `mullama show MODEL|PATH`: what a model is, like `ollama show`.
 *
 * MODEL is a store name (resolved through store.c: ours, then Ollama's) or
 * any path to a GGUF file.  Default output: the Model section
 * (architecture, parameters, context, embedding, blocks, heads, rope,
 * vocabulary, tokenizer, quantization, chat template), tensor types,
 * capabilities, store parameters / system, and the license's first lines.
 * --modelfile, --parameters, --template, --system, --license print just that;
 * -v adds every metadata key and the tensor table; --layers prints per-block
 * sizes (for choosing GPU_LAYERS); --json prints the same facts as JSON
 * (cli/show_json.c).  Exit: 0 ok, 1 bad file, 2 usage, 3 not found. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/show.h"
#include "mullama/model.h"
#include "mullama/modelfile.h"
#include "mullama/fs.h"
#include "mullama/template.h"

static void row(const char *label, const char *fmt, ...) MU_PRINTF(2, 3);

static void row(const char *label, const char *fmt, ...)
{
        va_list ap;

        printf("    %-22s", label);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

static void row_i64(const char *label, int64_t v)
{
        if (v >= 0)
                row(label, "%lld", (long long)v);
}

/* First n lines of text, each indented. */
static void print_head(const char *text, int n)
{
        const char *p = text;

        for (int i = 0; *p && (n <= 0 || i < n); i++) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                printf("    %.*s\n", (int)len, p);
                if (!e)
                        break;
                p = e + 1;
        }
}

static void print_model(const struct show_model *m)
{
        const struct model_info *mi = &m->mi;
        char h[32];

        printf("  Model\n");
        if (m->sm) {
                char name[600];
                store_ref_display(&m->sm->ref, name, sizeof(name));
                row("name", "%s", name);
        } else if (mi->name) {
                row("name", "%s", mi->name);
        }
        row("architecture", "%s", mi->arch ? mi->arch : "unknown");
        model_info_human_count(mi->n_params, h, sizeof(h));
        row("parameters", "%s", h);
        row_i64("context length", mi->ctx_len);
        row_i64("embedding length", mi->embd_len);
        row_i64("block count", mi->n_block);
        row_i64("feed forward length", mi->ffn_len);
        if (mi->n_head >= 0)
                row("heads / KV heads", "%lld / %lld", (long long)mi->n_head,
                    (long long)(mi->n_head_kv >= 0 ? mi->n_head_kv : mi->n_head));
        if (!isnan(mi->rope_freq_base))
                row("rope freq base", mi->rope_freq_base == floor(mi->rope_freq_base) &&
                    fabs(mi->rope_freq_base) < 1e15 ? "%.0f" : "%g", mi->rope_freq_base);
        else if (mi->rope_dims >= 0)
                row("rope freq base", "not set (default 10000)");
        row_i64("rope dimensions", mi->rope_dims);
        if (mi->rope_scaling && strcmp(mi->rope_scaling, "none")) {
                char extra[96] = "";
                if (mi->rope_orig_ctx > 0)
                        snprintf(extra, sizeof(extra), ", original context %lld",
                                 (long long)mi->rope_orig_ctx);
                if (!isnan(mi->rope_scaling_factor))
                        row("rope scaling", "%s x%g%s", mi->rope_scaling,
                            mi->rope_scaling_factor, extra);
                else
                        row("rope scaling", "%s%s", mi->rope_scaling, extra);
        }
        row_i64("vocabulary size", mi->vocab_size);
        if (mi->tok_model)
                row("tokenizer", "%s%s%s%s", mi->tok_model, mi->tok_pre ? " (pre: " : "",
                    mi->tok_pre ? mi->tok_pre : "", mi->tok_pre ? ")" : "");
        if (mi->quant)
                row("quantization", "%s", mi->quant);
        row("chat template", "%s", m->tmpl ? "yes" : "no");
        printf("\n  Tensor types\n");
        for (int t = 0; t < MU_TYPE_COUNT; t++) {
                const struct model_info_group *gr = &mi->types[t];
                char b[32];
                if (!gr->n_tensors)
                        continue;
                model_info_human_count(gr->n_elems, h, sizeof(h));
                model_info_human_bytes(gr->bytes, b, sizeof(b));
                printf("    %-8s %5lld tensors  %9s params  %10s\n", mu_type_name(t),
                       (long long)gr->n_tensors, h, b);
        }
        if (!mi->n_tensors)
                printf("    (none: vocabulary-only file)\n");
        printf("\n  Capabilities\n");
        if (mi->cap_completion)
                printf("    completion\n");
        if (mi->cap_embedding)
                printf("    embedding\n");
        if (mi->cap_vision)
                printf("    vision\n");
        if (mi->cap_tools)
                printf("    tools\n");
}

/* The store's params layer as "name value" lines (Ollama's format). */
static void print_params(const char *json, const char *indent, const char *prefix)
{
        cJSON *o = json ? cJSON_Parse(json) : NULL;
        const cJSON *it;

        cJSON_ArrayForEach(it, o) {
                const cJSON *v;
                int n = cJSON_IsArray(it) ? cJSON_GetArraySize(it) : 1;
                for (int k = 0; k < n; k++) {
                        v = cJSON_IsArray(it) ? cJSON_GetArrayItem(it, k) : it;
                        if (*prefix && !strcmp(it->string, "flash_attention") && cJSON_IsBool(v)) {
                                /* not an Ollama parameter: our directive sets it */
                                printf("%sFLASH_ATTENTION %s\n", indent, cJSON_IsTrue(v) ? "on" : "off");
                                continue;
                        }
                        if (*prefix)
                                printf("%s%s%s ", indent, prefix, it->string);
                        else
                                printf("%s%-30s ", indent, it->string);
                        if (cJSON_IsString(v)) {
                                char *q = cJSON_PrintUnformatted(v);
                                printf("%s\n", q);
                                free(q);
                        } else if (cJSON_IsBool(v)) {
                                printf("%s\n", cJSON_IsTrue(v) ? "true" : "false");
                        } else {
                                char *q = cJSON_PrintUnformatted(v);
                                printf("%s\n", q);
                                free(q);
                        }
                }
        }
        cJSON_Delete(o);
}

static void print_default(const struct show_model *m)
{
        print_model(m);
        if (m->params_json) {
                printf("\n  Parameters\n");
                print_params(m->params_json, "    ", "");
        }
        if (m->system) {
                printf("\n  System\n");
                print_head(m->system, 2);
        }
        if (m->n_licenses) {
                printf("\n  License\n");
                print_head(m->licenses[0], 2);
        }
}

static void print_verbose(const struct show_model *m)
{
        struct mu_buf b = MU_BUF_INIT;

        printf("\n  Metadata\n");
        for (int64_t i = 0; i < gguf_n_kv(m->g); i++) {
                mu_buf_reset(&b);
                model_info_kv_text(m->g, i, 3, &b);
                printf("    %-40s %s\n", gguf_key(m->g, i), mu_buf_str(&b));
        }
        printf("\n  Tensors\n");
        printf("    %-32s %-8s %-24s %12s %6s\n", "name", "type", "shape", "bytes", "layer");
        for (int64_t i = 0; i < gguf_n_tensors(m->g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(m->g, i);
                char shape[96];
                int n = 0;
                int blk = model_info_block_of(t->name);
                n += snprintf(shape + n, sizeof(shape) - (size_t)n, "[");
                for (int d = 0; d < t->n_dims && n < (int)sizeof(shape); d++)
                        n += snprintf(shape + n, sizeof(shape) - (size_t)n, "%s%lld",
                                      d ? ", " : "", (long long)t->ne[d]);
                if (n < (int)sizeof(shape))
                        snprintf(shape + n, sizeof(shape) - (size_t)n, "]");
                char layer[16] = "-";
                if (blk >= 0)
                        snprintf(layer, sizeof(layer), "%d", blk);
                printf("    %-32s %-8s %-24s %12zu %6s\n", t->name, mu_type_name(t->type),
                       shape, t->size, layer);
        }
        mu_buf_release(&b);
}

static void print_layers(const struct show_model *m)
{
        const struct model_info *mi = &m->mi;
        uint64_t cum = 0;
        char h[32], b[32], c[32];

        printf("  Layers\n");
        printf("    %-10s %8s %10s %12s %12s %14s\n", "block", "tensors", "params", "bytes",
               "size", "cumulative");
        for (int i = 0; i < mi->n_blocks; i++) {
                const struct model_info_group *gr = &mi->blocks[i];
                cum += gr->bytes;
                model_info_human_count(gr->n_elems, h, sizeof(h));
                model_info_human_bytes(gr->bytes, b, sizeof(b));
                model_info_human_bytes(cum, c, sizeof(c));
                printf("    %-10d %8lld %10s %12llu %12s %14s\n", i,
                       (long long)gr->n_tensors, h, (unsigned long long)gr->bytes, b, c);
        }
        model_info_human_count(mi->other.n_elems, h, sizeof(h));
        model_info_human_bytes(mi->other.bytes, b, sizeof(b));
        printf("    %-10s %8lld %10s %12llu %12s\n", "non-block", (long long)mi->other.n_tensors,
               h, (unsigned long long)mi->other.bytes, b);
        for (int64_t i = 0; i < gguf_n_tensors(m->g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(m->g, i);
                if (model_info_block_of(t->name) < 0) {
                        model_info_human_bytes(t->size, b, sizeof(b));
                        printf("      %-30s %-8s %12s\n", t->name, mu_type_name(t->type), b);
                }
        }
        model_info_human_count(mi->n_params, h, sizeof(h));
        model_info_human_bytes(mi->tensor_bytes, b, sizeof(b));
        printf("    %-10s %8lld %10s %12llu %12s\n", "total", (long long)mi->n_tensors, h,
               (unsigned long long)mi->tensor_bytes, b);
}

/* --layers --gpu-layers N: load the model with that offload and say what
 * went to the device (what fits there) and how much device memory it took. */
static int print_offload(const struct show_model *m, const char *gpu_layers)
{
        struct model_params mp = model_default_params();
        struct mu_err err = {0};
        struct model *mdl = NULL;
        char *end;

        mp.n_gpu_layers = strcmp(gpu_layers, "all") ? (int)strtol(gpu_layers, &end, 10) : -1;
        if (strcmp(gpu_layers, "all") && (*end || mp.n_gpu_layers < 0)) {
                fprintf(stderr, "error: --gpu-layers expects a count or 'all', got '%s'\n",
                        gpu_layers);
                return MU_EXIT_USAGE;
        }
        if (model_load(&mdl, m->path, &mp, &err) < 0)
                return cli_fail(&err);
        int n = model_gpu_layers(mdl), L = model_n_layer(mdl);
        printf("  Offload (--gpu-layers %s)\n", gpu_layers);
        if (n == 0) {
                printf("    offloaded: none (CPU only)\n");
        } else {
                printf("    device: %s\n", model_gpu_name(mdl));
                printf("    offloaded: blocks %d-%d (%d of %d)%s\n", L - n, L - 1, n, L,
                       model_gpu_output(mdl) ? " and the output layer" : "");
                printf("    device memory: %.1f MiB (weights)\n",
                       (double)model_gpu_mem(mdl) / (1 << 20));
        }
        model_free(mdl);
        return 0;
}

/* KW """value""" (or "..." with escapes where """ would not read back);
 * KW is "MESSAGE role" when role is given. */
static void print_value(const char *kw, const char *role, const char *v)
{
        struct mu_buf b = MU_BUF_INIT;

        if (role)
                modelfile_add_line(&b, 1, v, "%s %s", kw, role);
        else
                modelfile_add_line(&b, 1, v, "%s", kw);
        fputs(b.data, stdout);
        mu_buf_release(&b);
}

static void print_modelfile(const struct show_model *m)
{
        printf("# Modelfile generated by \"mullama show\"\n"
               "# To build a new Modelfile based on this, replace FROM with:\n"
               "# FROM %s\n\n", m->arg);
        printf("FROM %s\n", m->path);
        if (m->tmpl)
                print_value("TEMPLATE", NULL, m->tmpl);
        if (m->system)
                print_value("SYSTEM", NULL, m->system);
        print_params(m->params_json, "", "PARAMETER ");
        for (int i = 0; i < m->n_licenses; i++)
                print_value("LICENSE", NULL, m->licenses[i]);
        if (m->sm && m->sm->messages_json) {
                struct chat_msg *h = NULL;
                int n = 0;
                cli_history_from_json(m->sm->messages_json, &h, &n);
                for (int i = 0; i < n; i++)
                        print_value("MESSAGE", h[i].role, h[i].content);
                cli_history_free(h, n);
        }
}

/* Open arg as a file path or a store model.  Returns an exit status. */
static int open_model(struct show_model *m, const struct mu_config *cfg, const char *arg)
{
        struct mu_err err = {0};
        struct stat st;
        int rc;

        m->arg = arg;
        char *exp = mu_expand_home(arg);
        if (store_is_path(arg) || stat(exp, &st) == 0) {
                m->path = exp;
                if (stat(exp, &st) < 0) {
                        fprintf(stderr, "error: %s '%s'\n", errno == ENOENT ?
                                "no such file" : strerror(errno), arg);
                        return errno == ENOENT ? MU_EXIT_NOTFOUND : MU_EXIT_ERROR;
                }
                if (S_ISDIR(st.st_mode)) {
                        fprintf(stderr, "error: '%s' is a directory, not a GGUF file\n", arg);
                        return MU_EXIT_ERROR;
                }
        } else {
                free(exp);
                rc = store_resolve(cfg, arg, &m->sm, &err);
                if (rc == MU_ENOTFOUND) {
                        fprintf(stderr, "error: %s\n", err.msg);
                        return MU_EXIT_NOTFOUND;
                }
                if (rc)
                        return cli_fail(&err);
                if (!m->sm->model_path) {
                        fprintf(stderr, "error: model '%s' has no model layer\n", arg);
                        return MU_EXIT_ERROR;
                }
                m->path = mu_xstrdup(m->sm->model_path);
        }
        rc = gguf_open(&m->g, m->path, &err);
        if (rc) {
                fprintf(stderr, "error: %s\n", err.msg);
                return rc == MU_ENOTFOUND ? MU_EXIT_NOTFOUND : MU_EXIT_ERROR;
        }
        model_info_get(&m->mi, m->g);
        m->tmpl = m->mi.chat_template;
        if (m->mi.license) {
                m->licenses = &m->mi.license;
                m->n_licenses = 1;
        }
        if (m->sm) {
                if (m->sm->tmpl)
                        m->tmpl = m->sm->tmpl;
                m->system = m->sm->system;
                m->params_json = m->sm->params_json;
                if (m->sm->n_licenses) {
                        m->licenses = (const char *const *)m->sm->licenses;
                        m->n_licenses = m->sm->n_licenses;
                }
        }
        return 0;
}

int cmd_show(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "show", "MODEL|PATH", "Show information for a model or a GGUF file",
                "MODEL is a model name (from `mullama list`, or Ollama's store) or a path\n"
                "to a GGUF file.  Exit status: 0 ok, 1 bad file, 2 usage, 3 not found."};
        int modelfile = 0, params = 0, tmpl = 0, system = 0, license = 0, verbose = 0,
            json = 0, layers = 0;
        const char *gpu_layers = NULL;
        const struct opt opts[] = {
                {"modelfile", 0, OPT_BOOL, &modelfile, NULL, "show the Modelfile"},
                {"parameters", 0, OPT_BOOL, &params, NULL, "show the parameters"},
                {"template", 0, OPT_BOOL, &tmpl, NULL, "show the chat template"},
                {"system", 0, OPT_BOOL, &system, NULL, "show the system message"},
                {"license", 0, OPT_BOOL, &license, NULL, "show the license"},
                {"verbose", 'v', OPT_BOOL, &verbose, NULL,
                 "also every metadata key and the tensor table"},
                {"layers", 0, OPT_BOOL, &layers, NULL,
                 "per-layer sizes (to choose GPU_LAYERS)"},
                {"json", 0, OPT_BOOL, &json, NULL, "print JSON"},
                {"gpu-layers", 0, OPT_STR, &gpu_layers, "N|all",
                 "with --layers: which blocks offload to the Vulkan device"},
                {0},
        };
        struct show_model m = {0};
        char **pos = NULL;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return MU_EXIT_OK;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 1) {
                free(pos);
                return opt_error(&u, np ? "too many arguments" : "missing MODEL or PATH");
        }
        if (modelfile + params + tmpl + system + license + layers + json > 1) {
                free(pos);
                return opt_error(&u, "choose one of --modelfile, --parameters, --template, "
                                     "--system, --license, --layers, --json");
        }
        rc = open_model(&m, cfg, pos[0]);
        free(pos);
        if (!rc) {
                if (json)
                        show_json(&m, verbose);
                else if (modelfile)
                        print_modelfile(&m);
                else if (params)
                        print_params(m.params_json, "", "");
                else if (tmpl && m.tmpl)
                        printf("%s\n", m.tmpl);
                else if (system && m.system)
                        printf("%s\n", m.system);
                else if (license)
                        for (int i = 0; i < m.n_licenses; i++)
                                printf("%s\n", m.licenses[i]);
                else if (layers) {
                        print_layers(&m);
                        if (gpu_layers)
                                rc = print_offload(&m, gpu_layers);
                }
                else if (!tmpl && !system) {
                        print_default(&m);
                        if (verbose)
                                print_verbose(&m);
                }
        }
        model_info_release(&m.mi);
        gguf_close(m.g);
        store_model_free(m.sm);
        free(m.path);
        return rc;
}
