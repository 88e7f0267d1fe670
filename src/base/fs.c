/* fs.c -- see fs.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mullama/fs.h"

#define HUGE_ALIGN ((size_t)2 << 20)

/* The file at a HUGE_ALIGN-aligned address (file offset 0 there, so every
 * 2 MiB folio of the page cache lines up with a PMD), advised
 * MADV_HUGEPAGE; a small file, or no address space to spare, as plain
 * mmap. */
static void *map_aligned(int fd, size_t size)
{
        char *r = MAP_FAILED, *a = NULL;

        if (size >= HUGE_ALIGN)
                r = mmap(NULL, size + HUGE_ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r != MAP_FAILED) {
                a = (char *)(((uintptr_t)r + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
                if (mmap(a, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
                        munmap(r, size + HUGE_ALIGN);
                        a = NULL;
                } else {
                        /* the reservation's unused ends: a - r < HUGE_ALIGN
                         * before, the rest (never empty) after */
                        if (a > r)
                                munmap(r, (size_t)(a - r));
                        munmap(a + size, (size_t)(r + HUGE_ALIGN - a));
#ifdef MADV_HUGEPAGE
                        (void)madvise(a, size, MADV_HUGEPAGE); /* advice: failure changes nothing */
#endif
                }
        }
        return a ? a : mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
}

int mu_map_file(struct mu_map *m, const char *path, struct mu_err *err)
{
        struct stat st;
        void *p;
        int fd;

        m->data = NULL;
        m->size = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return mu_fail(err, errno == ENOENT ? MU_ENOTFOUND : MU_EIO,
                               "cannot open '%s': %s", path, strerror(errno));
        if (fstat(fd, &st) < 0) {
                close(fd);
                return mu_fail(err, MU_EIO, "cannot stat '%s': %s", path,
                               strerror(errno));
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return mu_fail(err, MU_EINVAL, "'%s' is not a regular file", path);
        }
        if (st.st_size == 0) {
                close(fd);
                return 0;
        }
        p = map_aligned(fd, (size_t)st.st_size);
        close(fd);
        if (p == MAP_FAILED)
                return mu_fail(err, MU_EIO, "cannot map '%s': %s", path,
                               strerror(errno));
        m->data = p;
        m->size = (size_t)st.st_size;
        return 0;
}

void mu_unmap(struct mu_map *m)
{
        if (m->data)
                munmap((void *)m->data, m->size);
        m->data = NULL;
        m->size = 0;
}

int mu_read_file(const char *path, size_t max_size, char **out, size_t *len,
                 struct mu_err *err)
{
        struct mu_buf b = MU_BUF_INIT;
        char tmp[65536];
        ssize_t n;
        int fd;

        *out = NULL;
        if (len)
                *len = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return mu_fail(err, errno == ENOENT ? MU_ENOTFOUND : MU_EIO,
                               "cannot open '%s': %s", path, strerror(errno));
        for (;;) {
                n = read(fd, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        mu_buf_release(&b);
                        return mu_fail(err, MU_EIO, "cannot read '%s': %s", path,
                                       strerror(e));
                }
                if (n == 0)
                        break;
                mu_buf_add(&b, tmp, (size_t)n);
                if (max_size && b.len > max_size) {
                        close(fd);
                        mu_buf_release(&b);
                        return mu_fail(err, MU_ENOMEM, "'%s' is larger than %zu bytes",
                                       path, max_size);
                }
        }
        close(fd);
        if (len)
                *len = b.len;
        *out = mu_buf_detach(&b);
        return 0;
}

void mu_fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0) {
                fsync(fd);
                close(fd);
        }
}

int mu_write_all(int fd, const void *p, size_t n)
{
        const char *c = p;

        while (n) {
                ssize_t w = write(fd, c, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        if (w == 0)
                                errno = EIO;
                        return -1;
                }
                c += w;
                n -= (size_t)w;
        }
        return 0;
}

int mu_write_file_atomic(const char *path, const void *data, size_t len,
                         struct mu_err *err)
{
        char *tmp = mu_xasprintf("%s.tmp-%ld", path, (long)getpid());
        char *dcopy;
        int fd, rc = 0;

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp,
                             strerror(errno));
                free(tmp);
                return rc;
        }
        if (mu_write_all(fd, data, len) < 0)
                rc = mu_fail(err, MU_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        if (!rc && fsync(fd) < 0)
                rc = mu_fail(err, MU_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
        if (close(fd) < 0 && !rc)
                rc = mu_fail(err, MU_EIO, "cannot close '%s': %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) < 0)
                rc = mu_fail(err, MU_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                             strerror(errno));
        if (rc)
                unlink(tmp);
        else {
                dcopy = mu_xstrdup(path);
                mu_fsync_dir(dirname(dcopy));
                free(dcopy);
        }
        free(tmp);
        return rc;
}

int mu_mkdir_p(const char *path, struct mu_err *err)
{
        char *p = mu_xstrdup(path);
        size_t n = strlen(p);

        for (size_t i = 1; i <= n; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                char c = p[i];
                p[i] = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                        int e = errno;
                        int rc = mu_fail(err, MU_EIO, "cannot create directory '%s': %s",
                                         p, strerror(e));
                        free(p);
                        return rc;
                }
                p[i] = c;
        }
        free(p);
        if (!mu_dir_exists(path))
                return mu_fail(err, MU_EIO, "'%s' exists and is not a directory", path);
        return 0;
}

const char *mu_home_dir(void)
{
        const char *h = getenv("HOME");
        struct passwd *pw;

        if (h && *h)
                return h;
        pw = getpwuid(getuid());
        if (pw && pw->pw_dir)
                return pw->pw_dir;
        return ".";
}

char *mu_expand_home(const char *path)
{
        if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
                return mu_xasprintf("%s%s", mu_home_dir(), path + 1);
        return mu_xstrdup(path);
}

int mu_file_exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mu_dir_exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
