/* test_pull.c -- pull references (registry.h): defaults, namespaces, hosts
 * with ports, hf.co quantization tags, schemes, MULLAMA_REGISTRY mirrors,
 * bad names; URLs; error bodies (net_error_text); backoff. */
#include <unistd.h>

#include "mullama/registry.h"
#include "net/net.h"
#include "test.h"

static struct registry_ref parse_ok(const char *s, int insecure)
{
        struct registry_ref r;
        struct mu_err err = {0};

        if (registry_ref_parse(&r, s, insecure, &err))
                test_fail_at(__FILE__, __LINE__, "'%s' did not parse: %s", s, err.msg);
        return r;
}

TEST(pull_ref_defaults)
{
        unsetenv("MULLAMA_REGISTRY");
        struct registry_ref r = parse_ok("llama3", 0);
        CHECK_STR(r.ref.host, "registry.ollama.ai");
        CHECK_STR(r.ref.ns, "library");
        CHECK_STR(r.ref.name, "llama3");
        CHECK_STR(r.ref.tag, "latest");
        CHECK_STR(r.base, "https://registry.ollama.ai");
        CHECK_STR(r.display, "registry.ollama.ai/library/llama3:latest");
        char *u = registry_manifest_url(&r);
        CHECK_STR(u, "https://registry.ollama.ai/v2/library/llama3/manifests/latest");
        free(u);
        u = registry_blob_url(&r, "sha256:abc");
        CHECK_STR(u, "https://registry.ollama.ai/v2/library/llama3/blobs/sha256:abc");
        free(u);

        r = parse_ok("qwen2.5:0.5b-instruct", 0);
        CHECK_STR(r.ref.name, "qwen2.5");
        CHECK_STR(r.ref.tag, "0.5b-instruct");
        r = parse_ok("me/mine:v1", 0);
        CHECK_STR(r.ref.ns, "me");
        CHECK_STR(r.ref.name, "mine");
        CHECK_STR(r.ref.tag, "v1");
        CHECK_STR(r.base, "https://registry.ollama.ai");
}

TEST(pull_ref_hosts)
{
        unsetenv("MULLAMA_REGISTRY");
        struct registry_ref r = parse_ok("127.0.0.1:8080/ns/model:q4", 1);
        CHECK_STR(r.ref.host, "127.0.0.1:8080");
        CHECK_STR(r.ref.ns, "ns");
        CHECK_STR(r.ref.name, "model");
        CHECK_STR(r.ref.tag, "q4");
        CHECK_STR(r.base, "http://127.0.0.1:8080");
        r = parse_ok("127.0.0.1:8080/ns/model", 0);
        CHECK_STR(r.ref.tag, "latest");
        CHECK_STR(r.base, "https://127.0.0.1:8080");
        struct mu_err err = {0};
        CHECK_EQ_INT(registry_ref_parse(&r, "http://example.com/a/b:c", 0, &err), MU_EINVAL);
        CHECK(strstr(err.msg, "--insecure") != NULL);
        r = parse_ok("http://example.com/a/b:c", 1);
        CHECK_STR(r.base, "http://example.com");
        CHECK_STR(r.ref.host, "example.com");
        r = parse_ok("https://example.com/a/b", 1);
        CHECK_STR(r.base, "https://example.com");
}

TEST(pull_ref_hf)
{
        unsetenv("MULLAMA_REGISTRY");
        struct registry_ref r = parse_ok("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF", 0);
        CHECK_STR(r.ref.host, "hf.co");
        CHECK_STR(r.ref.ns, "bartowski");
        CHECK_STR(r.ref.name, "Llama-3.2-1B-Instruct-GGUF");
        CHECK_STR(r.ref.tag, "Q4_K_M");
        CHECK_STR(r.base, "https://hf.co");
        r = parse_ok("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q8_0", 0);
        CHECK_STR(r.ref.tag, "Q8_0");
        r = parse_ok("huggingface.co/u/r", 0);
        CHECK_STR(r.ref.tag, "Q4_K_M");
        r = parse_ok("hf.co/u/r:latest", 0); /* an explicit tag is kept */
        CHECK_STR(r.ref.tag, "latest");
}

TEST(pull_ref_mirror)
{
        struct registry_ref r;

        setenv("MULLAMA_REGISTRY", "http://127.0.0.1:5000", 1);
        r = parse_ok("tiny", 0);
        CHECK_STR(r.base, "http://127.0.0.1:5000");
        CHECK_STR(r.ref.host, "registry.ollama.ai"); /* stored under its own name */
        r = parse_ok("hf.co/u/r", 0); /* other hosts are not mirrored */
        CHECK_STR(r.base, "https://hf.co");
        setenv("MULLAMA_REGISTRY", "mirror.local:8443", 1);
        r = parse_ok("tiny", 0);
        CHECK_STR(r.base, "https://mirror.local:8443");
        r = parse_ok("tiny", 1);
        CHECK_STR(r.base, "http://mirror.local:8443");
        unsetenv("MULLAMA_REGISTRY");
}

TEST(pull_ref_bad)
{
        static const char *const bad[] = {
                "", "bad name", "a/b/c/d", "x:", "x:bad tag", "-x", "a/.b/c",
                "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "x@md5:00",
        };
        unsetenv("MULLAMA_REGISTRY");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct registry_ref r;
                struct mu_err err = {0};
                int rc = registry_ref_parse(&r, bad[i], 0, &err);
                CHECK_MSG(rc == MU_EINVAL, "'%s' gave %d", bad[i], rc);
                CHECK_MSG(err.msg[0], "'%s' has no message", bad[i]);
        }
}

TEST(pull_error_text)
{
        const char *a = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}";
        const char *b = "{\"error\":\"pull model manifest: file does not exist\"}";
        const char *c = "<html>\nBad Gateway</html>";
        char *s = net_error_text(a, strlen(a));
        CHECK_STR(s, "manifest unknown");
        free(s);
        s = net_error_text(b, strlen(b));
        CHECK_STR(s, "pull model manifest: file does not exist");
        free(s);
        s = net_error_text(c, strlen(c));
        CHECK_STR(s, "<html>");
        free(s);
        s = net_error_text(NULL, 0);
        CHECK_STR(s, "");
        free(s);
        CHECK_EQ_INT(net_backoff_ms(0), 250);
        CHECK_EQ_INT(net_backoff_ms(2), 1000);
        CHECK_EQ_INT(net_backoff_ms(20), 8000);
        char o[128];
        net_url_origin("https://CDN.example.com:8443/x/y?z", o, sizeof(o));
        CHECK_STR(o, "https://cdn.example.com:8443");
}

TEST(pull_challenge)
{
        char realm[1024], service[256], scope[512];

        CHECK_EQ_INT(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\","
                                              "service=\"registry.docker.io\","
                                              "scope=\"repository:library/x:pull,push\"",
                                              realm, service, scope), 0);
        CHECK_STR(realm, "https://auth.docker.io/token");
        CHECK_STR(service, "registry.docker.io");
        CHECK_STR(scope, "repository:library/x:pull,push");
        CHECK_EQ_INT(registry_parse_challenge("bearer realm=http://h/t", realm, service, scope), 0);
        CHECK_STR(realm, "http://h/t");
        CHECK_STR(scope, "");
        CHECK_EQ_INT(registry_parse_challenge("Basic realm=\"x\"", realm, service, scope), -1);
        CHECK_EQ_INT(registry_parse_challenge("Bearer service=\"s\"", realm, service, scope), -1);
        CHECK_EQ_INT(registry_parse_challenge("Bearer realm=\"file:///etc/passwd\"", realm,
                                              service, scope), -1);
        CHECK_EQ_INT(registry_parse_challenge("Bearer realm=\"unterminated", realm, service,
                                              scope), -1);
}

/* Part state files: only a state that matches the blob and the partial
 * file's length counts; anything else means "start over". */
TEST(pull_partial_state)
{
        char *dir = test_tmpdir(), *partial, *state;
        const char *hex = "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb";
        FILE *f;

        partial = mu_xasprintf("%s/sha256-%s-partial", dir, hex);
        state = mu_xasprintf("%s/sha256-%s-partial.state", dir, hex);
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0); /* nothing there */
        f = fopen(partial, "w");
        for (int i = 0; i < 300; i++)
                fputc('x', f);
        fclose(f);
#define STATE(text)                            \
        do {                                   \
                f = fopen(state, "w");         \
                fputs(text, f);                \
                fclose(f);                     \
        } while (0)
        STATE("mullama-partial 1\nsha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb 300\n"
              "0 100 100\n100 200 50\n200 300 0\n");
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 150);
        CHECK_EQ_INT(download_partial_done(dir, hex, 301), 0); /* other size */
        STATE("mullama-partial 1\nsha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb 300\n"
              "0 100 100\n150 300 0\n"); /* a gap */
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0);
        STATE("mullama-partial 1\nsha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb 300\n"
              "0 100 101\n100 300 0\n"); /* more done than the part */
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0);
        STATE("mullama-partial 1\nsha256:0000000000000000000000000000000000000000000000000000000000000000 300\n"
              "0 300 300\n"); /* another blob */
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0);
        STATE("garbage\n");
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0);
        STATE("mullama-partial 1\nsha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb 300\n"
              "0 300 -5\n");
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 0);
        /* a partial file shorter than the state claims: only its bytes count */
        CHECK(truncate(partial, 120) == 0);
        STATE("mullama-partial 1\nsha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb 300\n"
              "0 100 100\n100 200 100\n200 300 100\n");
        CHECK_EQ_INT(download_partial_done(dir, hex, 300), 120);
#undef STATE
        free(partial);
        free(state);
        free(dir);
}
