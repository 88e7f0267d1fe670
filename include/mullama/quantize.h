/* quantize.h -- write a GGUF with its weights converted to another type, the
 * way llama.cpp's llama-quantize does (same type per tensor, same bytes).
 *
 * A file type (Q4_K_M, Q8_0, F16, ...; llama-quantize's names, case
 * insensitive; Q3_K / Q4_K / Q5_K are the _M mixes) selects a default tensor
 * type; the per-tensor choice follows llama.cpp's mixture rules (output and
 * tied token embeddings in Q6_K, attn_v / ffn_down in more bits in some
 * layers for the _M mixes, fallbacks when a row length is not a multiple of
 * the block).  Only 2-D+ tensors whose name ends in "weight" (not norms)
 * are converted; everything else is copied.  Metadata is copied in order,
 * general.quantization_version and general.file_type are set (moved to the
 * end, as ggml's setters do), split keys dropped; tensors are written in
 * llama.cpp's loader order (by layer number, then by name).  With the same
 * input, the output file is byte-identical to llama-quantize's.
 *
 * Sources may be F32, F16, BF16 or any type the engine runs (dequantized
 * first, like llama-quantize --allow-requantize).  Types needing an
 * importance matrix (IQ*, Q2_K_S) are refused. */
#ifndef MULLAMA_QUANTIZE_H
#define MULLAMA_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"

/* LLAMA_FTYPE_* for a name ("q4_k_m" -> 15); -1 when unknown or not
 * supported. */
int quantize_ftype_from_name(const char *name);
/* The names quantize accepts, for help and error messages. */
const char *quantize_type_names(void);

struct quantize_stats {
        uint64_t bytes_in, bytes_out;  /* tensor data */
        int n_tensors, n_converted, n_fallback;
};

/* progress(ud, i, n, name): before tensor i of n (may be NULL). */
typedef void (*quantize_progress_fn)(void *ud, int i, int n, const char *name);

/* Quantize in_path to out_path (written atomically).  n_threads <= 0:
 * physical cores.  The result does not depend on n_threads. */
int quantize_file(const char *in_path, const char *out_path, const char *type_name,
                  int n_threads, quantize_progress_fn progress, void *ud,
                  struct quantize_stats *st, struct mu_err *err);

#endif
