/* sha256.h -- streaming SHA-256 over OpenSSL's EVP interface. */
#ifndef MULLAMA_SHA256_H
#define MULLAMA_SHA256_H

#include <stddef.h>

#include "mullama/mullama.h"

struct mu_sha256;

struct mu_sha256 *mu_sha256_create(void);  /* NULL only on OOM */
void mu_sha256_update(struct mu_sha256 *h, const void *p, size_t n);
/* Write 64 lowercase hex chars + NUL into hex, and reset h for reuse. */
void mu_sha256_final_hex(struct mu_sha256 *h, char hex[65]);
void mu_sha256_free(struct mu_sha256 *h);

void mu_sha256_hex(const void *p, size_t n, char hex[65]);
int mu_sha256_file(const char *path, char hex[65], struct mu_err *err);

#endif
