/* attn_batch.h -- tiled causal attention for prompt batches (attn_batch.c). */
#ifndef MULLAMA_ATTN_BATCH_H
#define MULLAMA_ATTN_BATCH_H

struct session;

#define ATTN_BATCH_MIN_TOK 8

/* s->att for the n queries in s->q at positions [p0, p0 + n) of layer il;
 * 0, or -1 when not applicable (the caller computes it then). */
int attn_batch(struct session *s, int il, int n, int p0);

#endif
