/* test_main.c -- runs the registered tests (see test.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static struct test_case *head, **tail = &head;
static int cur_failed, cur_skipped;
static const char *cur_name;
static char *tmpdirs[256];
static int n_tmpdirs;

void test_register(struct test_case *tc)
{
        *tail = tc;
        tail = &tc->next;
}

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
        va_list ap;

        if (cur_failed < 20) {
                fprintf(stderr, "  %s:%d: %s: ", file, line, cur_name);
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        cur_failed++;
}

void test_skip(const char *why)
{
        printf("SKIP %s: %s\n", cur_name, why);
        cur_skipped = 1;
}

/* A ring of static buffers, so a test can hold several paths at once. */
static const char *ring_path(const char *dir, const char *name)
{
        static char paths[16][1024];
        static int next;
        char *p = paths[next++ % 16];

        snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
        return access(p, R_OK) == 0 ? p : NULL;
}

const char *test_model(const char *name) { return ring_path("tests/models", name); }
const char *test_data(const char *name) { return ring_path("tests/data", name); }

char *test_tmpdir(void)
{
        const char *t = getenv("TMPDIR");
        char *p;

        if (!t || !*t)
                t = "/tmp";
        if (asprintf(&p, "%s/mullama-test-XXXXXX", t) < 0 || !mkdtemp(p)) {
                fprintf(stderr, "cannot create temp dir\n");
                exit(2);
        }
        if (n_tmpdirs < 256)
                tmpdirs[n_tmpdirs++] = strdup(p);
        return p;
}

static void cleanup_tmpdirs(void)
{
        for (int i = 0; i < n_tmpdirs; i++) {
                char *cmd;
                if (asprintf(&cmd, "rm -rf '%s'", tmpdirs[i]) >= 0) {
                        if (system(cmd) != 0)
                                fprintf(stderr, "cannot remove %s\n", tmpdirs[i]);
                        free(cmd);
                }
                free(tmpdirs[i]);
        }
}

static int matches(const struct test_case *tc, int argc, char **argv)
{
        if (argc < 2)
                return 1;
        for (int i = 1; i < argc; i++)
                if (strstr(tc->name, argv[i]) || strstr(tc->file, argv[i]))
                        return 1;
        return 0;
}

int main(int argc, char **argv)
{
        int pass = 0, fail = 0, skip = 0;

        atexit(cleanup_tmpdirs);
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (struct test_case *tc = head; tc; tc = tc->next) {
                if (!matches(tc, argc, argv))
                        continue;
                cur_name = tc->name;
                cur_failed = cur_skipped = 0;
                tc->fn();
                fflush(stderr);
                if (cur_failed) {
                        printf("FAIL %s\n", tc->name);
                        fail++;
                } else if (cur_skipped) {
                        skip++;
                } else {
                        printf("PASS %s\n", tc->name);
                        pass++;
                }
        }
        printf("unit: %d passed, %d failed, %d skipped\n", pass, fail, skip);
        return fail ? 1 : 0;
}
