/* model_info.h -- facts about a model, computed from its GGUF metadata and
 * tensor table (no weights are read): what `mullama show` and the server's
 * /api/show report.
 *
 * Hyper-parameters come from "<arch>.*" keys (llama.context_length, ...);
 * any that is absent is -1 (numbers) or NULL (strings).  The parameter count
 * is the sum of the tensors' element counts, as Ollama counts it (a tied
 * output.weight stored twice counts twice).  Strings are borrowed from the
 * struct gguf and live until gguf_close(). */
#ifndef MULLAMA_MODEL_INFO_H
#define MULLAMA_MODEL_INFO_H

#include <stdint.h>

#include "mullama/gguf.h"
#include "mullama/mullama.h"

struct model_info_group {   /* a set of tensors: one type, or one block */
        int64_t n_tensors;
        uint64_t n_elems;
        uint64_t bytes;
};

struct model_info {
        const char *arch;            /* general.architecture */
        const char *name;            /* general.name */
        uint64_t n_params;
        int64_t n_tensors;
        uint64_t tensor_bytes;
        int64_t ctx_len, embd_len, n_block, ffn_len, n_head, n_head_kv;
        double rope_freq_base;       /* NAN when absent */
        int64_t rope_dims;
        const char *rope_scaling;    /* <arch>.rope.scaling.type */
        double rope_scaling_factor;  /* NAN when absent */
        int64_t rope_orig_ctx;       /* <arch>.rope.scaling.original_context_length */
        int64_t vocab_size;          /* tokens in tokenizer.ggml.tokens */
        const char *tok_model, *tok_pre;
        int64_t file_type;           /* general.file_type, -1 absent */
        const char *quant;           /* its name, or the dominant tensor type */
        struct model_info_group types[MU_TYPE_COUNT];
        const char *chat_template;   /* tokenizer.chat_template */
        const char *license;         /* general.license */
        int cap_completion, cap_embedding, cap_vision, cap_tools;
        /* per block ("blk.N."), and tensors outside any block */
        struct model_info_group *blocks;
        int n_blocks;
        struct model_info_group other;
};

/* Fill mi from g (cannot fail on a GGUF that parsed).  Release with
 * model_info_release(). */
void model_info_get(struct model_info *mi, const struct gguf *g);
void model_info_release(struct model_info *mi);

/* Ollama's parameter-count style: 292800 -> "293K", 134515008 ->
 * "134.52M", 1100048384 -> "1.1B", 7000000000 -> "7B". */
void model_info_human_count(uint64_t n, char *buf, size_t size);
/* Bytes as "1.2 MiB", "93.8 MiB", "512 B". */
void model_info_human_bytes(uint64_t n, char *buf, size_t size);

/* Block index of a tensor name "blk.N.*", else -1. */
int model_info_block_of(const char *tensor_name);

/* Render kv i's value as text: scalars as numbers, strings quoted only in
 * arrays, arrays as [ "a", "b", ... 49152 items ] with at most max_items
 * shown (0: all).  Strings are cut at 200 bytes and control characters
 * escaped, so one kv is one line. */
void model_info_kv_text(const struct gguf *g, int64_t i, int max_items, struct mu_buf *out);

#endif
