/* tokenizer_impl.h -- what the tokenizer_*.c files share: the struct
 * tokenizer itself, a string -> int hash map over an arena, a small binary
 * heap for bigram merges, and a growable id vector.  Internal. */
#ifndef MULLAMA_TOKENIZER_IMPL_H
#define MULLAMA_TOKENIZER_IMPL_H

#include <stdint.h>
#include <string.h>

#include "mullama/tokenizer.h"

/* ---- id vector ----------------------------------------------------------- */

struct tok_ids {
        int32_t *v;
        size_t n, cap;
};

static inline void tok_ids_push(struct tok_ids *a, int32_t id)
{
        if (a->n == a->cap) {
                a->cap = a->cap ? a->cap * 2 : 64;
                a->v = mu_xrealloc(a->v, a->cap * sizeof(*a->v));
        }
        a->v[a->n++] = id;
}

/* ---- string map ---------------------------------------------------------- */

/* Keys are (offset, length) into an arena the owner keeps alive. */
struct strmap_ent {
        uint32_t off, len;
        uint32_t hash;
        int32_t val;
};

struct strmap {
        const char *arena;
        struct strmap_ent *ent;
        uint32_t *slot;  /* index + 1 into ent; 0 = empty */
        size_t mask, n, cap;
};

uint32_t strmap_hash(const char *s, size_t len);
void strmap_init(struct strmap *m, size_t expected);
/* Insert; an existing key keeps its value unless replace is set. The arena
 * pointer must be set (m->arena) before lookups. */
void strmap_put(struct strmap *m, const char *arena, uint32_t off, uint32_t len,
                int32_t val, int replace);
int32_t strmap_get(const struct strmap *m, const char *s, size_t len);  /* -1 */
void strmap_release(struct strmap *m);

/* ---- bigram heap --------------------------------------------------------- */

/* Min-heap on key; ties are impossible to matter (see the users). */
struct bigram {
        uint64_t key;   /* priority: smaller first */
        int32_t left, right;
        uint32_t size;  /* bytes of left + right when queued */
};

struct bigram_heap {
        struct bigram *v;
        size_t n, cap;
};

void bigram_heap_push(struct bigram_heap *h, struct bigram b);
int bigram_heap_pop(struct bigram_heap *h, struct bigram *out);  /* 0 empty */

/* Symbols of a word being merged: a doubly linked list over text slices. */
struct tok_sym {
        const char *text;
        uint32_t n;
        int32_t prev, next;
};

/* ---- pre-tokenizer (pretok.c) -------------------------------------------- */

struct pretok;
/* Regexes for tokenizer.ggml.pre name; unknown -> GPT-2 with a warning. */
int pretok_create(struct pretok **out, const char *pre, struct mu_err *err);
void pretok_free(struct pretok *p);
/* Split valid UTF-8 text into words: appends (start, end) byte offset pairs
 * to *cuts (as consecutive size_t values; n counts pairs). */
int pretok_split(const struct pretok *p, const char *text, size_t len, size_t **cuts,
                 size_t *n, size_t *cap, struct mu_err *err);

/* ---- the tokenizer --------------------------------------------------------- */

struct tokenizer {
        int type;  /* enum tokenizer_type */
        char *pre;
        int32_t n_vocab;

        char *text;          /* all token strings, each NUL-terminated */
        uint32_t *text_off;  /* [n_vocab] */
        uint32_t *text_len;  /* [n_vocab] */
        float *score;        /* [n_vocab] */
        uint16_t *attr;      /* [n_vocab] enum tokenizer_attr */
        uint8_t *eog;        /* [n_vocab] 1 = end of generation */
        struct strmap vocab;
        size_t max_token_len;

        int32_t bos, eos, eot, eom, unk, sep, pad, mask, nl;
        int add_bos, add_eos, add_sep, add_space_prefix, ignore_merges;
        int wpm_lowercase, wpm_strip_accents;

        /* special tokens (control/user-defined/unknown) in the order they
         * are cut out: longest text first, then lower id */
        int32_t *special;
        size_t n_special;
        /* byte tries over special strings: [0] all, [1] user-defined only
         * (what is cut when parse_special is off) */
        struct trie_node {
                int32_t child, sibling;  /* -1 none */
                int32_t rank;            /* index in special[], -1 none */
                uint8_t byte;
        } *trie[2];
        size_t trie_n[2];

        char *piece;  /* rendered pieces (special form), see tokenizer_piece */
        uint32_t *piece_off, *piece_len;

        int32_t byte_tok[256];  /* SPM <0xNN> / BPE byte char token, -1 */

        /* BPE */
        char *merge_text;  /* "left\xffright" keys */
        struct strmap merges;
        struct pretok *pretok;
};

static inline const char *tok_text(const struct tokenizer *t, int32_t id)
{
        return t->text + t->text_off[id];
}

/* Per-model encoders of one raw fragment; append to out. */
void tokenizer_spm_encode(const struct tokenizer *t, const char *text, size_t len,
                          int prefix_space, struct tok_ids *out);
int tokenizer_bpe_init(struct tokenizer *t, const struct gguf *g, struct mu_err *err);
int tokenizer_bpe_encode(const struct tokenizer *t, const char *text, size_t len,
                         struct tok_ids *out, struct mu_err *err);
void tokenizer_wpm_encode(const struct tokenizer *t, const char *text, size_t len,
                          struct tok_ids *out);

/* GPT-2 bytes_to_unicode: the code point byte b is shown as, and back. */
uint32_t tokenizer_byte_to_cp(uint8_t b);
int tokenizer_cp_to_byte(uint32_t cp);  /* -1 when cp is not one of them */

#endif
