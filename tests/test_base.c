/* test_base.c -- base library: SHA-256 (FIPS 180-2 vectors), mu_buf, thread
 * pool (against a serial sum), barrier, atomic writes, error helpers. */
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"
#include "mullama/sha256.h"
#include "test.h"

TEST(sha256_fips_vectors)
{
        char hex[65];
        struct mu_sha256 *h;
        char *mil;

        mu_sha256_hex("abc", 3, hex);
        CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        mu_sha256_hex("", 0, hex);
        CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        mu_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        /* one million 'a', streamed in uneven pieces */
        mil = malloc(1000000);
        memset(mil, 'a', 1000000);
        h = mu_sha256_create();
        for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 + 1)
                mu_sha256_update(h, mil + off, off + step > 1000000 ? 1000000 - off : step);
        mu_sha256_final_hex(h, hex);
        CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        mu_sha256_free(h);
        free(mil);
}

TEST(sha256_file_matches_shared_sum)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct mu_err err = {0};
        char hex[65];

        CHECK(mu_sha256_file(path, hex, &err) == 0);
        CHECK_STR(hex, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
        CHECK(mu_sha256_file("tests/models/no-such-file", hex, &err) == MU_ENOTFOUND);
}

TEST(buf_appends_and_formats)
{
        struct mu_buf b = MU_BUF_INIT;
        char *s;

        CHECK_STR(mu_buf_str(&b), "");
        for (int i = 0; i < 1000; i++)
                mu_buf_addf(&b, "%d,", i);
        CHECK_EQ_INT(b.len, 3890);
        CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
        CHECK(strcmp(b.data + b.len - 4, "999,") == 0);
        mu_buf_reset(&b);
        mu_buf_add(&b, "a\0b", 3);
        CHECK_EQ_INT(b.len, 3);
        CHECK(b.data[1] == '\0' && b.data[2] == 'b' && b.data[3] == '\0');
        s = mu_buf_detach(&b);
        CHECK(b.data == NULL && b.len == 0);
        free(s);
}

struct sum_job {
        const int *v;
        int n;
        long long part[8];
        _Atomic int phase_ok;
        struct mu_pool *pool;
        long long total_after_barrier[8];
};

static void sum_task(void *arg, int ith, int nth)
{
        struct sum_job *j = arg;
        int per = (j->n + nth - 1) / nth, r0 = ith * per;
        int r1 = r0 + per < j->n ? r0 + per : j->n;
        long long s = 0;

        for (int i = r0; i < r1; i++)
                s += j->v[i];
        j->part[ith] = s;
        mu_pool_barrier(j->pool);
        /* after the barrier every part is visible to every thread */
        long long t = 0;
        for (int k = 0; k < nth; k++)
                t += j->part[k];
        j->total_after_barrier[ith] = t;
}

TEST(pool_matches_serial_sum_with_barrier)
{
        static int v[100003];
        long long want = 0;

        for (int i = 0; i < 100003; i++) {
                v[i] = (i * 7919) % 1000 - 500;
                want += v[i];
        }
        for (int nt = 1; nt <= 4; nt++) {
                struct sum_job j = {.v = v, .n = 100003};
                j.pool = mu_pool_create(nt);
                CHECK_EQ_INT(mu_pool_size(j.pool), nt);
                for (int rep = 0; rep < 200; rep++) {
                        memset(j.total_after_barrier, 0, sizeof(j.total_after_barrier));
                        mu_pool_run(j.pool, sum_task, &j);
                        for (int k = 0; k < nt; k++)
                                CHECK_EQ_INT(j.total_after_barrier[k], want);
                }
                mu_pool_free(j.pool);
        }
        CHECK(mu_cpu_physical_cores() >= 1);
        CHECK(mu_cpu_physical_cores() <= mu_cpu_logical_cores());
}

/* Jobs separated by pauses longer than the pool's spin time: the workers
 * go to sleep (futex) between them and must wake for every job; barriers
 * in the same job sleep too when a thread is late. */
static void late_task(void *arg, int ith, int nth)
{
        struct sum_job *j = arg;

        if (ith == nth - 1)
                usleep(300); /* longer than the spin: the others sleep at the barrier */
        j->part[ith] = ith + 1;
        mu_pool_barrier(j->pool);
        long long t = 0;
        for (int k = 0; k < nth; k++)
                t += j->part[k];
        j->total_after_barrier[ith] = t;
}

TEST(pool_wakes_sleeping_workers)
{
        for (int nt = 2; nt <= 3; nt++) {
                struct sum_job j = {.n = 0};
                j.pool = mu_pool_create(nt);
                for (int rep = 0; rep < 40; rep++) {
                        memset(j.total_after_barrier, 0, sizeof(j.total_after_barrier));
                        mu_pool_run(j.pool, late_task, &j);
                        for (int k = 0; k < nt; k++)
                                CHECK_EQ_INT(j.total_after_barrier[k], nt * (nt + 1) / 2);
                        if (rep % 4 == 0)
                                usleep(2000); /* workers fall asleep between jobs */
                }
                mu_pool_free(j.pool);
        }
}

/* mu_pool_run (the driver waits for `finished` only) followed at once by
 * mu_pool_run_dyn and plain jobs again: a worker still leaving the previous
 * job must not corrupt the next job's word.  This deadlocked once (the
 * driver overwrote the word while a worker's decrement was pending); the
 * alarm turns a hang into a failed run instead of a stuck CI. */
static void count_task(void *arg, int ith, int nth)
{
        (void)ith;
        (void)nth;
        atomic_fetch_add((_Atomic long *)arg, 1);
}

TEST(pool_run_and_run_dyn_interleaved)
{
        _Atomic long calls = 0;
        long want_min = 0;
        struct mu_pool *p = mu_pool_create(2);

        alarm(300);
        for (int rep = 0; rep < 100000; rep++) {
                mu_pool_run(p, count_task, (void *)&calls);
                want_min += 2;
                mu_pool_run_dyn(p, count_task, (void *)&calls);
                want_min += 1;
        }
        alarm(0);
        CHECK(atomic_load(&calls) >= want_min);
        mu_pool_free(p);
}

TEST(fs_atomic_write_and_mkdir)
{
        char *dir = test_tmpdir(), *sub, *path, *data = NULL;
        struct mu_err err = {0};
        size_t len = 0;

        sub = mu_xasprintf("%s/a/b/c", dir);
        CHECK(mu_mkdir_p(sub, &err) == 0);
        CHECK(mu_dir_exists(sub));
        CHECK(mu_mkdir_p(sub, &err) == 0);
        path = mu_xasprintf("%s/file", sub);
        CHECK(mu_write_file_atomic(path, "hello", 5, &err) == 0);
        CHECK(mu_read_file(path, 0, &data, &len, &err) == 0);
        CHECK(len == 5 && data && !strcmp(data, "hello"));
        free(data);
        CHECK(mu_read_file(path, 3, &data, &len, &err) == MU_ENOMEM);
        /* a file where a directory should be is an error, not a crash */
        char *bad = mu_xasprintf("%s/file/x", sub);
        CHECK(mu_mkdir_p(bad, &err) != 0);
        CHECK(mu_write_file_atomic(bad, "x", 1, &err) == MU_EIO);
        free(bad);
        free(path);
        free(sub);
        free(dir);
}

TEST(err_prefix_and_exit_codes)
{
        struct mu_err err = {0};

        CHECK(mu_fail(&err, MU_EFORMAT, "bad %s", "thing") == MU_EFORMAT);
        mu_err_prefix(&err, "file '%s'", "x.gguf");
        CHECK_STR(err.msg, "file 'x.gguf': bad thing");
        CHECK_EQ_INT(err.code, MU_EFORMAT);
        CHECK_EQ_INT(mu_exit_code(MU_ENOTFOUND), 3);
        CHECK_EQ_INT(mu_exit_code(MU_EINVAL), 2);
        CHECK_EQ_INT(mu_exit_code(MU_EFORMAT), 1);
        CHECK_EQ_INT(mu_exit_code(MU_ENET), 4);
        CHECK_EQ_INT(mu_exit_code(MU_OK), 0);
}

TEST(fp16_conversions_round_trip)
{
        /* every finite half converts to float and back exactly */
        int bad = 0;
        for (uint32_t h = 0; h < 65536; h++) {
                if ((h & 0x7c00) == 0x7c00)
                        continue;
                float f = mu_fp16_to_fp32((uint16_t)h);
                bad += mu_fp32_to_fp16(f) != (uint16_t)h;
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(mu_fp32_to_fp16(1.0f) == 0x3c00);
        CHECK(mu_fp32_to_fp16(65504.0f) == 0x7bff);
        CHECK(mu_fp32_to_fp16(1e6f) == 0x7c00);
        CHECK(mu_fp32_to_fp16(1.0009765625f + 0.00048828125f) == 0x3c02); /* tie -> even */
        CHECK(mu_bf16_to_fp32(mu_fp32_to_bf16(3.0f)) == 3.0f);
}
