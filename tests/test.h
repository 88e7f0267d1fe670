/* test.h -- the unit-test harness.
 *
 * A test is a function declared with TEST(name) in any tests/test_*.c file;
 * it registers itself at start-up.  CHECK() records a failed condition (the
 * test keeps running); a test passes when none of its CHECKs failed.  A test
 * that cannot run (a model the cache lacks, no Vulkan device) calls
 * TEST_SKIP(why) and returns: it is reported as SKIP and never counted as
 * passed.  tests/mullama-test [SUBSTRING...] runs the matching tests and ends
 * with "unit: N passed, N failed, N skipped". */
#ifndef MULLAMA_TEST_H
#define MULLAMA_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
        const char *name;
        const char *file;
        void (*fn)(void);
        struct test_case *next;
};

void test_register(struct test_case *tc);
void test_fail_at(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void test_skip(const char *why);

#define TEST(name)                                                         \
        static void name(void);                                            \
        static struct test_case name##_tc = {#name, __FILE__, name, 0};    \
        __attribute__((constructor)) static void name##_reg(void)          \
        {                                                                  \
                test_register(&name##_tc);                                 \
        }                                                                  \
        static void name(void)

#define CHECK(c)                                                          \
        do {                                                              \
                if (!(c))                                                 \
                        test_fail_at(__FILE__, __LINE__, "CHECK(%s)", #c); \
        } while (0)

#define CHECK_MSG(c, ...)                                          \
        do {                                                       \
                if (!(c))                                          \
                        test_fail_at(__FILE__, __LINE__, __VA_ARGS__); \
        } while (0)

#define CHECK_NEAR(a, b, tol)                                                   \
        do {                                                                    \
                double a_ = (double)(a), b_ = (double)(b);                      \
                if (!(fabs(a_ - b_) <= (double)(tol)))                          \
                        test_fail_at(__FILE__, __LINE__, "%s = %g, %s = %g, tol %g", \
                                     #a, a_, #b, b_, (double)(tol));            \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
        do {                                                                   \
                long long a_ = (long long)(a), b_ = (long long)(b);            \
                if (a_ != b_)                                                  \
                        test_fail_at(__FILE__, __LINE__, "%s = %lld, expected %s = %lld", \
                                     #a, a_, #b, b_);                          \
        } while (0)

#define CHECK_STR(a, b)                                                           \
        do {                                                                      \
                const char *a_ = (a), *b_ = (b);                                  \
                if (!a_ || !b_ || strcmp(a_, b_) != 0)                            \
                        test_fail_at(__FILE__, __LINE__, "%s = \"%s\", expected \"%s\"", \
                                     #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        } while (0)

#define TEST_SKIP(why)       \
        do {                 \
                test_skip(why); \
                return;      \
        } while (0)

/* Path of a test model or data file, or NULL when absent:
 *   test_model("stories260K.gguf")  -> tests/models/stories260K.gguf
 *   test_data("gguf/bad1.gguf")     -> tests/data/gguf/bad1.gguf
 * Paths are relative to the repository root (the runner cds there).
 * Returned strings are static, from a ring of 16 buffers. */
const char *test_model(const char *name);
const char *test_data(const char *name);
/* Skip unless the model exists; evaluates to its path. */
#define NEED_MODEL(var, name)                                   \
        const char *var = test_model(name);                     \
        if (!var)                                               \
                TEST_SKIP("model '" name "' not in tests/models (run make models)")

/* A fresh empty directory under $TMPDIR, removed at exit. Caller frees. */
char *test_tmpdir(void);

#endif
