/* test_template.c -- chat template rendering (src/template/).
 *
 * Jinja: every tests/data/templates/expected/TEMPLATE--CONV.{txt,err} was
 * produced by @huggingface/jinja (tests/data/templates/regen.sh); we render
 * the same template + conversation and compare byte for byte (.err: we
 * must fail, with the same raise_exception message).  features/ holds small
 * templates exercising single language features, checked the same way.
 * Go templates: Ollama library templates with outputs derived by hand from
 * Go text/template semantics.  Errors: syntax, raise_exception, hostile
 * input (deep nesting, huge loops, recursion, output blow-up). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/fs.h"
#include "mullama/template.h"
#include "test.h"

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        struct mu_buf b = MU_BUF_INIT;
        char tmp[4096];
        size_t n;

        if (!f)
                return NULL;
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
                mu_buf_add(&b, tmp, n);
        fclose(f);
        return b.data ? mu_buf_detach(&b) : mu_xstrdup("");
}

static void report_diff(const char *name, const char *got, const char *want)
{
        size_t i = 0;

        while (got[i] && got[i] == want[i])
                i++;
        size_t from = i > 40 ? i - 40 : 0;
        test_fail_at(__FILE__, __LINE__,
                     "%s: differs at byte %zu\n  got:  \"%.80s\"\n  want: \"%.80s\"", name, i,
                     got + from, want + from);
}

/* Compare every expected/NAME--CONV file; conv_dir NULL means conv is
 * fixed (features use conv/multi.json). Returns the number of cases. */
static int check_dir(const char *tmpl_dir, const char *exp_dir, const char *fixed_conv)
{
        char dir[512];
        int cases = 0;

        snprintf(dir, sizeof(dir), "tests/data/templates/%s", exp_dir);
        DIR *d = opendir(dir);
        if (!d) {
                test_fail_at(__FILE__, __LINE__, "cannot open %s", dir);
                return 0;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                char name[256], tpath[768], cpath[768], epath[768];
                const char *dot = strrchr(e->d_name, '.');
                if (!dot || (strcmp(dot, ".txt") && strcmp(dot, ".err")))
                        continue;
                snprintf(name, sizeof(name), "%.*s", (int)(dot - e->d_name), e->d_name);
                char *sep = strstr(name, "--");
                if (fixed_conv) {
                        snprintf(tpath, sizeof(tpath), "tests/data/templates/%s/%s.jinja", tmpl_dir, name);
                        snprintf(cpath, sizeof(cpath), "tests/data/templates/conv/%s.json", fixed_conv);
                } else {
                        if (!sep)
                                continue;
                        *sep = 0;
                        snprintf(tpath, sizeof(tpath), "tests/data/templates/%s/%s.jinja", tmpl_dir, name);
                        snprintf(cpath, sizeof(cpath), "tests/data/templates/conv/%s.json", sep + 2);
                        *sep = '-';
                }
                snprintf(epath, sizeof(epath), "%s/%s", dir, e->d_name);
                char *tmpl = slurp(tpath), *conv = slurp(cpath), *want = slurp(epath), *got = NULL;
                struct mu_err err = {0};
                cases++;
                if (!tmpl || !conv || !want) {
                        test_fail_at(__FILE__, __LINE__, "%s: missing %s", name,
                                     !tmpl ? tpath : !conv ? cpath : epath);
                } else {
                        int rc = chat_render_jinja_json(tmpl, conv, &got, &err);
                        if (!strcmp(dot, ".txt")) {
                                if (rc != 0)
                                        test_fail_at(__FILE__, __LINE__, "%s: rc %d: %s", name, rc, err.msg);
                                else if (strcmp(got, want) != 0)
                                        report_diff(name, got, want);
                        } else {
                                size_t wl = strlen(want);
                                while (wl && want[wl - 1] == '\n')
                                        want[--wl] = 0;
                                if (rc == 0)
                                        test_fail_at(__FILE__, __LINE__, "%s: rendered, expected error '%s'",
                                                     name, want);
                                else if (!strstr(err.msg, want))
                                        test_fail_at(__FILE__, __LINE__, "%s: error '%s', expected '%s'",
                                                     name, err.msg, want);
                        }
                }
                free(tmpl);
                free(conv);
                free(want);
                free(got);
        }
        closedir(d);
        return cases;
}

TEST(template_jinja_reference_renderings)
{
        int n = check_dir(".", "expected", NULL);
        CHECK_MSG(n >= 80, "only %d reference cases found", n);
}

TEST(template_jinja_feature_renderings)
{
        int n = check_dir("features", "features/expected", "multi");
        CHECK_MSG(n >= 10, "only %d feature cases found", n);
}

/* The struct chat_msg entry point gives the same text as the JSON one. */
TEST(template_jinja_messages_api)
{
        char *tmpl = slurp("tests/data/templates/SmolLM2-135M-Instruct.jinja");
        char *want = slurp("tests/data/templates/expected/SmolLM2-135M-Instruct--multi.txt");
        struct chat_msg m[] = {
                {"user", "Hi, who are you?"},
                {"assistant", "I am a helpful assistant."},
                {"user", "Tell me a joke about \"quotes\" and {braces}."},
        };
        char *got = NULL;
        struct mu_err err = {0};

        CHECK(tmpl && want);
        if (!tmpl || !want)
                return;
        CHECK_EQ_INT(chat_render_jinja(tmpl, m, 3, 1, "<s>", "</s>", &got, &err), 0);
        CHECK_STR(got, want);
        free(got);
        free(tmpl);
        free(want);
}

static int render_err(const char *tmpl, struct mu_err *err)
{
        char *out = NULL;
        int rc = chat_render_jinja_json(tmpl, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                                        &out, err);
        if (rc == 0)
                free(out);
        else if (out)
                test_fail_at(__FILE__, __LINE__, "output set on error");
        return rc;
}

static char *render_ok(const char *tmpl)
{
        char *out = NULL;
        struct mu_err err = {0};
        int rc = chat_render_jinja_json(tmpl, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                                        &out, &err);
        if (rc != 0)
                test_fail_at(__FILE__, __LINE__, "render failed: %s", err.msg);
        return out;
}

TEST(template_jinja_syntax_errors)
{
        static const struct {
                const char *tmpl, *where;
        } cases[] = {
                {"hello {{ x ", "1:12"},
                {"a\nb\n  {% if x %}never closed", "3:"},
                {"{% for %}", "1:8"},
                {"{% endif %}", "1:4"},
                {"x\n{{ 'unterminated }}", "2:4"},
                {"{# no end", "1:1"},
                {"{{ 1 + }}", "1:8"},
                {"{% frobnicate %}", "1:4"},
                {"{{ a | }}", "1:8"},
                {"{{ 'bad \\q escape' }}", "1:"},
                {"{% set 1 = 2 %}", "1:8"},
                {"{{ x[1:2:3:4] }}", "1:"},
                {"{% raw %} never ends", "1:1"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct mu_err err = {0};
                int rc = render_err(cases[i].tmpl, &err);
                CHECK_MSG(rc == MU_EFORMAT, "case %zu '%s': rc %d (%s)", i, cases[i].tmpl, rc, err.msg);
                CHECK_MSG(strstr(err.msg, cases[i].where) != NULL, "case %zu: message '%s' lacks '%s'", i,
                          err.msg, cases[i].where);
        }
}

TEST(template_jinja_raise_exception)
{
        struct mu_err err = {0};
        int rc = render_err("ok\n{% if messages[0].role == 'user' %}{{ raise_exception('no users here') }}"
                            "{% endif %}",
                            &err);
        CHECK_EQ_INT(rc, MU_EINVAL);
        CHECK(strstr(err.msg, "raise_exception: no users here") != NULL);
        CHECK(strstr(err.msg, "2:") != NULL);
}

TEST(template_jinja_runtime_errors)
{
        static const char *const cases[] = {
                "{{ undefined_var + 'x' }}",
                "{{ 1 / 0 }}",
                "{{ 5 // 0 }}",
                "{{ 5 % 0 }}",
                "{{ none ~ 'x' }}",
                "{{ messages | nosuchfilter }}",
                "{{ 3 is nosuchtest }}",
                "{% set x = 1 %}{% set x.y = 2 %}",
                "{{ messages() }}",
                "{% for a, b in [1, 2] %}{% endfor %}",
                "{{ range(1, 2, 0) }}",
                "{{ 'abc'[::0] }}",
                "{{ {1: 2} }}",
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct mu_err err = {0};
                int rc = render_err(cases[i], &err);
                CHECK_MSG(rc == MU_EINVAL, "case '%s': rc %d (%s)", cases[i], rc, err.msg);
        }
}

TEST(template_jinja_hostile_input)
{
        struct mu_buf b = MU_BUF_INIT;
        struct mu_err err = {0};

        /* 100000 nested parentheses and list brackets: depth limit, no stack overflow */
        mu_buf_adds(&b, "{{ ");
        for (int i = 0; i < 100000; i++)
                mu_buf_adds(&b, "([");
        mu_buf_adds(&b, " }}");
        CHECK_EQ_INT(render_err(mu_buf_str(&b), &err), MU_ERANGE);
        mu_buf_reset(&b);
        /* deeply nested ifs */
        for (int i = 0; i < 5000; i++)
                mu_buf_adds(&b, "{% if true %}");
        CHECK_EQ_INT(render_err(mu_buf_str(&b), &err), MU_ERANGE);
        mu_buf_release(&b);

        /* huge range and nested loops */
        CHECK_EQ_INT(render_err("{% for i in range(1000000000) %}x{% endfor %}", &err), MU_ERANGE);
        CHECK_EQ_INT(render_err("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}"
                                "{% endfor %}",
                                &err),
                     MU_ERANGE);
        CHECK(strstr(err.msg, "step limit") != NULL);
        /* unbounded recursion */
        CHECK_EQ_INT(render_err("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", &err), MU_ERANGE);
        /* output / memory blow-up by doubling */
        CHECK_EQ_INT(render_err("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}"
                                "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
                                &err),
                     MU_ENOMEM);
        CHECK_EQ_INT(render_err("{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}", &err), MU_ENOMEM);
        CHECK_EQ_INT(render_err("{{ 'x' * 100000000000 }}", &err), MU_ENOMEM);
        /* binary junk never crashes */
        char junk[512];
        unsigned seed = 12345;
        for (int round = 0; round < 200; round++) {
                for (size_t i = 0; i < sizeof(junk) - 1; i++) {
                        seed = seed * 1103515245u + 12345u;
                        static const char alphabet[] = "{}%#-+*/()[]|.,:'\"=<>!~ \nabcxyz019\\";
                        junk[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
                }
                junk[sizeof(junk) - 1] = 0;
                char *out = NULL;
                int rc = chat_render_jinja_json(junk, "{}", &out, &err);
                CHECK(rc <= 0);
                CHECK((rc == 0) == (out != NULL));
                free(out);
        }
        CHECK_EQ_INT(chat_render_jinja_json("x", "[1]", &(char *){NULL}, &err), MU_EINVAL);
}

TEST(template_jinja_misc)
{
        static const struct {
                const char *tmpl, *want;
        } cases[] = {
                /* raw blocks (not in the reference renderer) */
                {"{% raw %}{{ not evaluated }}{% endraw %}!", "{{ not evaluated }}!"},
                {"a  {%- raw -%}  {{x}}  {%- endraw -%}  b", "a{{x}}b"},
                /* generation blocks vanish */
                {"A{% generation %}B{% endgeneration %}C", "ABC"},
                /* python-style strip with chars */
                {"{{ 'xxhixx'.strip('x') }}|{{ '\\n\\n a'.lstrip('\\n') }}|{{ 'ab--'.rstrip('-') }}", "hi| a|ab"},
                {"{{ dict(a=1, b='x') | tojson }}", "{\"a\": 1, \"b\": \"x\"}"},
                {"{{ [3, 1, 2] | sort | join(',') }}", "1,2,3"},
                {"{{ 7.25 | round(1) }}|{{ 7.5 | round }}|{{ '42' | int + 1 }}", "7.3|8.0|43"},
                {"{{ strftime_now('%Y') | length }}", "4"},
                {"{{ 'a' < 'b' }}{{ 2 ** 10 }}", "true1024"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = render_ok(cases[i].tmpl);
                CHECK_MSG(got && !strcmp(got, cases[i].want), "case '%s': got '%s', want '%s'",
                          cases[i].tmpl, got ? got : "(null)", cases[i].want);
                free(got);
        }
}

TEST(template_fallback_chatml)
{
        struct chat_msg m[] = {{"system", "S"}, {"user", "U"}};
        char *s = chat_render_fallback(m, 2, 1);
        CHECK_STR(s, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n");
        free(s);
        s = chat_render_fallback(NULL, 0, 0);
        CHECK_STR(s, "");
        free(s);
}

/* ---- Go templates: Ollama library templates, outputs derived by hand ---- */

static const struct chat_msg go_a[] = {{"system", "You are helpful."}, {"user", "Hello"}};
static const struct chat_msg go_b[] = {{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "How are you?"}};

static void check_go(const char *tmpl, const char *system, const struct chat_msg *m, int n,
                     const char *want, int line)
{
        char *got = NULL;
        struct mu_err err = {0};
        int rc = chat_render_go(tmpl, system, m, n, &got, &err);
        if (rc != 0)
                test_fail_at(__FILE__, line, "rc %d: %s", rc, err.msg);
        else if (strcmp(got, want) != 0)
                test_fail_at(__FILE__, line, "got \"%s\"\n  want \"%s\"", got, want);
        free(got);
}
#define CHECK_GO(t, s, m, n, w) check_go(t, s, m, n, w, __LINE__)

static const char go_chatml[] =
        "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
        "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
        "<|im_start|>assistant\n{{ .Response }}<|im_end|>\n";

TEST(template_go_chatml)
{
        CHECK_GO(go_chatml, NULL, go_a, 2,
                 "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                 "<|im_start|>assistant\n");
        CHECK_GO(go_chatml, NULL, go_b, 3,
                 "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                 "<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n");
        /* a Modelfile SYSTEM applies when the conversation has none */
        CHECK_GO(go_chatml, "SYS", go_b, 3,
                 "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
                 "Hello!<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(template_go_llama3_legacy)
{
        static const char t[] =
                "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
                "{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
                "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>";
        CHECK_GO(t, NULL, go_a, 2,
                 "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(template_go_gemma)
{
        static const char t[] = "<start_of_turn>user\n{{ if .System }}{{ .System }} {{ end }}{{ .Prompt }}"
                                "<end_of_turn>\n<start_of_turn>model\n{{ .Response }}<end_of_turn>\n";
        CHECK_GO(t, NULL, go_a, 2, "<start_of_turn>user\nYou are helpful. Hello<end_of_turn>\n<start_of_turn>model\n");
        CHECK_GO(t, NULL, go_b, 3,
                 "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                 "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n");
}

TEST(template_go_phi3)
{
        static const char t[] = "{{ if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}"
                                "{{ if .Prompt }}<|user|>\n{{ .Prompt }}<|end|>\n{{ end }}"
                                "<|assistant|>\n{{ .Response }}<|end|>\n";
        CHECK_GO(t, NULL, go_a, 2, "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n");
}

TEST(template_go_mistral_messages)
{
        static const char t[] =
                "{{- range $i, $_ := .Messages }}\n"
                "{{- if eq .Role \"user\" }}\n"
                "{{- if and $.System (eq (len (slice $.Messages $i)) 1) }}[INST] {{ $.System }}\n\n"
                "{{ .Content }}[/INST]\n"
                "{{- else }}[INST] {{ .Content }}[/INST]\n"
                "{{- end }}\n"
                "{{- else if eq .Role \"assistant\" }} {{ .Content }}</s>\n"
                "{{- end }}\n"
                "{{- end }}\n";
        CHECK_GO(t, NULL, go_a, 2, "[INST] You are helpful.\n\nHello[/INST]\n");
        CHECK_GO(t, NULL, go_b, 3, "[INST] Hi[/INST] Hello!</s>[INST] How are you?[/INST]\n");
}

TEST(template_go_llama32_messages)
{
        static const char t[] =
                "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>\n"
                "{{- end }}\n"
                "{{- range $i, $_ := .Messages }}\n"
                "{{- $last := eq (len (slice $.Messages $i)) 1 }}\n"
                "{{- if eq .Role \"user\" }}<|start_header_id|>user<|end_header_id|>\n\n"
                "{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}\n"
                "{{- else if eq .Role \"assistant\" }}<|start_header_id|>assistant<|end_header_id|>\n\n"
                "{{ .Content }}{{ if not $last }}<|eot_id|>{{ end }}\n"
                "{{- end }}\n"
                "{{- end }}";
        CHECK_GO(t, NULL, go_a, 2,
                 "<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
        CHECK_GO(t, NULL, go_b, 3,
                 "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(template_go_features)
{
        /* each template mentions .Messages, so it runs once with the whole list */
        static const struct {
                const char *t, *want;
        } cases[] = {
                {"{{/* comment */}}{{ len .Messages }}|{{ (index .Messages 1).Content }}", "3|Hello!"},
                {"{{ range .Messages }}{{ .Role }};{{ else }}none{{ end }}", "user;assistant;user;"},
                {"{{ $n := 0 }}{{ range .Messages }}{{ $n = .Role }}{{ end }}{{ $n }}", "user"},
                {"{{ if eq (index .Messages 0).Role \"system\" \"user\" }}yes{{ end }}", "yes"},
                {"{{ printf \"%s=%d %q %%\" \"a\" 5 \"x\" }}{{ .Messages | len }}", "a=5 \"x\" %3"},
                {"{{ with .System }}S{{ else }}no system{{ end }}{{ if .Messages }}{{ end }}", "no system"},
                {"{{ .Nothing }}{{ if .Messages }}{{ end }}", "<no value>"},
                {"a  {{- \" b \" -}}  c{{ .Messages | len | print }}", "a b c3"},
                {"{{ range $i, $m := .Messages }}{{ if gt $i 0 }},{{ end }}{{ $i }}:{{ $m.Content }}{{ end }}",
                 "0:Hi,1:Hello!,2:How are you?"},
                {"{{ slice \"abcdef\" 1 3 }}{{ not true }}{{ and 1 0 }}{{ or \"\" \"z\" }}{{ .Messages | len }}", "bcfalse0z3"},
                {"{{ range .Messages }}{{ if eq .Role \"assistant\" }}{{ break }}{{ end }}{{ .Content }}{{ end }}", "Hi"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = NULL;
                struct mu_err err = {0};
                int rc = chat_render_go(cases[i].t, NULL, go_b, 3, &got, &err);
                if (rc)
                        test_fail_at(__FILE__, __LINE__, "case %zu: rc %d: %s", i, rc, err.msg);
                else
                        CHECK_MSG(!strcmp(got, cases[i].want), "case %zu: got '%s', want '%s'", i, got,
                                  cases[i].want);
                free(got);
        }
}

TEST(template_go_errors)
{
        static const struct {
                const char *t;
                int code;
        } cases[] = {
                {"{{ if .System }}never ended", MU_EFORMAT},
                {"{{ .System ", MU_EFORMAT},
                {"{{ end }}", MU_EFORMAT},
                {"{{ \"unterminated }}", MU_EFORMAT},
                {"{{ nosuchfunc 1 }}{{ .Messages }}", MU_EINVAL},
                {"{{ range .Messages }}{{ .Bogus }}{{ end }}", MU_EINVAL},
                {"{{ $undefined }}", MU_EINVAL},
                {"{{ index .Messages 99 }}", MU_EINVAL},
                {"{{ template \"x\" }}", MU_EUNSUPPORTED},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = NULL;
                struct mu_err err = {0};
                int rc = chat_render_go(cases[i].t, NULL, go_b, 3, &got, &err);
                CHECK_MSG(rc == cases[i].code, "case %zu '%s': rc %d (%s)", i, cases[i].t, rc, err.msg);
                CHECK(got == NULL);
                free(got);
        }
        /* hostile: deep nesting and a huge range end with an error */
        struct mu_buf b = MU_BUF_INIT;
        for (int i = 0; i < 10000; i++)
                mu_buf_adds(&b, "{{ if true }}");
        char *got = NULL;
        struct mu_err err = {0};
        CHECK_EQ_INT(chat_render_go(mu_buf_str(&b), NULL, go_b, 3, &got, &err), MU_ERANGE);
        mu_buf_release(&b);
        CHECK_EQ_INT(chat_render_go("{{ range 100000000 }}x{{ end }}", NULL, go_b, 3, &got, &err), MU_ERANGE);
        CHECK_EQ_INT(chat_render_go("{{ range 1000000 }}{{ range 1000000 }}{{ end }}{{ end }}", NULL, go_b, 3,
                                    &got, &err),
                     MU_ERANGE);
}
