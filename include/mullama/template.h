/* template.h -- chat prompt rendering: Jinja chat templates (GGUF
 * tokenizer.chat_template), Ollama-style Go templates (Modelfile TEMPLATE),
 * and a fallback for models without a template.
 *
 * All functions are pure (no I/O, no globals) and thread-safe.  On success
 * they return 0 and set *out to a NUL-terminated malloc'd string the caller
 * frees.  On failure they return a negative MU_E* code, fill err and leave
 * *out NULL:
 *   MU_EFORMAT  syntax error; the message holds "template L:C: ..."
 *   MU_EINVAL   runtime error, including raise_exception("...") in the
 *               template (message "template L:C: raise_exception: ...")
 *   MU_ERANGE   runaway template: step, recursion or range() limit
 *   MU_ENOMEM   output (16 MiB) or working-memory (256 MiB) limit
 * Hostile templates end with one of these, never with a crash. */
#ifndef MULLAMA_TEMPLATE_H
#define MULLAMA_TEMPLATE_H

#include "mullama/mullama.h"

/* One conversation turn.  role is "system", "user", "assistant" or "tool";
 * content may be NULL (rendered as an empty string). */
struct chat_msg {
        const char *role;
        const char *content;
};

/* ---- Jinja (HF transformers chat templates) ----------------------------- */

/* Render a Jinja chat template the way HF transformers'
 * apply_chat_template() does (trim_blocks and lstrip_blocks on).  The
 * template sees: messages (list of {role, content}), add_generation_prompt,
 * bos_token, eos_token (NULL -> ""); tools stays undefined.  Output matches
 * @huggingface/jinja byte for byte on the templates in tests/. */
int chat_render_jinja(const char *tmpl, const struct chat_msg *msgs, int n,
                      int add_generation_prompt, const char *bos, const char *eos,
                      char **out, struct mu_err *err);

/* Same, with every template variable given as one JSON object, e.g.
 * {"messages":[...], "add_generation_prompt":true, "bos_token":"<s>",
 *  "tools":[...], "date_string":"26 Jul 2024"}.  Keys absent from the
 * object are undefined in the template (add_generation_prompt, bos_token
 * and eos_token default to false, "", "").  MU_EINVAL if vars_json is not
 * a JSON object. */
int chat_render_jinja_json(const char *tmpl, const char *vars_json, char **out,
                           struct mu_err *err);

/* ---- Go text/template (Ollama Modelfile TEMPLATE) ---------------------- */

/* Render an Ollama-style template.  Data: .System (system argument, or the
 * last system message when NULL), .Prompt (last user message), .Response
 * (""), .Messages (list of {.Role, .Content}), .Tools (empty).  Supports
 * {{ .X }}, {{ if }}/{{ else if }}/{{ else }}/{{ end }}, {{ range }} with
 * $i, $m := ..., {{ with }}, variables, $. root access, pipes, and the
 * functions and or not eq ne lt le gt ge len slice index print printf
 * (%s %d %v %q), {{- -}} trimming and comments. */
int chat_render_go(const char *tmpl, const char *system, const struct chat_msg *msgs, int n,
                   char **out, struct mu_err *err);

/* ---- no template --------------------------------------------------------- */

/* Fallback for a model without any template: ChatML, i.e. for each message
 * "<|im_start|>ROLE\nCONTENT<|im_end|>\n", then "<|im_start|>assistant\n"
 * when add_generation_prompt.  Callers that want a raw completion (no chat
 * markup) should pass the prompt through unchanged instead. Never fails. */
char *chat_render_fallback(const struct chat_msg *msgs, int n, int add_generation_prompt);

#endif
