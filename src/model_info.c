/* model_info.c -- model facts from GGUF metadata and the tensor table (see
 * model_info.h).  Pure computation over a parsed struct gguf; never prints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/model_info.h"

/* "<arch>.<suffix>" as an integer; arrays (per-layer head counts) give
 * their largest element; -1 when absent or not a number. */
static int64_t arch_i64(const struct gguf *g, const char *arch, const char *suffix)
{
        char key[256];
        int64_t v;
        struct gguf_arr a;

        snprintf(key, sizeof(key), "%s.%s", arch ? arch : "", suffix);
        if (gguf_get_i64(g, key, &v) == 0)
                return v;
        if (gguf_get_arr(g, key, &a) == 0 && a.type != GGUF_TYPE_STRING && a.n) {
                int64_t m = gguf_arr_i64(&a, 0);
                for (uint64_t j = 1; j < a.n; j++)
                        if (gguf_arr_i64(&a, j) > m)
                                m = gguf_arr_i64(&a, j);
                return m;
        }
        return -1;
}

static double arch_f64(const struct gguf *g, const char *arch, const char *suffix)
{
        char key[256];
        double v;

        snprintf(key, sizeof(key), "%s.%s", arch ? arch : "", suffix);
        return gguf_get_f64(g, key, &v) == 0 ? v : NAN;
}

static const char *arch_str(const struct gguf *g, const char *arch, const char *suffix)
{
        char key[256];

        snprintf(key, sizeof(key), "%s.%s", arch ? arch : "", suffix);
        return gguf_get_str(g, key);
}

static int arch_has_prefix(const struct gguf *g, const char *arch, const char *suffix)
{
        char key[256];
        size_t n = (size_t)snprintf(key, sizeof(key), "%s.%s", arch ? arch : "", suffix);

        for (int64_t i = 0; i < gguf_n_kv(g); i++)
                if (!strncmp(gguf_key(g, i), key, n))
                        return 1;
        return 0;
}

int model_info_block_of(const char *name)
{
        char *end;
        long b;

        if (strncmp(name, "blk.", 4) != 0 || name[4] < '0' || name[4] > '9')
                return -1;
        b = strtol(name + 4, &end, 10);
        if (*end != '.' || b < 0 || b > 1000000)
                return -1;
        return (int)b;
}

/* Embedding-only architectures (no causal LM head). */
static int is_embedding_arch(const char *arch)
{
        static const char *const archs[] = {"bert", "nomic-bert", "nomic-bert-moe",
                                            "jina-bert-v2", "t5encoder", "modern-bert",
                                            "neo-bert"};

        for (size_t i = 0; arch && i < sizeof(archs) / sizeof(archs[0]); i++)
                if (!strcmp(arch, archs[i]))
                        return 1;
        return 0;
}

void model_info_get(struct model_info *mi, const struct gguf *g)
{
        const char *a;
        struct gguf_arr toks;
        int64_t v;

        memset(mi, 0, sizeof(*mi));
        a = mi->arch = gguf_get_str(g, "general.architecture");
        mi->name = gguf_get_str(g, "general.name");
        mi->ctx_len = arch_i64(g, a, "context_length");
        mi->embd_len = arch_i64(g, a, "embedding_length");
        mi->n_block = arch_i64(g, a, "block_count");
        mi->ffn_len = arch_i64(g, a, "feed_forward_length");
        mi->n_head = arch_i64(g, a, "attention.head_count");
        mi->n_head_kv = arch_i64(g, a, "attention.head_count_kv");
        mi->rope_freq_base = arch_f64(g, a, "rope.freq_base");
        mi->rope_dims = arch_i64(g, a, "rope.dimension_count");
        mi->rope_scaling = arch_str(g, a, "rope.scaling.type");
        mi->rope_scaling_factor = arch_f64(g, a, "rope.scaling.factor");
        mi->rope_orig_ctx = arch_i64(g, a, "rope.scaling.original_context_length");
        mi->vocab_size = -1;
        if (gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) == 0)
                mi->vocab_size = (int64_t)toks.n;
        else
                mi->vocab_size = arch_i64(g, a, "vocab_size");
        mi->tok_model = gguf_get_str(g, "tokenizer.ggml.model");
        mi->tok_pre = gguf_get_str(g, "tokenizer.ggml.pre");
        mi->file_type = gguf_get_i64(g, "general.file_type", &v) == 0 ? v : -1;
        mi->chat_template = gguf_get_str(g, "tokenizer.chat_template");
        mi->license = gguf_get_str(g, "general.license");

        /* tensors: per type and per block */
        int max_blk = -1;
        mi->n_tensors = gguf_n_tensors(g);
        for (int64_t i = 0; i < mi->n_tensors; i++) {
                int b = model_info_block_of(gguf_tensor(g, i)->name);
                max_blk = b > max_blk ? b : max_blk;
        }
        mi->n_blocks = max_blk + 1;
        if (mi->n_block > mi->n_blocks && mi->n_block <= 65536 && mi->n_tensors)
                mi->n_blocks = (int)mi->n_block;  /* show empty blocks too */
        mi->blocks = mu_xcalloc(mi->n_blocks ? (size_t)mi->n_blocks : 1,
                                sizeof(*mi->blocks));
        for (int64_t i = 0; i < mi->n_tensors; i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                uint64_t nel = (uint64_t)t->ne[0] * (uint64_t)t->ne[1] *
                               (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
                int b = model_info_block_of(t->name);
                struct model_info_group *grp = b >= 0 ? &mi->blocks[b] : &mi->other;
                mi->n_params += nel;
                mi->tensor_bytes += t->size;
                mi->types[t->type].n_tensors++;
                mi->types[t->type].n_elems += nel;
                mi->types[t->type].bytes += t->size;
                grp->n_tensors++;
                grp->n_elems += nel;
                grp->bytes += t->size;
        }
        if (mi->file_type >= 0 && strcmp(mu_ftype_name((int)mi->file_type), "unknown")) {
                mi->quant = mu_ftype_name((int)mi->file_type);
        } else {
                /* no (known) file type: the type holding the most bytes */
                int best = -1;
                for (int t = 0; t < MU_TYPE_COUNT; t++)
                        if (mi->types[t].n_tensors &&
                            (best < 0 || mi->types[t].bytes > mi->types[best].bytes))
                                best = t;
                mi->quant = best >= 0 ? mu_type_name(best) : NULL;
        }

        /* capabilities, as Ollama derives them from the file */
        mi->cap_embedding = is_embedding_arch(a) || arch_str(g, a, "pooling_type") ||
                            arch_i64(g, a, "pooling_type") >= 0;
        mi->cap_completion = !mi->cap_embedding;
        mi->cap_vision = arch_has_prefix(g, a, "vision.") ||
                         gguf_find_key(g, "clip.has_vision_encoder") >= 0;
        mi->cap_tools = mi->chat_template && strstr(mi->chat_template, "tools") != NULL;
}

void model_info_release(struct model_info *mi)
{
        free(mi->blocks);
        mi->blocks = NULL;
        mi->n_blocks = 0;
}

void model_info_human_count(uint64_t n, char *buf, size_t size)
{
        double d;

        if (n >= 1000000000ull) {
                d = (double)n / 1e9;
                snprintf(buf, size, d == floor(d) ? "%.0fB" : "%.1fB", d);
        } else if (n >= 1000000ull) {
                d = (double)n / 1e6;
                snprintf(buf, size, d == floor(d) ? "%.0fM" : "%.2fM", d);
        } else if (n >= 1000ull) {
                snprintf(buf, size, "%.0fK", (double)n / 1e3);
        } else {
                snprintf(buf, size, "%llu", (unsigned long long)n);
        }
}

void model_info_human_bytes(uint64_t n, char *buf, size_t size)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double d = (double)n;
        int u = 0;

        while (d >= 1024 && u < 4) {
                d /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%llu B", (unsigned long long)n);
        else
                snprintf(buf, size, "%.1f %s", d, units[u]);
}

/* A string on one line: control bytes escaped, cut at max bytes. */
static void add_str(struct mu_buf *out, const char *s, size_t len, int quote, size_t max)
{
        if (quote)
                mu_buf_addc(out, '"');
        for (size_t k = 0; k < len && k < max; k++) {
                unsigned char c = (unsigned char)s[k];
                if (c == '\n')
                        mu_buf_adds(out, "\\n");
                else if (c == '\t')
                        mu_buf_adds(out, "\\t");
                else if (c == '\r')
                        mu_buf_adds(out, "\\r");
                else if (c == '"' && quote)
                        mu_buf_adds(out, "\\\"");
                else if (c == '\\' && quote)
                        mu_buf_adds(out, "\\\\");
                else if (c < 0x20 || c == 0x7f)
                        mu_buf_addf(out, "\\x%02x", c);
                else
                        mu_buf_addc(out, (char)c);
        }
        if (len > max)
                mu_buf_addf(out, "...(%zu bytes)", len);
        if (quote)
                mu_buf_addc(out, '"');
}

static void add_number(struct mu_buf *out, int type, int64_t i, double f)
{
        if (type == GGUF_TYPE_FLOAT32)
                mu_buf_addf(out, "%.7g", f);  /* enough digits for a float */
        else if (type == GGUF_TYPE_FLOAT64)
                mu_buf_addf(out, "%.15g", f);
        else if (type == GGUF_TYPE_BOOL)
                mu_buf_adds(out, i ? "true" : "false");
        else if (type == GGUF_TYPE_UINT64)
                mu_buf_addf(out, "%llu", (unsigned long long)i);
        else
                mu_buf_addf(out, "%lld", (long long)i);
}

void model_info_kv_text(const struct gguf *g, int64_t i, int max_items, struct mu_buf *out)
{
        int type = gguf_kv_type(g, i);
        struct gguf_arr a;
        size_t len;
        int64_t iv = 0;
        double fv = 0;

        if (type == GGUF_TYPE_STRING) {
                const char *s = gguf_kv_str(g, i, &len);
                add_str(out, s, len, 0, 200);
                return;
        }
        if (type != GGUF_TYPE_ARRAY) {
                if (type == GGUF_TYPE_FLOAT32 || type == GGUF_TYPE_FLOAT64)
                        gguf_kv_f64(g, i, &fv);
                else
                        gguf_kv_i64(g, i, &iv);
                add_number(out, type, iv, fv);
                return;
        }
        if (gguf_kv_arr(g, i, &a))
                return;
        uint64_t shown = max_items > 0 && a.n > (uint64_t)max_items ? (uint64_t)max_items : a.n;
        mu_buf_adds(out, "[");
        for (uint64_t j = 0; j < shown; j++) {
                mu_buf_adds(out, j ? ", " : " ");
                if (a.type == GGUF_TYPE_STRING) {
                        const char *s = gguf_arr_str(g, &a, j, &len);
                        add_str(out, s, len, 1, 200);
                } else {
                        add_number(out, a.type, gguf_arr_i64(&a, j), gguf_arr_f64(&a, j));
                }
        }
        if (shown < a.n)
                mu_buf_addf(out, "%s... %llu items", shown ? ", " : " ",
                            (unsigned long long)a.n);
        mu_buf_adds(out, a.n ? " ]" : "]");
}
