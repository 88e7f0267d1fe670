/* resolve.c -- helpers shared by the commands that load a model: resolving
 * a reference (path or store name) and reading a Modelfile's MESSAGE layer. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/store.h"
#include "mullama/template.h"

int cli_resolve_model(const struct mu_config *cfg, const char *ref, char **path,
                      struct store_model **sm, struct mu_err *err)
{
        struct store_model *m = NULL;
        int rc;

        *path = NULL;
        if (sm)
                *sm = NULL;
        if (store_is_path(ref)) {
                *path = mu_expand_home(ref);
                if (!mu_file_exists(*path)) {
                        rc = mu_fail(err, MU_ENOTFOUND, "model file '%s' not found", ref);
                        free(*path);
                        *path = NULL;
                        return rc;
                }
                return 0;
        }
        rc = store_resolve(cfg, ref, &m, err);
        if (rc)
                return rc;
        if (!m->model_path) {
                store_model_free(m);
                return mu_fail(err, MU_EFORMAT, "model '%s' has no model layer", ref);
        }
        *path = mu_xstrdup(m->model_path);
        if (sm)
                *sm = m;
        else
                store_model_free(m);
        return 0;
}

int cli_history_from_json(const char *json, struct chat_msg **out, int *n)
{
        cJSON *root, *it;
        int k = 0;

        *out = NULL;
        *n = 0;
        if (!json)
                return 0;
        root = cJSON_Parse(json);
        if (!cJSON_IsArray(root)) {
                cJSON_Delete(root);
                return MU_EFORMAT;
        }
        *out = mu_xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(**out));
        cJSON_ArrayForEach(it, root)
        {
                cJSON *role = cJSON_GetObjectItem(it, "role");
                cJSON *content = cJSON_GetObjectItem(it, "content");
                if (!cJSON_IsString(role) || !cJSON_IsString(content))
                        continue;
                (*out)[k].role = mu_xstrdup(role->valuestring);
                (*out)[k].content = mu_xstrdup(content->valuestring);
                k++;
        }
        *n = k;
        cJSON_Delete(root);
        return 0;
}

void cli_history_free(struct chat_msg *msgs, int n)
{
        for (int i = 0; i < n; i++) {
                free((char *)msgs[i].role);
                free((char *)msgs[i].content);
        }
        free(msgs);
}
