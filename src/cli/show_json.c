/* show_json.c -- `mullama show --json`: the facts of cli/show.c as one JSON
 * object (cJSON).  Absent facts are null.  Counts are exact numbers
 * (parameter_count is the sum of tensor elements); parameter_size is the
 * Ollama-style short form.  With --verbose: "metadata" (every kv, arrays in
 * full) and "tensor_list". */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "cli/show.h"

static void add_i64(cJSON *o, const char *k, int64_t v)
{
        if (v >= 0)
                cJSON_AddNumberToObject(o, k, (double)v);
        else
                cJSON_AddNullToObject(o, k);
}

static void add_f64(cJSON *o, const char *k, double v)
{
        if (!isnan(v))
                cJSON_AddNumberToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}

static cJSON *group(const struct model_info_group *g)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddNumberToObject(o, "tensors", (double)g->n_tensors);
        cJSON_AddNumberToObject(o, "parameters", (double)g->n_elems);
        cJSON_AddNumberToObject(o, "bytes", (double)g->bytes);
        return o;
}

static cJSON *scalar_json(int type, int64_t i, double f)
{
        if (type == GGUF_TYPE_FLOAT32 || type == GGUF_TYPE_FLOAT64)
                return isfinite(f) ? cJSON_CreateNumber(f) : cJSON_CreateNull();
        if (type == GGUF_TYPE_BOOL)
                return cJSON_CreateBool(i != 0);
        if (type == GGUF_TYPE_UINT64)
                return cJSON_CreateNumber((double)(uint64_t)i);
        return cJSON_CreateNumber((double)i);
}

static cJSON *kv_json(const struct gguf *g, int64_t i)
{
        int type = gguf_kv_type(g, i);
        struct gguf_arr a;
        int64_t iv = 0;
        double fv = 0;

        if (type == GGUF_TYPE_STRING)
                return cJSON_CreateString(gguf_kv_str(g, i, NULL));
        if (type != GGUF_TYPE_ARRAY) {
                gguf_kv_i64(g, i, &iv);
                gguf_kv_f64(g, i, &fv);
                return scalar_json(type, iv, fv);
        }
        cJSON *arr = cJSON_CreateArray();
        if (gguf_kv_arr(g, i, &a) == 0)
                for (uint64_t j = 0; j < a.n; j++)
                        cJSON_AddItemToArray(arr, a.type == GGUF_TYPE_STRING
                                ? cJSON_CreateString(gguf_arr_str(g, &a, j, NULL))
                                : scalar_json(a.type, gguf_arr_i64(&a, j),
                                              gguf_arr_f64(&a, j)));
        return arr;
}

void show_json(const struct show_model *m, int verbose)
{
        const struct model_info *mi = &m->mi;
        cJSON *o = cJSON_CreateObject(), *x;
        char buf[600];

        if (m->sm) {
                store_ref_display(&m->sm->ref, buf, sizeof(buf));
                cJSON_AddStringToObject(o, "model", buf);
                cJSON_AddStringToObject(o, "id", m->sm->id);
        }
        cJSON_AddStringToObject(o, "path", m->path);
        cJSON_AddNumberToObject(o, "file_size", (double)gguf_size(m->g));
        cJSON_AddNumberToObject(o, "gguf_version", gguf_version(m->g));
        add_str(o, "architecture", mi->arch);
        add_str(o, "name", mi->name);
        cJSON_AddNumberToObject(o, "parameter_count", (double)mi->n_params);
        model_info_human_count(mi->n_params, buf, sizeof(buf));
        cJSON_AddStringToObject(o, "parameter_size", buf);
        cJSON_AddNumberToObject(o, "tensor_count", (double)mi->n_tensors);
        cJSON_AddNumberToObject(o, "tensor_bytes", (double)mi->tensor_bytes);
        add_i64(o, "context_length", mi->ctx_len);
        add_i64(o, "embedding_length", mi->embd_len);
        add_i64(o, "block_count", mi->n_block);
        add_i64(o, "feed_forward_length", mi->ffn_len);
        add_i64(o, "head_count", mi->n_head);
        add_i64(o, "head_count_kv", mi->n_head_kv);
        x = cJSON_AddObjectToObject(o, "rope");
        add_f64(x, "freq_base", mi->rope_freq_base);
        add_i64(x, "dimension_count", mi->rope_dims);
        add_str(x, "scaling_type", mi->rope_scaling);
        add_f64(x, "scaling_factor", mi->rope_scaling_factor);
        add_i64(x, "original_context_length", mi->rope_orig_ctx);
        add_i64(o, "vocab_size", mi->vocab_size);
        add_str(o, "tokenizer_model", mi->tok_model);
        add_str(o, "tokenizer_pre", mi->tok_pre);
        add_i64(o, "file_type", mi->file_type);
        add_str(o, "quantization", mi->quant);
        x = cJSON_AddObjectToObject(o, "tensor_types");
        for (int t = 0; t < MU_TYPE_COUNT; t++)
                if (mi->types[t].n_tensors)
                        cJSON_AddItemToObject(x, mu_type_name(t), group(&mi->types[t]));
        cJSON_AddBoolToObject(o, "chat_template", m->tmpl != NULL);
        x = cJSON_AddArrayToObject(o, "capabilities");
        if (mi->cap_completion)
                cJSON_AddItemToArray(x, cJSON_CreateString("completion"));
        if (mi->cap_embedding)
                cJSON_AddItemToArray(x, cJSON_CreateString("embedding"));
        if (mi->cap_vision)
                cJSON_AddItemToArray(x, cJSON_CreateString("vision"));
        if (mi->cap_tools)
                cJSON_AddItemToArray(x, cJSON_CreateString("tools"));
        add_str(o, "template", m->tmpl);
        add_str(o, "system", m->system);
        if (m->params_json && (x = cJSON_Parse(m->params_json)))
                cJSON_AddItemToObject(o, "parameters", x);
        else
                cJSON_AddNullToObject(o, "parameters");
        add_str(o, "license", m->n_licenses ? m->licenses[0] : NULL);
        x = cJSON_AddArrayToObject(o, "layers");
        for (int i = 0; i < mi->n_blocks; i++) {
                cJSON *l = group(&mi->blocks[i]);
                cJSON_AddNumberToObject(l, "block", i);
                cJSON_AddItemToArray(x, l);
        }
        cJSON_AddItemToObject(o, "non_block", group(&mi->other));
        if (verbose) {
                x = cJSON_AddObjectToObject(o, "metadata");
                for (int64_t i = 0; i < gguf_n_kv(m->g); i++)
                        cJSON_AddItemToObject(x, gguf_key(m->g, i), kv_json(m->g, i));
                x = cJSON_AddArrayToObject(o, "tensor_list");
                for (int64_t i = 0; i < gguf_n_tensors(m->g); i++) {
                        const struct gguf_tensor_info *t = gguf_tensor(m->g, i);
                        cJSON *tj = cJSON_CreateObject(), *sh = cJSON_CreateArray();
                        cJSON_AddStringToObject(tj, "name", t->name);
                        cJSON_AddStringToObject(tj, "type", mu_type_name(t->type));
                        for (int d = 0; d < t->n_dims; d++)
                                cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->ne[d]));
                        cJSON_AddItemToObject(tj, "shape", sh);
                        cJSON_AddNumberToObject(tj, "bytes", (double)t->size);
                        cJSON_AddNumberToObject(tj, "offset", (double)t->offset);
                        int b = model_info_block_of(t->name);
                        if (b >= 0)
                                cJSON_AddNumberToObject(tj, "layer", b);
                        else
                                cJSON_AddNullToObject(tj, "layer");
                        cJSON_AddItemToArray(x, tj);
                }
        }
        char *s = cJSON_Print(o);
        if (s)
                printf("%s\n", s);
        free(s);
        cJSON_Delete(o);
}
