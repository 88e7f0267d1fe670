/* fuzz_template.c -- libFuzzer target: chat templates, which come from
 * untrusted GGUF files (Jinja) and Modelfiles (Go text/template).  The first
 * byte picks the engine (even: Jinja, odd: Go); the rest is the template,
 * rendered over a fixed conversation.  Every outcome must be a rendering or
 * a clean MU_E* error with a message (template.h's contract), never a crash,
 * a leak or a hang past the step limits. */
#include <stdlib.h>
#include <string.h>

#include "mullama/template.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
        static const struct chat_msg msgs[] = {
                {"system", "Be brief."},
                {"user", "Hi"},
                {"assistant", "Hello!"},
                {"user", "2+2? {{ x }} {% raw %}"},
        };
        struct mu_err err = {0};
        char *out = NULL, *t;
        int rc;

        if (size < 1)
                return 0;
        t = malloc(size);
        memcpy(t, data + 1, size - 1);
        t[size - 1] = '\0';
        if (data[0] % 2 == 0)
                rc = chat_render_jinja(t, msgs, 4, data[0] & 2, "<s>", "</s>", &out, &err);
        else
                rc = chat_render_go(t, NULL, msgs, 4, &out, &err);
        if (rc == 0 && !out)
                abort(); /* success always yields a string */
        if (rc != 0 && (out || !err.msg[0]))
                abort(); /* failure: no output, a message */
        free(out);
        free(t);
        return 0;
}
