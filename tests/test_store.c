/* test_store.c -- model references, manifests, blobs, and the store round
 * trip (create from stories260K.gguf, list, cp, rm with blob GC), the
 * read-only Ollama fallback, and interrupted writes.  Digests are checked
 * against sha256sum values of the real files. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/modelfile.h"
#include "mullama/sha256.h"
#include "mullama/store.h"
#include "test.h"

#define STORIES_SHA "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"

TEST(store_ref_parse_valid)
{
        static const struct {
                const char *in, *host, *ns, *name, *tag, *digest, *display;
        } cases[] = {
                {"llama3", "registry.ollama.ai", "library", "llama3", "latest", "", "llama3:latest"},
                {"llama3:8b", "registry.ollama.ai", "library", "llama3", "8b", "", "llama3:8b"},
                {"qwen2.5:0.5b-instruct-q4_K_M", "registry.ollama.ai", "library", "qwen2.5",
                 "0.5b-instruct-q4_K_M", "", "qwen2.5:0.5b-instruct-q4_K_M"},
                {"me/model:v1", "registry.ollama.ai", "me", "model", "v1", "", "me/model:v1"},
                {"example.com/ns/name:tag", "example.com", "ns", "name", "tag", "",
                 "example.com/ns/name:tag"},
                {"localhost:5000/ns/name", "localhost:5000", "ns", "name", "latest", "",
                 "localhost:5000/ns/name:latest"},
                {"hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co", "bartowski",
                 "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M", "",
                 "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"},
                {"huggingface.co/unsloth/gemma-3-1b-it-GGUF", "huggingface.co", "unsloth",
                 "gemma-3-1b-it-GGUF", "latest", "", "huggingface.co/unsloth/gemma-3-1b-it-GGUF:latest"},
                {"https://registry.ollama.ai/library/x:1", "registry.ollama.ai", "library", "x", "1",
                 "", "x:1"},
                {"x@sha256:" STORIES_SHA, "registry.ollama.ai", "library", "x", "latest",
                 "sha256:" STORIES_SHA, "x:latest"},
                {"x:2@sha256-" STORIES_SHA, "registry.ollama.ai", "library", "x", "2",
                 "sha256:" STORIES_SHA, "x:2"},
                {"_under_score", "registry.ollama.ai", "library", "_under_score", "latest", "",
                 "_under_score:latest"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct store_ref r;
                struct mu_err err;
                char disp[600];
                int rc = store_ref_parse(&r, cases[i].in, &err);
                CHECK_MSG(rc == 0, "%s: %s", cases[i].in, err.msg);
                if (rc)
                        continue;
                CHECK_STR(r.host, cases[i].host);
                CHECK_STR(r.ns, cases[i].ns);
                CHECK_STR(r.name, cases[i].name);
                CHECK_STR(r.tag, cases[i].tag);
                CHECK_STR(r.digest, cases[i].digest);
                store_ref_display(&r, disp, sizeof(disp));
                CHECK_STR(disp, cases[i].display);
        }
}

TEST(store_ref_parse_invalid)
{
        char long80[100], long81[100], host351[400], ref[500];
        static const char *bad[] = {
                "", "name:", ":tag", "a/b/c/d", "ns.dot/name", "na me", "name:ta g",
                "-leading", "name:-tag", "name:t:g", "x@sha256:abc", "x@md5:" STORIES_SHA,
                "/abs", "ns/", "a//b", "name!", "ns/na\xc3\xa9me",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct store_ref r;
                struct mu_err err;
                CHECK_MSG(store_ref_parse(&r, bad[i], &err) == MU_EINVAL, "'%s' accepted", bad[i]);
                CHECK_MSG(strstr(err.msg, "invalid model name") != NULL, "%s", err.msg);
        }
        struct store_ref r;
        struct mu_err err;
        memset(long80, 'a', 80);
        long80[80] = '\0';
        memset(long81, 'a', 81);
        long81[81] = '\0';
        memset(host351, 'h', 351);
        host351[351] = '\0';
        CHECK_EQ_INT(store_ref_parse(&r, long80, &err), 0);
        CHECK_EQ_INT(store_ref_parse(&r, long81, &err), MU_EINVAL);
        snprintf(ref, sizeof(ref), "x:%s", long81);
        CHECK_EQ_INT(store_ref_parse(&r, ref, &err), MU_EINVAL);
        host351[350] = '\0';
        snprintf(ref, sizeof(ref), "%s/ns/n", host351);
        CHECK_EQ_INT(store_ref_parse(&r, ref, &err), 0);
        host351[350] = 'h';
        snprintf(ref, sizeof(ref), "%s/ns/n", host351);
        CHECK_EQ_INT(store_ref_parse(&r, ref, &err), MU_EINVAL);
        CHECK_STR(r.host, ""); /* nothing half-filled is left to use */
        CHECK_EQ_INT(store_ref_parse(&r, "Ns/Name:Tag", &err), 0);
        struct store_ref r2;
        CHECK_EQ_INT(store_ref_parse(&r2, "ns/name:tag", &err), 0);
        CHECK(store_ref_equal(&r, &r2));
}

TEST(store_is_path_rules)
{
        CHECK(store_is_path("./x.gguf"));
        CHECK(store_is_path("../x"));
        CHECK(store_is_path("/abs/x.gguf"));
        CHECK(store_is_path("~/x.gguf"));
        CHECK(!store_is_path("llama3:8b"));
        CHECK(!store_is_path("missing-file.gguf"));
        const char *m = test_model("stories260K.gguf");
        if (m)
                CHECK(store_is_path(m));
}

TEST(store_manifest_parse_and_write)
{
        const char *good =
                "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" STORE_MT_MANIFEST "\",\n"
                "  \"config\": {\"mediaType\": \"" STORE_MT_CONFIG "\", \"digest\": \"sha256:" STORIES_SHA
                "\", \"size\": 483},\n"
                "  \"layers\": [{\"mediaType\": \"" STORE_MT_MODEL "\", \"digest\": \"sha256:" STORIES_SHA
                "\", \"size\": 1678447520, \"from\": \"parent\"}, {\"mediaType\": \"" STORE_MT_LICENSE
                "\", \"digest\": \"sha256:" STORIES_SHA "\", \"size\": 8433}], \"extra\": 1}\n";
        struct store_manifest m;
        struct mu_err err;

        CHECK_EQ_INT(store_manifest_parse(&m, good, strlen(good), &err), 0);
        CHECK_STR(m.config.media_type, STORE_MT_CONFIG);
        CHECK_EQ_INT(m.config.size, 483);
        CHECK_EQ_INT(m.n_layers, 2);
        CHECK_STR(m.layers[0].media_type, STORE_MT_MODEL);
        CHECK_STR(m.layers[0].digest, "sha256:" STORIES_SHA);
        CHECK_EQ_INT(m.layers[0].size, 1678447520ULL);
        CHECK_STR(m.layers[0].from, "parent");
        char *j = store_manifest_json(&m);
        struct store_manifest m2;
        CHECK_EQ_INT(store_manifest_parse(&m2, j, strlen(j), &err), 0);
        CHECK_EQ_INT(m2.n_layers, 2);
        CHECK_STR(m2.layers[1].media_type, STORE_MT_LICENSE);
        const char *head = "{\"schemaVersion\":2,\"mediaType\":\"" STORE_MT_MANIFEST "\",";
        CHECK(strncmp(j, head, strlen(head)) == 0);
        free(j);
        store_manifest_release(&m2);
        store_manifest_release(&m);

        static const char *bad[] = {
                "not json", "[]", "{\"schemaVersion\":1,\"layers\":[]}",
                "{\"schemaVersion\":2}",
                "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:12\"}]}",
                "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"md5:" STORIES_SHA "\"}]}",
                "{\"schemaVersion\":2,\"layers\":[{\"digest\":\"sha256:" STORIES_SHA "\"}]}",
                "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" STORIES_SHA
                "\",\"size\":-5}]}",
                "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"x\",\"digest\":\"sha256:../../../etc/passwd\"}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                CHECK_MSG(store_manifest_parse(&m, bad[i], strlen(bad[i]), &err) == MU_EFORMAT,
                          "accepted: %s", bad[i]);
        /* no config (found by fuzz_manifest): serializes without one */
        const char *nocfg = "{\"schemaVersion\":2,\"layers\":[]}";
        CHECK_EQ_INT(store_manifest_parse(&m, nocfg, strlen(nocfg), &err), 0);
        j = store_manifest_json(&m);
        CHECK_EQ_INT(store_manifest_parse(&m2, j, strlen(j), &err), 0);
        CHECK(strstr(j, "config") == NULL);
        free(j);
        store_manifest_release(&m2);
        store_manifest_release(&m);
        CHECK(store_blob_path("/s", "sha256:../../x") == NULL);
        char *bp = store_blob_path("/s", "sha256:" STORIES_SHA);
        CHECK_STR(bp, "/s/blobs/sha256-" STORIES_SHA);
        free(bp);
}

static int count_files(const char *dir, const char *prefix)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        if (!d)
                return 0;
        while ((e = readdir(d)))
                if (!strncmp(e->d_name, prefix, strlen(prefix)))
                        n++;
        closedir(d);
        return n;
}

static int create_from(const struct mu_config *cfg, const char *name, const char *text,
                       const char *base_dir, struct mu_err *err)
{
        struct modelfile mf;
        struct store_create_opts o = {base_dir, NULL, NULL};
        int rc = modelfile_parse(&mf, "Modelfile", text, strlen(text), err);

        if (rc)
                return rc;
        rc = store_create(cfg, name, &mf, &o, err);
        modelfile_release(&mf);
        return rc;
}

TEST(store_round_trip_stories)
{
        NEED_MODEL(model, "stories260K.gguf");
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp), *oll = mu_xasprintf("%s/ollama", tmp);
        char *cwd = getcwd(NULL, 0), *mdir = mu_xasprintf("%s/tests/models", cwd);
        struct mu_config cfg = {store, oll, "127.0.0.1:11434", 0};
        struct mu_err err;
        struct store_model *m = NULL;
        struct stat st;

        CHECK_EQ_INT(stat(model, &st), 0);
        int rc = create_from(&cfg, "stories",
                             "FROM stories260K.gguf\n"
                             "SYSTEM Tell a story.\n"
                             "TEMPLATE {{ .Prompt }}\n"
                             "PARAMETER stop \"<end>\"\nPARAMETER top_k 5\n"
                             "MESSAGE user hi\nLICENSE MIT\n",
                             mdir, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);

        /* the model blob is the file's sha256 (sha256sum tests/models/stories260K.gguf) */
        char *blob = mu_xasprintf("%s/blobs/sha256-" STORIES_SHA, store);
        CHECK(mu_file_exists(blob));
        char hex[65];
        CHECK_EQ_INT(mu_sha256_file(blob, hex, &err), 0);
        CHECK_STR(hex, STORIES_SHA);
        char *bdir = mu_xasprintf("%s/blobs", store);
        CHECK_EQ_INT(count_files(bdir, ".tmp-"), 0);

        /* manifest fields */
        char *mpath = mu_xasprintf("%s/manifests/registry.ollama.ai/library/stories/latest", store);
        char *text = NULL;
        size_t len = 0;
        CHECK_EQ_INT(mu_read_file(mpath, 0, &text, &len, &err), 0);
        struct store_manifest man;
        CHECK_EQ_INT(store_manifest_parse(&man, text, len, &err), 0);
        CHECK(strstr(text, "\"schemaVersion\":2") != NULL);
        CHECK(strstr(text, "\"mediaType\":\"" STORE_MT_MANIFEST "\"") != NULL);
        CHECK_STR(man.config.media_type, STORE_MT_CONFIG);
        CHECK_EQ_INT(man.n_layers, 6);
        static const char *want_mt[] = {STORE_MT_MODEL, STORE_MT_TEMPLATE, STORE_MT_SYSTEM,
                                        STORE_MT_PARAMS, STORE_MT_MESSAGES, STORE_MT_LICENSE};
        for (int i = 0; i < 6 && i < man.n_layers; i++)
                CHECK_STR(man.layers[i].media_type, want_mt[i]);
        CHECK_STR(man.layers[0].digest, "sha256:" STORIES_SHA);
        CHECK_EQ_INT(man.layers[0].size, st.st_size);
        /* text layers: digest = sha256 of the exact bytes */
        mu_sha256_hex("Tell a story.", 13, hex);
        CHECK_STR(man.layers[2].digest + 7, hex);
        CHECK_EQ_INT(man.layers[2].size, 13);
        char idhex[65];
        mu_sha256_hex(text, len, idhex);

        /* resolve */
        rc = store_resolve(&cfg, "stories", &m, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        if (m) {
                CHECK_STR(m->model_path, blob);
                CHECK_STR(m->system, "Tell a story.");
                CHECK_STR(m->tmpl, "{{ .Prompt }}");
                CHECK_STR(m->params_json, "{\"stop\":[\"<end>\"],\"top_k\":5}");
                CHECK_STR(m->messages_json, "[{\"role\":\"user\",\"content\":\"hi\"}]");
                CHECK_EQ_INT(m->n_licenses, 1);
                CHECK_STR(m->licenses[0], "MIT");
                CHECK(strstr(m->config_json, "\"model_format\":\"gguf\"") != NULL);
                CHECK(strstr(m->config_json, "\"model_family\":\"llama\"") != NULL);
                CHECK(strstr(m->config_json, "\"model_families\":[\"llama\"]") != NULL);
                CHECK_STR(m->id, idhex);
                CHECK_EQ_INT(m->from_ollama, 0);
                CHECK(m->size > (uint64_t)st.st_size);
                store_model_free(m);
                m = NULL;
        }
        /* pinned digest */
        char *pinned = mu_xasprintf("stories@sha256:%s", idhex);
        CHECK_EQ_INT(store_resolve(&cfg, pinned, &m, &err), 0);
        store_model_free(m);
        m = NULL;
        CHECK_EQ_INT(store_resolve(&cfg, "stories@sha256:" STORIES_SHA, &m, &err), MU_ENOTFOUND);
        CHECK_EQ_INT(store_resolve(&cfg, "nope", &m, &err), MU_ENOTFOUND);
        CHECK_STR(err.msg, "model 'nope' not found");

        /* derived model: FROM the first, overriding SYSTEM and one PARAMETER */
        rc = create_from(&cfg, "me/derived:v2",
                         "FROM stories\nSYSTEM Be brief.\nPARAMETER top_k 9\nPARAMETER seed 3\n",
                         tmp, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        CHECK_EQ_INT(store_resolve(&cfg, "me/derived:v2", &m, &err), 0);
        if (m) {
                CHECK_STR(m->model_path, blob);
                CHECK_STR(m->system, "Be brief.");
                CHECK_STR(m->tmpl, "{{ .Prompt }}");
                CHECK_STR(m->params_json, "{\"stop\":[\"<end>\"],\"top_k\":9,\"seed\":3}");
                CHECK_STR(m->messages_json, "[{\"role\":\"user\",\"content\":\"hi\"}]");
                store_model_free(m);
                m = NULL;
        }

        /* list */
        struct store_entry *v = NULL;
        int n = 0;
        char *warn = NULL;
        CHECK_EQ_INT(store_list(&cfg, &v, &n, &warn, &err), 0);
        CHECK_EQ_INT(n, 2);
        CHECK(warn == NULL);
        int seen = 0;
        for (int i = 0; i < n; i++)
                if (!strcmp(v[i].name, "stories:latest")) {
                        seen = 1;
                        CHECK_STR(v[i].id, idhex);
                }
        CHECK(seen);
        free(v);

        /* cp keeps the manifest bytes, hence the ID */
        CHECK_EQ_INT(store_copy(&cfg, "stories", "copy:1", &err), 0);
        CHECK_EQ_INT(store_resolve(&cfg, "copy:1", &m, &err), 0);
        if (m)
                CHECK_STR(m->id, idhex);
        store_model_free(m);
        m = NULL;
        CHECK_EQ_INT(store_copy(&cfg, "stories", "stories:latest", &err), MU_EINVAL);
        CHECK_EQ_INT(store_copy(&cfg, "ghost", "x", &err), MU_ENOTFOUND);

        /* rm + GC: the shared model blob survives until the last user goes */
        char *sysblob = mu_xasprintf("%s/blobs/sha256-%s", store, man.layers[2].digest + 7);
        CHECK_EQ_INT(store_remove(&cfg, "stories", &err), 0);
        CHECK(mu_file_exists(blob));
        CHECK(mu_file_exists(sysblob)); /* copy:1 still uses it */
        CHECK_EQ_INT(store_remove(&cfg, "copy:1", &err), 0);
        CHECK(!mu_file_exists(sysblob)); /* derived has its own SYSTEM */
        CHECK(mu_file_exists(blob));
        CHECK_EQ_INT(store_remove(&cfg, "me/derived:v2", &err), 0);
        CHECK(!mu_file_exists(blob));
        CHECK_EQ_INT(count_files(bdir, "sha256-"), 0);
        CHECK_EQ_INT(store_remove(&cfg, "stories", &err), MU_ENOTFOUND);
        /* empty manifest directories are pruned */
        char *libdir = mu_xasprintf("%s/manifests/registry.ollama.ai/library", store);
        CHECK(!mu_dir_exists(libdir));
        free(libdir);
        free(bdir);

        store_manifest_release(&man);
        free(text);
        free(mpath);
        free(blob);
        free(sysblob);
        free(pinned);
        free(mdir);
        free(cwd);
        free(store);
        free(oll);
        free(tmp);
}

TEST(store_create_errors)
{
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp);
        struct mu_config cfg = {store, NULL, "", 0};
        struct mu_err err;

        CHECK_EQ_INT(create_from(&cfg, "x", "FROM ./missing.gguf\n", tmp, &err), MU_ENOTFOUND);
        CHECK(strstr(err.msg, "missing.gguf' not found") != NULL);
        CHECK_EQ_INT(create_from(&cfg, "x", "FROM no-such-model\n", tmp, &err), MU_ENOTFOUND);
        CHECK(strstr(err.msg, "neither a file nor a local model") != NULL);
        char *notgguf = mu_xasprintf("%s/fake.gguf", tmp);
        CHECK_EQ_INT(mu_write_file_atomic(notgguf, "NOTGGUF...", 10, &err), 0);
        CHECK_EQ_INT(create_from(&cfg, "x", "FROM fake.gguf\n", tmp, &err), MU_EFORMAT);
        CHECK(strstr(err.msg, "not a GGUF file") != NULL);
        CHECK_EQ_INT(create_from(&cfg, "bad name!", "FROM fake.gguf\n", tmp, &err), MU_EINVAL);
        char *mdir = mu_xasprintf("%s/manifests", store);
        CHECK(!mu_dir_exists(mdir));
        free(mdir);
        free(notgguf);
        free(store);
        free(tmp);
}

TEST(store_blob_import_hardlink_and_verify)
{
        char *tmp = test_tmpdir();
        char *src = mu_xasprintf("%s/data.bin", tmp);
        char dg[72], hex[65];
        uint64_t size = 0;
        struct mu_err err;
        struct stat a, b;

        CHECK_EQ_INT(mu_write_file_atomic(src, "hello blob\n", 11, &err), 0);
        mu_sha256_hex("hello blob\n", 11, hex);
        CHECK_EQ_INT(store_blob_import(tmp, src, NULL, dg, &size, NULL, NULL, &err), 0);
        CHECK_EQ_INT(size, 11);
        CHECK_STR(dg + 7, hex);
        char *bp = store_blob_path(tmp, dg);
        CHECK(stat(src, &a) == 0 && stat(bp, &b) == 0);
        CHECK(a.st_ino == b.st_ino); /* same file system: hardlinked */
        /* importing again is a no-op; a wrong expected digest keeps nothing */
        CHECK_EQ_INT(store_blob_import(tmp, src, NULL, dg, &size, NULL, NULL, &err), 0);
        char *src2 = mu_xasprintf("%s/other.bin", tmp);
        CHECK_EQ_INT(mu_write_file_atomic(src2, "other", 5, &err), 0);
        CHECK_EQ_INT(store_blob_import(tmp, src2, "sha256:" STORIES_SHA, dg, &size, NULL, NULL, &err),
                     MU_EINTEGRITY);
        char *bdir = mu_xasprintf("%s/blobs", tmp);
        CHECK_EQ_INT(count_files(bdir, "sha256-"), 1);
        CHECK_EQ_INT(count_files(bdir, ".tmp-"), 0);
        /* bytes: stored once, digest of the bytes */
        CHECK_EQ_INT(store_blob_write(tmp, "abc", 3, dg, &err), 0);
        CHECK_STR(dg, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        CHECK_EQ_INT(count_files(bdir, "sha256-"), 2);
        free(bdir);
        free(bp);
        free(src);
        free(src2);
        free(tmp);
}

/* Write a blob by hand into an Ollama-style store, return its digest. */
static void put_blob(const char *dir, const char *data, char dg[72])
{
        char hex[65], *p;
        struct mu_err err;

        mu_sha256_hex(data, strlen(data), hex);
        snprintf(dg, 72, "sha256:%s", hex);
        p = mu_xasprintf("%s/blobs", dir);
        mu_mkdir_p(p, &err);
        free(p);
        p = mu_xasprintf("%s/blobs/sha256-%s", dir, hex);
        mu_write_file_atomic(p, data, strlen(data), &err);
        free(p);
}

TEST(store_ollama_fallback_read_only)
{
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp), *oll = mu_xasprintf("%s/ollama", tmp);
        struct mu_config cfg = {store, oll, "", 0};
        struct mu_err err;
        char dm[72], dt[72], dc[72];
        const char *weights = "GGUF fake weights";

        put_blob(oll, weights, dm);
        put_blob(oll, "{{ .Prompt }}", dt);
        put_blob(oll, "{\"model_format\":\"gguf\",\"model_family\":\"llama\"}", dc);
        /* Ollama writes indented manifests; keep the exact bytes for the ID */
        char *man = mu_xasprintf(
                "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"%s\",\n  \"config\": {\"mediaType\": "
                "\"%s\", \"digest\": \"%s\", \"size\": %zu},\n  \"layers\": [\n    {\"mediaType\": "
                "\"%s\", \"digest\": \"%s\", \"size\": %zu},\n    {\"mediaType\": \"%s\", \"digest\": "
                "\"%s\", \"size\": 13}\n  ]\n}\n",
                STORE_MT_MANIFEST, STORE_MT_CONFIG, dc,
                strlen("{\"model_format\":\"gguf\",\"model_family\":\"llama\"}"), STORE_MT_MODEL, dm,
                strlen(weights), STORE_MT_TEMPLATE, dt);
        char *mdir = mu_xasprintf("%s/manifests/registry.ollama.ai/library/olla", oll);
        CHECK_EQ_INT(mu_mkdir_p(mdir, &err), 0);
        char *mpath = mu_xasprintf("%s/7b", mdir);
        CHECK_EQ_INT(mu_write_file_atomic(mpath, man, strlen(man), &err), 0);
        char id[65];
        mu_sha256_hex(man, strlen(man), id);

        struct store_model *m = NULL;
        CHECK_EQ_INT(store_resolve(&cfg, "olla:7b", &m, &err), 0);
        if (m) {
                CHECK_EQ_INT(m->from_ollama, 1);
                CHECK_STR(m->id, id);
                CHECK_STR(m->tmpl, "{{ .Prompt }}");
                CHECK(strncmp(m->model_path, oll, strlen(oll)) == 0);
                store_model_free(m);
                m = NULL;
        }
        struct store_entry *v = NULL;
        int n = 0;
        CHECK_EQ_INT(store_list(&cfg, &v, &n, NULL, &err), 0);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
                CHECK_STR(v[0].name, "olla:7b");
                CHECK_EQ_INT(v[0].from_ollama, 1);
                CHECK_STR(v[0].id, id);
        }
        free(v);
        /* rm never touches Ollama's store */
        CHECK_EQ_INT(store_remove(&cfg, "olla:7b", &err), MU_EUNSUPPORTED);
        CHECK(mu_file_exists(mpath));
        /* cp imports the blobs into ours, keeping the manifest bytes */
        CHECK_EQ_INT(store_copy(&cfg, "olla:7b", "mine", &err), 0);
        CHECK_EQ_INT(store_resolve(&cfg, "mine", &m, &err), 0);
        if (m) {
                CHECK_EQ_INT(m->from_ollama, 0);
                CHECK_STR(m->id, id);
                CHECK(strncmp(m->model_path, store, strlen(store)) == 0);
                store_model_free(m);
                m = NULL;
        }
        /* a model of ours shadows Ollama's of the same name */
        CHECK_EQ_INT(store_copy(&cfg, "olla:7b", "olla:7b", &err), 0);
        CHECK_EQ_INT(store_resolve(&cfg, "olla:7b", &m, &err), 0);
        if (m)
                CHECK_EQ_INT(m->from_ollama, 0);
        store_model_free(m);
        CHECK_EQ_INT(store_list(&cfg, &v, &n, NULL, &err), 0);
        CHECK_EQ_INT(n, 2);
        for (int i = 0; i < n; i++)
                CHECK_EQ_INT(v[i].from_ollama, 0);
        free(v);
        free(man);
        free(mdir);
        free(mpath);
        free(store);
        free(oll);
        free(tmp);
}

TEST(store_interrupted_writes_never_show)
{
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp);
        struct mu_config cfg = {store, NULL, "", 0};
        struct mu_err err;
        char dm[72], dc[72];
        struct store_manifest m = {0};

        put_blob(store, "GGUF weights", dm);
        put_blob(store, "{}", dc);
        snprintf(m.config.media_type, sizeof(m.config.media_type), "%s", STORE_MT_CONFIG);
        snprintf(m.config.digest, sizeof(m.config.digest), "%s", dc);
        m.config.size = 2;
        store_manifest_add(&m, STORE_MT_MODEL, dm, 12);
        struct store_ref ok, broken;
        CHECK_EQ_INT(store_ref_parse(&ok, "good", &err), 0);
        CHECK_EQ_INT(store_write_manifest(&cfg, &ok, &m, NULL, &err), 0);

        /* leftovers of an interrupted create: a partial temp blob of a dead
         * writer, and a manifest temp file that never got renamed */
        char *tb = mu_xasprintf("%s/blobs/.tmp-999999999-0", store);
        CHECK_EQ_INT(mu_write_file_atomic(tb, "partial", 7, &err), 0);
        char *tm = mu_xasprintf("%s/manifests/registry.ollama.ai/library/good/latest.tmp-4242", store);
        CHECK_EQ_INT(mu_write_file_atomic(tm, "{\"schemaVersion\":2", 18, &err), 0);

        /* store_write_manifest refuses to name a missing blob */
        store_manifest_add(&m, STORE_MT_SYSTEM,
                           "sha256:0000000000000000000000000000000000000000000000000000000000000000", 3);
        CHECK_EQ_INT(store_ref_parse(&broken, "broken", &err), 0);
        CHECK_EQ_INT(store_write_manifest(&cfg, &broken, &m, NULL, &err), MU_EINTEGRITY);
        /* ... and a manifest written behind our back is skipped by list */
        char *j = store_manifest_json(&m);
        char *bp = store_manifest_path(store, &broken), *bd = mu_xstrdup(bp);
        *strrchr(bd, '/') = '\0';
        mu_mkdir_p(bd, &err);
        CHECK_EQ_INT(mu_write_file_atomic(bp, j, strlen(j), &err), 0);

        struct store_entry *v = NULL;
        int n = 0;
        char *warn = NULL;
        CHECK_EQ_INT(store_list(&cfg, &v, &n, &warn, &err), 0);
        CHECK_EQ_INT(n, 1);
        if (n >= 1)
                CHECK_STR(v[0].name, "good:latest");
        CHECK(warn && strstr(warn, "skipping 'broken:latest': blob sha256:0000") != NULL);
        free(warn);
        free(v);
        struct store_model *sm = NULL;
        CHECK_EQ_INT(store_resolve(&cfg, "broken", &sm, &err), MU_EINTEGRITY);
        CHECK(strstr(err.msg, "is broken") != NULL);

        /* rm sweeps the dead writer's temp blob */
        CHECK_EQ_INT(store_remove(&cfg, "broken", &err), 0);
        CHECK(!mu_file_exists(tb));
        CHECK_EQ_INT(store_resolve(&cfg, "good", &sm, &err), 0);
        store_model_free(sm);

        free(j);
        free(bp);
        free(bd);
        free(tb);
        free(tm);
        store_manifest_release(&m);
        free(store);
        free(tmp);
}

TEST(store_create_replaces_and_prunes)
{
        NEED_MODEL(model, "stories260K.gguf");
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp);
        char *cwd = getcwd(NULL, 0), *mdir = mu_xasprintf("%s/tests/models", cwd);
        struct mu_config cfg = {store, NULL, "", 0};
        struct mu_err err;
        char hex_a[65];

        (void)model;
        mu_sha256_hex("first", 5, hex_a);
        char *blob_a = mu_xasprintf("%s/blobs/sha256-%s", store, hex_a);
        char *blob_m = mu_xasprintf("%s/blobs/sha256-" STORIES_SHA, store);
        CHECK_EQ_INT(create_from(&cfg, "m", "FROM stories260K.gguf\nSYSTEM first\n", mdir, &err), 0);
        CHECK(mu_file_exists(blob_a));
        CHECK_EQ_INT(create_from(&cfg, "m", "FROM stories260K.gguf\nSYSTEM second\n", mdir, &err), 0);
        CHECK(!mu_file_exists(blob_a)); /* the replaced SYSTEM layer is gone */
        CHECK(mu_file_exists(blob_m));  /* the weights are still used */
        struct store_model *sm = NULL;
        CHECK_EQ_INT(store_resolve(&cfg, "m", &sm, &err), 0);
        if (sm)
                CHECK_STR(sm->system, "second");
        store_model_free(sm);
        free(blob_a);
        free(blob_m);
        free(mdir);
        free(cwd);
        free(store);
        free(tmp);
}

/* The config blob carries what Ollama shows as family, parameter size and
 * quantization level: SmolLM2-135M has 134,515,008 tensor elements (sum of
 * ne products; Ollama writes >= 1M with two decimals: "134.52M"), and
 * general.file_type = 3 is Q4_1. */
TEST(store_config_blob_from_gguf)
{
        NEED_MODEL(model, "SmolLM2-135M-Instruct.Q4_1.gguf");
        char *tmp = test_tmpdir();
        char *store = mu_xasprintf("%s/store", tmp);
        char *cwd = getcwd(NULL, 0), *mdir = mu_xasprintf("%s/tests/models", cwd);
        struct mu_config cfg = {store, NULL, "", 0};
        struct mu_err err;
        struct store_model *m = NULL;

        (void)model;
        CHECK_EQ_INT(create_from(&cfg, "smol", "FROM SmolLM2-135M-Instruct.Q4_1.gguf\n", mdir, &err), 0);
        CHECK_EQ_INT(store_resolve(&cfg, "smol", &m, &err), 0);
        if (m) {
                CHECK_STR(m->config_json,
                          "{\"model_format\":\"gguf\",\"model_family\":\"llama\",\"model_families\":"
                          "[\"llama\"],\"model_type\":\"134.52M\",\"file_type\":\"Q4_1\","
#if defined(__aarch64__)
                          "\"architecture\":\"arm64\",\"os\":\"linux\"}");
#else
                          "\"architecture\":\"amd64\",\"os\":\"linux\"}");
#endif
                store_model_free(m);
        }
        free(mdir);
        free(cwd);
        free(store);
        free(tmp);
}
