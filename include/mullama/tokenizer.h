/* tokenizer.h -- text <-> token ids, built from a GGUF file's tokenizer.ggml.*
 * metadata, and a streaming detokenizer.
 *
 * Models (tokenizer.ggml.model):
 *   "llama"  SentencePiece (SPM): pieces with scores, best-scoring bigram
 *            merged first; ' ' is stored as U+2581; unknown characters fall
 *            back to <0xNN> byte tokens; a space is prefixed to the text
 *            unless tokenizer.ggml.add_space_prefix is false.
 *   "gpt2"   byte-level BPE: the text is split by the pre-tokenizer regexes
 *            chosen by tokenizer.ggml.pre (PCRE2), every byte is mapped to a
 *            printable code point (GPT-2 bytes_to_unicode), and the pairs in
 *            tokenizer.ggml.merges are applied by rank.
 *   "bert"   WordPiece: BERT basic normalisation (lowercase, accents
 *            stripped, punctuation and CJK split), greedy longest match;
 *            GGUF stores word starts as "\u2581word", continuations bare.
 * The behaviour, including the corner cases, follows llama.cpp's tokenizer
 * so that ids match its output exactly (tests/test_tokenizer.c).
 *
 * Token types (tokenizer.ggml.token_type): 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte.  Control, user-defined and unknown
 * tokens are "special": before the model's algorithm runs, the text is cut
 * at their strings (longest first).  User-defined ones are always cut out;
 * control and unknown ones only when parse_special is set.
 *
 * Ownership: tokenizer_create() copies everything it needs, so the struct
 * gguf may be closed afterwards.  A tokenizer is read-only after creation
 * and may be used from several threads at once.  Ids are int32_t; -1 means
 * "no such token". */
#ifndef MULLAMA_TOKENIZER_H
#define MULLAMA_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/gguf.h"
#include "mullama/mullama.h"

enum tokenizer_type {
        TOKENIZER_SPM = 1,  /* "llama" */
        TOKENIZER_BPE = 2,  /* "gpt2" */
        TOKENIZER_WPM = 3,  /* "bert" */
};

/* Token attributes (bit set), derived from token_type and from names. */
enum tokenizer_attr {
        TOKENIZER_ATTR_UNDEFINED = 0,
        TOKENIZER_ATTR_UNKNOWN = 1 << 0,
        TOKENIZER_ATTR_UNUSED = 1 << 1,
        TOKENIZER_ATTR_NORMAL = 1 << 2,
        TOKENIZER_ATTR_CONTROL = 1 << 3,
        TOKENIZER_ATTR_USER_DEFINED = 1 << 4,
        TOKENIZER_ATTR_BYTE = 1 << 5,
        TOKENIZER_ATTR_LSTRIP = 1 << 7,  /* eat whitespace before it */
        TOKENIZER_ATTR_RSTRIP = 1 << 8,  /* eat whitespace after it */
};

struct tokenizer;

/* ---- lifetime ----------------------------------------------------------- */

/* Build the tokenizer described by g's metadata.  MU_ENOTFOUND when the
 * file has no vocabulary, MU_EUNSUPPORTED for a model type other than
 * llama/gpt2/bert, MU_EFORMAT for inconsistent arrays.  An unknown
 * tokenizer.ggml.pre falls back to the GPT-2 regex with a warning. */
int tokenizer_create(struct tokenizer **out, const struct gguf *g, struct mu_err *err);
void tokenizer_free(struct tokenizer *t);  /* NULL is a no-op */

/* ---- encoding ----------------------------------------------------------- */

/* Tokenize len bytes of text.  add_special: add BOS (and EOS, or CLS/SEP
 * for bert) as the model asks (tokenizer.ggml.add_bos_token /
 * add_eos_token, defaults per model type).  parse_special: also cut out
 * control tokens written in the text ("<|im_start|>" -> one id).  On
 * success *ids is a malloc'd array (caller frees; NULL when *n is 0).
 * Invalid UTF-8 is tokenized as U+FFFD (BPE, WPM) or as byte tokens (SPM). */
int tokenizer_encode(const struct tokenizer *t, const char *text, size_t len,
                     int add_special, int parse_special, int32_t **ids, size_t *n,
                     struct mu_err *err);

/* ---- decoding ----------------------------------------------------------- */

/* The bytes token id stands for (SPM: U+2581 -> ' ', <0xNN> -> byte; BPE:
 * byte-level code points -> bytes).  Control and unknown tokens give ""
 * unless special is set (then their text).  Borrowed until tokenizer_free;
 * not NUL-terminated in general (use *len).  Unknown id: "" and 0. */
const char *tokenizer_piece(const struct tokenizer *t, int32_t id, int special,
                            size_t *len);

/* Concatenate the pieces of ids into out (appended).  When the model adds a
 * space prefix (SPM default), one leading space of the first piece is
 * dropped, so decode(encode(x)) == x for text the model can represent. */
void tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n,
                      int special, struct mu_buf *out);

/* ---- vocabulary --------------------------------------------------------- */

int tokenizer_type(const struct tokenizer *t);  /* enum tokenizer_type */
const char *tokenizer_pre(const struct tokenizer *t);  /* "gpt-2", "" for SPM */
int32_t tokenizer_n_vocab(const struct tokenizer *t);
/* Raw vocabulary string of id (as stored in the GGUF), or NULL. */
const char *tokenizer_token_text(const struct tokenizer *t, int32_t id, size_t *len);
float tokenizer_token_score(const struct tokenizer *t, int32_t id);
unsigned tokenizer_token_attr(const struct tokenizer *t, int32_t id);
/* Id of the vocabulary string text (len bytes), or -1. */
int32_t tokenizer_find(const struct tokenizer *t, const char *text, size_t len);

int32_t tokenizer_bos(const struct tokenizer *t);  /* -1 when none */
int32_t tokenizer_eos(const struct tokenizer *t);
int32_t tokenizer_eot(const struct tokenizer *t);
int32_t tokenizer_unk(const struct tokenizer *t);
int32_t tokenizer_pad(const struct tokenizer *t);
int32_t tokenizer_sep(const struct tokenizer *t);
int32_t tokenizer_nl(const struct tokenizer *t);   /* the newline token */
int tokenizer_add_bos(const struct tokenizer *t);  /* 1 when BOS is prepended */
int tokenizer_add_eos(const struct tokenizer *t);
int tokenizer_add_space_prefix(const struct tokenizer *t);
/* End of generation: eos, eot, eom and tokens named like <|im_end|>,
 * <end_of_turn>, <|eot_id|>, <|end|>, <|endoftext|>, ... */
int tokenizer_is_eog(const struct tokenizer *t, int32_t id);
/* Control or unknown: printed as "" unless asked. */
int tokenizer_is_control(const struct tokenizer *t, int32_t id);

/* ---- streaming detokenizer ---------------------------------------------- */

/* Turns a stream of ids into bytes that are safe to print: a multi-byte
 * UTF-8 character split across tokens is held back until it is complete,
 * so a terminal or an NDJSON chunk never gets half a character.  Caller
 * storage; detok_release() frees the buffers. */
enum detok_flags {
        DETOK_SPECIAL = 1,        /* render control tokens as their text */
        DETOK_STRIP_LEADING = 2,  /* drop the leading space of the first
                                   * piece when the model adds a prefix */
};

struct detok {
        const struct tokenizer *tok;  /* borrowed */
        unsigned flags;
        int started;
        struct mu_buf pending;  /* bytes of an incomplete character */
        struct mu_buf out;      /* what the last call returned */
};

void detok_init(struct detok *d, const struct tokenizer *t, unsigned flags);
/* Add id; returns the bytes now ready (maybe none: *len 0), borrowed
 * until the next call on d. */
const char *detok_push(struct detok *d, int32_t id, size_t *len);
/* End of stream: whatever is held back, as is (an incomplete sequence). */
const char *detok_flush(struct detok *d, size_t *len);
void detok_release(struct detok *d);

#endif
