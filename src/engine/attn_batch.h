/* attn_batch.h -- tiled causal attention for prompt batches (attn_batch.c). */
#ifndef MULLAMA_ATTN_BATCH_H
#define MULLAMA_ATTN_BATCH_H

struct session;

/* Batches of at least 64 tokens: llama.cpp's CPU flash attention switches to
 * its tiled f32 path at 64 query rows, and below that rounds q and the V
 * accumulator to f16 (attn_f16.c, which forward.c uses under this size). */
#define ATTN_BATCH_MIN_TOK 64

/* s->att for the n queries in s->q at positions [p0, p0 + n) of layer il;
 * 0, or -1 when not applicable (the caller computes it then). */
int attn_batch(struct session *s, int il, int n, int p0);

#endif
