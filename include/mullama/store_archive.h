/* store_archive.h -- moving models between machines without a registry.
 *
 * store_export() writes the manifests and blobs of models as a tar archive
 * in the store's own layout (manifests/<host>/<ns>/<name>/<tag>,
 * blobs/sha256-<hex>), compressed by the output's extension: .tar,
 * .tar.gz/.tgz, .tar.zst/.tzst, .tar.xz.  The file is written under a
 * temporary name and renamed when complete.
 *
 * store_import() adds models to cfg->models_dir from
 *   - such an archive (any compression libarchive reads): only regular files
 *     named manifests/<h>/<ns>/<name>/<tag> or blobs/sha256-<64 hex> are
 *     accepted (no absolute paths, "..", links or devices); every blob's
 *     SHA-256 must match its name and every manifest's blobs must be in the
 *     archive or already in the store; otherwise nothing is kept;
 *   - a store directory (Ollama's or ours: manifests/ and blobs/, or a
 *     directory holding models/): every model in it, blobs hardlinked or
 *     copied and verified;
 *   - a GGUF file: a new model named `name` (default: the file name) with
 *     the GGUF's metadata, as `mullama create` with FROM <file> does.
 * Manifests are written last, byte for byte as found.  on_model (may be
 * NULL) is called with each model's display name once it is in the store. */
#ifndef MULLAMA_STORE_ARCHIVE_H
#define MULLAMA_STORE_ARCHIVE_H

#include "mullama/mullama.h"

int store_export(const struct mu_config *cfg, char *const *refs, int n_refs, const char *out,
                 struct mu_err *err);

typedef void (*store_import_fn)(void *ud, const char *name);

int store_import(const struct mu_config *cfg, const char *path, const char *name,
                 store_import_fn on_model, void *ud, struct mu_err *err);

#endif
