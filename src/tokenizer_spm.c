/* tokenizer_spm.c -- SentencePiece (BPE-style) encoding of one raw fragment.
 *
 * Spaces become U+2581 (and one is prefixed when asked), the text is cut
 * into UTF-8 characters, and adjacent symbols whose concatenation is a
 * vocabulary piece are merged, highest score first (ties: leftmost first),
 * until no pair is in the vocabulary.  A final symbol that is not a piece
 * (a character the vocabulary lacks) is written as <0xNN> byte tokens, or
 * the unknown token when even those are missing.
 *
 * Cost: O(n log n) in the fragment length with one hash lookup per queued
 * pair; symbols stay contiguous in the buffer, so a pair is looked up in
 * place without copying. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode.h"

/* Order-preserving map of a float to an unsigned key (ascending). */
static uint32_t float_key(float f)
{
        uint32_t u;

        if (f == 0.0f)
                f = 0.0f;  /* -0 ties with +0 */
        memcpy(&u, &f, sizeof(u));
        return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static void try_bigram(const struct tokenizer *t, const struct tok_sym *sym, int32_t l,
                       int32_t r, struct bigram_heap *h)
{
        uint32_t size;
        int32_t id;

        if (l < 0 || r < 0)
                return;
        size = sym[l].n + sym[r].n;
        id = strmap_get(&t->vocab, sym[l].text, size);
        if (id < 0)
                return;
        /* higher score first, then smaller left index */
        bigram_heap_push(h, (struct bigram){
                                    (uint64_t)(~float_key(t->score[id])) << 32 | (uint32_t)l,
                                    l, r, size});
}

void tokenizer_spm_encode(const struct tokenizer *t, const char *text, size_t len,
                          int prefix_space, struct tok_ids *out)
{
        struct mu_buf b = MU_BUF_INIT;
        struct bigram_heap h = {0};
        struct tok_sym *sym;
        struct bigram bg;
        size_t n_sym = 0;

        if (prefix_space)
                mu_buf_add(&b, "\xe2\x96\x81", 3);
        for (size_t i = 0; i < len; i++) {
                if (text[i] == ' ')
                        mu_buf_add(&b, "\xe2\x96\x81", 3);
                else
                        mu_buf_addc(&b, text[i]);
        }
        if (!b.len) {
                mu_buf_release(&b);
                return;
        }
        sym = mu_xmalloc(b.len * sizeof(*sym));
        for (size_t off = 0; off < b.len;) {
                size_t n = unicode_len_utf8((unsigned char)b.data[off]);
                if (n > b.len - off)
                        n = b.len - off;
                sym[n_sym] = (struct tok_sym){b.data + off, (uint32_t)n, (int32_t)n_sym - 1,
                                              off + n == b.len ? -1 : (int32_t)n_sym + 1};
                off += n;
                n_sym++;
        }
        for (size_t i = 1; i < n_sym; i++)
                try_bigram(t, sym, (int32_t)i - 1, (int32_t)i, &h);
        while (bigram_heap_pop(&h, &bg)) {
                struct tok_sym *l = &sym[bg.left], *r = &sym[bg.right];
                if (!l->n || !r->n || l->n + r->n != bg.size)
                        continue;
                l->n += r->n;
                r->n = 0;
                l->next = r->next;
                if (r->next >= 0)
                        sym[r->next].prev = bg.left;
                try_bigram(t, sym, l->prev, bg.left, &h);
                try_bigram(t, sym, bg.left, l->next, &h);
        }
        for (int32_t i = 0; i >= 0; i = sym[i].next) {
                int32_t id = strmap_get(&t->vocab, sym[i].text, sym[i].n);
                if (id >= 0) {
                        tok_ids_push(out, id);
                        continue;
                }
                for (uint32_t k = 0; k < sym[i].n; k++) {
                        int32_t bt = t->byte_tok[(unsigned char)sym[i].text[k]];
                        if (bt < 0)
                                bt = t->unk;
                        if (bt >= 0)
                                tok_ids_push(out, bt);
                }
        }
        free(sym);
        free(h.v);
        mu_buf_release(&b);
}
