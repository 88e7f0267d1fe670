/* store_archive.c -- export models as tar archives, import archives, store
 * directories and GGUF files (see store_archive.h). */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/modelfile.h"
#include "mullama/sha256.h"
#include "mullama/store.h"
#include "mullama/store_archive.h"

#define MANIFEST_MAX (4u << 20)
#define BUF_SIZE (1u << 20)

static int ends_with(const char *s, const char *suf)
{
        size_t a = strlen(s), b = strlen(suf);

        return a >= b && !strcasecmp(s + a - b, suf);
}

static int is_hex64(const char *s)
{
        int n = 0;

        for (; s[n]; n++)
                if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
                        return 0;
        return n == 64;
}

/* ---- export ----------------------------------------------------------------- */

static int add_file(struct archive *a, const char *name, const char *path, const void *data,
                    size_t len, char *buf, struct mu_err *err)
{
        struct archive_entry *e = archive_entry_new();
        struct stat st;
        int fd = -1, rc = 0;

        if (!data) {
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot open '%s': %s", path, strerror(errno));
                        goto out;
                }
                len = (size_t)st.st_size;
        }
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_entry_set_mtime(e, data || fd < 0 ? 0 : st.st_mtime, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK) {
                rc = mu_fail(err, MU_EIO, "cannot write archive: %s", archive_error_string(a));
                goto out;
        }
        if (data) {
                if (archive_write_data(a, data, len) != (la_ssize_t)len)
                        rc = mu_fail(err, MU_EIO, "cannot write archive: %s",
                                     archive_error_string(a));
                goto out;
        }
        for (size_t done = 0; done < len;) {
                ssize_t n = read(fd, buf, BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        rc = mu_fail(err, MU_EIO, "cannot read '%s': %s", path,
                                     n < 0 ? strerror(errno) : "file shrank");
                        goto out;
                }
                if (archive_write_data(a, buf, (size_t)n) != n) {
                        rc = mu_fail(err, MU_EIO, "cannot write archive: %s",
                                     archive_error_string(a));
                        goto out;
                }
                done += (size_t)n;
                if (mu_interrupted) {
                        rc = mu_fail(err, MU_ECANCELED, "interrupted");
                        goto out;
                }
        }
out:
        if (fd >= 0)
                close(fd);
        archive_entry_free(e);
        return rc;
}

int store_export(const struct mu_config *cfg, char *const *refs, int n_refs, const char *out,
                 struct mu_err *err)
{
        struct archive *a = NULL;
        char **seen = NULL, *tmp = NULL, *buf = NULL;
        int n_seen = 0, rc = 0, fr;

        if (ends_with(out, ".tar"))
                fr = archive_write_add_filter_none(a = archive_write_new());
        else if (ends_with(out, ".tar.gz") || ends_with(out, ".tgz"))
                fr = archive_write_add_filter_gzip(a = archive_write_new());
        else if (ends_with(out, ".tar.zst") || ends_with(out, ".tzst"))
                fr = archive_write_add_filter_zstd(a = archive_write_new());
        else if (ends_with(out, ".tar.xz") || ends_with(out, ".txz"))
                fr = archive_write_add_filter_xz(a = archive_write_new());
        else
                return mu_fail(err, MU_EINVAL,
                               "cannot tell the archive type of '%s': name it .tar, .tar.gz, "
                               ".tar.zst or .tar.xz", out);
        if (fr != ARCHIVE_OK) {
                rc = mu_fail(err, MU_EUNSUPPORTED, "cannot write '%s': %s", out,
                             archive_error_string(a));
                archive_write_free(a);
                return rc;
        }
        archive_write_set_format_pax_restricted(a);
        tmp = mu_xasprintf("%s.tmp-%ld", out, (long)getpid());
        if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
                rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp, archive_error_string(a));
                archive_write_free(a);
                free(tmp);
                return rc;
        }
        buf = mu_xmalloc(BUF_SIZE);
        seen = mu_xcalloc(1, sizeof(char *));
        for (int i = 0; i < n_refs && !rc; i++) {
                struct store_model *m = NULL;
                char *raw = NULL, *name;
                size_t len;

                rc = store_resolve(cfg, refs[i], &m, err);
                if (rc)
                        break;
                rc = mu_read_file(m->manifest_path, MANIFEST_MAX, &raw, &len, err);
                name = mu_xasprintf("manifests/%s/%s/%s/%s", m->ref.host, m->ref.ns, m->ref.name,
                                    m->ref.tag);
                if (!rc)
                        rc = add_file(a, name, NULL, raw, len, buf, err);
                free(name);
                free(raw);
                for (int j = -1; !rc && j < m->manifest.n_layers; j++) {
                        const char *d = j < 0 ? m->manifest.config.digest
                                              : m->manifest.layers[j].digest;
                        int dup = !d[0];
                        for (int k = 0; k < n_seen && !dup; k++)
                                dup = !strcmp(seen[k], d);
                        if (dup)
                                continue;
                        seen = mu_xrealloc(seen, (size_t)(n_seen + 1) * sizeof(char *));
                        seen[n_seen++] = mu_xstrdup(d);
                        char *path = store_blob_path(m->dir, d);
                        name = mu_xasprintf("blobs/sha256-%s", d + 7);
                        rc = add_file(a, name, path, NULL, 0, buf, err);
                        free(name);
                        free(path);
                }
                store_model_free(m);
        }
        if (archive_write_close(a) != ARCHIVE_OK && !rc)
                rc = mu_fail(err, MU_EIO, "cannot write '%s': %s", tmp, archive_error_string(a));
        archive_write_free(a);
        if (!rc && rename(tmp, out) < 0)
                rc = mu_fail(err, MU_EIO, "cannot rename '%s' to '%s': %s", tmp, out,
                             strerror(errno));
        if (rc)
                unlink(tmp);
        for (int k = 0; k < n_seen; k++)
                free(seen[k]);
        free(seen);
        free(buf);
        free(tmp);
        return rc;
}

/* ---- import: shared bookkeeping ------------------------------------------------ */

struct pending {
        struct store_ref ref;
        char *data;
        size_t len;
};

struct imp {
        const struct mu_config *cfg;
        char *bdir;
        char **new_blobs; /* committed by this import: removed on failure */
        int n_new;
        struct pending *mans;
        int n_mans;
        int wrote; /* a manifest is in the store: keep the blobs */
        unsigned tmp_n;
};

static void imp_release(struct imp *im, int failed)
{
        for (int i = 0; i < im->n_new; i++) {
                if (failed && !im->wrote)
                        unlink(im->new_blobs[i]);
                free(im->new_blobs[i]);
        }
        for (int i = 0; i < im->n_mans; i++)
                free(im->mans[i].data);
        free(im->new_blobs);
        free(im->mans);
        free(im->bdir);
}

static void add_new_blob(struct imp *im, const char *path)
{
        im->new_blobs = mu_xrealloc(im->new_blobs, (size_t)(im->n_new + 1) * sizeof(char *));
        im->new_blobs[im->n_new++] = mu_xstrdup(path);
}

/* "h/ns/name/tag" components -> ref; 0 when valid and exactly those. */
static int ref_from_parts(struct store_ref *r, const char *h, const char *ns, const char *name,
                          const char *tag)
{
        char *s = mu_xasprintf("%s/%s/%s:%s", h, ns, name, tag);
        int rc = store_ref_parse(r, s, NULL);

        free(s);
        if (rc || strcmp(r->host, h) || strcmp(r->ns, ns) || strcmp(r->name, name) ||
            strcmp(r->tag, tag))
                return -1;
        return 0;
}

static void add_manifest(struct imp *im, const struct store_ref *r, char *data, size_t len)
{
        for (int i = 0; i < im->n_mans; i++)
                if (store_ref_equal(&im->mans[i].ref, r)) {
                        free(im->mans[i].data);
                        im->mans[i].data = data;
                        im->mans[i].len = len;
                        return;
                }
        im->mans = mu_xrealloc(im->mans, (size_t)(im->n_mans + 1) * sizeof(*im->mans));
        im->mans[im->n_mans].ref = *r;
        im->mans[im->n_mans].data = data;
        im->mans[im->n_mans].len = len;
        im->n_mans++;
}

/* Check every manifest against the store, then write them all. */
static int finish(struct imp *im, const char *src, store_import_fn cb, void *ud,
                  struct mu_err *err)
{
        int rc = 0;

        if (!im->n_mans)
                return mu_fail(err, MU_EFORMAT, "'%s' holds no model manifest", src);
        for (int i = 0; i < im->n_mans && !rc; i++) {
                struct store_manifest m;
                char disp[600];
                store_ref_display(&im->mans[i].ref, disp, sizeof(disp));
                rc = store_manifest_parse(&m, im->mans[i].data, im->mans[i].len, err);
                if (rc) {
                        mu_err_prefix(err, "manifest of '%s' in '%s'", disp, src);
                        break;
                }
                for (int j = -1; !rc && j < m.n_layers; j++) {
                        const struct store_layer *l = j < 0 ? &m.config : &m.layers[j];
                        char *p;
                        struct stat st;
                        if (!l->digest[0])
                                continue;
                        p = store_blob_path(im->cfg->models_dir, l->digest);
                        if (!p || stat(p, &st) < 0)
                                rc = mu_fail(err, MU_EINTEGRITY,
                                             "model '%s' needs blob %s, which is neither in '%s' "
                                             "nor in the store", disp, l->digest, src);
                        else if ((uint64_t)st.st_size != l->size)
                                rc = mu_fail(err, MU_EINTEGRITY,
                                             "model '%s': blob %s is %lld bytes, the manifest says "
                                             "%llu", disp, l->digest, (long long)st.st_size,
                                             (unsigned long long)l->size);
                        free(p);
                }
                store_manifest_release(&m);
        }
        for (int i = 0; i < im->n_mans && !rc; i++) {
                char *path = store_manifest_path(im->cfg->models_dir, &im->mans[i].ref);
                char *dir = mu_xstrdup(path), disp[600];
                rc = mu_mkdir_p(dirname(dir), err);
                if (!rc)
                        rc = mu_write_file_atomic(path, im->mans[i].data, im->mans[i].len, err);
                if (!rc)
                        im->wrote = 1;
                free(dir);
                free(path);
                store_ref_display(&im->mans[i].ref, disp, sizeof(disp));
                if (!rc && cb)
                        cb(ud, disp);
        }
        return rc;
}

/* ---- import: archives ---------------------------------------------------------- */

static int archive_blob(struct imp *im, struct archive *a, struct archive_entry *e,
                        const char *entry, const char *hex, const char *src, char *buf,
                        struct mu_err *err)
{
        char *final = mu_xasprintf("%s/sha256-%s", im->bdir, hex), *tmp, got[65];
        struct mu_sha256 *h;
        int fd, rc = 0;

        if (mu_file_exists(final)) {
                free(final);
                if (archive_read_data_skip(a) != ARCHIVE_OK)
                        return mu_fail(err, MU_EFORMAT, "'%s' is truncated or corrupt: %s", src,
                                       archive_error_string(a));
                return 0;
        }
        {
                struct statvfs vs;
                la_int64_t want = archive_entry_size(e);
                if (want > 0 && statvfs(im->bdir, &vs) == 0 &&
                    (uint64_t)want > (uint64_t)vs.f_bavail * vs.f_frsize) {
                        free(final);
                        return mu_fail(err, MU_EIO,
                                       "not enough disk space in '%s' for %s (%lld bytes)",
                                       im->bdir, entry, (long long)want);
                }
        }
        tmp = mu_xasprintf("%s/.tmp-%ld-i%u", im->bdir, (long)getpid(), im->tmp_n++);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp, strerror(errno));
                free(tmp);
                free(final);
                return rc;
        }
        h = mu_sha256_create();
        for (;;) {
                la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);
                if (n == 0)
                        break;
                if (n < 0) {
                        rc = mu_fail(err, MU_EFORMAT, "'%s' is truncated or corrupt (in %s): %s",
                                     src, entry, archive_error_string(a));
                        break;
                }
                mu_sha256_update(h, buf, (size_t)n);
                if (mu_write_all(fd, buf, (size_t)n) < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot write '%s': %s", tmp, strerror(errno));
                        break;
                }
                if (mu_interrupted) {
                        rc = mu_fail(err, MU_ECANCELED, "interrupted");
                        break;
                }
        }
        mu_sha256_final_hex(h, got);
        mu_sha256_free(h);
        if (!rc && strcmp(got, hex))
                rc = mu_fail(err, MU_EINTEGRITY,
                             "%s in '%s' does not match its name: its content has digest "
                             "sha256:%s", entry, src, got);
        if (!rc && fsync(fd) < 0)
                rc = mu_fail(err, MU_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
        if (close(fd) < 0 && !rc)
                rc = mu_fail(err, MU_EIO, "cannot close '%s': %s", tmp, strerror(errno));
        if (!rc && rename(tmp, final) < 0)
                rc = mu_fail(err, MU_EIO, "cannot rename '%s': %s", tmp, strerror(errno));
        if (rc)
                unlink(tmp);
        else
                add_new_blob(im, final);
        free(tmp);
        free(final);
        return rc;
}

/* Split a cleaned entry path into at most 6 components; -1 when unsafe. */
static int split_path(char *p, char **comp, int max)
{
        int n = 0;

        if (p[0] == '/')
                return -1;
        for (char *s = p;;) {
                char *slash = strchr(s, '/');
                if (slash)
                        *slash = '\0';
                if (!*s || !strcmp(s, ".") || !strcmp(s, "..") || n == max)
                        return -1;
                comp[n++] = s;
                if (!slash)
                        break;
                s = slash + 1;
        }
        return n;
}

static int import_archive(struct imp *im, const char *src, store_import_fn cb, void *ud,
                          struct mu_err *err)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char *buf = mu_xmalloc(BUF_SIZE);
        int rc = 0;

        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, src, 1 << 16) != ARCHIVE_OK) {
                rc = mu_fail(err, MU_EFORMAT, "cannot read '%s' as an archive: %s", src,
                             archive_error_string(a));
                goto out;
        }
        for (;;) {
                int r = archive_read_next_header(a, &e);
                char *path, *p, *comp[8];
                int n, type;

                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        rc = mu_fail(err, MU_EFORMAT, "'%s' is truncated or corrupt: %s", src,
                                     archive_error_string(a));
                        break;
                }
                path = mu_xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
                type = archive_entry_filetype(e);
                p = path;
                while (!strncmp(p, "./", 2))
                        p += 2;
                if (type == AE_IFDIR) {
                        size_t l = strlen(p);
                        while (l && p[l - 1] == '/')
                                p[--l] = '\0';
                }
                char *shown = mu_xstrdup(p);
                n = !*p && type == AE_IFDIR ? 0 : split_path(p, comp, 6);
                if (n < 0) {
                        rc = mu_fail(err, MU_EFORMAT, "'%s': refusing unsafe entry '%s'", src,
                                     shown);
                } else if (type == AE_IFDIR) {
                        if (n > 0 && strcmp(comp[0], "manifests") &&
                            !(n == 1 && !strcmp(comp[0], "blobs")))
                                rc = mu_fail(err, MU_EFORMAT,
                                             "'%s': unexpected directory '%s' (a model archive "
                                             "holds manifests/ and blobs/)", src, shown);
                } else if (type != AE_IFREG || archive_entry_hardlink(e) ||
                           archive_entry_symlink(e)) {
                        rc = mu_fail(err, MU_EFORMAT,
                                     "'%s': refusing '%s': not a regular file (links and devices "
                                     "are not accepted)", src, shown);
                } else if (n == 2 && !strcmp(comp[0], "blobs") &&
                           !strncmp(comp[1], "sha256-", 7) && is_hex64(comp[1] + 7)) {
                        rc = archive_blob(im, a, e, shown, comp[1] + 7, src, buf, err);
                } else if (n == 5 && !strcmp(comp[0], "manifests")) {
                        struct store_ref r;
                        la_int64_t sz = archive_entry_size(e);
                        if (ref_from_parts(&r, comp[1], comp[2], comp[3], comp[4]) ||
                            sz < 0 || sz > MANIFEST_MAX) {
                                rc = mu_fail(err, MU_EFORMAT, "'%s': bad manifest entry '%s'", src,
                                             shown);
                        } else {
                                char *data = mu_xmalloc((size_t)sz + 1);
                                la_ssize_t got = 0;
                                while (got < sz) {
                                        la_ssize_t k = archive_read_data(a, data + got,
                                                                         (size_t)(sz - got));
                                        if (k <= 0)
                                                break;
                                        got += k;
                                }
                                if (got != sz) {
                                        rc = mu_fail(err, MU_EFORMAT,
                                                     "'%s' is truncated or corrupt (in %s): %s", src,
                                                     shown, archive_error_string(a));
                                        free(data);
                                } else {
                                        data[sz] = '\0';
                                        add_manifest(im, &r, data, (size_t)sz);
                                }
                        }
                } else {
                        rc = mu_fail(err, MU_EFORMAT,
                                     "'%s': unexpected entry '%s' (a model archive holds "
                                     "manifests/<host>/<ns>/<name>/<tag> and blobs/sha256-<hex>)",
                                     src, shown);
                }
                free(shown);
                free(path);
                if (rc)
                        break;
        }
        if (!rc)
                rc = finish(im, src, cb, ud, err);
out:
        archive_read_free(a);
        free(buf);
        return rc;
}

/* ---- import: store directories ------------------------------------------------------ */

static int list_names(const char *path, char ***out, int *n)
{
        DIR *d = opendir(path);
        struct dirent *de;

        *out = NULL;
        *n = 0;
        if (!d)
                return -1;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-"))
                        continue;
                *out = mu_xrealloc(*out, (size_t)(*n + 1) * sizeof(char *));
                (*out)[(*n)++] = mu_xstrdup(de->d_name);
        }
        closedir(d);
        return 0;
}

static void free_names(char **v, int n)
{
        for (int i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int dir_manifest(struct imp *im, const char *dir, const char *path,
                        const struct store_ref *r, struct mu_err *err)
{
        struct store_manifest m;
        char *raw = NULL;
        size_t len;
        int rc;

        rc = mu_read_file(path, MANIFEST_MAX, &raw, &len, err);
        if (rc)
                return rc;
        rc = store_manifest_parse(&m, raw, len, err);
        if (rc) {
                mu_err_prefix(err, "'%s'", path);
                free(raw);
                return rc;
        }
        for (int j = -1; !rc && j < m.n_layers; j++) {
                const struct store_layer *l = j < 0 ? &m.config : &m.layers[j];
                char *mine, *theirs, dg[72];
                uint64_t sz;
                if (!l->digest[0])
                        continue;
                mine = store_blob_path(im->cfg->models_dir, l->digest);
                if (!mu_file_exists(mine)) {
                        theirs = store_blob_path(dir, l->digest);
                        rc = store_blob_import(im->cfg->models_dir, theirs, l->digest, dg, &sz,
                                               NULL, NULL, err);
                        if (!rc)
                                add_new_blob(im, mine);
                        free(theirs);
                }
                free(mine);
        }
        store_manifest_release(&m);
        if (rc) {
                free(raw);
                return rc;
        }
        add_manifest(im, r, raw, len);
        return 0;
}

static int import_dir(struct imp *im, const char *src, store_import_fn cb, void *ud,
                      struct mu_err *err)
{
        char *dir = mu_xasprintf("%s/manifests", src), *root;
        char **h = NULL, **ns = NULL, **nm = NULL, **tg = NULL;
        int nh = 0, nns = 0, nnm = 0, ntg = 0, rc = 0;

        if (!mu_dir_exists(dir)) {
                free(dir);
                dir = mu_xasprintf("%s/models/manifests", src);
                if (!mu_dir_exists(dir)) {
                        free(dir);
                        return mu_fail(err, MU_EINVAL,
                                       "'%s' is not a model store (no manifests/ directory)", src);
                }
        }
        root = mu_xstrndup(dir, strlen(dir) - strlen("/manifests"));
        list_names(dir, &h, &nh);
        for (int a = 0; a < nh && !rc; a++) {
                char *pa = mu_xasprintf("%s/%s", dir, h[a]);
                list_names(pa, &ns, &nns);
                for (int b = 0; b < nns && !rc; b++) {
                        char *pb = mu_xasprintf("%s/%s", pa, ns[b]);
                        list_names(pb, &nm, &nnm);
                        for (int c = 0; c < nnm && !rc; c++) {
                                char *pc = mu_xasprintf("%s/%s", pb, nm[c]);
                                list_names(pc, &tg, &ntg);
                                for (int d = 0; d < ntg && !rc; d++) {
                                        char *pd = mu_xasprintf("%s/%s", pc, tg[d]);
                                        struct store_ref r;
                                        if (mu_file_exists(pd) &&
                                            ref_from_parts(&r, h[a], ns[b], nm[c], tg[d]) == 0)
                                                rc = dir_manifest(im, root, pd, &r, err);
                                        free(pd);
                                }
                                free_names(tg, ntg);
                                free(pc);
                        }
                        free_names(nm, nnm);
                        free(pb);
                }
                free_names(ns, nns);
                free(pa);
        }
        free_names(h, nh);
        if (!rc)
                rc = finish(im, src, cb, ud, err);
        free(root);
        free(dir);
        return rc;
}

/* ---- import: a GGUF file ---------------------------------------------------------------- */

static char *name_from_file(const char *path)
{
        char *copy = mu_xstrdup(path), *base = basename(copy), *out;
        size_t n = strlen(base), k = 0;

        if (n > 5 && !strcasecmp(base + n - 5, ".gguf"))
                base[n - 5] = '\0';
        out = mu_xcalloc(82, 1);
        for (char *c = base; *c && k < 80; c++) {
                unsigned char ch = (unsigned char)*c;
                out[k++] = isalnum(ch) || ch == '_' || ch == '.' || ch == '-' ? (char)tolower(ch)
                                                                                : '-';
        }
        if (!k || !isalnum((unsigned char)out[0]))
                out[0] = 'm';
        free(copy);
        return out;
}

static int import_gguf(const struct mu_config *cfg, const char *path, const char *name,
                       store_import_fn cb, void *ud, struct mu_err *err)
{
        struct modelfile mf;
        struct store_create_opts co = {0};
        char *abs = realpath(path, NULL), *text, *nm = name ? mu_xstrdup(name)
                                                             : name_from_file(path);
        int rc;

        if (!abs) {
                free(nm);
                return mu_fail(err, MU_ENOTFOUND, "cannot open '%s': %s", path, strerror(errno));
        }
        text = mu_xasprintf("FROM %s\n", abs);
        rc = modelfile_parse(&mf, "import", text, strlen(text), err);
        if (!rc) {
                rc = store_create(cfg, nm, &mf, &co, err);
                modelfile_release(&mf);
        }
        if (!rc && cb) {
                struct store_ref r;
                char disp[600];
                if (store_ref_parse(&r, nm, NULL) == 0) {
                        store_ref_display(&r, disp, sizeof(disp));
                        cb(ud, disp);
                }
        }
        free(text);
        free(abs);
        free(nm);
        return rc;
}

static int is_gguf(const char *path)
{
        char magic[4];
        int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;

        if (fd >= 0) {
                ok = read(fd, magic, 4) == 4 && !memcmp(magic, "GGUF", 4);
                close(fd);
        }
        return ok;
}

int store_import(const struct mu_config *cfg, const char *path, const char *name,
                 store_import_fn cb, void *ud, struct mu_err *err)
{
        struct imp im = {0};
        struct stat st;
        int rc;

        if (stat(path, &st) < 0)
                return mu_fail(err, errno == ENOENT ? MU_ENOTFOUND : MU_EIO, "cannot open '%s': %s",
                               path, strerror(errno));
        if (S_ISREG(st.st_mode) && is_gguf(path))
                return import_gguf(cfg, path, name, cb, ud, err);
        if (name)
                return mu_fail(err, MU_EINVAL,
                               "a name can only be given when importing a GGUF file ('%s' is not "
                               "one)", path);
        im.cfg = cfg;
        im.bdir = mu_xasprintf("%s/blobs", cfg->models_dir);
        rc = mu_mkdir_p(im.bdir, err);
        if (!rc)
                rc = S_ISDIR(st.st_mode) ? import_dir(&im, path, cb, ud, err)
                                         : import_archive(&im, path, cb, ud, err);
        imp_release(&im, rc != 0);
        return rc;
}
