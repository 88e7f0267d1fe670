/* quantize.c -- llama-quantize's tensor type selection and file layout, with
 * the scalar reference quantizers of the kernels.  See
 * include/mullama/quantize.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mullama/gguf.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"
#include "mullama/quantize.h"
#include "mullama/types.h"

/* LLAMA_FTYPE_* */
enum {
        FT_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8,
        FT_Q5_1 = 9, FT_Q2_K = 10, FT_Q3_K_S = 11, FT_Q3_K_M = 12, FT_Q3_K_L = 13,
        FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_S = 16, FT_Q5_K_M = 17, FT_Q6_K = 18,
        FT_BF16 = 32,
};

static const struct {
        const char *name;
        int ftype;
        int type; /* default tensor type */
} ftypes[] = {
        {"Q4_0", FT_Q4_0, MU_TYPE_Q4_0},       {"Q4_1", FT_Q4_1, MU_TYPE_Q4_1},
        {"Q5_0", FT_Q5_0, MU_TYPE_Q5_0},       {"Q5_1", FT_Q5_1, MU_TYPE_Q5_1},
        {"Q2_K", FT_Q2_K, MU_TYPE_Q2_K},       {"Q3_K", FT_Q3_K_M, MU_TYPE_Q3_K},
        {"Q3_K_S", FT_Q3_K_S, MU_TYPE_Q3_K},   {"Q3_K_M", FT_Q3_K_M, MU_TYPE_Q3_K},
        {"Q3_K_L", FT_Q3_K_L, MU_TYPE_Q3_K},   {"Q4_K", FT_Q4_K_M, MU_TYPE_Q4_K},
        {"Q4_K_S", FT_Q4_K_S, MU_TYPE_Q4_K},   {"Q4_K_M", FT_Q4_K_M, MU_TYPE_Q4_K},
        {"Q5_K", FT_Q5_K_M, MU_TYPE_Q5_K},     {"Q5_K_S", FT_Q5_K_S, MU_TYPE_Q5_K},
        {"Q5_K_M", FT_Q5_K_M, MU_TYPE_Q5_K},   {"Q6_K", FT_Q6_K, MU_TYPE_Q6_K},
        {"Q8_0", FT_Q8_0, MU_TYPE_Q8_0},       {"F16", FT_F16, MU_TYPE_F16},
        {"BF16", FT_BF16, MU_TYPE_BF16},       {"F32", FT_F32, MU_TYPE_F32},
};
#define N_FTYPES (int)(sizeof(ftypes) / sizeof(ftypes[0]))

int quantize_ftype_from_name(const char *name)
{
        for (int i = 0; name && i < N_FTYPES; i++)
                if (!strcasecmp(name, ftypes[i].name))
                        return ftypes[i].ftype;
        return -1;
}

const char *quantize_type_names(void)
{
        return "q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K_S q3_K_M q3_K_L q4_K_S q4_K_M q5_K_S "
               "q5_K_M q6_K f16 bf16 f32";
}

static int ftype_default_type(int ftype)
{
        for (int i = 0; i < N_FTYPES; i++)
                if (ftypes[i].ftype == ftype)
                        return ftypes[i].type;
        return -1;
}

static int is_quantized(int t)
{
        return t != MU_TYPE_F32 && t != MU_TYPE_F16 && t != MU_TYPE_BF16;
}

/* ---- type selection (llama.cpp src/llama-quant.cpp) ---------------------- */

enum cat { C_OTHER, C_OUTPUT, C_TOKEN_EMBD, C_ATTN_QKV, C_ATTN_KV_B, C_ATTN_V, C_ATTN_K,
           C_ATTN_Q, C_ATTN_OUTPUT, C_FFN_UP, C_FFN_GATE, C_FFN_DOWN };

static enum cat category(const char *n)
{
        if (!strcmp(n, "output.weight"))
                return C_OUTPUT;
        if (!strcmp(n, "token_embd.weight") || !strcmp(n, "per_layer_token_embd.weight"))
                return C_TOKEN_EMBD;
        static const struct {
                const char *s;
                enum cat c;
        } subs[] = {
                {"attn_qkv.weight", C_ATTN_QKV},       {"attn_kv_b.weight", C_ATTN_KV_B},
                {"attn_v.weight", C_ATTN_V},           {"attn_k.weight", C_ATTN_K},
                {"attn_q.weight", C_ATTN_Q},           {"attn_output.weight", C_ATTN_OUTPUT},
                {"ffn_up", C_FFN_UP},                  {"ffn_gate", C_FFN_GATE},
                {"ffn_down", C_FFN_DOWN},
        };
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
                if (strstr(n, subs[i].s))
                        return subs[i].c;
        return C_OTHER;
}

static int is_attn_v(enum cat c)
{
        return c == C_ATTN_V || c == C_ATTN_QKV || c == C_ATTN_KV_B;
}

static int allows_quantization(const struct gguf_tensor_info *t, int n_dims)
{
        static const char *never[] = {
                "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup",
                "laurel", "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
                "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight",
                "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
                "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
                "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
                "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
                "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
                ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
                ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
        };
        size_t len = strlen(t->name);

        if (n_dims < 2 || len < 6 || strcmp(t->name + len - 6, "weight") != 0)
                return 0;
        for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
                if (strstr(t->name, never[i]))
                        return 0;
        return strcmp(t->name, "position_embd.weight") && strcmp(t->name, "token_types.weight");
}

struct qstate {
        int ftype, n_gqa, is_70b, tied;
        int n_attn_wv, i_attn_wv, n_layer, i_ffn_down, i_ffn_gate, i_ffn_up;
        int n_fallback;
};

static int use_more_bits(int i, int n)
{
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int mix_type(struct qstate *q, int t, const struct gguf_tensor_info *ti, enum cat c)
{
        int ft = q->ftype;

        if (c == C_OUTPUT || (q->tied && c == C_TOKEN_EMBD)) {
                if (ti->ne[0] % mu_type_info(t)->blck_size != 0)
                        t = MU_TYPE_Q8_0;
                else if (t != MU_TYPE_Q8_0)
                        t = MU_TYPE_Q6_K;
        } else if (c == C_TOKEN_EMBD) {
                /* no change for the file types we make */
        } else if (is_attn_v(c)) {
                if (ft == FT_Q2_K)
                        t = q->n_gqa >= 4 ? MU_TYPE_Q4_K : MU_TYPE_Q3_K;
                else if (ft == FT_Q3_K_M)
                        t = q->i_attn_wv < 2 ? MU_TYPE_Q5_K : MU_TYPE_Q4_K;
                else if (ft == FT_Q3_K_L)
                        t = MU_TYPE_Q5_K;
                else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) &&
                         use_more_bits(q->i_attn_wv, q->n_attn_wv))
                        t = MU_TYPE_Q6_K;
                else if (ft == FT_Q4_K_S && q->i_attn_wv < 4)
                        t = MU_TYPE_Q5_K;
                if (q->is_70b && (t == MU_TYPE_Q3_K || t == MU_TYPE_Q4_K))
                        t = MU_TYPE_Q5_K;
                q->i_attn_wv++;
        } else if (c == C_FFN_DOWN) {
                int i = q->i_ffn_down, n = q->n_layer;
                if (ft == FT_Q2_K)
                        t = MU_TYPE_Q3_K;
                else if (ft == FT_Q3_K_M)
                        t = i < n / 16 ? MU_TYPE_Q5_K : MU_TYPE_Q4_K;
                else if (ft == FT_Q3_K_L)
                        t = MU_TYPE_Q5_K;
                else if (ft == FT_Q4_K_M) {
                        if (use_more_bits(i, n))
                                t = MU_TYPE_Q6_K;
                } else if (ft == FT_Q5_K_M && use_more_bits(i, n))
                        t = MU_TYPE_Q6_K;
                else if (ft == FT_Q4_K_S && i < n / 8)
                        t = MU_TYPE_Q5_K;
                q->i_ffn_down++;
        } else if (c == C_ATTN_OUTPUT) {
                if (ft == FT_Q2_K)
                        t = MU_TYPE_Q3_K;
                else if (ft == FT_Q3_K_M)
                        t = MU_TYPE_Q4_K;
                else if (ft == FT_Q3_K_L)
                        t = MU_TYPE_Q5_K;
        } else if (c == C_FFN_GATE) {
                q->i_ffn_gate++;
        } else if (c == C_FFN_UP) {
                q->i_ffn_up++;
        }
        return t;
}

/* A row length that is not a multiple of the block: a smaller block type,
 * else F16. */
static int fallback(struct qstate *q, const struct gguf_tensor_info *ti, int t)
{
        int r = t;

        if (ti->ne[0] % mu_type_info(t)->blck_size == 0)
                return t;
        q->n_fallback++;
        switch (t) {
        case MU_TYPE_Q2_K:
        case MU_TYPE_Q3_K: r = MU_TYPE_Q4_0; break;
        case MU_TYPE_Q4_K: r = MU_TYPE_Q5_0; break;
        case MU_TYPE_Q5_K: r = MU_TYPE_Q5_1; break;
        case MU_TYPE_Q6_K: r = MU_TYPE_Q8_0; break;
        default: break;
        }
        if (ti->ne[0] % mu_type_info(r)->blck_size != 0)
                r = MU_TYPE_F16;
        MU_LOG_INFO("%s: %lld columns not divisible by %d (%s): using %s", ti->name,
                    (long long)ti->ne[0], mu_type_info(t)->blck_size, mu_type_name(t),
                    mu_type_name(r));
        return r;
}

/* ggml_n_dims: the highest dimension above 1 (at least 1). */
static int n_dims_of(const struct gguf_tensor_info *t)
{
        for (int i = MU_MAX_DIMS - 1; i >= 1; i--)
                if (t->ne[i] > 1)
                        return i + 1;
        return 1;
}

/* llama.cpp's loader order: layer number (-1 outside blk.N.), then name. */
static int layer_of(const char *n)
{
        int l = -1;
        if (sscanf(n, "blk.%d.", &l) != 1)
                l = -1;
        return l;
}

static const struct gguf *sort_g;
static int cmp_tensors(const void *a, const void *b)
{
        const char *na = gguf_tensor(sort_g, *(const int64_t *)a)->name;
        const char *nb = gguf_tensor(sort_g, *(const int64_t *)b)->name;
        int la = layer_of(na), lb = layer_of(nb);

        if (la != lb)
                return la < lb ? -1 : 1;
        return strcmp(na, nb);
}

/* ---- conversion ----------------------------------------------------------- */

struct job {
        const struct gguf_tensor_info *ti;
        int type;
        int64_t n_rows, n_per_row;
        size_t src_row, dst_row;
        uint8_t *dst;
};

static void convert_rows(void *arg, int ith, int nth)
{
        const struct job *j = arg;
        const quant_to_float_fn to_f32 = cpu_kernels_scalar.q[j->ti->type].to_float;
        float *buf = j->ti->type == MU_TYPE_F32 ? NULL
                                                 : mu_xmalloc((size_t)j->n_per_row * sizeof(float));
        int64_t per = (j->n_rows + nth - 1) / nth, r0 = per * ith,
                r1 = r0 + per < j->n_rows ? r0 + per : j->n_rows;

        for (int64_t r = r0; r < r1; r++) {
                const uint8_t *src = (const uint8_t *)j->ti->data + (size_t)r * j->src_row;
                const float *x = (const float *)src;
                if (buf) {
                        to_f32(src, buf, j->n_per_row);
                        x = buf;
                }
                quant_quantize_row(j->type, x, j->dst + (size_t)r * j->dst_row, j->n_per_row);
        }
        free(buf);
}

static int read_u32_key(const struct gguf *g, const char *arch, const char *suffix, int def)
{
        char key[160];
        int64_t v;
        struct gguf_arr a;

        snprintf(key, sizeof(key), "%s.%s", arch, suffix);
        if (gguf_get_arr(g, key, &a) == 0 && a.n > 0 && a.type != GGUF_TYPE_STRING)
                return (int)gguf_arr_i64(&a, 0);
        if (gguf_get_i64(g, key, &v) == 0 && v >= 0 && v < (1 << 30))
                return (int)v;
        return def;
}

int quantize_file(const char *in_path, const char *out_path, const char *type_name,
                  int n_threads, quantize_progress_fn progress, void *ud,
                  struct quantize_stats *st, struct mu_err *err)
{
        struct gguf *g = NULL;
        struct gguf_writer *w = NULL;
        struct mu_pool *pool = NULL;
        struct qstate q = {0};
        int64_t n, *order = NULL;
        uint8_t **bufs = NULL;
        const char *arch;
        int rc, def;

        memset(st, 0, sizeof(*st));
        q.ftype = quantize_ftype_from_name(type_name);
        if (q.ftype < 0)
                return mu_fail(err, MU_EINVAL, "unknown quantization type '%s' (one of: %s)",
                               type_name ? type_name : "", quantize_type_names());
        def = ftype_default_type(q.ftype);
        if ((rc = gguf_open(&g, in_path, err)) < 0)
                return rc;
        arch = gguf_get_str(g, "general.architecture");
        if (!arch) {
                rc = mu_fail(err, MU_EFORMAT, "%s: missing key 'general.architecture'", in_path);
                goto out;
        }
        {
                int nh = read_u32_key(g, arch, "attention.head_count", 0);
                int nkv = read_u32_key(g, arch, "attention.head_count_kv", nh);
                q.n_gqa = nkv > 0 ? nh / nkv : 0;
                q.n_layer = read_u32_key(g, arch, "block_count", 0);
                q.is_70b = !strcmp(arch, "llama") && q.n_layer == 80 && nh != nkv;
        }
        n = gguf_n_tensors(g);
        order = mu_xcalloc((size_t)n + 1, sizeof(*order));
        bufs = mu_xcalloc((size_t)n + 1, sizeof(*bufs));
        for (int64_t i = 0; i < n; i++)
                order[i] = i;
        sort_g = g;
        qsort(order, (size_t)n, sizeof(*order), cmp_tensors);
        q.tied = 1;
        for (int64_t i = 0; i < n; i++) {
                enum cat c = category(gguf_tensor(g, i)->name);
                q.n_attn_wv += is_attn_v(c);
                if (c == C_OUTPUT)
                        q.tied = 0;
        }

        w = gguf_writer_create();
        for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                const char *k = gguf_key(g, i);
                /* ggml's setters remove a key and append it again */
                gguf_writer_remove_kv(w, k);
                gguf_writer_copy_kv(w, g, i);
        }
        gguf_writer_remove_kv(w, "general.quantization_version");
        gguf_writer_set_u32(w, "general.quantization_version", 2);
        gguf_writer_remove_kv(w, "general.file_type");
        gguf_writer_set_u32(w, "general.file_type", (uint32_t)q.ftype);
        gguf_writer_remove_kv(w, "split.no");
        gguf_writer_remove_kv(w, "split.count");
        gguf_writer_remove_kv(w, "split.tensors.count");

        pool = mu_pool_create(n_threads);
        for (int64_t k = 0; k < n; k++) {
                const struct gguf_tensor_info *ti = gguf_tensor(g, order[k]);
                int nd = n_dims_of(ti), t = ti->type;

                if (progress)
                        progress(ud, (int)k, (int)n, ti->name);
                if (allows_quantization(ti, nd)) {
                        t = def;
                        if (is_quantized(def)) {
                                t = mix_type(&q, def, ti, category(ti->name));
                                t = fallback(&q, ti, t);
                        }
                }
                st->bytes_in += ti->size;
                if (t == ti->type) {
                        rc = gguf_writer_add_tensor(w, ti->name, t, nd, ti->ne, ti->data,
                                                    ti->size, err);
                        st->bytes_out += ti->size;
                } else {
                        if (!cpu_kernels_scalar.q[ti->type].to_float && ti->type != MU_TYPE_F32) {
                                rc = mu_fail(err, MU_EUNSUPPORTED,
                                             "tensor '%s' has type %s, which cannot be "
                                             "converted", ti->name, mu_type_name(ti->type));
                                goto out;
                        }
                        struct job j = {ti, t, 1, ti->ne[0], 0, 0, NULL};
                        for (int d = 1; d < MU_MAX_DIMS; d++)
                                j.n_rows *= ti->ne[d];
                        j.src_row = mu_row_size(ti->type, ti->ne[0]);
                        j.dst_row = mu_row_size(t, ti->ne[0]);
                        if (!j.src_row || !j.dst_row) {
                                rc = mu_fail(err, MU_EFORMAT, "tensor '%s': bad row size",
                                             ti->name);
                                goto out;
                        }
                        bufs[k] = j.dst = mu_xmalloc(j.dst_row * (size_t)j.n_rows);
                        mu_pool_run(pool, convert_rows, &j);
                        rc = gguf_writer_add_tensor(w, ti->name, t, nd, ti->ne, j.dst,
                                                    j.dst_row * (size_t)j.n_rows, err);
                        st->bytes_out += j.dst_row * (size_t)j.n_rows;
                        st->n_converted++;
                }
                if (rc < 0)
                        goto out;
                st->n_tensors++;
        }
        st->n_fallback = q.n_fallback;
        rc = gguf_writer_write(w, out_path, err);
out:
        for (int64_t k = 0; bufs && k < n; k++)
                free(bufs[k]);
        free(bufs);
        free(order);
        mu_pool_free(pool);
        gguf_writer_free(w);
        gguf_close(g);
        return rc;
}
