/* fuzz_manifest.c -- libFuzzer target: any bytes through
 * store_manifest_parse(); what parses must serialize and parse back. */
#include <stdlib.h>
#include <string.h>

#include "mullama/store.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
        struct store_manifest m, back;
        struct store_ref r;
        struct mu_err err;
        char *s;

        s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = '\0';
        if (store_ref_parse(&r, s, &err) == 0) {
                char disp[600];
                store_ref_display(&r, disp, sizeof(disp));
        }
        free(s);
        if (store_manifest_parse(&m, (const char *)data, size, &err) != 0)
                return 0;
        char *j = store_manifest_json(&m);
        if (store_manifest_parse(&back, j, strlen(j), &err) != 0 || back.n_layers != m.n_layers)
                abort();
        free(j);
        store_manifest_release(&back);
        store_manifest_release(&m);
        return 0;
}
