/* chat.c -- the no-template fallback (template.h): ChatML markup.
 *
 * Chosen because ChatML is what most small instruct models without an
 * embedded template were tuned on (SmolLM2, Qwen) and what llama.cpp falls
 * back to; callers wanting a raw completion pass the prompt unchanged. */
#include "mullama/template.h"

char *chat_render_fallback(const struct chat_msg *msgs, int n, int add_generation_prompt)
{
        struct mu_buf b = MU_BUF_INIT;

        for (int i = 0; i < n; i++) {
                mu_buf_adds(&b, "<|im_start|>");
                mu_buf_adds(&b, msgs[i].role ? msgs[i].role : "user");
                mu_buf_addc(&b, '\n');
                mu_buf_adds(&b, msgs[i].content ? msgs[i].content : "");
                mu_buf_adds(&b, "<|im_end|>\n");
        }
        if (add_generation_prompt)
                mu_buf_adds(&b, "<|im_start|>assistant\n");
        if (!b.data)
                return mu_xstrdup("");
        return mu_buf_detach(&b);
}
