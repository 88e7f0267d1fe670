/* types.h -- ggml tensor element types (the numbering GGUF files use), their
 * names, block sizes and bytes per block; and struct mu_tensor, a borrowed
 * view of one tensor's data.
 *
 * This is pure data: any type a GGUF file may hold is described here, so
 * `show` can describe files the engine cannot run.  What the engine can run
 * (dequantize, quantize, dot products) is in kernels.h. */
#ifndef MULLAMA_TYPES_H
#define MULLAMA_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum mu_type {
        MU_TYPE_F32 = 0,
        MU_TYPE_F16 = 1,
        MU_TYPE_Q4_0 = 2,
        MU_TYPE_Q4_1 = 3,
        MU_TYPE_Q5_0 = 6,
        MU_TYPE_Q5_1 = 7,
        MU_TYPE_Q8_0 = 8,
        MU_TYPE_Q8_1 = 9,
        MU_TYPE_Q2_K = 10,
        MU_TYPE_Q3_K = 11,
        MU_TYPE_Q4_K = 12,
        MU_TYPE_Q5_K = 13,
        MU_TYPE_Q6_K = 14,
        MU_TYPE_Q8_K = 15,
        MU_TYPE_IQ2_XXS = 16,
        MU_TYPE_IQ2_XS = 17,
        MU_TYPE_IQ3_XXS = 18,
        MU_TYPE_IQ1_S = 19,
        MU_TYPE_IQ4_NL = 20,
        MU_TYPE_IQ3_S = 21,
        MU_TYPE_IQ2_S = 22,
        MU_TYPE_IQ4_XS = 23,
        MU_TYPE_I8 = 24,
        MU_TYPE_I16 = 25,
        MU_TYPE_I32 = 26,
        MU_TYPE_I64 = 27,
        MU_TYPE_F64 = 28,
        MU_TYPE_IQ1_M = 29,
        MU_TYPE_BF16 = 30,
        MU_TYPE_TQ1_0 = 34,
        MU_TYPE_TQ2_0 = 35,
        MU_TYPE_MXFP4 = 39,
        MU_TYPE_COUNT = 40,
};

struct mu_type_info {
        const char *name;  /* "Q4_K"; NULL for unused ids */
        int blck_size;     /* elements per block */
        int type_size;     /* bytes per block */
        int is_quant;
};

/* NULL when t is not a known type id. */
const struct mu_type_info *mu_type_info(int t);
const char *mu_type_name(int t);  /* "?" when unknown */
int mu_type_from_name(const char *name);  /* case-insensitive; -1 if unknown */
/* Bytes of one row of ne0 elements; 0 when ne0 is not a multiple of the block
 * size or the type is unknown. */
size_t mu_row_size(int t, int64_t ne0);

/* ggml's general.file_type (LLAMA_FTYPE_*) names: "Q4_K - Medium", ... */
const char *mu_ftype_name(int ftype);

#define MU_MAX_DIMS 4

/* A view of a tensor's data.  data is borrowed (from an mmap, a GGUF being
 * written, or a scratch buffer) and rows are contiguous: row r of a 2-D
 * tensor starts at data + r * mu_row_size(type, ne[0]). */
struct mu_tensor {
        const char *name;
        int type;                /* enum mu_type */
        int n_dims;
        int64_t ne[MU_MAX_DIMS]; /* ne[0] = row length (columns); unused = 1 */
        const void *data;
        size_t size;             /* bytes */
};

#endif
