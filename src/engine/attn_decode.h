/* attn_decode.h -- attention for one query token, split over key ranges
 * (attn_decode.c). */
#ifndef MULLAMA_ATTN_DECODE_H
#define MULLAMA_ATTN_DECODE_H

struct session;

/* s->att for the one query in s->q at position pos of layer il; 0, or -1
 * when not applicable (the caller computes it then). */
int attn_decode(struct session *s, int il, int pos);

#endif
