/* tokenizer_wpm.c -- WordPiece (tokenizer.ggml.model "bert").
 *
 * BERT basic tokenizer, as llama.cpp does it: accents are stripped by
 * keeping the first code point of each character's NFD form and dropping
 * marks (when tokenizer.ggml.normalizer.strip_accents, default on), text is
 * lowercased (normalizer.lowercase, default on), whitespace separates
 * words, control characters, NUL and U+FFFD vanish, and punctuation, ASCII
 * symbols and CJK ideographs become one-character words.  Each word, with
 * U+2581 in front (how GGUF marks word starts; continuation pieces are
 * stored bare, without "##"), is covered greedily by the longest vocabulary
 * match from the left; a word that cannot be covered is the unknown token. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode.h"

static int is_cjk(uint32_t c)
{
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
               (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
               (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
               (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static void encode_word(const struct tokenizer *t, const char *w, size_t n,
                        struct tok_ids *out)
{
        size_t before = out->n;

        for (size_t i = 0; i < n;) {
                size_t j = n < i + t->max_token_len ? n : i + t->max_token_len;
                int32_t id = -1;

                for (; j > i; j--)
                        if ((id = strmap_get(&t->vocab, w + i, j - i)) >= 0)
                                break;
                if (id < 0) {
                        out->n = before;
                        break;
                }
                tok_ids_push(out, id);
                i = j;
        }
        if (out->n == before && t->unk >= 0)
                tok_ids_push(out, t->unk);
}

void tokenizer_wpm_encode(const struct tokenizer *t, const char *text, size_t len,
                          struct tok_ids *out)
{
        struct mu_buf w = MU_BUF_INIT;

        mu_buf_add(&w, "\xe2\x96\x81", 3);
        for (size_t i = 0; i <= len;) {
                uint32_t cp = ' ';
                unsigned f;
                char u[4];
                size_t l;

                if (i < len)
                        cp = unicode_decode(text, len, &i);
                else
                        i++;
                if (t->wpm_strip_accents)
                        cp = unicode_nfd_first(cp);
                f = unicode_flags(cp);
                if (f & UNICODE_WHITESPACE) {
                        if (w.len > 3)
                                encode_word(t, w.data, w.len, out);
                        w.len = 3;
                        continue;
                }
                if (cp == 0 || cp == 0xFFFD || (f & UNICODE_CONTROL))
                        continue;
                if (t->wpm_strip_accents && (f & UNICODE_MARK))
                        continue;
                l = unicode_encode(t->wpm_lowercase ? unicode_tolower(cp) : cp, u);
                if ((f & UNICODE_PUNCT) || (cp < 0x7F && (f & UNICODE_SYMBOL)) || is_cjk(cp)) {
                        if (w.len > 3)
                                encode_word(t, w.data, w.len, out);
                        w.len = 3;
                        mu_buf_add(&w, u, l);
                        encode_word(t, w.data, w.len, out);
                        w.len = 3;
                } else {
                        mu_buf_add(&w, u, l);
                }
        }
        mu_buf_release(&w);
}
