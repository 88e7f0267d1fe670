/* test_runner.c -- the runner against the engine directly: KV reuse across
 * chat turns (only new tokens are evaluated), same output as a fresh runner,
 * options parsing, JSON mode output parses. */
#include <cjson/cJSON.h>

#include "mullama/runner.h"
#include "mullama/types.h"
#include "test.h"

struct collect {
        struct mu_buf b;
};

static int collect_cb(void *ud, const char *text, size_t len)
{
        mu_buf_add(&((struct collect *)ud)->b, text, len);
        return 0;
}

static const char *concat_tmpl = "{{ range .Messages }}{{ .Content }}{{ end }}";

TEST(runner_reuses_kv_across_turns)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct runner_options o;
        struct runner *r = NULL, *fresh = NULL;
        struct runner_stats st;
        struct mu_err err = {0};
        struct chat_msg msgs[8];
        struct collect c[4];
        char *prompt = NULL;
        int n = 0;

        runner_options_init(&o);
        o.temperature = 0;
        o.num_predict = 16;
        CHECK(runner_open(&r, path, &o, 0, &err) == 0);
        if (!r)
                return;
        static const char *turns[] = {"Once upon a time", " The dog was happy.",
                                      " Then the sun came out.", " Lily smiled."};
        int evals[4], totals[4];
        for (int t = 0; t < 4; t++) {
                memset(&c[t], 0, sizeof(c[t]));
                msgs[n++] = (struct chat_msg){"user", turns[t]};
                CHECK(runner_render(r, concat_tmpl, NULL, msgs, n, 0, &prompt, &err) == 0);
                CHECK(runner_generate(r, prompt, &o, 0, NULL, collect_cb, &c[t], &st,
                                      &err) == 0);
                evals[t] = st.prompt_eval_count;
                totals[t] = st.prompt_tokens;
                free(prompt);
                prompt = NULL;
                msgs[n++] = (struct chat_msg){"assistant", mu_buf_str(&c[t].b)};
        }
        /* turn 1 evaluates everything; later turns only about their new text */
        CHECK_EQ_INT(evals[0], totals[0]);
        for (int t = 1; t < 4; t++) {
                CHECK_MSG(evals[t] < totals[t] / 2, "turn %d evaluated %d of %d tokens",
                          t + 1, evals[t], totals[t]);
                CHECK_MSG(evals[t] <= 16, "turn %d evaluated %d tokens", t + 1, evals[t]);
        }
        /* the last answer equals a fresh runner's answer to the same conversation */
        CHECK(runner_open(&fresh, path, &o, 0, &err) == 0);
        if (fresh) {
                struct collect f;
                memset(&f, 0, sizeof(f));
                CHECK(runner_render(fresh, concat_tmpl, NULL, msgs, n - 1, 0, &prompt,
                                    &err) == 0);
                CHECK(runner_generate(fresh, prompt, &o, 0, NULL, collect_cb, &f, &st,
                                      &err) == 0);
                CHECK_STR(mu_buf_str(&f.b), mu_buf_str(&c[3].b));
                free(prompt);
                mu_buf_release(&f.b);
                runner_close(fresh);
        }
        for (int t = 0; t < 4; t++)
                mu_buf_release(&c[t].b);
        runner_close(r);
        runner_options_release(&o);
}

TEST(runner_options_parse_and_json)
{
        struct runner_options o;
        struct mu_err err = {0};

        runner_options_init(&o);
        CHECK_NEAR(o.temperature, 0.8, 1e-6);
        CHECK_EQ_INT(o.top_k, 40);
        CHECK_NEAR(o.top_p, 0.9, 1e-6);
        CHECK_EQ_INT(o.num_predict, -1);
        CHECK(runner_options_set(&o, "top_k", "7", &err) == 0);
        CHECK_EQ_INT(o.top_k, 7);
        CHECK(runner_options_set(&o, "top_k", "lots", &err) == MU_EINVAL);
        CHECK(runner_options_set(&o, "nonsense", "1", &err) == MU_EINVAL);
        CHECK(runner_options_set(&o, "stop", "a", &err) == 0);
        CHECK(runner_options_apply_json(&o, "{\"temperature\":0.25,\"seed\":42,"
                                        "\"stop\":[\"x\",\"y\"],\"num_ctx\":512}", &err) == 0);
        CHECK_NEAR(o.temperature, 0.25, 1e-6);
        CHECK_EQ_INT(o.seed, 42);
        CHECK_EQ_INT(o.num_ctx, 512);
        CHECK_EQ_INT(o.n_stop, 2);
        CHECK_STR(o.stop[0], "x");
        CHECK(runner_options_apply_json(&o, "[1]", &err) == MU_EFORMAT);
        CHECK(runner_options_apply_json(&o, "{\"top_k\":\"x\"}", &err) == MU_EINVAL);
        runner_options_release(&o);
}

TEST(runner_json_mode_gives_an_object)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct runner_options o;
        struct runner *r = NULL;
        struct runner_stats st;
        struct mu_err err = {0};
        struct collect c;

        memset(&c, 0, sizeof(c));
        runner_options_init(&o);
        o.temperature = 0;
        o.num_predict = 200;
        CHECK(runner_open(&r, path, &o, 0, &err) == 0);
        if (!r)
                return;
        CHECK(runner_generate(r, "Once upon a time", &o, 1, NULL, collect_cb, &c, &st,
                              &err) == 0);
        /* the story model knows no JSON: the output is a JSON prefix, an
         * object when it finished before num_predict */
        const char *t = mu_buf_str(&c.b);
        t += strspn(t, " \t\r\n");
        CHECK_MSG(*t == '{', "output: %s", mu_buf_str(&c.b));
        if (strcmp(st.done_reason, "length") != 0) {
                cJSON *j = cJSON_Parse(mu_buf_str(&c.b));
                CHECK_MSG(j && cJSON_IsObject(j), "not an object: %s", mu_buf_str(&c.b));
                cJSON_Delete(j);
        }
        mu_buf_release(&c.b);
        runner_close(r);
        runner_options_release(&o);
}

/* A full context: without shift generation stops with done_reason "length"
 * when the cache is full; with shift (Ollama's default) it drops half of
 * what follows num_keep and goes on until num_predict, and the text before
 * the first shift is the same as without. */
TEST(runner_context_full_length_or_shift)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct runner_options o;
        struct runner *r = NULL;
        struct runner_stats st;
        struct mu_err err = {0};
        struct collect a = {0}, b = {0};

        runner_options_init(&o);
        o.temperature = 0;
        o.num_ctx = 32;
        o.num_predict = 100;
        o.num_keep = 4;
        o.shift = 0;
        CHECK(runner_open(&r, path, &o, 0, &err) == 0);
        if (!r)
                return;
        CHECK_EQ_INT(runner_n_ctx(r), 32);
        CHECK(runner_generate(r, "Once upon a time", &o, 0, NULL, collect_cb, &a, &st, &err) ==
              0);
        CHECK_STR(st.done_reason, "length");
        CHECK_MSG(st.prompt_tokens + st.eval_count <= 32 &&
                          st.prompt_tokens + st.eval_count >= 30,
                  "prompt %d + generated %d tokens in a context of 32", st.prompt_tokens,
                  st.eval_count);
        int first = st.eval_count;

        o.shift = 1;
        o.num_predict = 70;
        runner_reset(r);
        CHECK(runner_generate(r, "Once upon a time", &o, 0, NULL, collect_cb, &b, &st, &err) ==
              0);
        CHECK_STR(st.done_reason, "length");
        CHECK_EQ_INT(st.eval_count, 70);
        /* same text up to the first shift */
        const char *ta = mu_buf_str(&a.b), *tb = mu_buf_str(&b.b);
        CHECK_MSG(strlen(tb) > strlen(ta) && !strncmp(ta, tb, strlen(ta) * 3 / 4),
                  "without shift (%d tokens): \"%s\"; with: \"%s\"", first, ta, tb);
        /* a prompt that cannot fit is an error, not a shift */
        struct mu_buf big = MU_BUF_INIT;
        for (int i = 0; i < 40; i++)
                mu_buf_adds(&big, " the dog");
        CHECK_EQ_INT(runner_generate(r, mu_buf_str(&big), &o, 0, NULL, collect_cb, &b, &st,
                                     &err),
                     MU_ERANGE);
        mu_buf_release(&big);
        mu_buf_release(&a.b);
        mu_buf_release(&b.b);
        runner_close(r);
        runner_options_release(&o);
}

/* OLLAMA_KV_CACHE_TYPE / MULLAMA_KV_CACHE_TYPE choose the cache type. */
TEST(runner_kv_cache_type_from_environment)
{
        struct runner_options o;

        setenv("OLLAMA_KV_CACHE_TYPE", "q8_0", 1);
        runner_options_init(&o);
        CHECK_EQ_INT(o.kv_type, MU_TYPE_Q8_0);
        setenv("MULLAMA_KV_CACHE_TYPE", "f32", 1);
        runner_options_init(&o);
        CHECK_EQ_INT(o.kv_type, MU_TYPE_F32);
        unsetenv("MULLAMA_KV_CACHE_TYPE");
        setenv("OLLAMA_KV_CACHE_TYPE", "q4_0", 1); /* not supported: warning, f16 */
        runner_options_init(&o);
        CHECK_EQ_INT(o.kv_type, MU_TYPE_F16);
        unsetenv("OLLAMA_KV_CACHE_TYPE");
        runner_options_init(&o);
        CHECK_EQ_INT(o.kv_type, MU_TYPE_F16);
}
