/* fs.h -- file-system helpers: read-only mmap, mkdir -p, whole-file reads,
 * atomic writes (temp file + fsync + rename), home directory.
 * All functions return 0 or a negative MU_E* code with a message in err. */
#ifndef MULLAMA_FS_H
#define MULLAMA_FS_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"

struct mu_map {
        const uint8_t *data;  /* NULL for an empty file */
        size_t size;
};

/* Map path read-only.  Release with mu_unmap().  A file of 2 MiB or more
 * is mapped at a 2 MiB-aligned address with MADV_HUGEPAGE: where the
 * kernel keeps the file in PMD-size page-cache folios (ext4 / xfs large
 * folios, Linux 6.x) the weights are then mapped with 2 MiB pages, read
 * ahead 2 MiB per fault, and token generation, which streams every weight
 * once per token, spends less on TLB misses (TinyLlama Q4_0 tg +15%,
 * bench/results/2026-12-03-hugepage-mmap.md).  Elsewhere the advice is a
 * no-op; the pages stay shared with the page cache either way. */
int mu_map_file(struct mu_map *m, const char *path, struct mu_err *err);
void mu_unmap(struct mu_map *m);

/* Read a whole file into a NUL-terminated heap buffer (caller frees).
 * max_size bounds what we accept (0: no limit). */
int mu_read_file(const char *path, size_t max_size, char **out, size_t *len,
                 struct mu_err *err);

/* Write data to path atomically: path.tmp-PID, fsync, rename, fsync dir. */
int mu_write_file_atomic(const char *path, const void *data, size_t len,
                         struct mu_err *err);

/* Write all n bytes to fd, retrying short writes and EINTR.  Returns 0, or
 * -1 with errno set (a write that makes no progress sets EIO). */
int mu_write_all(int fd, const void *p, size_t n);

/* Create dir and its parents (mode 0755).  Existing dirs are fine. */
int mu_mkdir_p(const char *path, struct mu_err *err);

/* fsync a directory so a rename in it is durable. */
void mu_fsync_dir(const char *dir);

/* $HOME, or the passwd entry; never NULL (falls back to "."). */
const char *mu_home_dir(void);

/* "~/x" -> "$HOME/x"; other paths copied.  Caller frees. */
char *mu_expand_home(const char *path);

int mu_file_exists(const char *path);  /* regular file */
int mu_dir_exists(const char *path);

#endif
