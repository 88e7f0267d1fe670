/* pretok.c -- BPE pre-tokenization: split text into words with the regex
 * list that tokenizer.ggml.pre names, using PCRE2 (UTF + UCP).
 *
 * The lists are the ones llama.cpp uses per pre-tokenizer (facts about the
 * models' tokenizers: each is the split pattern of the model's
 * tokenizer.json, rewritten in the syntax llama.cpp accepts).  Regexes are
 * applied in order: each one cuts every piece the previous ones produced;
 * the text between two matches becomes a piece of its own, so no byte is
 * ever dropped.  Each piece is matched as a subject of its own, so
 * lookaheads never see past it.
 *
 * \s and \S are rewritten to llama.cpp's whitespace set (TAB..CR, space,
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000) so that the split does not depend on the PCRE2 version. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "tokenizer_impl.h"

/* ---- the regex lists -------------------------------------------------------- */

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_CONTR "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RE_LLAMA3                                                                    \
        RE_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2                                                                 \
        RE_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_CJK "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"
#define RE_GPT4O_LETTERS(sfx)                                                          \
        "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" sfx     \
        "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" sfx

static const char *const re_default[] = {
        "[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL};
static const char *const re_gpt2[] = {RE_GPT2, NULL};
static const char *const re_llama3[] = {RE_LLAMA3, NULL};
static const char *const re_qwen2[] = {RE_QWEN2, NULL};
static const char *const re_qwen35[] = {
        RE_CONTR "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_starcoder[] = {"\\p{N}", RE_GPT2, NULL};
static const char *const re_falcon[] = {
        "[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL};
static const char *const re_deepseek_coder[] = {
        "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}", NULL};
/* deepseek-llm: the letter class of its tokenizer.json, as code point ranges */
static const char *const re_deepseek_llm[] = {
        "[\\r\\n]",
        "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
        "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
        "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
        "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
        "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"
        "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"
        "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"
        "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"
        "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}"
        "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"
        "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"
        "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"
        "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"
        "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"
        "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"
        "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
        "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"
        "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
        "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
        "\\s+$", RE_CJK, "\\p{N}+", NULL};
static const char *const re_deepseek3[] = {
        "\\p{N}{1,3}", "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?"
        "[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_bloom[] = {
        " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+", NULL};
static const char *const re_viking[] = {
        " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{0964}\\x{06D4}\\x{060C})]+",
        "\\p{N}", NULL};
static const char *const re_tekken[] = {
        RE_GPT4O_LETTERS("") "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_gpt4o[] = {
        RE_GPT4O_LETTERS(RE_CONTR "?")
        "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_seed_coder[] = {
        RE_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+"
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_bailing[] = {
        "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
        "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
        NULL};
static const char *const re_chameleon[] = {
        "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
        "\\p{N}", "[\\p{P}!-/:-@\\[-`{-~]", RE_GPT2, NULL};

static const struct pre_entry {
        const char *names;  /* space separated */
        const char *const *re;
} pre_table[] = {
        {"default", re_default},
        {"gpt-2 phi-2 jina-es jina-de gigachat jina-v2-es jina-v2-de a.x-4.0 mellum "
         "modern-bert jina-v1-en jina-v2-code roberta-bpe mpt olmo jais trillion "
         "granite-docling exaone4",
         re_gpt2},
        {"llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2 jina-v5-nano "
         "dbrx smaug-bpe glm4 chatglm-bpe",
         re_llama3},
        {"qwen2 deepseek-r1-qwen kormo f2llmv2 stablelm2 megrez hunyuan solar-open grok-2",
         re_qwen2},
        {"qwen35", re_qwen35},
        {"starcoder refact command-r smollm codeshell exaone minerva-7b mellum2", re_starcoder},
        {"falcon", re_falcon},
        {"deepseek-coder", re_deepseek_coder},
        {"deepseek-llm", re_deepseek_llm},
        {"deepseek-v3 hunyuan-dense joyai-llm hy_v4", re_deepseek3},
        {"poro-chat bloom gpt3-finnish", re_bloom},
        {"viking", re_viking},
        {"tekken", re_tekken},
        {"gpt-4o llama4 kanana2 talkie minimax-m2", re_gpt4o},
        {"seed-coder", re_seed_coder},
        {"bailingmoe bailingmoe2 llada-moe", re_bailing},
        {"chameleon", re_chameleon},
};

static int name_in(const char *names, const char *name)
{
        size_t n = strlen(name);

        for (const char *p = names; *p;) {
                const char *e = strchr(p, ' ');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l == n && !memcmp(p, name, n))
                        return 1;
                p += l + (e ? 1 : 0);
        }
        return 0;
}

/* ---- compiling -------------------------------------------------------------- */

#define WS_CLASS "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

/* Rewrite \s and \S (see the file comment). */
static char *rewrite_ws(const char *re)
{
        struct mu_buf b = MU_BUF_INIT;
        int in_class = 0;

        for (const char *p = re; *p; p++) {
                if (p[0] == '\\' && p[1]) {
                        if (p[1] == 's') {
                                mu_buf_adds(&b, in_class ? WS_CLASS : "[" WS_CLASS "]");
                        } else if (p[1] == 'S' && !in_class) {
                                mu_buf_adds(&b, "[^" WS_CLASS "]");
                        } else {
                                mu_buf_add(&b, p, 2);
                        }
                        p++;
                        continue;
                }
                if (*p == '[' && !in_class)
                        in_class = 1;
                else if (*p == ']' && in_class)
                        in_class = 0;
                mu_buf_addc(&b, *p);
        }
        return mu_buf_detach(&b);
}

struct pretok {
        size_t n;
        pcre2_code *code[8];
};

void pretok_free(struct pretok *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                pcre2_code_free(p->code[i]);
        free(p);
}

int pretok_create(struct pretok **out, const char *pre, struct mu_err *err)
{
        const char *const *re = NULL;
        struct pretok *p;

        *out = NULL;
        for (size_t i = 0; i < sizeof(pre_table) / sizeof(pre_table[0]) && !re; i++)
                if (name_in(pre_table[i].names, pre))
                        re = pre_table[i].re;
        if (!re) {
                MU_LOG_WARN("unknown pre-tokenizer '%s', using the gpt-2 regex", pre);
                re = re_gpt2;
        }
        p = mu_xcalloc(1, sizeof(*p));
        for (; *re; re++) {
                int ec;
                PCRE2_SIZE off;
                char *pat = rewrite_ws(*re);
                pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                              PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY |
                                                      PCRE2_NO_UTF_CHECK,
                                              &ec, &off, NULL);
                free(pat);
                if (!c) {
                        PCRE2_UCHAR msg[256];
                        pcre2_get_error_message(ec, msg, sizeof(msg));
                        pretok_free(p);
                        return mu_fail(err, MU_EFORMAT,
                                       "pre-tokenizer '%s' regex does not compile at %zu: %s",
                                       pre, (size_t)off, (char *)msg);
                }
                pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);  /* optional speed-up */
                p->code[p->n++] = c;
        }
        *out = p;
        return 0;
}

/* ---- splitting -------------------------------------------------------------- */

struct cutvec {
        size_t *v;
        size_t n, cap;  /* n counts pairs */
};

static void cut_add(struct cutvec *c, size_t s, size_t e)
{
        if (c->n * 2 + 2 > c->cap) {
                c->cap = c->cap ? c->cap * 2 : 64;
                c->v = mu_xrealloc(c->v, c->cap * sizeof(*c->v));
        }
        c->v[c->n * 2] = s;
        c->v[c->n * 2 + 1] = e;
        c->n++;
}

static size_t utf8_next(const char *s, size_t i, size_t n)
{
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
                i++;
        return i;
}

int pretok_split(const struct pretok *p, const char *text, size_t len, size_t **cuts,
                 size_t *n, size_t *cap, struct mu_err *err)
{
        struct cutvec cur = {0}, next = {0};
        pcre2_match_data *md = NULL;

        cut_add(&cur, 0, len);
        for (size_t r = 0; r < p->n; r++) {
                if (!md)
                        md = pcre2_match_data_create_from_pattern(p->code[r], NULL);
                next.n = 0;
                for (size_t k = 0; k < cur.n; k++) {
                        size_t s = cur.v[2 * k], e = cur.v[2 * k + 1];
                        const char *sub = text + s;
                        size_t sn = e - s, at = 0, prev = 0;

                        while (at <= sn) {
                                int rc = pcre2_match(p->code[r], (PCRE2_SPTR)sub, sn, at,
                                                     PCRE2_NO_UTF_CHECK, md, NULL);
                                PCRE2_SIZE *ov;
                                if (rc == PCRE2_ERROR_NOMATCH)
                                        break;
                                if (rc < 0) {
                                        free(cur.v);
                                        free(next.v);
                                        pcre2_match_data_free(md);
                                        return mu_fail(err, MU_EFORMAT,
                                                       "pre-tokenizer regex failed (%d)", rc);
                                }
                                ov = pcre2_get_ovector_pointer(md);
                                if (ov[0] > prev)
                                        cut_add(&next, s + prev, s + ov[0]);
                                if (ov[1] > ov[0]) {
                                        cut_add(&next, s + ov[0], s + ov[1]);
                                        at = ov[1];
                                } else {
                                        if (ov[0] >= sn)
                                                break;
                                        at = utf8_next(sub, ov[0], sn);
                                }
                                prev = ov[1];
                        }
                        if (prev < sn)
                                cut_add(&next, s + prev, e);
                }
                struct cutvec t = cur;
                cur = next;
                next = t;
                pcre2_match_data_free(md);
                md = NULL;
        }
        free(next.v);
        /* hand over: the caller's buffer is replaced */
        free(*cuts);
        *cuts = cur.v;
        *n = cur.n;
        *cap = cur.cap;
        return 0;
}
