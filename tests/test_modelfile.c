/* test_modelfile.c -- Modelfile grammar: every directive, strings, comments,
 * case, typed parameters, errors with line:col, did-you-mean, extension
 * precedence, params/messages JSON, render -> parse round trips, hostile
 * input, and every example in modelfiles/. */
#include <dirent.h>

#include "mullama/modelfile.h"
#include "mullama/mullama.h"
#include "test.h"

static int parse(struct modelfile *mf, const char *text, struct mu_err *err)
{
        return modelfile_parse(mf, "Modelfile", text, strlen(text), err);
}

/* Parse text expecting failure; return the message (static). */
static const char *parse_err(const char *text)
{
        static struct mu_err err;
        struct modelfile mf;

        memset(&err, 0, sizeof(err));
        if (parse(&mf, text, &err) == 0) {
                modelfile_release(&mf);
                return "(parsed without error)";
        }
        return err.msg;
}

static int has_warning(const struct modelfile *mf, const char *needle)
{
        for (int i = 0; i < mf->n_warnings; i++)
                if (strstr(mf->warnings[i], needle))
                        return 1;
        return 0;
}

TEST(modelfile_every_directive)
{
        const char *t =
                "# a comment\n"
                "FROM ./m.gguf\n"
                "PARAMETER temperature 0.7\n"
                "PARAMETER top_k 40\n"
                "PARAMETER stop \"<|im_end|>\"\n"
                "PARAMETER stop </s>\n"
                "PARAMETER use_mmap false\n"
                "TEMPLATE \"\"\"{{ .System }}\n{{ .Prompt }}\"\"\"\n"
                "SYSTEM You are a pirate.\n"
                "ADAPTER ./lora.gguf\n"
                "LICENSE \"\"\"MIT\nline two\"\"\"\n"
                "LICENSE Apache-2.0\n"
                "MESSAGE user Hello there\n"
                "MESSAGE assistant \"Ahoy!\"\n"
                "REQUIRES 0.5.7\n"
                "FLASH_ATTENTION on\n";
        struct modelfile mf;
        struct mu_err err;

        CHECK_EQ_INT(parse(&mf, t, &err), 0);
        CHECK_STR(mf.from, "./m.gguf");
        CHECK_EQ_INT(mf.from_line, 2);
        CHECK_STR(modelfile_get_param(&mf, "temperature"), "0.7");
        CHECK_STR(modelfile_get_param(&mf, "top_k"), "40");
        CHECK_STR(modelfile_get_param(&mf, "use_mmap"), "false");
        CHECK_STR(mf.tmpl, "{{ .System }}\n{{ .Prompt }}");
        CHECK_STR(mf.system, "You are a pirate.");
        CHECK_EQ_INT(mf.n_adapters, 1);
        CHECK_STR(mf.adapters[0], "./lora.gguf");
        CHECK_EQ_INT(mf.n_licenses, 2);
        CHECK_STR(mf.licenses[0], "MIT\nline two");
        CHECK_STR(mf.licenses[1], "Apache-2.0");
        CHECK_EQ_INT(mf.n_messages, 2);
        CHECK_STR(mf.messages[0].role, "user");
        CHECK_STR(mf.messages[0].content, "Hello there");
        CHECK_STR(mf.messages[1].role, "assistant");
        CHECK_STR(mf.messages[1].content, "Ahoy!");
        CHECK_STR(mf.requires, "0.5.7");
        CHECK_EQ_INT(mf.flash_attention, 1);
        CHECK_EQ_INT(mf.n_warnings, 0);
        /* stop repeats; both kept in order */
        int nstop = 0;
        for (int i = 0; i < mf.n_params; i++)
                if (!strcmp(mf.params[i].name, "stop"))
                        nstop++;
        CHECK_EQ_INT(nstop, 2);

        char *pj = modelfile_params_json(&mf);
        CHECK_STR(pj, "{\"temperature\":0.7,\"top_k\":40,\"stop\":[\"<|im_end|>\",\"</s>\"],"
                      "\"use_mmap\":false,\"flash_attention\":true}");
        free(pj);
        char *mj = modelfile_messages_json(&mf);
        CHECK_STR(mj, "[{\"role\":\"user\",\"content\":\"Hello there\"},"
                      "{\"role\":\"assistant\",\"content\":\"Ahoy!\"}]");
        free(mj);
        modelfile_release(&mf);
}

TEST(modelfile_case_comments_blanks)
{
        const char *t =
                "\n\n   # indented comment\n"
                "from llama3:8b   \r\n"
                "\tParameter Num_Ctx 4096\n"
                "system    \"\"\"  keep   spaces  \"\"\"   \n"
                "#PARAMETER top_k 1\n"
                "template {{ .Prompt }}\n";
        struct modelfile mf;
        struct mu_err err;

        CHECK_EQ_INT(parse(&mf, t, &err), 0);
        CHECK_STR(mf.from, "llama3:8b");
        CHECK_STR(modelfile_get_param(&mf, "num_ctx"), "4096");
        CHECK(modelfile_get_param(&mf, "top_k") == NULL);
        CHECK_STR(mf.system, "  keep   spaces  ");
        CHECK_STR(mf.tmpl, "{{ .Prompt }}");
        modelfile_release(&mf);
}

TEST(modelfile_quoted_strings)
{
        struct modelfile mf;
        struct mu_err err;

        CHECK_EQ_INT(parse(&mf, "FROM x\nSYSTEM \"say \\\"hi\\\" \\\\ ok\"\n", &err), 0);
        CHECK_STR(mf.system, "say \"hi\" \\ ok");
        modelfile_release(&mf);
        /* a "..." string may span lines; line numbers keep counting */
        CHECK_EQ_INT(parse(&mf, "FROM x\nSYSTEM \"a\nb\"\nPARAMETER seed 1\n", &err), 0);
        CHECK_STR(mf.system, "a\nb");
        CHECK_EQ_INT(mf.params[0].line, 4);
        modelfile_release(&mf);
        /* empty """ string */
        CHECK_EQ_INT(parse(&mf, "FROM x\nSYSTEM \"\"\"\"\"\"\n", &err), 0);
        CHECK_STR(mf.system, "");
        modelfile_release(&mf);
        /* a multi-line """ keeps line counting right for later errors */
        CHECK_STR(parse_err("FROM x\nTEMPLATE \"\"\"a\nb\nc\"\"\"\nPARAMETER top_k x\n"),
                  "Modelfile:5:17: PARAMETER top_k expects an integer, got 'x'");
}

TEST(modelfile_extensions_and_precedence)
{
        struct modelfile mf;
        struct mu_err err;

        CHECK_EQ_INT(parse(&mf, "FROM x\nPARAMETER num_gpu 20\nGPU_LAYERS 10\n", &err), 0);
        CHECK_STR(modelfile_get_param(&mf, "num_gpu"), "10");
        CHECK_EQ_INT(mf.n_warnings, 1);
        CHECK(has_warning(&mf, "Modelfile:3: GPU_LAYERS 10 overrides num_gpu 20 from line 2"));
        modelfile_release(&mf);

        CHECK_EQ_INT(parse(&mf, "FROM x\nGPU_LAYERS 10\nPARAMETER num_gpu 99\n", &err), 0);
        CHECK_STR(modelfile_get_param(&mf, "num_gpu"), "99");
        CHECK(has_warning(&mf, "Modelfile:3: PARAMETER num_gpu 99 overrides num_gpu 10 from line 2"));
        modelfile_release(&mf);

        CHECK_EQ_INT(parse(&mf, "FROM x\nTHREADS 8\nCONTEXT 2048\nflash_attention OFF\n", &err), 0);
        CHECK_STR(modelfile_get_param(&mf, "num_thread"), "8");
        CHECK_STR(modelfile_get_param(&mf, "num_ctx"), "2048");
        CHECK_EQ_INT(mf.flash_attention, 0);
        CHECK_EQ_INT(mf.n_warnings, 0);
        char *pj = modelfile_params_json(&mf);
        CHECK_STR(pj, "{\"num_thread\":8,\"num_ctx\":2048,\"flash_attention\":false}");
        free(pj);
        modelfile_release(&mf);
}

TEST(modelfile_deprecated_parameters_warn)
{
        static const char *dep[] = {"mirostat 2", "mirostat_tau 5.0", "mirostat_eta 0.1",
                                    "penalize_newline true", "low_vram true", "f16_kv true",
                                    "logits_all false", "vocab_only false", "use_mlock true"};
        for (size_t i = 0; i < sizeof(dep) / sizeof(dep[0]); i++) {
                char t[128], name[32];
                struct modelfile mf;
                struct mu_err err;
                snprintf(t, sizeof(t), "FROM x\nPARAMETER %s\n", dep[i]);
                sscanf(dep[i], "%31s", name);
                CHECK_EQ_INT(parse(&mf, t, &err), 0);
                CHECK_EQ_INT(mf.n_params, 0);
                CHECK_EQ_INT(mf.n_warnings, 1);
                CHECK(has_warning(&mf, "deprecated"));
                CHECK(has_warning(&mf, name));
                modelfile_release(&mf);
        }
}

TEST(modelfile_every_parameter_type)
{
        static const struct {
                const char *name, *good, *bad, *expect;
        } cases[] = {
                {"num_ctx", "4096", "4k", "an integer"},
                {"num_predict", "-1", "1.5", "an integer"},
                {"num_keep", "4", "x", "an integer"},
                {"temperature", "0.8", "hot", "a number"},
                {"top_k", "40", "4O", "an integer"},
                {"top_p", "0.9", "nan", "a number"},
                {"min_p", "0.05", "", "a number"},
                {"typical_p", "1.0", "1..0", "a number"},
                {"repeat_penalty", "1.1", "x", "a number"},
                {"repeat_last_n", "64", "6 4", "an integer"},
                {"presence_penalty", "0", "-", "a number"},
                {"frequency_penalty", "0.5", "e", "a number"},
                {"seed", "42", "0x2a", "an integer"},
                {"num_batch", "512", "512MB", "an integer"},
                {"num_thread", "8", "eight", "an integer"},
                {"num_gpu", "99", "all", "an integer"},
                {"main_gpu", "0", "gpu0", "an integer"},
                {"use_mmap", "true", "yes", "true or false"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char t[200], want[200];
                struct modelfile mf;
                struct mu_err err;
                snprintf(t, sizeof(t), "FROM x\nPARAMETER %s %s\n", cases[i].name, cases[i].good);
                CHECK_MSG(parse(&mf, t, &err) == 0, "%s: %s", cases[i].name, err.msg);
                CHECK_STR(modelfile_get_param(&mf, cases[i].name), cases[i].good);
                modelfile_release(&mf);
                if (!*cases[i].bad)
                        continue;
                snprintf(t, sizeof(t), "FROM x\nPARAMETER %s %s\n", cases[i].name, cases[i].bad);
                snprintf(want, sizeof(want), "Modelfile:2:%d: PARAMETER %s expects %s, got '%s'",
                         (int)strlen(cases[i].name) + 12, cases[i].name, cases[i].expect,
                         cases[i].bad);
                CHECK_STR(parse_err(t), want);
        }
        /* stop accepts anything */
        enum modelfile_ptype ty;
        CHECK_EQ_INT(modelfile_param_type("stop", &ty, NULL), 0);
        CHECK_EQ_INT(ty, MODELFILE_PSTRING);
        CHECK_EQ_INT(modelfile_param_type("nope", &ty, NULL), MU_ENOTFOUND);
}

TEST(modelfile_errors_line_col)
{
        CHECK_STR(parse_err("FROM x\nFORM y\n"),
                  "Modelfile:2:1: unknown directive 'FORM' (did you mean 'FROM'?)");
        CHECK_STR(parse_err("FROM x\n  PARAMETERS top_k 1\n"),
                  "Modelfile:2:3: unknown directive 'PARAMETERS' (did you mean 'PARAMETER'?)");
        CHECK_STR(parse_err("FROM x\nBANANA 1\n"), "Modelfile:2:1: unknown directive 'BANANA'");
        CHECK_STR(parse_err("FROM x\nPARAMETER tempurature 0.5\n"),
                  "Modelfile:2:11: unknown parameter 'tempurature' (did you mean 'temperature'?)");
        CHECK_STR(parse_err("FROM x\nPARAMETER top-k 5\n"),
                  "Modelfile:2:11: unknown parameter 'top-k' (did you mean 'top_k'?)");
        CHECK_STR(parse_err("FROM x\nPARAMETER zzzzzz 5\n"),
                  "Modelfile:2:11: unknown parameter 'zzzzzz'");
        CHECK_STR(parse_err("FROM x\nPARAMETER\n"),
                  "Modelfile:2:10: expected a parameter name after PARAMETER");
        CHECK_STR(parse_err("FROM x\nPARAMETER top_k   \n"),
                  "Modelfile:2:19: expected a value after PARAMETER top_k");
        CHECK_STR(parse_err("FROM\n"), "Modelfile:1:5: expected a model name or path after FROM");
        CHECK_STR(parse_err("FROM x\nFROM y\n"), "Modelfile:2:1: FROM given twice (first on line 1)");
        CHECK_STR(parse_err("PARAMETER top_k 1\n"),
                  "Modelfile: no FROM line (every Modelfile needs FROM <model or file>)");
        CHECK_STR(parse_err(""), "Modelfile: no FROM line (every Modelfile needs FROM <model or file>)");
        CHECK_STR(parse_err("FROM x\nSYSTEM \"\"\"never closed\n\n"),
                  "Modelfile:2:8: unterminated \"\"\" string (no closing \"\"\")");
        CHECK_STR(parse_err("FROM x\nSYSTEM \"open\n"),
                  "Modelfile:2:8: unterminated quoted string (no closing \")");
        CHECK_STR(parse_err("FROM x\nSYSTEM \"\"\"a\"\"\" trailing\n"),
                  "Modelfile:2:16: unexpected 'trailing' after closing \"\"\"");
        CHECK_STR(parse_err("FROM x\nMESSAGE robot hi\n"),
                  "Modelfile:2:9: MESSAGE role must be system, user or assistant, got 'robot'");
        CHECK_STR(parse_err("FROM x\nMESSAGE user\n"),
                  "Modelfile:2:13: expected message text after MESSAGE role");
        CHECK_STR(parse_err("FROM x\nGPU_LAYERS many\n"),
                  "Modelfile:2:12: GPU_LAYERS expects an integer, got 'many'");
        CHECK_STR(parse_err("FROM x\nFLASH_ATTENTION maybe\n"),
                  "Modelfile:2:17: FLASH_ATTENTION expects on or off, got 'maybe'");
        CHECK_STR(parse_err("FROM x\nREQUIRES latest\n"),
                  "Modelfile:2:10: REQUIRES expects a version like 0.5.0, got 'latest'");
        CHECK_STR(parse_err("FROM x\n= 3\n"),
                  "Modelfile:2:1: expected a directive (FROM, PARAMETER, TEMPLATE, ...), got '='");
        CHECK_STR(parse_err("FROM x\nSYSTEM: hi\n"),
                  "Modelfile:2:1: expected a directive (FROM, PARAMETER, TEMPLATE, ...), got 'SYSTEM:'");
}

TEST(modelfile_edit_distance_and_suggestions)
{
        CHECK_EQ_INT(modelfile_edit_distance("kitten", "sitting"), 3);
        CHECK_EQ_INT(modelfile_edit_distance("FROM", "from"), 0);
        CHECK_EQ_INT(modelfile_edit_distance("", "abc"), 3);
        CHECK_EQ_INT(modelfile_edit_distance("top_k", "top_p"), 1);
        CHECK_STR(parse_err("FROM x\nSYTSEM hi\n"),
                  "Modelfile:2:1: unknown directive 'SYTSEM' (did you mean 'SYSTEM'?)");
        CHECK_STR(parse_err("FROM x\nPARAMETER num_gpus 1\n"),
                  "Modelfile:2:11: unknown parameter 'num_gpus' (did you mean 'num_gpu'?)");
}

TEST(modelfile_hostile_input)
{
        struct modelfile mf;
        struct mu_err err;
        /* NUL byte */
        const char nul[] = "FROM x\nSYS\0TEM y\n";
        CHECK(modelfile_parse(&mf, "Modelfile", nul, sizeof(nul) - 1, &err) == MU_EFORMAT);
        CHECK_STR(err.msg, "Modelfile:2:4: unexpected NUL byte (is this a binary file?)");
        /* a 4 MB line */
        size_t n = 4u << 20;
        char *big = malloc(n + 64);
        strcpy(big, "FROM x\nSYSTEM ");
        size_t off = strlen(big);
        memset(big + off, 'a', n);
        strcpy(big + off + n, "\n");
        CHECK_EQ_INT(modelfile_parse(&mf, "M", big, strlen(big), &err), 0);
        CHECK(mf.system && strlen(mf.system) == n);
        modelfile_release(&mf);
        /* a 4 MB unknown keyword and a 4 MB unterminated """ */
        memset(big, 'Z', n);
        big[n] = '\0';
        CHECK(modelfile_parse(&mf, "M", big, n, &err) == MU_EFORMAT);
        CHECK(strstr(err.msg, "M:1:1: expected a directive") != NULL);
        strcpy(big, "FROM x\nTEMPLATE \"\"\"");
        off = strlen(big);
        memset(big + off, '"', n);
        big[off + n] = '\0';
        /* quotes only: `""""...` closes at once, then junk follows */
        CHECK(modelfile_parse(&mf, "M", big, strlen(big), &err) == MU_EFORMAT);
        memset(big + off, '\n', n);
        CHECK(modelfile_parse(&mf, "M", big, strlen(big), &err) == MU_EFORMAT);
        CHECK_STR(err.msg, "M:2:10: unterminated \"\"\" string (no closing \"\"\")");
        free(big);
        /* every prefix of a valid file either parses or fails cleanly */
        const char *t = "FROM x\nTEMPLATE \"\"\"a\nb\"\"\"\nMESSAGE user \"q\"\nPARAMETER stop \"s\"\n";
        for (size_t i = 0; i <= strlen(t); i++) {
                int rc = modelfile_parse(&mf, "M", t, i, &err);
                CHECK(rc == 0 || rc == MU_EFORMAT);
                if (rc == 0)
                        modelfile_release(&mf);
        }
}

static void check_same(const struct modelfile *a, const struct modelfile *b)
{
        CHECK_STR(a->from, b->from);
        CHECK((a->tmpl == NULL) == (b->tmpl == NULL));
        if (a->tmpl && b->tmpl)
                CHECK_STR(a->tmpl, b->tmpl);
        CHECK((a->system == NULL) == (b->system == NULL));
        if (a->system && b->system)
                CHECK_STR(a->system, b->system);
        CHECK_EQ_INT(a->n_params, b->n_params);
        for (int i = 0; i < a->n_params && i < b->n_params; i++) {
                CHECK_STR(a->params[i].name, b->params[i].name);
                CHECK_STR(a->params[i].value, b->params[i].value);
        }
        CHECK_EQ_INT(a->n_messages, b->n_messages);
        for (int i = 0; i < a->n_messages && i < b->n_messages; i++) {
                CHECK_STR(a->messages[i].role, b->messages[i].role);
                CHECK_STR(a->messages[i].content, b->messages[i].content);
        }
        CHECK_EQ_INT(a->n_licenses, b->n_licenses);
        for (int i = 0; i < a->n_licenses && i < b->n_licenses; i++)
                CHECK_STR(a->licenses[i], b->licenses[i]);
        CHECK_EQ_INT(a->n_adapters, b->n_adapters);
        CHECK_EQ_INT(a->flash_attention, b->flash_attention);
        CHECK((a->requires == NULL) == (b->requires == NULL));
}

TEST(modelfile_render_round_trip)
{
        const char *t =
                "FROM ../models/a b.gguf\n"
                "TEMPLATE \"\"\"{{ if .System }}<|system|>{{ .System }}{{ end }}\n"
                "<|user|>{{ .Prompt }}\"\"\"\n"
                "SYSTEM \"\"\" leading and trailing \"\"\"\n"
                "PARAMETER stop \"<|end|>\"\n"
                "PARAMETER stop \"say \\\"x\\\"\"\n"
                "PARAMETER temperature 0.25\n"
                "GPU_LAYERS 12\n"
                "FLASH_ATTENTION on\n"
                "MESSAGE user \"ends with a quote\\\"\"\n"
                "MESSAGE assistant \"has \\\"\\\"\\\" triple \\\\ and\nnewline\"\n"
                "LICENSE \"\"\"line1\nline2\"\"\"\n"
                "ADAPTER ./x.gguf\n"
                "REQUIRES 0.6.1\n";
        struct modelfile a, b;
        struct mu_err err;

        CHECK_EQ_INT(parse(&a, t, &err), 0);
        CHECK_STR(a.messages[0].content, "ends with a quote\"");
        CHECK_STR(a.messages[1].content, "has \"\"\" triple \\ and\nnewline");
        char *r = modelfile_render(&a);
        CHECK_MSG(parse(&b, r, &err) == 0, "%s\n%s", err.msg, r);
        check_same(&a, &b);
        char *r2 = modelfile_render(&b);
        CHECK_STR(r, r2); /* rendering is a fixed point */
        CHECK(strstr(r, "PARAMETER num_gpu 12\n") != NULL);
        CHECK(strstr(r, "FLASH_ATTENTION on\n") != NULL);
        free(r);
        free(r2);
        modelfile_release(&a);
        modelfile_release(&b);
}

/* The REPL's /save quotes conversation text with modelfile_add_line(block 1):
 * whatever the text (an answer cut by Ctrl-C just after a quote mark, code
 * with triple quotes), parsing it back gives the same text. */
TEST(modelfile_quote_round_trip)
{
        const char *vals[] = {"plain", "He said \"hi\"", "\"", "\"\"\"", "a\"\"\"b",
                              "ends in backslash\\", "two\nlines\"", "", " pad ",
                              "\\\"", "x\"\"", "\"lead"};
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
                for (int block = 0; block < 2; block++) {
                        struct mu_buf b = MU_BUF_INIT;
                        struct modelfile mf;
                        struct mu_err err;
                        mu_buf_adds(&b, "FROM x.gguf\n");
                        modelfile_add_line(&b, block, vals[i], "MESSAGE %s", "user");
                        int rc = parse(&mf, b.data, &err);
                        CHECK_MSG(rc == 0, "value %zu block %d: %s\n%s", i, block, err.msg,
                                  b.data);
                        if (rc == 0) {
                                CHECK_EQ_INT(mf.n_messages, 1);
                                if (mf.n_messages == 1)
                                        CHECK_STR(mf.messages[0].content, vals[i]);
                                modelfile_release(&mf);
                        }
                        if (block && vals[i][0] && !strstr(vals[i], "\"\"\"") &&
                            vals[i][strlen(vals[i]) - 1] != '"')
                                CHECK(!strncmp(b.data + 25, "\"\"\"", 3));
                        mu_buf_release(&b);
                }
}

TEST(modelfile_example_files_parse)
{
        DIR *d = opendir("modelfiles");
        struct dirent *e;
        int n = 0;

        CHECK(d != NULL);
        if (!d)
                return;
        while ((e = readdir(d))) {
                char path[512];
                struct modelfile mf, back;
                struct mu_err err;
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "modelfiles/%s", e->d_name);
                if (modelfile_parse_file(&mf, path, &err) != 0) {
                        CHECK_MSG(0, "%s", err.msg);
                        continue;
                }
                CHECK_MSG(mf.n_warnings == 0, "%s: %s", path, mf.warnings[0]);
                CHECK_MSG(!strncmp(mf.from, "../tests/models/", 16), "%s: FROM %s", path, mf.from);
                char *r = modelfile_render(&mf);
                CHECK_EQ_INT(parse(&back, r, &err), 0);
                check_same(&mf, &back);
                free(r);
                modelfile_release(&back);
                modelfile_release(&mf);
                n++;
        }
        closedir(d);
        CHECK(n >= 5);
}
