/* test_stop.c -- the stop-string matcher against a hand-written table and a
 * brute-force reference, for every way of splitting the text into pieces.
 *
 * Reference semantics: read the text one byte at a time; stop at the first
 * position where some stop string ends (on a tie, the one that starts first);
 * the output is the text before that stop string. */
#include <stdint.h>

#include "mullama/stop.h"
#include "test.h"

struct stop_case {
        const char *stops[4];
        int n_stops;
        const char *text;
        const char *want;   /* everything emitted, flush included */
        int which;          /* matched stop index, -1 for none */
};

static const struct stop_case cases[] = {
        {{"ab", "abc"}, 2, "xxabc yy", "xx", 0},
        {{"abc", "ab"}, 2, "xxabc yy", "xx", 1},
        {{"abcd", "bc"}, 2, "zabcd", "za", 1},     /* "bc" ends first */
        {{"bcd", "abcd"}, 2, "zabcd!", "z", 1},    /* same end: earlier start */
        {{"<|end|>"}, 1, "<|end|>tail", "", 0},    /* stop at the very start */
        {{"STOP"}, 1, "hello STO", "hello STO", -1},
        {{"abc"}, 1, "ababx abd aab", "ababx abd aab", -1},
        {{"aab"}, 1, "aaaab c", "aa", 0},
        {{"\n\n", "User:", "###"}, 3, "Hello\nUser: hi\n\n", "Hello\n", 1},
        {{"\n\n", "User:", "###"}, 3, "a\n#\n\nb###", "a\n#", 0},
        {{"", "x"}, 2, "abxcd", "ab", 1},          /* empty stops are ignored */
        {{0}, 0, "no stops at all", "no stops at all", -1},
        {{"é!"}, 1, "café!", "caf", 0},
        {{"€"}, 1, "price 5€ x", "price 5", 0},
        {{"🙂"}, 1, "a🙂b", "a", 0},
        {{"本語x"}, 1, "naïve 日本語", "naïve 日本語", -1},
        {{"ab"}, 1, "ab", "", 0},
        {{"xyz"}, 1, "", "", -1},
};

/* Brute force: the reference semantics, byte by byte. */
static void reference(const struct stop_case *c, struct mu_buf *out, int *which)
{
        size_t len = strlen(c->text);
        *which = -1;
        for (size_t e = 1; e <= len; e++) {
                size_t best_start = (size_t)-1;
                for (int i = 0; i < c->n_stops; i++) {
                        size_t sl = strlen(c->stops[i]);
                        if (sl == 0 || sl > e || memcmp(c->text + e - sl, c->stops[i], sl) != 0)
                                continue;
                        if (e - sl < best_start) {
                                best_start = e - sl;
                                *which = i;
                        }
                }
                if (*which >= 0) {
                        mu_buf_add(out, c->text, best_start);
                        return;
                }
        }
        mu_buf_add(out, c->text, len);
}

/* True when s[0, n) does not end inside a multi-byte character. */
static int utf8_complete(const char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                unsigned char b = (unsigned char)s[i];
                size_t l = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
                if (i + l > n)
                        return 0;
                i += l;
        }
        return 1;
}

/* Feed text split at the given cut points; check every intermediate state:
 * what was emitted is a prefix of the final answer and whole UTF-8, and
 * emitted + held is everything fed. */
static int run_split(const struct stop_case *c, const size_t *cuts, int n_cuts,
                     const char *want, int want_which, const char *label)
{
        struct stop_matcher *m = stop_matcher_create(c->stops, c->n_stops);
        struct mu_buf out = MU_BUF_INIT;
        size_t len = strlen(c->text), pos = 0, want_len = strlen(want);
        int stopped = 0, ok = 1;

        for (int k = 0; k <= n_cuts && ok; k++) {
                size_t end = k < n_cuts ? cuts[k] : len;
                int r = stop_matcher_feed(m, c->text + pos, end - pos, &out);
                pos = end;
                if (out.len > want_len || memcmp(mu_buf_str(&out), want, out.len) != 0) {
                        test_fail_at(__FILE__, __LINE__, "%s: emitted '%s', not a prefix of '%s'",
                                     label, mu_buf_str(&out), want);
                        ok = 0;
                } else if (!utf8_complete(mu_buf_str(&out), out.len)) {
                        test_fail_at(__FILE__, __LINE__, "%s: emitted a split character", label);
                        ok = 0;
                } else if (!r && !stopped && out.len + stop_matcher_held(m) != pos) {
                        test_fail_at(__FILE__, __LINE__, "%s: emitted %zu + held %zu != fed %zu",
                                     label, out.len, stop_matcher_held(m), pos);
                        ok = 0;
                }
                if (stopped && !r) {
                        test_fail_at(__FILE__, __LINE__, "%s: feed after stop returned 0", label);
                        ok = 0;
                }
                stopped |= r;
        }
        stop_matcher_flush(m, &out);
        if (ok && (strcmp(mu_buf_str(&out), want) != 0 || stop_matcher_which(m) != want_which)) {
                test_fail_at(__FILE__, __LINE__, "%s: got '%s' (stop %d), want '%s' (stop %d)",
                             label, mu_buf_str(&out), stop_matcher_which(m), want, want_which);
                ok = 0;
        }
        if (ok && (stopped != (want_which >= 0))) {
                test_fail_at(__FILE__, __LINE__, "%s: stop reported %d", label, stopped);
                ok = 0;
        }
        mu_buf_release(&out);
        stop_matcher_free(m);
        return ok;
}

TEST(stop_table_every_split)
{
        char label[128];
        for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
                const struct stop_case *c = &cases[ci];
                size_t len = strlen(c->text), cuts[2];
                struct mu_buf ref = MU_BUF_INIT;
                int ref_which;

                /* the hand-written answer agrees with the brute force */
                reference(c, &ref, &ref_which);
                CHECK_STR(mu_buf_str(&ref), c->want);
                CHECK_EQ_INT(ref_which, c->which);
                mu_buf_release(&ref);

                snprintf(label, sizeof label, "case %zu whole", ci);
                run_split(c, NULL, 0, c->want, c->which, label);
                /* two pieces at every byte boundary */
                for (size_t a = 0; a <= len; a++) {
                        cuts[0] = a;
                        snprintf(label, sizeof label, "case %zu cut %zu", ci, a);
                        if (!run_split(c, cuts, 1, c->want, c->which, label))
                                break;
                }
                /* three pieces at every pair of boundaries */
                for (size_t a = 0; a <= len; a++)
                        for (size_t b = a; b <= len; b++) {
                                cuts[0] = a;
                                cuts[1] = b;
                                snprintf(label, sizeof label, "case %zu cuts %zu,%zu", ci, a, b);
                                run_split(c, cuts, 2, c->want, c->which, label);
                        }
                /* one byte at a time */
                size_t *all = malloc(sizeof *all * (len + 1));
                for (size_t a = 0; a < len; a++)
                        all[a] = a + 1;
                snprintf(label, sizeof label, "case %zu bytewise", ci);
                run_split(c, all, (int)len, c->want, c->which, label);
                free(all);
        }
}

/* Random texts and stops over a three-letter alphabet (lots of partial
 * overlaps), random splits, against the brute force. */
TEST(stop_random_against_brute_force)
{
        uint64_t x = 99;
        char texts[4][24], label[64];
        for (int rep = 0; rep < 3000; rep++) {
                struct stop_case c = {{0}, 0, NULL, NULL, -1};
                char text[40];
                size_t cuts[8];
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                c.n_stops = 1 + (int)((x >> 33) % 3);
                for (int i = 0; i < c.n_stops; i++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        int l = 1 + (int)((x >> 33) % 4);
                        for (int j = 0; j < l; j++) {
                                x = x * 6364136223846793005ull + 1442695040888963407ull;
                                texts[i][j] = (char)('a' + (x >> 40) % 3);
                        }
                        texts[i][l] = 0;
                        c.stops[i] = texts[i];
                }
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                int tl = (int)((x >> 33) % 30);
                for (int j = 0; j < tl; j++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        text[j] = (char)('a' + (x >> 40) % 3);
                }
                text[tl] = 0;
                c.text = text;
                int n_cuts = 0;
                for (int j = 1; j < tl && n_cuts < 8; j++) {
                        x = x * 6364136223846793005ull + 1442695040888963407ull;
                        if ((x >> 40) % 3 == 0)
                                cuts[n_cuts++] = (size_t)j;
                }
                struct mu_buf ref = MU_BUF_INIT;
                int which;
                reference(&c, &ref, &which);
                snprintf(label, sizeof label, "random %d '%s'", rep, text);
                run_split(&c, cuts, n_cuts, mu_buf_str(&ref), which, label);
                mu_buf_release(&ref);
        }
}

/* What is held back, exactly: only a live prefix of a stop string. */
TEST(stop_holds_only_live_prefixes)
{
        const char *stops[] = {"abc", "<|im_end|>"};
        struct stop_matcher *m = stop_matcher_create(stops, 2);
        struct mu_buf out = MU_BUF_INIT;

        CHECK_EQ_INT(stop_matcher_feed(m, "xab", 3, &out), 0);
        CHECK_STR(mu_buf_str(&out), "x");
        CHECK_EQ_INT(stop_matcher_held(m), 2);
        CHECK_EQ_INT(stop_matcher_feed(m, "d", 1, &out), 0);  /* mismatch: release */
        CHECK_STR(mu_buf_str(&out), "xabd");
        CHECK_EQ_INT(stop_matcher_held(m), 0);
        CHECK_EQ_INT(stop_matcher_feed(m, "aab", 3, &out), 0);
        CHECK_STR(mu_buf_str(&out), "xabda");
        CHECK_EQ_INT(stop_matcher_held(m), 2);
        CHECK_EQ_INT(stop_matcher_feed(m, "<|im", 4, &out), 0);
        CHECK_STR(mu_buf_str(&out), "xabdaab");
        CHECK_EQ_INT(stop_matcher_held(m), 4);
        CHECK_EQ_INT(stop_matcher_feed(m, "_end", 4, &out), 0);
        CHECK_EQ_INT(stop_matcher_held(m), 8);
        CHECK_EQ_INT(stop_matcher_feed(m, "|>", 2, &out), 1);
        CHECK_STR(mu_buf_str(&out), "xabdaab");
        CHECK_EQ_INT(stop_matcher_which(m), 1);
        CHECK_EQ_INT(stop_matcher_feed(m, "more", 4, &out), 1);
        stop_matcher_flush(m, &out);
        CHECK_STR(mu_buf_str(&out), "xabdaab");

        /* reset: same stops, fresh state */
        stop_matcher_reset(m);
        mu_buf_reset(&out);
        CHECK_EQ_INT(stop_matcher_which(m), -1);
        CHECK_EQ_INT(stop_matcher_feed(m, "ab", 2, &out), 0);
        CHECK_EQ_INT(stop_matcher_held(m), 2);
        stop_matcher_flush(m, &out);
        CHECK_STR(mu_buf_str(&out), "ab");
        CHECK_EQ_INT(stop_matcher_held(m), 0);

        /* a character split across pieces is held until it is whole */
        stop_matcher_reset(m);
        mu_buf_reset(&out);
        CHECK_EQ_INT(stop_matcher_feed(m, "x\xe2\x82", 3, &out), 0);
        CHECK_STR(mu_buf_str(&out), "x");
        CHECK_EQ_INT(stop_matcher_feed(m, "\xac", 1, &out), 0);
        CHECK_STR(mu_buf_str(&out), "x\xe2\x82\xac");
        mu_buf_release(&out);
        stop_matcher_free(m);
        stop_matcher_free(NULL);
}
