/* tokenizer.c -- the vocabulary from GGUF metadata, special tokens, the
 * split of a text at special-token strings, the per-model dispatch, pieces
 * and accessors.  See include/mullama/tokenizer.h for the contract.
 *
 * Layout: token strings live in one arena (t->text), found by id through
 * text_off/text_len and by string through a hash map (t->vocab).  Pieces
 * (what a token prints as) are rendered once at creation into t->piece.
 *
 * Special tokens are cut out of the text in one pass that gives the same
 * result as cutting them one token at a time, longest string first, each
 * left to right (llama.cpp's order): all occurrences are found with a byte
 * trie, sorted by (token rank, position), and accepted when they lie wholly
 * in text no earlier token took. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "unicode.h"

/* ---- string map ------------------------------------------------------------- */

uint32_t strmap_hash(const char *s, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull;  /* FNV-1a, folded */

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 0x100000001b3ull;
        }
        return (uint32_t)(h ^ (h >> 32));
}

void strmap_init(struct strmap *m, size_t expected)
{
        size_t cap = 16;

        while (cap < expected * 2)
                cap *= 2;
        memset(m, 0, sizeof(*m));
        m->slot = mu_xcalloc(cap, sizeof(*m->slot));
        m->mask = cap - 1;
        m->cap = expected ? expected : 1;
        m->ent = mu_xmalloc(m->cap * sizeof(*m->ent));
}

static void strmap_grow(struct strmap *m)
{
        size_t cap = (m->mask + 1) * 2;

        free(m->slot);
        m->slot = mu_xcalloc(cap, sizeof(*m->slot));
        m->mask = cap - 1;
        for (size_t i = 0; i < m->n; i++) {
                size_t j = m->ent[i].hash & m->mask;
                while (m->slot[j])
                        j = (j + 1) & m->mask;
                m->slot[j] = (uint32_t)i + 1;
        }
}

void strmap_put(struct strmap *m, const char *arena, uint32_t off, uint32_t len,
                int32_t val, int replace)
{
        uint32_t h = strmap_hash(arena + off, len);
        size_t j;

        m->arena = arena;
        for (j = h & m->mask; m->slot[j]; j = (j + 1) & m->mask) {
                struct strmap_ent *e = &m->ent[m->slot[j] - 1];
                if (e->hash == h && e->len == len && !memcmp(arena + e->off, arena + off, len)) {
                        if (replace)
                                e->val = val;
                        return;
                }
        }
        if (m->n == m->cap) {
                m->cap *= 2;
                m->ent = mu_xrealloc(m->ent, m->cap * sizeof(*m->ent));
        }
        m->ent[m->n] = (struct strmap_ent){off, len, h, val};
        m->slot[j] = (uint32_t)++m->n;
        if (m->n * 2 > m->mask + 1)
                strmap_grow(m);
}

int32_t strmap_get(const struct strmap *m, const char *s, size_t len)
{
        uint32_t h;

        if (!m->slot)
                return -1;
        h = strmap_hash(s, len);
        for (size_t j = h & m->mask; m->slot[j]; j = (j + 1) & m->mask) {
                const struct strmap_ent *e = &m->ent[m->slot[j] - 1];
                if (e->hash == h && e->len == len && !memcmp(m->arena + e->off, s, len))
                        return e->val;
        }
        return -1;
}

void strmap_release(struct strmap *m)
{
        free(m->slot);
        free(m->ent);
        memset(m, 0, sizeof(*m));
}

/* ---- bigram heap ------------------------------------------------------------ */

void bigram_heap_push(struct bigram_heap *h, struct bigram b)
{
        size_t i;

        if (h->n == h->cap) {
                h->cap = h->cap ? h->cap * 2 : 64;
                h->v = mu_xrealloc(h->v, h->cap * sizeof(*h->v));
        }
        i = h->n++;
        while (i > 0) {
                size_t p = (i - 1) / 2;
                if (h->v[p].key <= b.key)
                        break;
                h->v[i] = h->v[p];
                i = p;
        }
        h->v[i] = b;
}

int bigram_heap_pop(struct bigram_heap *h, struct bigram *out)
{
        struct bigram last;
        size_t i = 0;

        if (!h->n)
                return 0;
        *out = h->v[0];
        last = h->v[--h->n];
        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= h->n)
                        break;
                if (c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
                        c++;
                if (last.key <= h->v[c].key)
                        break;
                h->v[i] = h->v[c];
                i = c;
        }
        if (h->n)
                h->v[i] = last;
        return 1;
}

/* ---- GPT-2 byte <-> code point ---------------------------------------------- */

/* Printable bytes map to themselves; the other 68 are numbered from U+0100
 * in byte order: 0x00-0x20, 0x7F-0xA0, 0xAD. */
uint32_t tokenizer_byte_to_cp(uint8_t b)
{
        if (b <= 0x20)
                return 0x100 + b;
        if (b >= 0x7F && b <= 0xA0)
                return 0x121 + (b - 0x7Fu);
        if (b == 0xAD)
                return 0x143;
        return b;
}

int tokenizer_cp_to_byte(uint32_t cp)
{
        if (cp >= 0x100 && cp <= 0x120)
                return (int)(cp - 0x100);
        if (cp >= 0x121 && cp <= 0x142)
                return (int)(cp - 0x121 + 0x7F);
        if (cp == 0x143)
                return 0xAD;
        if ((cp > 0x20 && cp < 0x7F) || (cp > 0xA0 && cp <= 0xFF && cp != 0xAD))
                return (int)cp;
        return -1;
}

/* ---- creation --------------------------------------------------------------- */

static int32_t find_str(const struct tokenizer *t, const char *s)
{
        return strmap_get(&t->vocab, s, strlen(s));
}

static int name_is(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (!strcmp(s, *list))
                        return 1;
        return 0;
}

/* Names llama.cpp treats as end-of-generation (and therefore control). */
static const char *const eog_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
        "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
        "<turn|>", "<|tool_response>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
        "[e~[", NULL};
static const char *const eot_names[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "<end_of_utterance>",
        NULL};
static const char *const fim_names[] = {  /* FIM tokens llama.cpp marks control */
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\xe2\x96\x81<PRE>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\xe2\x96\x81<SUF>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "\xe2\x96\x81<MID>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>",
        "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>", NULL};
static const char *const fim_eog_names[] = {  /* pad, repo, file_sep end generation */
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>",
        "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>", NULL};

static int read_id(const struct gguf *g, const char *key, int32_t n_vocab, int32_t *id)
{
        int64_t v;

        if (*id >= n_vocab)
                *id = -1;
        if (gguf_get_i64(g, key, &v) != 0)
                return 0;
        if (v < 0 || v >= n_vocab) {
                MU_LOG_DEBUG("bad special token '%s' = %lld, keeping %d", key, (long long)v, *id);
                return 0;
        }
        *id = (int32_t)v;
        return 1;
}

static void read_bool(const struct gguf *g, const char *key, int *out)
{
        int v;

        if (gguf_get_bool(g, key, &v) == 0)
                *out = v != 0;
}

static int cmp_special(const void *a, const void *b, void *ctx)
{
        const struct tokenizer *t = ctx;
        int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

        if (t->text_len[x] != t->text_len[y])
                return t->text_len[x] > t->text_len[y] ? -1 : 1;
        return x < y ? -1 : x > y;
}

static void trie_build(struct tokenizer *t, int which)
{
        size_t cap = 64, n = 1;
        struct trie_node *v = mu_xmalloc(cap * sizeof(*v));

        v[0] = (struct trie_node){-1, -1, -1, 0};
        for (size_t r = 0; r < t->n_special; r++) {
                int32_t id = t->special[r];
                const unsigned char *s = (const unsigned char *)tok_text(t, id);
                int32_t node = 0;

                if (which == 1 && (t->attr[id] & (TOKENIZER_ATTR_CONTROL | TOKENIZER_ATTR_UNKNOWN)))
                        continue;
                for (uint32_t i = 0; i < t->text_len[id]; i++) {
                        int32_t c = v[node].child;
                        while (c >= 0 && v[c].byte != s[i])
                                c = v[c].sibling;
                        if (c < 0) {
                                if (n == cap) {
                                        cap *= 2;
                                        v = mu_xrealloc(v, cap * sizeof(*v));
                                }
                                c = (int32_t)n++;
                                v[c] = (struct trie_node){-1, v[node].child, -1, s[i]};
                                v[node].child = c;
                        }
                        node = c;
                }
                if (v[node].rank < 0)
                        v[node].rank = (int32_t)r;
        }
        t->trie[which] = v;
        t->trie_n[which] = n;
}

/* Render every token's piece in its "special" form (see tokenizer_piece). */
static void build_pieces(struct tokenizer *t)
{
        struct mu_buf b = MU_BUF_INIT;

        t->piece_off = mu_xmalloc((size_t)t->n_vocab * sizeof(uint32_t));
        t->piece_len = mu_xmalloc((size_t)t->n_vocab * sizeof(uint32_t));
        for (int32_t id = 0; id < t->n_vocab; id++) {
                const char *s = tok_text(t, id);
                size_t n = t->text_len[id], start = b.len;
                unsigned a = t->attr[id];

                if (a & (TOKENIZER_ATTR_UNKNOWN | TOKENIZER_ATTR_CONTROL |
                         TOKENIZER_ATTR_USER_DEFINED)) {
                        mu_buf_add(&b, s, n);
                } else if (a & TOKENIZER_ATTR_NORMAL) {
                        if (t->type == TOKENIZER_BPE) {
                                for (size_t i = 0; i < n;) {
                                        size_t i0 = i;
                                        uint32_t cp = unicode_decode(s, n, &i);
                                        int byte = tokenizer_cp_to_byte(cp);
                                        if (byte >= 0)
                                                mu_buf_addc(&b, (char)byte);
                                        else
                                                mu_buf_add(&b, s + i0, i - i0);
                                }
                        } else {
                                for (size_t i = 0; i < n; i++) {
                                        if (i + 2 < n && !memcmp(s + i, "\xe2\x96\x81", 3)) {
                                                mu_buf_addc(&b, ' ');
                                                i += 2;
                                        } else {
                                                mu_buf_addc(&b, s[i]);
                                        }
                                }
                        }
                } else if ((a & TOKENIZER_ATTR_BYTE) && n >= 6) {
                        char hex[3] = {s[3], s[4], 0};
                        mu_buf_addc(&b, (char)strtol(hex, NULL, 16));
                }
                t->piece_off[id] = (uint32_t)start;
                t->piece_len[id] = (uint32_t)(b.len - start);
        }
        mu_buf_addc(&b, 0);
        t->piece = mu_buf_detach(&b);
}

/* Special ids, add_* flags and per-type defaults. */
static void load_specials(struct tokenizer *t, const struct gguf *g)
{
        static const char *const llama3_like[] = {
                "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                "midm-2.0", "lfm2", "jina-v5-nano", NULL};
        static const char *const gpt_oss_user[] = {
                "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
        int32_t n = t->n_vocab, fim_pad = -1, fim_rep = -1, fim_sep = -1;

        t->bos = t->eos = t->eot = t->eom = t->unk = t->sep = t->pad = t->mask = -1;
        t->add_space_prefix = t->add_bos = t->add_eos = t->add_sep = 0;
        if (t->type == TOKENIZER_SPM) {
                t->bos = 1, t->eos = 2, t->unk = 0;
                t->add_space_prefix = 1, t->add_bos = 1;
        } else if (t->type == TOKENIZER_WPM) {
                t->bos = 101, t->unk = 100, t->sep = 102, t->pad = 0, t->mask = 103;
                t->add_bos = 1, t->add_sep = 1;
        } else {
                t->bos = 11, t->eos = 11;
                if (name_is(t->pre, llama3_like) || !strcmp(t->pre, "tekken"))
                        t->ignore_merges = 1, t->add_bos = 1;
                if (!strcmp(t->pre, "chameleon"))
                        t->add_bos = 1;
                if (!strcmp(t->pre, "minicpm5") || !strcmp(t->pre, "youtu") ||
                    !strcmp(t->pre, "granite-embed-multi-97m"))
                        t->ignore_merges = 1;
                if (!strcmp(t->pre, "glm4") || !strcmp(t->pre, "chatglm-bpe"))
                        t->bos = -1;
        }
        read_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix);
        read_id(g, "tokenizer.ggml.bos_token_id", n, &t->bos);
        read_id(g, "tokenizer.ggml.eos_token_id", n, &t->eos);
        read_id(g, "tokenizer.ggml.eot_token_id", n, &t->eot);
        read_id(g, "tokenizer.ggml.eom_token_id", n, &t->eom);
        read_id(g, "tokenizer.ggml.unknown_token_id", n, &t->unk);
        read_id(g, "tokenizer.ggml.seperator_token_id", n, &t->sep);
        read_id(g, "tokenizer.ggml.padding_token_id", n, &t->pad);
        read_id(g, "tokenizer.ggml.mask_token_id", n, &t->mask);
        read_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos);
        read_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos);
        read_bool(g, "tokenizer.ggml.add_sep_token", &t->add_sep);
        t->wpm_lowercase = 1;
        read_bool(g, "tokenizer.ggml.normalizer.lowercase", &t->wpm_lowercase);
        t->wpm_strip_accents = t->wpm_lowercase;
        read_bool(g, "tokenizer.ggml.normalizer.strip_accents", &t->wpm_strip_accents);

        /* eot by name (first of the list present), fim and eog names: these
         * become control tokens, as in llama.cpp */
        if (t->eot < 0)
                for (const char *const *p = eot_names; *p && t->eot < 0; p++)
                        t->eot = find_str(t, *p);
        if (t->eom < 0)
                t->eom = find_str(t, "<|eom_id|>");
        t->eog = mu_xcalloc((size_t)n, 1);
        for (int32_t id = 0; id < n; id++) {
                const char *s = tok_text(t, id);
                if (name_is(s, fim_names) || name_is(s, eot_names) || !strcmp(s, "<|eom_id|>"))
                        t->attr[id] |= TOKENIZER_ATTR_CONTROL;
                if (name_is(s, fim_eog_names)) {
                        if ((!strcmp(s, "<|fim_pad|>") || !strcmp(s, "<fim-pad>") ||
                             !strcmp(s, "<fim_pad>") || !strcmp(s, "<PAD>") || !strcmp(s, "[PAD]")))
                                fim_pad = fim_pad < 0 ? id : fim_pad;
                        else if (!strcmp(s, "<|file_sep|>"))
                                fim_sep = id;
                        else
                                fim_rep = fim_rep < 0 ? id : fim_rep;
                }
                if ((t->attr[id] & TOKENIZER_ATTR_CONTROL) && strstr(s, "unused"))
                        t->attr[id] |= TOKENIZER_ATTR_UNUSED;
                if (name_is(s, eog_names)) {
                        t->eog[id] = 1;
                        t->attr[id] |= TOKENIZER_ATTR_CONTROL;
                }
                if (name_is(s, gpt_oss_user))
                        t->attr[id] = TOKENIZER_ATTR_USER_DEFINED;
        }
        if (fim_pad >= 0)
                t->eog[fim_pad] = 1;
        if (fim_rep >= 0)
                t->eog[fim_rep] = 1;
        if (fim_sep >= 0)
                t->eog[fim_sep] = 1;
        if (t->eos >= 0)
                t->eog[t->eos] = 1;
        if (t->eot >= 0)
                t->eog[t->eot] = 1;
        if (t->eom >= 0)
                t->eog[t->eom] = 1;
        {       /* o200k_harmony / solar-open: "<|end|>" is not an end there */
                int32_t ret = find_str(t, "<|return|>"), call = find_str(t, "<|call|>");
                int32_t calls = find_str(t, "<|calls|>"), flush = find_str(t, "<|flush|>");
                int32_t end = find_str(t, "<|end|>");
                if (end >= 0 && ((ret >= 0 && call >= 0) || (calls >= 0 && flush >= 0))) {
                        t->eog[end] = 0;
                        t->attr[end] = TOKENIZER_ATTR_USER_DEFINED;
                }
                /* gemma4 / paddleocr: "</s>" is not an end when <|tool_response> exists */
                int32_t tr = find_str(t, "<|tool_response>"), s = find_str(t, "</s>");
                if (tr >= 0 && s >= 0) {
                        t->eog[s] = 0;
                        t->attr[s] = TOKENIZER_ATTR_NORMAL;
                }
        }
}

/* Per-token strip attributes that llama.cpp sets by model name. */
static void name_attrs(struct tokenizer *t, const struct gguf *g)
{
        const char *name = gguf_get_str(g, "general.name");
        const char *arch = gguf_get_str(g, "general.architecture");
        char lower[256] = "";

        for (size_t i = 0; name && name[i] && i + 1 < sizeof(lower); i++)
                lower[i] = (char)tolower((unsigned char)name[i]), lower[i + 1] = 0;
        if (strstr(t->pre, "jina-v2-de") || strstr(t->pre, "jina-v2-es") ||
            strstr(t->pre, "jina-v2-code") ||
            (arch && (strstr(arch, "nomic-bert-moe") || strstr(arch, "jina-bert-v3")))) {
                int32_t m = find_str(t, "<mask>");
                if (m >= 0)
                        t->attr[m] |= TOKENIZER_ATTR_LSTRIP;
        } else if (strstr(lower, "phi-3") || strstr(lower, "phi3")) {
                static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>", NULL};
                int32_t s = find_str(t, "</s>");
                for (size_t r = 0; r < t->n_special; r++)
                        t->attr[t->special[r]] |= TOKENIZER_ATTR_RSTRIP;
                if (s >= 0)
                        t->attr[s] |= TOKENIZER_ATTR_RSTRIP;
                for (const char *const *p = keep; *p; p++) {
                        int32_t id = find_str(t, *p);
                        if (id >= 0)
                                t->attr[id] &= (uint16_t)~TOKENIZER_ATTR_RSTRIP;
                }
        }
}

int tokenizer_create(struct tokenizer **out, const struct gguf *g, struct mu_err *err)
{
        struct tokenizer *t;
        struct gguf_arr toks, scores = {0}, types = {0};
        const char *model = gguf_get_str(g, "tokenizer.ggml.model");
        const char *pre = gguf_get_str(g, "tokenizer.ggml.pre");
        struct mu_buf arena = MU_BUF_INIT;
        int have_scores, have_types, rc;

        *out = NULL;
        if (!model)
                return mu_fail(err, MU_ENOTFOUND, "no tokenizer in model (missing "
                               "'tokenizer.ggml.model')");
        if (gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) != 0 ||
            toks.type != GGUF_TYPE_STRING)
                return mu_fail(err, MU_ENOTFOUND, "no vocabulary in model (missing "
                               "'tokenizer.ggml.tokens')");
        if (toks.n == 0 || toks.n > INT32_MAX / 2)
                return mu_fail(err, MU_EFORMAT, "vocabulary size %llu out of range",
                               (unsigned long long)toks.n);
        have_scores = gguf_get_arr(g, "tokenizer.ggml.scores", &scores) == 0;
        have_types = gguf_get_arr(g, "tokenizer.ggml.token_type", &types) == 0;
        if (have_scores && (scores.n < toks.n || (scores.type != GGUF_TYPE_FLOAT32 &&
                                                   scores.type != GGUF_TYPE_INT32)))
                return mu_fail(err, MU_EFORMAT, "'tokenizer.ggml.scores' does not match "
                               "the vocabulary");
        if (have_types && (types.n < toks.n || types.type != GGUF_TYPE_INT32))
                return mu_fail(err, MU_EFORMAT, "'tokenizer.ggml.token_type' does not "
                               "match the vocabulary");

        t = mu_xcalloc(1, sizeof(*t));
        if (!strcmp(model, "llama")) {
                t->type = TOKENIZER_SPM;
        } else if (!strcmp(model, "gpt2")) {
                t->type = TOKENIZER_BPE;
        } else if (!strcmp(model, "bert")) {
                t->type = TOKENIZER_WPM;
        } else {
                free(t);
                return mu_fail(err, MU_EUNSUPPORTED, "unsupported tokenizer '%s'", model);
        }
        t->pre = mu_xstrdup(t->type == TOKENIZER_BPE ? (pre && *pre ? pre : "default") : "");
        t->n_vocab = (int32_t)toks.n;
        t->text_off = mu_xmalloc(toks.n * sizeof(uint32_t));
        t->text_len = mu_xmalloc(toks.n * sizeof(uint32_t));
        t->score = mu_xmalloc(toks.n * sizeof(float));
        t->attr = mu_xmalloc(toks.n * sizeof(uint16_t));
        for (uint64_t i = 0; i < toks.n; i++) {
                size_t len = 0;
                const char *s = gguf_arr_str(g, &toks, i, &len);
                int64_t ty = have_types ? gguf_arr_i64(&types, i) : 1;

                t->text_off[i] = (uint32_t)arena.len;
                if (!s || !len) {  /* llama.cpp names empty tokens this way */
                        mu_buf_addf(&arena, "[EMPTY_%llu]", (unsigned long long)i);
                } else {
                        mu_buf_add(&arena, s, len);
                }
                t->text_len[i] = (uint32_t)(arena.len - t->text_off[i]);
                mu_buf_addc(&arena, 0);
                if (arena.len > UINT32_MAX / 2) {
                        mu_buf_release(&arena);
                        tokenizer_free(t);
                        return mu_fail(err, MU_EFORMAT, "vocabulary strings too large");
                }
                if (t->text_len[i] > t->max_token_len)
                        t->max_token_len = t->text_len[i];
                t->score[i] = have_scores ? (float)gguf_arr_f64(&scores, i) : 0.0f;
                t->attr[i] = ty == 1   ? TOKENIZER_ATTR_NORMAL
                             : ty == 2 ? TOKENIZER_ATTR_UNKNOWN
                             : ty == 3 ? TOKENIZER_ATTR_CONTROL
                             : ty == 4 ? TOKENIZER_ATTR_USER_DEFINED
                             : ty == 5 ? TOKENIZER_ATTR_UNUSED
                             : ty == 6 ? TOKENIZER_ATTR_BYTE
                                       : TOKENIZER_ATTR_UNDEFINED;
        }
        t->text = mu_buf_detach(&arena);
        strmap_init(&t->vocab, toks.n);
        for (int32_t i = 0; i < t->n_vocab; i++)  /* a later duplicate wins */
                strmap_put(&t->vocab, t->text, t->text_off[i], t->text_len[i], i, 1);

        load_specials(t, g);

        /* special tokens, cut longest first */
        t->special = mu_xmalloc((size_t)t->n_vocab * sizeof(int32_t));
        for (int32_t id = 0; id < t->n_vocab; id++)
                if (t->attr[id] & (TOKENIZER_ATTR_CONTROL | TOKENIZER_ATTR_USER_DEFINED |
                                   TOKENIZER_ATTR_UNKNOWN))
                        t->special[t->n_special++] = id;
        qsort_r(t->special, t->n_special, sizeof(int32_t), cmp_special, t);
        build_pieces(t);
        name_attrs(t, g);
        trie_build(t, 0);
        trie_build(t, 1);

        for (int b = 0; b < 256; b++) {
                char buf[8];
                t->byte_tok[b] = -1;
                if (t->type == TOKENIZER_SPM) {
                        snprintf(buf, sizeof(buf), "<0x%02X>", b);
                        t->byte_tok[b] = find_str(t, buf);
                        if (t->byte_tok[b] < 0)
                                t->byte_tok[b] = strmap_get(&t->vocab, (char[1]){(char)b}, 1);
                } else if (t->type == TOKENIZER_BPE) {
                        size_t n = unicode_encode(tokenizer_byte_to_cp((uint8_t)b), buf);
                        t->byte_tok[b] = strmap_get(&t->vocab, buf, n);
                }
        }

        if (t->type == TOKENIZER_BPE) {
                rc = tokenizer_bpe_init(t, g, err);
                if (rc < 0) {
                        tokenizer_free(t);
                        return rc;
                }
        }
        /* the newline token */
        t->nl = t->pad;
        if (t->type == TOKENIZER_SPM) {
                if (t->byte_tok['\n'] >= 0)
                        t->nl = t->byte_tok['\n'];
        } else if (t->type == TOKENIZER_BPE) {
                int32_t *ids = NULL;
                size_t n = 0;
                if (tokenizer_encode(t, "\n", 1, 0, 0, &ids, &n, NULL) == 0 && n > 0)
                        t->nl = ids[0];
                free(ids);
        }
        *out = t;
        return 0;
}

void tokenizer_free(struct tokenizer *t)
{
        if (!t)
                return;
        free(t->pre);
        free(t->text);
        free(t->text_off);
        free(t->text_len);
        free(t->score);
        free(t->attr);
        free(t->eog);
        strmap_release(&t->vocab);
        free(t->special);
        free(t->trie[0]);
        free(t->trie[1]);
        free(t->piece);
        free(t->piece_off);
        free(t->piece_len);
        free(t->merge_text);
        strmap_release(&t->merges);
        pretok_free(t->pretok);
        free(t);
}

/* ---- special-token split ---------------------------------------------------- */

struct frag {
        size_t start, len;
        int32_t id;  /* -1: raw text */
};

struct occ {
        uint32_t rank, pos;
};

static int cmp_occ_pos(const void *a, const void *b)
{
        const struct occ *x = a, *y = b;

        return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int is_space(char c)
{
        return c == ' ' || (c >= '\t' && c <= '\r');
}

static void add_frag(struct frag **v, size_t *n, size_t *cap, struct frag f)
{
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *v = mu_xrealloc(*v, *cap * sizeof(**v));
        }
        (*v)[(*n)++] = f;
}

static size_t partition(const struct tokenizer *t, const char *s, size_t n, int parse_special,
                        struct frag **out)
{
        const struct trie_node *tr = t->trie[parse_special ? 0 : 1];
        struct occ *occ = NULL, *acc = NULL;
        size_t n_occ = 0, cap_occ = 0, n_acc = 0, nf = 0, capf = 0;
        uint8_t *mark;

        *out = NULL;
        if (!n)
                return 0;
        if (tr[0].child < 0 || n > UINT32_MAX) {
                add_frag(out, &nf, &capf, (struct frag){0, n, -1});
                return nf;
        }
        for (size_t p = 0; p < n; p++) {
                int32_t node = 0;
                for (size_t i = p; i < n; i++) {
                        int32_t c = tr[node].child;
                        while (c >= 0 && tr[c].byte != (unsigned char)s[i])
                                c = tr[c].sibling;
                        if (c < 0)
                                break;
                        node = c;
                        if (tr[node].rank >= 0) {
                                if (n_occ == cap_occ) {
                                        cap_occ = cap_occ ? cap_occ * 2 : 64;
                                        occ = mu_xrealloc(occ, cap_occ * sizeof(*occ));
                                }
                                occ[n_occ++] = (struct occ){(uint32_t)tr[node].rank, (uint32_t)p};
                        }
                }
        }
        if (!n_occ) {
                add_frag(out, &nf, &capf, (struct frag){0, n, -1});
                return nf;
        }
        {       /* stable counting sort by rank: occurrences came in position
                 * order, so this orders them by (rank, position) in O(n) */
                size_t *cnt = mu_xcalloc(t->n_special + 1, sizeof(*cnt));
                struct occ *sorted = mu_xmalloc(n_occ * sizeof(*sorted));
                for (size_t k = 0; k < n_occ; k++)
                        cnt[occ[k].rank + 1]++;
                for (size_t r = 1; r <= t->n_special; r++)
                        cnt[r] += cnt[r - 1];
                for (size_t k = 0; k < n_occ; k++)
                        sorted[cnt[occ[k].rank]++] = occ[k];
                free(cnt);
                free(occ);
                occ = sorted;
        }
        mark = mu_xcalloc(n, 1);  /* 0 raw, 1 token, 2 stripped */
        acc = mu_xmalloc(n_occ * sizeof(*acc));
        for (size_t k = 0, cur_end = 0; k < n_occ; k++) {
                int32_t id = t->special[occ[k].rank];
                size_t p = occ[k].pos, len = t->text_len[id], q;
                int ok = 1;

                if (k == 0 || occ[k].rank != occ[k - 1].rank)
                        cur_end = 0;
                if (p < cur_end)
                        continue;
                for (q = p; q < p + len && ok; q++)
                        ok = mark[q] == 0;
                if (!ok)
                        continue;
                memset(mark + p, 1, len);
                acc[n_acc++] = occ[k];
                cur_end = p + len;
                if (t->attr[id] & TOKENIZER_ATTR_LSTRIP)
                        for (q = p; q > 0 && mark[q - 1] == 0 && is_space(s[q - 1]); q--)
                                mark[q - 1] = 2;
                if (t->attr[id] & TOKENIZER_ATTR_RSTRIP) {
                        for (q = p + len; q < n && mark[q] == 0 && is_space(s[q]); q++)
                                mark[q] = 2;
                        cur_end = q;
                }
        }
        qsort(acc, n_acc, sizeof(*acc), cmp_occ_pos);
        for (size_t i = 0, a = 0; i < n;) {
                if (a < n_acc && acc[a].pos == i) {
                        int32_t id = t->special[acc[a].rank];
                        add_frag(out, &nf, &capf, (struct frag){i, t->text_len[id], id});
                        i += t->text_len[id];
                        a++;
                } else if (mark[i] == 2) {
                        i++;
                } else {
                        size_t j = i;
                        while (j < n && mark[j] == 0)
                                j++;
                        add_frag(out, &nf, &capf, (struct frag){i, j - i, -1});
                        i = j;
                }
        }
        free(mark);
        free(acc);
        free(occ);
        return nf;
}

/* ---- encoding ----------------------------------------------------------------- */

int tokenizer_encode(const struct tokenizer *t, const char *text, size_t len,
                     int add_special, int parse_special, int32_t **ids, size_t *n,
                     struct mu_err *err)
{
        struct tok_ids out = {0};
        struct frag *f = NULL;
        size_t nf = partition(t, text, len, parse_special, &f);
        int prev_special = 1, rc = 0;

        *ids = NULL;
        *n = 0;
        if (add_special && t->bos >= 0 &&
            (t->type == TOKENIZER_WPM || t->add_bos))
                tok_ids_push(&out, t->bos);
        for (size_t i = 0; i < nf && rc == 0; i++) {
                if (f[i].id >= 0) {
                        tok_ids_push(&out, f[i].id);
                        prev_special = 1;
                        continue;
                }
                switch (t->type) {
                case TOKENIZER_SPM:
                        tokenizer_spm_encode(t, text + f[i].start, f[i].len,
                                             t->add_space_prefix && prev_special, &out);
                        break;
                case TOKENIZER_BPE:
                        rc = tokenizer_bpe_encode(t, text + f[i].start, f[i].len, &out, err);
                        break;
                default:
                        tokenizer_wpm_encode(t, text + f[i].start, f[i].len, &out);
                        break;
                }
                prev_special = 0;
        }
        free(f);
        if (rc < 0) {
                free(out.v);
                return rc;
        }
        if (add_special) {
                if (t->type == TOKENIZER_WPM) {
                        if (t->sep >= 0)
                                tok_ids_push(&out, t->sep);
                } else if (t->add_eos && t->eos >= 0) {
                        tok_ids_push(&out, t->eos);
                }
        }
        *ids = out.v;
        *n = out.n;
        return 0;
}

/* ---- decoding ----------------------------------------------------------------- */

const char *tokenizer_piece(const struct tokenizer *t, int32_t id, int special, size_t *len)
{
        if (id < 0 || id >= t->n_vocab ||
            (!special && (t->attr[id] & (TOKENIZER_ATTR_UNKNOWN | TOKENIZER_ATTR_CONTROL)))) {
                *len = 0;
                return "";
        }
        *len = t->piece_len[id];
        return t->piece + t->piece_off[id];
}

void tokenizer_decode(const struct tokenizer *t, const int32_t *ids, size_t n, int special,
                      struct mu_buf *out)
{
        for (size_t i = 0; i < n; i++) {
                size_t len;
                const char *p = tokenizer_piece(t, ids[i], special, &len);
                if (i == 0 && t->add_space_prefix && len && p[0] == ' ')
                        p++, len--;
                mu_buf_add(out, p, len);
        }
}

/* ---- accessors ---------------------------------------------------------------- */

int tokenizer_type(const struct tokenizer *t) { return t->type; }
const char *tokenizer_pre(const struct tokenizer *t) { return t->pre; }
int32_t tokenizer_n_vocab(const struct tokenizer *t) { return t->n_vocab; }
int32_t tokenizer_bos(const struct tokenizer *t) { return t->bos; }
int32_t tokenizer_eos(const struct tokenizer *t) { return t->eos; }
int32_t tokenizer_eot(const struct tokenizer *t) { return t->eot; }
int32_t tokenizer_unk(const struct tokenizer *t) { return t->unk; }
int32_t tokenizer_pad(const struct tokenizer *t) { return t->pad; }
int32_t tokenizer_sep(const struct tokenizer *t) { return t->sep; }
int32_t tokenizer_nl(const struct tokenizer *t) { return t->nl; }
int tokenizer_add_bos(const struct tokenizer *t) { return t->add_bos && t->bos >= 0; }
int tokenizer_add_eos(const struct tokenizer *t) { return t->add_eos && t->eos >= 0; }
int tokenizer_add_space_prefix(const struct tokenizer *t) { return t->add_space_prefix; }

const char *tokenizer_token_text(const struct tokenizer *t, int32_t id, size_t *len)
{
        if (id < 0 || id >= t->n_vocab)
                return NULL;
        if (len)
                *len = t->text_len[id];
        return tok_text(t, id);
}

float tokenizer_token_score(const struct tokenizer *t, int32_t id)
{
        return id >= 0 && id < t->n_vocab ? t->score[id] : 0.0f;
}

unsigned tokenizer_token_attr(const struct tokenizer *t, int32_t id)
{
        return id >= 0 && id < t->n_vocab ? t->attr[id] : 0;
}

int32_t tokenizer_find(const struct tokenizer *t, const char *text, size_t len)
{
        return strmap_get(&t->vocab, text, len);
}

int tokenizer_is_eog(const struct tokenizer *t, int32_t id)
{
        return id >= 0 && id < t->n_vocab && t->eog[id];
}

int tokenizer_is_control(const struct tokenizer *t, int32_t id)
{
        return id >= 0 && id < t->n_vocab &&
               (t->attr[id] & (TOKENIZER_ATTR_CONTROL | TOKENIZER_ATTR_UNKNOWN));
}
