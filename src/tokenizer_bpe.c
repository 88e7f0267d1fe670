/* tokenizer_bpe.c -- byte-level BPE (tokenizer.ggml.model "gpt2").
 *
 * A raw fragment is made valid UTF-8 (bad bytes -> U+FFFD), split into words
 * by the pre-tokenizer (pretok.c), and each word's bytes are written as GPT-2
 * byte code points.  Adjacent symbols are then merged by the rank of the pair
 * in tokenizer.ggml.merges (lowest rank first, ties leftmost first).  With
 * ignore_merges (llama3-style vocabularies) a word that is itself a token is
 * taken whole.  A final symbol missing from the vocabulary falls back to
 * single-byte tokens where they exist (as llama.cpp does).
 *
 * Merges are keyed "left\xffright" (0xFF never occurs in UTF-8) in a hash
 * map; the first occurrence of a pair gives its rank. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode.h"

int tokenizer_bpe_init(struct tokenizer *t, const struct gguf *g, struct mu_err *err)
{
        struct gguf_arr m;
        struct mu_buf arena = MU_BUF_INIT;
        uint32_t *off, *len;
        int rc;

        if (gguf_get_arr(g, "tokenizer.ggml.merges", &m) != 0 || m.type != GGUF_TYPE_STRING)
                return mu_fail(err, MU_EFORMAT, "bpe tokenizer without "
                               "'tokenizer.ggml.merges'");
        if (m.n > INT32_MAX)
                return mu_fail(err, MU_EFORMAT, "too many merges (%llu)",
                               (unsigned long long)m.n);
        off = mu_xmalloc((m.n + 1) * sizeof(*off));
        len = mu_xmalloc((m.n + 1) * sizeof(*len));
        for (uint64_t i = 0; i < m.n; i++) {
                size_t n = 0;
                const char *s = gguf_arr_str(g, &m, i, &n);
                const char *sp = s && n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;

                off[i] = (uint32_t)arena.len;
                len[i] = 0;
                if (!sp)
                        continue;
                mu_buf_add(&arena, s, (size_t)(sp - s));
                mu_buf_addc(&arena, (char)0xFF);
                mu_buf_add(&arena, sp + 1, n - (size_t)(sp - s) - 1);
                len[i] = (uint32_t)(arena.len - off[i]);
                if (arena.len > UINT32_MAX / 2) {
                        free(off);
                        free(len);
                        mu_buf_release(&arena);
                        return mu_fail(err, MU_EFORMAT, "merges too large");
                }
        }
        t->merge_text = mu_buf_detach(&arena);
        if (!t->merge_text)
                t->merge_text = mu_xstrdup("");
        strmap_init(&t->merges, m.n);
        t->merges.arena = t->merge_text;
        for (uint64_t i = 0; i < m.n; i++)
                if (len[i])
                        strmap_put(&t->merges, t->merge_text, off[i], len[i], (int32_t)i, 0);
        free(off);
        free(len);
        rc = pretok_create(&t->pretok, t->pre, err);
        return rc;
}

struct bpe_ctx {
        const struct tokenizer *t;
        struct tok_sym *sym;
        struct bigram_heap heap;
        struct mu_buf key;
};

static void add_bigram(struct bpe_ctx *c, int32_t l, int32_t r)
{
        int32_t rank;

        if (l < 0 || r < 0)
                return;
        mu_buf_reset(&c->key);
        mu_buf_add(&c->key, c->sym[l].text, c->sym[l].n);
        mu_buf_addc(&c->key, (char)0xFF);
        mu_buf_add(&c->key, c->sym[r].text, c->sym[r].n);
        rank = strmap_get(&c->t->merges, c->key.data, c->key.len);
        if (rank < 0)
                return;
        bigram_heap_push(&c->heap, (struct bigram){(uint64_t)(uint32_t)rank << 32 | (uint32_t)l,
                                                   l, r, c->sym[l].n + c->sym[r].n});
}

static void encode_word(struct bpe_ctx *c, const char *w, size_t n, struct tok_ids *out)
{
        const struct tokenizer *t = c->t;
        size_t n_sym = 0;
        struct bigram bg;
        int32_t id;

        if (t->ignore_merges && (id = strmap_get(&t->vocab, w, n)) >= 0) {
                tok_ids_push(out, id);
                return;
        }
        for (size_t off = 0; off < n;) {
                size_t l = unicode_len_utf8((unsigned char)w[off]);
                if (l > n - off)
                        l = n - off;
                c->sym[n_sym] = (struct tok_sym){w + off, (uint32_t)l, (int32_t)n_sym - 1,
                                                 off + l == n ? -1 : (int32_t)n_sym + 1};
                off += l;
                n_sym++;
        }
        c->heap.n = 0;
        for (size_t i = 1; i < n_sym; i++)
                add_bigram(c, (int32_t)i - 1, (int32_t)i);
        while (bigram_heap_pop(&c->heap, &bg)) {
                struct tok_sym *l = &c->sym[bg.left], *r = &c->sym[bg.right];
                if (!l->n || !r->n || l->n + r->n != bg.size)
                        continue;
                l->n += r->n;
                r->n = 0;
                l->next = r->next;
                if (r->next >= 0)
                        c->sym[r->next].prev = bg.left;
                add_bigram(c, l->prev, bg.left);
                add_bigram(c, bg.left, l->next);
        }
        for (int32_t i = n_sym ? 0 : -1; i >= 0; i = c->sym[i].next) {
                id = strmap_get(&t->vocab, c->sym[i].text, c->sym[i].n);
                if (id >= 0) {
                        tok_ids_push(out, id);
                        continue;
                }
                for (uint32_t k = 0; k < c->sym[i].n; k++) {
                        id = strmap_get(&t->vocab, c->sym[i].text + k, 1);
                        if (id >= 0)
                                tok_ids_push(out, id);
                }
        }
}

int tokenizer_bpe_encode(const struct tokenizer *t, const char *text, size_t len,
                         struct tok_ids *out, struct mu_err *err)
{
        struct mu_buf clean = MU_BUF_INIT, word = MU_BUF_INIT;
        struct bpe_ctx c = {t, NULL, {0}, MU_BUF_INIT};
        size_t *cuts = NULL, n_cuts = 0, cap = 0, max_word = 0;
        int rc;

        for (size_t i = 0; i < len;) {  /* invalid UTF-8 -> U+FFFD */
                size_t i0 = i;
                uint32_t cp = unicode_decode(text, len, &i);
                if (cp == 0xFFFD && !(i - i0 == 3 && !memcmp(text + i0, "\xef\xbf\xbd", 3)))
                        mu_buf_add(&clean, "\xef\xbf\xbd", 3);
                else
                        mu_buf_add(&clean, text + i0, i - i0);
        }
        if (!clean.len)
                return 0;
        rc = pretok_split(t->pretok, clean.data, clean.len, &cuts, &n_cuts, &cap, err);
        if (rc < 0)
                goto out;
        for (size_t k = 0; k < n_cuts; k++)
                if (cuts[2 * k + 1] - cuts[2 * k] > max_word)
                        max_word = cuts[2 * k + 1] - cuts[2 * k];
        c.sym = mu_xmalloc((max_word + 1) * sizeof(*c.sym));
        for (size_t k = 0; k < n_cuts; k++) {
                mu_buf_reset(&word);
                for (size_t i = cuts[2 * k]; i < cuts[2 * k + 1]; i++) {
                        char u[4];
                        size_t l = unicode_encode(tokenizer_byte_to_cp((uint8_t)clean.data[i]), u);
                        mu_buf_add(&word, u, l);
                }
                if (word.len)
                        encode_word(&c, word.data, word.len, out);
        }
out:
        free(cuts);
        free(c.sym);
        free(c.heap.v);
        mu_buf_release(&c.key);
        mu_buf_release(&word);
        mu_buf_release(&clean);
        return rc;
}
