/* kv_cache.c -- per-session K/V storage: for each layer, one row of
 * n_head_kv * head_dim elements per position, stored in F16 (default), Q8_0
 * or F32 and converted with the kernels' row quantizers. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

size_t kv_cache_bytes(const struct model *m, int n_ctx, int type)
{
        const struct model_hparams *hp = &m->hp;
        size_t k = mu_row_size(type, (int64_t)hp->n_head_kv * hp->head_dim_k);
        size_t v = mu_row_size(type, (int64_t)hp->n_head_kv * hp->head_dim_v);

        return (k + v) * (size_t)n_ctx * (size_t)hp->n_layer;
}

int kv_cache_init(struct kv_cache *c, const struct model *m, int n_ctx, int type,
                  struct mu_err *err)
{
        const struct model_hparams *hp = &m->hp;

        memset(c, 0, sizeof(*c));
        if (type != MU_TYPE_F16 && type != MU_TYPE_F32 && type != MU_TYPE_Q8_0)
                return mu_fail(err, MU_EINVAL, "kv cache type '%s' is not one of f16, q8_0, f32",
                               mu_type_name(type));
        if (type == MU_TYPE_Q8_0 && (hp->head_dim_k % 32 || hp->head_dim_v % 32))
                return mu_fail(err, MU_EUNSUPPORTED, "kv cache type 'q8_0' needs head dims that "
                               "are multiples of 32 (this model: %d, %d)", hp->head_dim_k,
                               hp->head_dim_v);
        c->type = type;
        c->n_ctx = n_ctx;
        c->n_layer = hp->n_layer;
        c->k_dim = hp->n_head_kv * hp->head_dim_k;
        c->v_dim = hp->n_head_kv * hp->head_dim_v;
        c->k_row = mu_row_size(type, c->k_dim);
        c->v_row = mu_row_size(type, c->v_dim);
        c->k = mu_xcalloc((size_t)c->n_layer, sizeof(*c->k));
        c->v = mu_xcalloc((size_t)c->n_layer, sizeof(*c->v));
        for (int il = 0; il < c->n_layer; il++) {
                c->k[il] = malloc(c->k_row * (size_t)n_ctx);
                c->v[il] = malloc(c->v_row * (size_t)n_ctx);
                if (!c->k[il] || !c->v[il]) {
                        kv_cache_release(c);
                        return mu_fail(err, MU_ENOMEM, "cannot allocate the kv cache (%zu bytes)",
                                       kv_cache_bytes(m, n_ctx, type));
                }
        }
        return 0;
}

void kv_cache_release(struct kv_cache *c)
{
        for (int il = 0; c->k && il < c->n_layer; il++) {
                free(c->k[il]);
                free(c->v[il]);
        }
        free(c->k);
        free(c->v);
        memset(c, 0, sizeof(*c));
}

void kv_cache_store(struct kv_cache *c, int il, int pos, int n, const float *k, const float *v)
{
        for (int i = 0; i < n; i++) {
                quant_quantize_row(c->type, k + (size_t)i * c->k_dim,
                                   c->k[il] + (size_t)(pos + i) * c->k_row, c->k_dim);
                quant_quantize_row(c->type, v + (size_t)i * c->v_dim,
                                   c->v[il] + (size_t)(pos + i) * c->v_row, c->v_dim);
        }
}

void kv_cache_move(struct kv_cache *c, int dst, int src, int n)
{
        for (int il = 0; il < c->n_layer; il++) {
                if (!c->k[il])  /* a block whose cache lives on the device */
                        continue;
                memmove(c->k[il] + (size_t)dst * c->k_row, c->k[il] + (size_t)src * c->k_row,
                        (size_t)n * c->k_row);
                memmove(c->v[il] + (size_t)dst * c->v_row, c->v[il] + (size_t)src * c->v_row,
                        (size_t)n * c->v_row);
        }
}
