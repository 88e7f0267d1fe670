/* test_gguf_corrupt.c -- the reader against hostile input:
 *   - the hand-made cases in tests/data/gguf/corrupt/ (made by
 *     tests/data/gguf/make_corrupt.py), each with the MU_E* code and error
 *     substring listed in corrupt/EXPECTED;
 *   - every fuzzer finding in tests/data/gguf/regress/ (must fail cleanly
 *     with MU_EFORMAT, or for accessor-*.gguf parse and survive a full walk);
 *   - real files truncated at many points (stories260K: every byte of the
 *     header and every KiB of the data; SmolLM2: every KiB of the first
 *     4 MiB and around every tensor end): each prefix must fail with
 *     MU_EFORMAT and a "gguf: " message, never parse or crash. */
#include <dirent.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "test.h"

static int code_from_name(const char *s)
{
        static const struct {
                const char *name;
                int code;
        } codes[] = {{"OK", 0}, {"MU_EFORMAT", MU_EFORMAT},
                     {"MU_EUNSUPPORTED", MU_EUNSUPPORTED}, {"MU_EINVAL", MU_EINVAL}};

        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (!strcmp(s, codes[i].name))
                        return codes[i].code;
        return 1;
}

TEST(gguf_corrupt_cases_fail_with_expected_error)
{
        const char *list = test_data("gguf/corrupt/EXPECTED");
        char *text, *line, *save = NULL;
        size_t len;
        struct mu_err err = {0};
        int n = 0;

        CHECK(list != NULL);
        if (!list || mu_read_file(list, 0, &text, &len, &err))
                return;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *name = line, *code, *sub;
                struct gguf *g = NULL;
                char path[256];
                if (line[0] == '#')
                        continue;
                code = strchr(name, '\t');
                CHECK(code != NULL);
                if (!code)
                        continue;
                *code++ = 0;
                sub = strchr(code, '\t');
                if (sub)
                        *sub++ = 0;
                else
                        sub = code + strlen(code);
                snprintf(path, sizeof(path), "gguf/corrupt/%s", name);
                const char *p = test_data(path);
                CHECK_MSG(p != NULL, "missing %s", path);
                if (!p)
                        continue;
                int want = code_from_name(code);
                memset(&err, 0, sizeof(err));
                int rc = gguf_open(&g, p, &err);
                CHECK_MSG(rc == want, "%s: rc %d (%s), expected %s", name, rc, err.msg, code);
                if (want) {
                        CHECK_MSG(g == NULL && err.code == want, "%s: err.code %d", name,
                                  err.code);
                        CHECK_MSG(strstr(err.msg, sub) != NULL,
                                  "%s: error '%s' lacks '%s'", name, err.msg, sub);
                        CHECK_MSG(strstr(err.msg, name) != NULL,
                                  "%s: error '%s' does not name the file", name, err.msg);
                }
                gguf_close(g);
                n++;
        }
        CHECK_MSG(n >= 40, "only %d cases", n);
        free(text);
}

/* Every accessor over every kv, element and tensor byte (ASan checks). */
static uint64_t walk(const struct gguf *g)
{
        uint64_t sum = 0;

        for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                struct gguf_arr a;
                int64_t v;
                double d;
                size_t len;
                const char *s = gguf_kv_str(g, i, &len);
                sum += strlen(gguf_key(g, i));
                if (gguf_kv_i64(g, i, &v) == 0)
                        sum += (uint64_t)v;
                if (gguf_kv_f64(g, i, &d) == 0)
                        sum += d == d;
                if (s)
                        sum += len + (uint8_t)s[len];
                if (gguf_kv_arr(g, i, &a) == 0)
                        for (uint64_t j = 0; j < a.n; j++) {
                                sum += (uint64_t)gguf_arr_i64(&a, j);
                                sum += gguf_arr_f64(&a, j) == gguf_arr_f64(&a, j);
                                s = gguf_arr_str(g, &a, j, &len);
                                if (s)
                                        sum += len + (uint8_t)s[len];
                        }
        }
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                for (size_t k = 0; k < t->size; k++)
                        sum += ((const uint8_t *)t->data)[k];
        }
        return sum;
}

TEST(gguf_regress_fuzzer_findings)
{
        const char *dir = test_data("gguf/regress");
        DIR *d;
        struct dirent *e;
        int n = 0;

        CHECK(dir != NULL);
        if (!dir || !(d = opendir(dir)))
                return;
        while ((e = readdir(d))) {
                char path[512];
                struct mu_err err = {0};
                struct gguf *g = NULL;
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                int rc = gguf_open(&g, path, &err);
                if (!strncmp(e->d_name, "accessor-", 9)) {
                        CHECK_MSG(rc == 0, "%s: %s", e->d_name, err.msg);
                        if (g)
                                (void)walk(g);
                } else {
                        CHECK_MSG(rc == MU_EFORMAT && strstr(err.msg, "gguf: "),
                                  "%s: rc %d '%s'", e->d_name, rc, err.msg);
                }
                gguf_close(g);
                n++;
        }
        closedir(d);
        CHECK(n > 0);
}

TEST(gguf_float_array_to_int_saturates)
{
        static const float f[] = {1e30f, -1e30f, NAN, 2.75f, -2.75f};
        static const double dd[] = {1e300, -1e300};
        struct gguf_writer *w = gguf_writer_create();
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct gguf_arr a;
        void *buf;
        size_t size;

        gguf_writer_set_arr(w, "f", GGUF_TYPE_FLOAT32, f, 5);
        gguf_writer_set_arr(w, "d", GGUF_TYPE_FLOAT64, dd, 2);
        CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == 0);
        gguf_writer_free(w);
        CHECK(gguf_open_memory(&g, buf, size, &err) == 0);
        if (!g)
                return;
        CHECK(gguf_get_arr(g, "f", &a) == 0);
        CHECK_EQ_INT(gguf_arr_i64(&a, 0), INT64_MAX);
        CHECK_EQ_INT(gguf_arr_i64(&a, 1), INT64_MIN);
        CHECK_EQ_INT(gguf_arr_i64(&a, 2), 0);
        CHECK_EQ_INT(gguf_arr_i64(&a, 3), 2);
        CHECK_EQ_INT(gguf_arr_i64(&a, 4), -2);
        CHECK(isnan(gguf_arr_f32(&a, 2)));
        CHECK(gguf_get_arr(g, "d", &a) == 0);
        CHECK_EQ_INT(gguf_arr_i64(&a, 0), INT64_MAX);
        CHECK_EQ_INT(gguf_arr_i64(&a, 1), INT64_MIN);
        gguf_close(g);
        free(buf);
}

/* Parse the first n bytes; count prefixes that parse or fail unclearly. */
static int bad_prefix(const uint8_t *data, size_t n, size_t *first_bad)
{
        struct mu_err err = {0};
        struct gguf *g = NULL;
        int rc = gguf_open_memory(&g, data, n, &err);

        if (rc == 0)
                gguf_close(g);
        if (rc == MU_EFORMAT && !strncmp(err.msg, "gguf: ", 6) && !strchr(err.msg, '\n'))
                return 0;
        if (!*first_bad)
                *first_bad = n;
        return 1;
}

TEST(gguf_truncated_stories260k_every_header_byte)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct mu_map m;
        size_t first_bad = 0, hdr;
        int bad = 0, n = 0;

        CHECK(mu_map_file(&m, path, &err) == 0);
        if (!m.data)
                return;
        CHECK(gguf_open_memory(&g, m.data, m.size, &err) == 0);
        hdr = g ? gguf_data_offset(g) : 0;
        gguf_close(g);
        CHECK(hdr > 1000);
        for (size_t k = 0; k < hdr; k++, n++)
                bad += bad_prefix(m.data, k, &first_bad);
        for (size_t k = hdr; k < m.size; k += 1024, n++)
                bad += bad_prefix(m.data, k, &first_bad);
        bad += bad_prefix(m.data, m.size - 1, &first_bad);
        CHECK_MSG(bad == 0, "%d of %d prefixes parsed or failed unclearly, first at %zu",
                  bad, n, first_bad);
        mu_unmap(&m);
}

TEST(gguf_truncated_smollm2_first_4mib_and_tensor_ends)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct mu_map m;
        size_t first_bad = 0, lim;
        int bad = 0, n = 0;

        CHECK(mu_map_file(&m, path, &err) == 0);
        if (!m.data)
                return;
        CHECK(gguf_open_memory(&g, m.data, m.size, &err) == 0);
        if (!g) {
                mu_unmap(&m);
                return;
        }
        lim = m.size < (4u << 20) ? m.size : (4u << 20);
        for (size_t k = 0; k < lim; k += 1024, n++)
                bad += bad_prefix(m.data, k, &first_bad);
        /* around each tensor's end: one byte short, and (but for the last)
         * exactly at the end, which still leaves later tensors missing */
        size_t end_max = 0;
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                size_t end = gguf_data_offset(g) + t->offset + t->size;
                end_max = end > end_max ? end : end_max;
                bad += bad_prefix(m.data, end - 1, &first_bad);
                n++;
        }
        CHECK_EQ_INT(end_max, m.size);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                size_t end = gguf_data_offset(g) + t->offset + t->size;
                if (end < end_max) {
                        bad += bad_prefix(m.data, end, &first_bad);
                        n++;
                }
        }
        CHECK_MSG(bad == 0, "%d of %d prefixes parsed or failed unclearly, first at %zu",
                  bad, n, first_bad);
        gguf_close(g);
        mu_unmap(&m);
}
