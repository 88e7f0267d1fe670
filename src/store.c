/* store.c -- model references, manifests, blobs, and the model store in
 * Ollama's layout (see store.h for the layout and the integrity rules).
 *
 * Our store (cfg->models_dir) is read and written; Ollama's (cfg->ollama_dir)
 * is only read: resolve falls back to it, list shows its models, cp imports
 * its blobs into ours before writing a manifest.  Temp blobs are named
 * blobs/.tmp-<pid>-<n> so a sweep can tell a dead writer's leftovers from a
 * live one's.  Store creation from a Modelfile lives in store_create.c. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/sha256.h"
#include "mullama/store.h"

#define MANIFEST_MAX (4u << 20)
#define TEXT_LAYER_MAX (64u << 20)

/* ---- references ------------------------------------------------------------ */

enum part { PART_HOST, PART_NS, PART_NAME, PART_TAG };
static const char *const part_names[] = {"host", "namespace", "name", "tag"};

static int part_ok(enum part k, const char *s, size_t n)
{
        size_t max = k == PART_HOST ? 350 : 80;

        if (n < 1 || n > max)
                return 0;
        if (!isalnum((unsigned char)s[0]) && s[0] != '_')
                return 0;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (isalnum(c) || c == '_' || c == '-')
                        continue;
                if (c == '.' && k != PART_NS)
                        continue;
                if (c == ':' && k == PART_HOST)
                        continue;
                return 0;
        }
        return 1;
}

static int is_hex64(const char *s, size_t n)
{
        if (n != 64)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return 0;
        return 1;
}

int store_ref_parse(struct store_ref *r, const char *in, struct mu_err *err)
{
        const char *s = in, *end, *at, *colon, *slash;
        const char *seg[3];
        size_t seglen[3];
        int nseg = 0;

        memset(r, 0, sizeof(*r));
        if (!strncmp(s, "https://", 8))
                s += 8;
        else if (!strncmp(s, "http://", 7))
                s += 7;
        end = s + strlen(s);
        if (end == s)
                return mu_fail(err, MU_EINVAL, "invalid model name '': empty");
        if (end - s > 600)
                return mu_fail(err, MU_EINVAL, "invalid model name '%.40s...': too long", in);
        at = memrchr(s, '@', (size_t)(end - s));
        if (at) {
                const char *d = at + 1;
                if ((strncmp(d, "sha256:", 7) && strncmp(d, "sha256-", 7)) ||
                    !is_hex64(d + 7, (size_t)(end - d - 7)))
                        return mu_fail(err, MU_EINVAL,
                                       "invalid model name '%s': digest must be sha256:<64 hex>",
                                       in);
                snprintf(r->digest, sizeof(r->digest), "sha256:%.64s", d + 7);
                for (char *c = r->digest; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                end = at;
        }
        colon = memrchr(s, ':', (size_t)(end - s));
        slash = memrchr(s, '/', (size_t)(end - s));
        if (colon && (!slash || colon > slash)) {
                size_t n = (size_t)(end - colon - 1);
                if (!part_ok(PART_TAG, colon + 1, n))
                        return mu_fail(err, MU_EINVAL,
                                       "invalid model name '%s': bad tag '%.*s' (1-80 of "
                                       "A-Z a-z 0-9 _ . -)", in, (int)(n > 80 ? 80 : n), colon + 1);
                memcpy(r->tag, colon + 1, n);
                end = colon;
        } else {
                strcpy(r->tag, STORE_DEFAULT_TAG);
        }
        for (const char *p = s;;) {
                const char *q = memchr(p, '/', (size_t)(end - p));
                if (nseg == 3)
                        return mu_fail(err, MU_EINVAL,
                                       "invalid model name '%s': too many '/' (at most host/ns/name)",
                                       in);
                seg[nseg] = p;
                seglen[nseg] = q ? (size_t)(q - p) : (size_t)(end - p);
                nseg++;
                if (!q)
                        break;
                p = q + 1;
        }
        enum part kinds[3];
        if (nseg == 1) {
                kinds[0] = PART_NAME;
        } else if (nseg == 2) {
                kinds[0] = PART_NS;
                kinds[1] = PART_NAME;
        } else {
                kinds[0] = PART_HOST;
                kinds[1] = PART_NS;
                kinds[2] = PART_NAME;
        }
        for (int i = 0; i < nseg; i++) {
                if (!part_ok(kinds[i], seg[i], seglen[i]))
                        return mu_fail(err, MU_EINVAL,
                                       "invalid model name '%s': bad %s '%.*s'", in,
                                       part_names[kinds[i]],
                                       (int)(seglen[i] > 80 ? 80 : seglen[i]), seg[i]);
                char *dst = kinds[i] == PART_HOST ? r->host : kinds[i] == PART_NS ? r->ns : r->name;
                memcpy(dst, seg[i], seglen[i]);
                dst[seglen[i]] = '\0';
        }
        if (!r->host[0])
                strcpy(r->host, STORE_DEFAULT_HOST);
        if (!r->ns[0])
                strcpy(r->ns, STORE_DEFAULT_NS);
        return 0;
}

void store_ref_display(const struct store_ref *r, char *buf, size_t n)
{
        if (strcasecmp(r->host, STORE_DEFAULT_HOST))
                snprintf(buf, n, "%s/%s/%s:%s", r->host, r->ns, r->name, r->tag);
        else if (strcasecmp(r->ns, STORE_DEFAULT_NS))
                snprintf(buf, n, "%s/%s:%s", r->ns, r->name, r->tag);
        else
                snprintf(buf, n, "%s:%s", r->name, r->tag);
}

int store_ref_equal(const struct store_ref *a, const struct store_ref *b)
{
        return !strcasecmp(a->host, b->host) && !strcasecmp(a->ns, b->ns) &&
               !strcasecmp(a->name, b->name) && !strcasecmp(a->tag, b->tag);
}

int store_is_path(const char *s)
{
        size_t n = strlen(s);

        if (!strncmp(s, "./", 2) || !strncmp(s, "../", 3) || s[0] == '/' ||
            !strncmp(s, "~/", 2) || !strcmp(s, ".") || !strcmp(s, ".."))
                return 1;
        if (n > 5 && !strcasecmp(s + n - 5, ".gguf") && mu_file_exists(s))
                return 1;
        return 0;
}

/* ---- manifests ------------------------------------------------------------------ */

static int digest_ok(const char *d)
{
        return d && (!strncmp(d, "sha256:", 7) || !strncmp(d, "sha256-", 7)) &&
               is_hex64(d + 7, strlen(d + 7));
}

static int parse_layer(struct store_layer *l, const cJSON *o, const char *what,
                       struct mu_err *err)
{
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "mediaType");
        const cJSON *dg = cJSON_GetObjectItemCaseSensitive(o, "digest");
        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(o, "size");
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "from");

        memset(l, 0, sizeof(*l));
        if (!cJSON_IsObject(o) || !cJSON_IsString(mt) || !cJSON_IsString(dg))
                return mu_fail(err, MU_EFORMAT, "bad manifest: %s needs mediaType and digest", what);
        if (strlen(mt->valuestring) >= sizeof(l->media_type))
                return mu_fail(err, MU_EFORMAT, "bad manifest: %s mediaType too long", what);
        if (!digest_ok(dg->valuestring))
                return mu_fail(err, MU_EFORMAT, "bad manifest: %s digest '%.80s' is not sha256:<hex>",
                               what, dg->valuestring);
        if (sz && (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > 9.0e15))
                return mu_fail(err, MU_EFORMAT, "bad manifest: %s size is not a byte count", what);
        strcpy(l->media_type, mt->valuestring);
        snprintf(l->digest, sizeof(l->digest), "sha256:%s", dg->valuestring + 7);
        l->size = sz ? (uint64_t)sz->valuedouble : 0;
        if (cJSON_IsString(fr))
                l->from = mu_xstrdup(fr->valuestring);
        return 0;
}

int store_manifest_parse(struct store_manifest *m, const char *json, size_t len,
                         struct mu_err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        const cJSON *v, *cfg, *layers, *it;
        int rc = 0, i = 0;

        memset(m, 0, sizeof(*m));
        if (!root)
                return mu_fail(err, MU_EFORMAT, "bad manifest: not valid JSON");
        v = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
        if (!cJSON_IsObject(root) || !cJSON_IsNumber(v) || v->valueint != 2) {
                rc = mu_fail(err, MU_EFORMAT, "bad manifest: schemaVersion must be 2");
                goto out;
        }
        cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
        if (cfg && !cJSON_IsNull(cfg)) {
                rc = parse_layer(&m->config, cfg, "config", err);
                if (rc)
                        goto out;
        }
        layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
        if (!cJSON_IsArray(layers)) {
                rc = mu_fail(err, MU_EFORMAT, "bad manifest: no layers array");
                goto out;
        }
        m->n_layers = cJSON_GetArraySize(layers);
        if (m->n_layers > 100000) {
                rc = mu_fail(err, MU_EFORMAT, "bad manifest: too many layers");
                m->n_layers = 0;
                goto out;
        }
        m->layers = mu_xcalloc((size_t)m->n_layers + 1, sizeof(*m->layers));
        cJSON_ArrayForEach(it, layers) {
                char what[32];
                snprintf(what, sizeof(what), "layer %d", i);
                rc = parse_layer(&m->layers[i++], it, what, err);
                if (rc)
                        goto out;
        }
out:
        cJSON_Delete(root);
        if (rc)
                store_manifest_release(m);
        return rc;
}

void store_manifest_release(struct store_manifest *m)
{
        free(m->config.from);
        for (int i = 0; i < m->n_layers; i++)
                free(m->layers[i].from);
        free(m->layers);
        memset(m, 0, sizeof(*m));
}

void store_manifest_add(struct store_manifest *m, const char *media_type, const char *digest,
                        uint64_t size)
{
        struct store_layer *l;

        m->layers = mu_xrealloc(m->layers, (size_t)(m->n_layers + 1) * sizeof(*m->layers));
        l = &m->layers[m->n_layers++];
        memset(l, 0, sizeof(*l));
        snprintf(l->media_type, sizeof(l->media_type), "%s", media_type);
        snprintf(l->digest, sizeof(l->digest), "%s", digest);
        l->size = size;
}

static cJSON *layer_json(const struct store_layer *l)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "mediaType", l->media_type);
        cJSON_AddStringToObject(o, "digest", l->digest);
        cJSON_AddNumberToObject(o, "size", (double)l->size);
        if (l->from)
                cJSON_AddStringToObject(o, "from", l->from);
        return o;
}

char *store_manifest_json(const struct store_manifest *m)
{
        cJSON *root = cJSON_CreateObject(), *arr;
        char *s;

        cJSON_AddNumberToObject(root, "schemaVersion", 2);
        cJSON_AddStringToObject(root, "mediaType", STORE_MT_MANIFEST);
        if (m->config.digest[0]) /* absent in some third-party manifests */
                cJSON_AddItemToObject(root, "config", layer_json(&m->config));
        arr = cJSON_AddArrayToObject(root, "layers");
        for (int i = 0; i < m->n_layers; i++)
                cJSON_AddItemToArray(arr, layer_json(&m->layers[i]));
        s = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (!s)
                abort(); /* cJSON fails only on OOM */
        return s;
}

char *store_manifest_path(const char *dir, const struct store_ref *r)
{
        return mu_xasprintf("%s/manifests/%s/%s/%s/%s", dir, r->host, r->ns, r->name, r->tag);
}

char *store_blob_path(const char *dir, const char *digest)
{
        if (!digest_ok(digest))
                return NULL;
        return mu_xasprintf("%s/blobs/sha256-%s", dir, digest + 7);
}

/* ---- blobs ------------------------------------------------------------------------ */

static char *tmp_blob_path(const char *dir)
{
        static unsigned counter;

        return mu_xasprintf("%s/blobs/.tmp-%ld-%u", dir, (long)getpid(), counter++);
}

/* Rename tmp to the blob for hex (or drop tmp when the blob exists). */
static int blob_commit(const char *dir, const char *tmp, const char *hex, struct mu_err *err)
{
        char *dst = mu_xasprintf("%s/blobs/sha256-%s", dir, hex), *bdir;
        int rc = 0;

        if (mu_file_exists(dst)) {
                unlink(tmp);
        } else if (rename(tmp, dst) < 0) {
                rc = mu_fail(err, MU_EIO, "cannot rename '%s' to '%s': %s", tmp, dst,
                             strerror(errno));
                unlink(tmp);
        } else {
                bdir = mu_xasprintf("%s/blobs", dir);
                mu_fsync_dir(bdir);
                free(bdir);
        }
        free(dst);
        return rc;
}

/* Hash fd (from its start); when out >= 0 also copy into out. */
static int hash_copy(int in, int out, const char *what, const char *to, uint64_t total,
                     char hex[65], uint64_t *size, store_progress_fn progress, void *ud,
                     struct mu_err *err)
{
        size_t cap = 1u << 20;
        char *buf = mu_xmalloc(cap);
        struct mu_sha256 *h = mu_sha256_create();
        uint64_t done = 0;
        int rc = 0;

        for (;;) {
                ssize_t n = read(in, buf, cap);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot read '%s': %s", what, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                mu_sha256_update(h, buf, (size_t)n);
                if (out >= 0 && mu_write_all(out, buf, (size_t)n) < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot write '%s': %s", to, strerror(errno));
                        break;
                }
                done += (uint64_t)n;
                if (progress)
                        progress(ud, done, total);
                if (mu_interrupted) {
                        rc = mu_fail(err, MU_ECANCELED, "interrupted");
                        break;
                }
        }
        if (!rc && out >= 0 && fsync(out) < 0)
                rc = mu_fail(err, MU_EIO, "cannot sync '%s': %s", to, strerror(errno));
        mu_sha256_final_hex(h, hex);
        mu_sha256_free(h);
        free(buf);
        *size = done;
        return rc;
}

int store_blob_import(const char *dir, const char *src, const char *expect, char digest[72],
                      uint64_t *size, store_progress_fn progress, void *ud, struct mu_err *err)
{
        char *bdir = mu_xasprintf("%s/blobs", dir), *tmp = NULL;
        char hex[65];
        struct stat st;
        int in = -1, out = -1, rc;

        rc = mu_mkdir_p(bdir, err);
        free(bdir);
        if (rc)
                return rc;
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return mu_fail(err, errno == ENOENT ? MU_ENOTFOUND : MU_EIO, "cannot open '%s': %s",
                               src, strerror(errno));
        if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(in);
                return mu_fail(err, MU_EINVAL, "'%s' is not a regular file", src);
        }
        tmp = tmp_blob_path(dir);
        /* Same file system: a hardlink costs no space; hash what we linked. */
        if (linkat(AT_FDCWD, src, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0) {
                int fd = open(tmp, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot open '%s': %s", tmp, strerror(errno));
                } else {
                        rc = hash_copy(fd, -1, tmp, NULL, (uint64_t)st.st_size, hex, size,
                                       progress, ud, err);
                        close(fd);
                }
        } else {
                out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (out < 0) {
                        rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp, strerror(errno));
                } else {
                        rc = hash_copy(in, out, src, tmp, (uint64_t)st.st_size, hex, size,
                                       progress, ud, err);
                        if (close(out) < 0 && !rc)
                                rc = mu_fail(err, MU_EIO, "cannot close '%s': %s", tmp,
                                             strerror(errno));
                }
        }
        close(in);
        if (!rc && expect && strcasecmp(expect + 7, hex))
                rc = mu_fail(err, MU_EINTEGRITY, "'%s' has digest sha256:%s, expected %s", src, hex,
                             expect);
        if (rc)
                unlink(tmp);
        else
                rc = blob_commit(dir, tmp, hex, err);
        if (!rc)
                snprintf(digest, 72, "sha256:%s", hex);
        free(tmp);
        return rc;
}

int store_blob_write(const char *dir, const void *data, size_t len, char digest[72],
                     struct mu_err *err)
{
        char hex[65], *bdir, *dst, *tmp;
        int fd, rc = 0;

        mu_sha256_hex(data, len, hex);
        snprintf(digest, 72, "sha256:%s", hex);
        dst = mu_xasprintf("%s/blobs/sha256-%s", dir, hex);
        if (mu_file_exists(dst)) {
                free(dst);
                return 0;
        }
        free(dst);
        bdir = mu_xasprintf("%s/blobs", dir);
        rc = mu_mkdir_p(bdir, err);
        free(bdir);
        if (rc)
                return rc;
        tmp = tmp_blob_path(dir);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp, strerror(errno));
                free(tmp);
                return rc;
        }
        if (mu_write_all(fd, data, len) < 0 || fsync(fd) < 0)
                rc = mu_fail(err, MU_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        if (close(fd) < 0 && !rc)
                rc = mu_fail(err, MU_EIO, "cannot close '%s': %s", tmp, strerror(errno));
        if (rc)
                unlink(tmp);
        else
                rc = blob_commit(dir, tmp, hex, err);
        free(tmp);
        return rc;
}

/* ---- walking manifests --------------------------------------------------------------- */

/* A manifest file name left by an interrupted atomic write ("tag.tmp-PID"). */
static int is_tmp_name(const char *s)
{
        const char *t = strstr(s, ".tmp-");

        if (s[0] == '.' && !strncmp(s, ".tmp-", 5))
                return 1;
        if (!t)
                return 0;
        for (t += 5; *t; t++)
                if (!isdigit((unsigned char)*t))
                        return 0;
        return 1;
}

typedef int (*walk_fn)(void *ud, const struct store_ref *ref, const char *path);

static int list_dir(const char *path, char ***names, int *n)
{
        DIR *d = opendir(path);
        struct dirent *e;

        *names = NULL;
        *n = 0;
        if (!d)
                return -1;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                        continue;
                *names = mu_xrealloc(*names, (size_t)(*n + 1) * sizeof(char *));
                (*names)[(*n)++] = mu_xstrdup(e->d_name);
        }
        closedir(d);
        return 0;
}

static void free_names(char **names, int n)
{
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Call fn for every manifests/<host>/<ns>/<name>/<tag> file under dir whose
 * parts form a valid reference.  Stops at the first nonzero fn result. */
static int walk_manifests(const char *dir, walk_fn fn, void *ud)
{
        char *root = mu_xasprintf("%s/manifests", dir);
        char **lv[4] = {0};
        int n[4] = {0}, rc = 0;

        if (list_dir(root, &lv[0], &n[0]) < 0) {
                free(root);
                return 0;
        }
        for (int a = 0; a < n[0] && !rc; a++) {
                char *pa = mu_xasprintf("%s/%s", root, lv[0][a]);
                list_dir(pa, &lv[1], &n[1]);
                for (int b = 0; b < n[1] && !rc; b++) {
                        char *pb = mu_xasprintf("%s/%s", pa, lv[1][b]);
                        list_dir(pb, &lv[2], &n[2]);
                        for (int c = 0; c < n[2] && !rc; c++) {
                                char *pc = mu_xasprintf("%s/%s", pb, lv[2][c]);
                                list_dir(pc, &lv[3], &n[3]);
                                for (int d = 0; d < n[3] && !rc; d++) {
                                        char *pd = mu_xasprintf("%s/%s", pc, lv[3][d]);
                                        char *s = mu_xasprintf("%s/%s/%s:%s", lv[0][a], lv[1][b],
                                                               lv[2][c], lv[3][d]);
                                        struct store_ref ref;
                                        if (!is_tmp_name(lv[3][d]) && mu_file_exists(pd) &&
                                            !store_ref_parse(&ref, s, NULL))
                                                rc = fn(ud, &ref, pd);
                                        free(s);
                                        free(pd);
                                }
                                free_names(lv[3], n[3]);
                                free(pc);
                        }
                        free_names(lv[2], n[2]);
                        free(pb);
                }
                free_names(lv[1], n[1]);
                free(pa);
        }
        free_names(lv[0], n[0]);
        free(root);
        return rc;
}

/* ---- loading a model ------------------------------------------------------------------ */

static int64_t file_mtime(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

/* Read a manifest file: raw bytes, parsed form and ID. */
static int read_manifest(const char *path, char **raw, size_t *rawlen, struct store_manifest *m,
                         char id[65], struct mu_err *err)
{
        char *text = NULL;
        size_t len = 0;
        int rc;

        memset(m, 0, sizeof(*m));
        rc = mu_read_file(path, MANIFEST_MAX, &text, &len, err);
        if (rc)
                return rc;
        rc = store_manifest_parse(m, text, len, err);
        if (rc) {
                mu_err_prefix(err, "'%s'", path);
                free(text);
                return rc;
        }
        if (id)
                mu_sha256_hex(text, len, id);
        if (raw) {
                *raw = text;
                *rawlen = len;
        } else {
                free(text);
        }
        return 0;
}

/* The first missing blob of m under dir, or NULL. */
static const char *missing_blob(const char *dir, const struct store_manifest *m)
{
        for (int i = -1; i < m->n_layers; i++) {
                const struct store_layer *l = i < 0 ? &m->config : &m->layers[i];
                if (i < 0 && !l->digest[0])
                        continue;
                char *p = store_blob_path(dir, l->digest);
                int ok = p && mu_file_exists(p);
                free(p);
                if (!ok)
                        return l->digest;
        }
        return NULL;
}

static uint64_t manifest_size(const struct store_manifest *m)
{
        uint64_t s = m->config.size;

        for (int i = 0; i < m->n_layers; i++)
                s += m->layers[i].size;
        return s;
}

static int read_layer_text(const char *dir, const struct store_layer *l, char **out,
                           struct mu_err *err)
{
        char *p = store_blob_path(dir, l->digest);
        size_t len;
        int rc = mu_read_file(p, TEXT_LAYER_MAX, out, &len, err);

        free(p);
        return rc;
}

static int load_model(struct store_model *m, struct mu_err *err)
{
        const struct store_manifest *mf = &m->manifest;
        const char *miss = missing_blob(m->dir, mf);
        char name[600];
        int rc = 0;

        store_ref_display(&m->ref, name, sizeof(name));
        if (miss)
                return mu_fail(err, MU_EINTEGRITY, "model '%s' is broken: blob %s is missing from '%s'",
                               name, miss, m->dir);
        m->size = manifest_size(mf);
        if (mf->config.digest[0])
                rc = read_layer_text(m->dir, &mf->config, &m->config_json, err);
        for (int i = 0; i < mf->n_layers && !rc; i++) {
                const struct store_layer *l = &mf->layers[i];
                const char *t = l->media_type;
                char *text = NULL;
                if (!strcmp(t, STORE_MT_MODEL)) {
                        if (!m->model_path)
                                m->model_path = store_blob_path(m->dir, l->digest);
                } else if (!strcmp(t, STORE_MT_ADAPTER)) {
                        m->adapter_paths = mu_xrealloc(m->adapter_paths,
                                                       (size_t)(m->n_adapters + 1) * sizeof(char *));
                        m->adapter_paths[m->n_adapters++] = store_blob_path(m->dir, l->digest);
                } else if (!strcmp(t, STORE_MT_PROJECTOR)) {
                        if (!m->projector_path)
                                m->projector_path = store_blob_path(m->dir, l->digest);
                } else if (!strcmp(t, STORE_MT_TEMPLATE) || !strcmp(t, STORE_MT_PROMPT) ||
                           !strcmp(t, STORE_MT_SYSTEM) || !strcmp(t, STORE_MT_PARAMS) ||
                           !strcmp(t, STORE_MT_MESSAGES)) {
                        char **dst = !strcmp(t, STORE_MT_SYSTEM)     ? &m->system
                                     : !strcmp(t, STORE_MT_PARAMS)   ? &m->params_json
                                     : !strcmp(t, STORE_MT_MESSAGES) ? &m->messages_json
                                                                     : &m->tmpl;
                        rc = read_layer_text(m->dir, l, &text, err);
                        if (!rc) {
                                free(*dst);
                                *dst = text;
                        }
                } else if (!strcmp(t, STORE_MT_LICENSE)) {
                        rc = read_layer_text(m->dir, l, &text, err);
                        if (!rc) {
                                m->licenses = mu_xrealloc(m->licenses,
                                                          (size_t)(m->n_licenses + 1) * sizeof(char *));
                                m->licenses[m->n_licenses++] = text;
                        }
                }
        }
        return rc;
}

int store_resolve(const struct mu_config *cfg, const char *refstr, struct store_model **out,
                  struct mu_err *err)
{
        struct store_ref ref;
        const char *dirs[2] = {cfg->models_dir, cfg->ollama_dir};
        int rc;

        *out = NULL;
        rc = store_ref_parse(&ref, refstr, err);
        if (rc)
                return rc;
        for (int i = 0; i < 2; i++) {
                if (!dirs[i] || !*dirs[i])
                        continue;
                char *path = store_manifest_path(dirs[i], &ref);
                if (!mu_file_exists(path)) {
                        free(path);
                        continue;
                }
                struct store_model *m = mu_xcalloc(1, sizeof(*m));
                m->ref = ref;
                m->dir = mu_xstrdup(dirs[i]);
                m->from_ollama = i == 1;
                m->manifest_path = path;
                m->mtime = file_mtime(path);
                rc = read_manifest(path, NULL, NULL, &m->manifest, m->id, err);
                if (!rc && ref.digest[0] && strcasecmp(ref.digest + 7, m->id))
                        rc = mu_fail(err, MU_ENOTFOUND, "model '%s' has digest sha256:%s, not %s",
                                     refstr, m->id, ref.digest);
                if (!rc)
                        rc = load_model(m, err);
                if (rc) {
                        store_model_free(m);
                        return rc;
                }
                *out = m;
                return 0;
        }
        return mu_fail(err, MU_ENOTFOUND, "model '%s' not found", refstr);
}

void store_model_free(struct store_model *m)
{
        if (!m)
                return;
        free(m->dir);
        free(m->manifest_path);
        store_manifest_release(&m->manifest);
        free(m->model_path);
        free(m->tmpl);
        free(m->system);
        free(m->params_json);
        free(m->messages_json);
        free(m->config_json);
        for (int i = 0; i < m->n_licenses; i++)
                free(m->licenses[i]);
        free(m->licenses);
        for (int i = 0; i < m->n_adapters; i++)
                free(m->adapter_paths[i]);
        free(m->adapter_paths);
        free(m->projector_path);
        free(m);
}

/* ---- list ------------------------------------------------------------------------------- */

struct list_ctx {
        const char *dir;
        int from_ollama;
        struct store_entry *v;
        int n;
        int n_ours;
        struct mu_buf warn;
};

static int list_one(void *ud, const struct store_ref *ref, const char *path)
{
        struct list_ctx *c = ud;
        struct store_manifest m;
        struct mu_err e;
        struct store_entry *en;
        char id[65], name[600];
        const char *miss;

        store_ref_display(ref, name, sizeof(name));
        for (int i = 0; i < c->n_ours && c->from_ollama; i++)
                if (store_ref_equal(&c->v[i].ref, ref))
                        return 0; /* shadowed by ours */
        if (read_manifest(path, NULL, NULL, &m, id, &e)) {
                mu_buf_addf(&c->warn, "skipping '%s': %s\n", name, e.msg);
                return 0;
        }
        miss = missing_blob(c->dir, &m);
        if (miss) {
                mu_buf_addf(&c->warn, "skipping '%s': blob %s is missing\n", name, miss);
                store_manifest_release(&m);
                return 0;
        }
        c->v = mu_xrealloc(c->v, (size_t)(c->n + 1) * sizeof(*c->v));
        en = &c->v[c->n++];
        memset(en, 0, sizeof(*en));
        snprintf(en->name, sizeof(en->name), "%s", name);
        en->ref = *ref;
        memcpy(en->id, id, sizeof(en->id));
        en->size = manifest_size(&m);
        en->mtime = file_mtime(path);
        en->from_ollama = c->from_ollama;
        store_manifest_release(&m);
        return 0;
}

static int entry_cmp(const void *a, const void *b)
{
        const struct store_entry *x = a, *y = b;

        if (x->mtime != y->mtime)
                return x->mtime > y->mtime ? -1 : 1;
        return strcmp(x->name, y->name);
}

int store_list(const struct mu_config *cfg, struct store_entry **out, int *n, char **warnings,
               struct mu_err *err)
{
        struct list_ctx c = {0};

        (void)err;
        c.dir = cfg->models_dir;
        walk_manifests(cfg->models_dir, list_one, &c);
        c.n_ours = c.n;
        if (cfg->ollama_dir && *cfg->ollama_dir && strcmp(cfg->ollama_dir, cfg->models_dir)) {
                c.dir = cfg->ollama_dir;
                c.from_ollama = 1;
                walk_manifests(cfg->ollama_dir, list_one, &c);
        }
        if (c.n > 1)
                qsort(c.v, (size_t)c.n, sizeof(*c.v), entry_cmp);
        *out = c.v;
        *n = c.n;
        if (warnings)
                *warnings = c.warn.len ? mu_buf_detach(&c.warn) : NULL;
        mu_buf_release(&c.warn);
        return 0;
}

/* ---- remove ------------------------------------------------------------------------------ */

struct ref_ctx {
        const char *dir;
        char **digests; /* candidates; set to NULL when still referenced */
        int n;
};

static int mark_used(void *ud, const struct store_ref *ref, const char *path)
{
        struct ref_ctx *c = ud;
        struct store_manifest m;
        char id[65];

        (void)ref;
        if (read_manifest(path, NULL, NULL, &m, id, NULL))
                return 0;
        for (int i = -1; i < m.n_layers; i++) {
                const char *d = i < 0 ? m.config.digest : m.layers[i].digest;
                for (int j = 0; j < c->n; j++)
                        if (c->digests[j] && !strcasecmp(c->digests[j], d)) {
                                free(c->digests[j]);
                                c->digests[j] = NULL;
                        }
        }
        store_manifest_release(&m);
        return 0;
}

/* Delete temp blobs whose writer process is gone. */
static void sweep_tmp(const char *dir)
{
        char *bdir = mu_xasprintf("%s/blobs", dir), **names;
        int n;

        if (list_dir(bdir, &names, &n) == 0) {
                for (int i = 0; i < n; i++) {
                        long pid;
                        if (strncmp(names[i], ".tmp-", 5) || sscanf(names[i] + 5, "%ld", &pid) != 1)
                                continue;
                        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
                                continue;
                        char *p = mu_xasprintf("%s/%s", bdir, names[i]);
                        unlink(p);
                        free(p);
                }
                free_names(names, n);
        }
        free(bdir);
}

/* rmdir path's parents up to (not including) stop while they are empty. */
static void prune_dirs(const char *path, const char *stop)
{
        char *p = mu_xstrdup(path);
        size_t sl = strlen(stop);

        for (;;) {
                char *s = strrchr(p, '/');
                if (!s)
                        break;
                *s = '\0';
                if (strlen(p) <= sl || rmdir(p) < 0)
                        break;
        }
        free(p);
}

void store_prune(const struct mu_config *cfg, const struct store_manifest *m)
{
        struct ref_ctx c = {0};

        c.dir = cfg->models_dir;
        c.digests = mu_xcalloc((size_t)m->n_layers + 1, sizeof(char *));
        if (m->config.digest[0])
                c.digests[c.n++] = mu_xstrdup(m->config.digest);
        for (int i = 0; i < m->n_layers; i++)
                c.digests[c.n++] = mu_xstrdup(m->layers[i].digest);
        walk_manifests(cfg->models_dir, mark_used, &c);
        for (int j = 0; j < c.n; j++) {
                if (!c.digests[j])
                        continue;
                char *bp = store_blob_path(cfg->models_dir, c.digests[j]);
                if (bp)
                        unlink(bp);
                free(bp);
                free(c.digests[j]);
        }
        free(c.digests);
}

int store_remove(const struct mu_config *cfg, const char *refstr, struct mu_err *err)
{
        struct store_ref ref;
        struct store_manifest m;
        char id[65], *path, *oth, *root;
        int rc, parsed;

        rc = store_ref_parse(&ref, refstr, err);
        if (rc)
                return rc;
        path = store_manifest_path(cfg->models_dir, &ref);
        if (!mu_file_exists(path)) {
                free(path);
                if (cfg->ollama_dir && *cfg->ollama_dir) {
                        oth = store_manifest_path(cfg->ollama_dir, &ref);
                        int there = mu_file_exists(oth);
                        free(oth);
                        if (there)
                                return mu_fail(err, MU_EUNSUPPORTED,
                                               "model '%s' is in the Ollama store '%s', which mullama "
                                               "only reads; remove it with 'ollama rm'",
                                               refstr, cfg->ollama_dir);
                }
                return mu_fail(err, MU_ENOTFOUND, "model '%s' not found", refstr);
        }
        parsed = read_manifest(path, NULL, NULL, &m, id, NULL) == 0;
        if (unlink(path) < 0) {
                rc = mu_fail(err, MU_EIO, "cannot remove '%s': %s", path, strerror(errno));
                if (parsed)
                        store_manifest_release(&m);
                free(path);
                return rc;
        }
        root = mu_xasprintf("%s/manifests", cfg->models_dir);
        prune_dirs(path, root);
        free(root);
        free(path);
        if (parsed) {
                store_prune(cfg, &m);
                store_manifest_release(&m);
        }
        sweep_tmp(cfg->models_dir);
        return 0;
}

int store_read_manifest(const char *path, struct store_manifest *m, char id[65],
                        struct mu_err *err)
{
        return read_manifest(path, NULL, NULL, m, id, err);
}

/* ---- copy and manifest writes ----------------------------------------------------------- */

static int write_manifest_bytes(const struct mu_config *cfg, const struct store_ref *ref,
                                const struct store_manifest *m, const char *bytes, size_t len,
                                struct mu_err *err)
{
        const char *miss = missing_blob(cfg->models_dir, m);
        char *path, *dir, *slash;
        int rc;

        if (miss)
                return mu_fail(err, MU_EINTEGRITY,
                               "refusing to write a manifest: blob %s is not in '%s'", miss,
                               cfg->models_dir);
        path = store_manifest_path(cfg->models_dir, ref);
        dir = mu_xstrdup(path);
        slash = strrchr(dir, '/');
        *slash = '\0';
        rc = mu_mkdir_p(dir, err);
        if (!rc)
                rc = mu_write_file_atomic(path, bytes, len, err);
        free(dir);
        free(path);
        return rc;
}

int store_write_manifest(const struct mu_config *cfg, const struct store_ref *ref,
                         const struct store_manifest *m, char id[65], struct mu_err *err)
{
        char *json = store_manifest_json(m);
        int rc = write_manifest_bytes(cfg, ref, m, json, strlen(json), err);

        if (!rc && id)
                mu_sha256_hex(json, strlen(json), id);
        free(json);
        return rc;
}

int store_copy(const struct mu_config *cfg, const char *src, const char *dst,
               struct mu_err *err)
{
        struct store_ref dref;
        struct store_model *m = NULL;
        char *raw = NULL, id[65];
        size_t rawlen = 0;
        struct store_manifest man;
        int rc;

        rc = store_ref_parse(&dref, dst, err);
        if (rc)
                return rc;
        rc = store_resolve(cfg, src, &m, err);
        if (rc)
                return rc;
        if (!m->from_ollama && store_ref_equal(&m->ref, &dref)) {
                store_model_free(m);
                return mu_fail(err, MU_EINVAL, "'%s' and '%s' are the same model", src, dst);
        }
        rc = read_manifest(m->manifest_path, &raw, &rawlen, &man, id, err);
        for (int i = -1; !rc && m->from_ollama && i < man.n_layers; i++) {
                const struct store_layer *l = i < 0 ? &man.config : &man.layers[i];
                char dg[72];
                uint64_t sz;
                if (!l->digest[0])
                        continue;
                char *mine = store_blob_path(cfg->models_dir, l->digest);
                char *theirs = store_blob_path(m->dir, l->digest);
                if (!mu_file_exists(mine))
                        rc = store_blob_import(cfg->models_dir, theirs, l->digest, dg, &sz, NULL,
                                               NULL, err);
                free(mine);
                free(theirs);
        }
        /* The bytes are copied unchanged, so the copy keeps the same ID. */
        if (!rc)
                rc = write_manifest_bytes(cfg, &dref, &man, raw, rawlen, err);
        if (raw)
                store_manifest_release(&man);
        free(raw);
        store_model_free(m);
        return rc;
}
