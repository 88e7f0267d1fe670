/* fuzz_modelfile.c -- libFuzzer target: any bytes through modelfile_parse();
 * whatever parses must render and parse back to the same rendering. */
#include <stdlib.h>
#include <string.h>

#include "mullama/modelfile.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
        struct modelfile mf, back;
        struct mu_err err;

        if (modelfile_parse(&mf, "fuzz", (const char *)data, size, &err) != 0)
                return 0;
        char *r = modelfile_render(&mf);
        if (modelfile_parse(&back, "render", r, strlen(r), &err) != 0)
                abort(); /* a rendering must always parse */
        char *r2 = modelfile_render(&back);
        if (strcmp(r, r2) != 0)
                abort(); /* render(parse(render(x))) == render(x) */
        free(modelfile_params_json(&mf));
        free(modelfile_messages_json(&mf));
        free(r);
        free(r2);
        modelfile_release(&back);
        modelfile_release(&mf);
        return 0;
}
