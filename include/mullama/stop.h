/* stop.h -- stop strings over streamed text.
 *
 * A struct stop_matcher sits between the token decoder and the output: it is
 * fed decoded pieces as they stream and appends to an output buffer only the
 * text that can no longer be part of a stop string.  A suffix that could be
 * the start of a stop string is held back until the next piece settles it.
 * When a stop string completes, the matcher appends the text before it,
 * reports the stop, and never emits the stop string or anything after it.
 *
 * Semantics (independent of how the text is split into pieces): generation
 * stops at the first position where any stop string ends; when several end
 * there, the one that starts first (the longest) is the match.  So with stops
 * "ab" and "abc", the text "xabc" stops after "xab" and emits "x".
 *
 * UTF-8: output is cut only at character boundaries.  Pieces are expected to
 * hold whole characters, but an incomplete sequence at the end of the pending
 * text is held back too, so a character split across pieces is never split
 * in the output.  Empty stop strings are ignored.
 *
 * Not thread-safe; one matcher per generation (or stop_matcher_reset()). */
#ifndef MULLAMA_STOP_H
#define MULLAMA_STOP_H

#include <stddef.h>

#include "mullama/mullama.h"

struct stop_matcher;

/* Copies the n_stops strings (stops may be NULL when n_stops is 0; NULL
 * entries are ignored like empty ones).  Never fails (aborts on OOM). */
struct stop_matcher *stop_matcher_create(const char *const *stops, int n_stops);
void stop_matcher_free(struct stop_matcher *m);  /* NULL is a no-op */

/* Feed piece[0, len).  Appends the text that is now safe to out.  Returns 1
 * when a stop string has completed (out then got the text before it; later
 * feeds append nothing and return 1), 0 otherwise. */
int stop_matcher_feed(struct stop_matcher *m, const char *piece, size_t len,
                      struct mu_buf *out);

/* End of generation without a stop (EOS, num_predict): append whatever is
 * still held back.  Nothing after a stop. */
void stop_matcher_flush(struct stop_matcher *m, struct mu_buf *out);

/* Forget pending text and the stop state; keep the stop strings. */
void stop_matcher_reset(struct stop_matcher *m);

/* Index (into the array given to create) of the stop string that matched,
 * or -1 while none has. */
int stop_matcher_which(const struct stop_matcher *m);

/* Bytes currently held back. */
size_t stop_matcher_held(const struct stop_matcher *m);

#endif
