/* fuzz_modelfile.c -- libFuzzer target: any bytes through modelfile_parse();
 * whatever parses must render and parse back to the same rendering, and each
 * message quoted in the REPL's block style (modelfile_add_line, block 1) must parse
 * back to the same text. */
#include <stdlib.h>
#include <string.h>

#include "mullama/modelfile.h"
#include "mullama/mullama.h"

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
        for (int i = 0; i < mf.n_messages; i++) {
                struct mu_buf b = MU_BUF_INIT;
                struct modelfile one;
                mu_buf_adds(&b, "FROM x\n");
                modelfile_add_line(&b, 1, mf.messages[i].content, "MESSAGE user");
                if (modelfile_parse(&one, "quote", b.data, b.len, &err) != 0 ||
                    one.n_messages != 1 || strcmp(one.messages[0].content, mf.messages[i].content))
                        abort(); /* a quoted value must read back to itself */
                modelfile_release(&one);
                mu_buf_release(&b);
        }
        free(modelfile_params_json(&mf));
        free(modelfile_messages_json(&mf));
        free(r);
        free(r2);
        modelfile_release(&back);
        modelfile_release(&mf);
        return 0;
}
