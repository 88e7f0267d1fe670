/* sha256.c -- thin wrapper over OpenSSL EVP SHA-256. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mullama/sha256.h"

struct mu_sha256 {
        EVP_MD_CTX *ctx;
};

struct mu_sha256 *mu_sha256_create(void)
{
        struct mu_sha256 *h = mu_xcalloc(1, sizeof(*h));

        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
                fprintf(stderr, "fatal: cannot initialise sha256\n");
                abort();
        }
        return h;
}

void mu_sha256_update(struct mu_sha256 *h, const void *p, size_t n)
{
        EVP_DigestUpdate(h->ctx, p, n);
}

void mu_sha256_final_hex(struct mu_sha256 *h, char hex[65])
{
        unsigned char md[32];
        unsigned int n = 0;

        EVP_DigestFinal_ex(h->ctx, md, &n);
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void mu_sha256_free(struct mu_sha256 *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void mu_sha256_hex(const void *p, size_t n, char hex[65])
{
        struct mu_sha256 *h = mu_sha256_create();

        mu_sha256_update(h, p, n);
        mu_sha256_final_hex(h, hex);
        mu_sha256_free(h);
}

int mu_sha256_file(const char *path, char hex[65], struct mu_err *err)
{
        static const size_t bufsz = 1 << 20;
        struct mu_sha256 *h;
        char *buf;
        ssize_t n;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return mu_fail(err, errno == ENOENT ? MU_ENOTFOUND : MU_EIO,
                               "cannot open '%s': %s", path, strerror(errno));
        h = mu_sha256_create();
        buf = mu_xmalloc(bufsz);
        while ((n = read(fd, buf, bufsz)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        free(buf);
                        mu_sha256_free(h);
                        return mu_fail(err, MU_EIO, "cannot read '%s': %s", path,
                                       strerror(e));
                }
                mu_sha256_update(h, buf, (size_t)n);
        }
        close(fd);
        free(buf);
        mu_sha256_final_hex(h, hex);
        mu_sha256_free(h);
        return 0;
}
