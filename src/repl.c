/* repl.c -- the interactive chat of `mullama run MODEL` on a terminal.
 *
 * Line editing and history are GNU readline, driven through its callback
 * interface so Ctrl-C can be handled here: at the prompt it clears the line
 * (on an empty line it says how to exit), during an answer it stops the
 * answer, which stays in the conversation.  Multi-line input goes between
 * """ and """; bracketed paste is readline's.  The conversation is a list of
 * messages re-rendered each turn; the runner reuses the KV cache of the
 * common prefix, so a turn costs only its new tokens.  Before each answer
 * the conversation is fitted into the context with room for the answer:
 * the oldest turns go (system messages and the system prompt stay), and the
 * user is told; when an answer itself fills the context the runner shifts
 * it, keeping at least the system prompt's tokens, and the user is told.
 * History: each line is appended to ~/.mullama/history as it is entered
 * (not after /set nohistory; never with MULLAMA_NOHISTORY). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/model_info.h"
#include "mullama/modelfile.h"
#include "mullama/runner.h"
#include "mullama/spinner.h"
#include "mullama/store.h"

struct repl {
        const struct mu_config *cfg;
        char *ref;                  /* model reference as typed */
        char *path;
        struct store_model *sm;     /* NULL for a path */
        struct runner *r;
        struct runner_options o;
        char *system;               /* /set system, else the model's */
        struct chat_msg *msgs;      /* owned strings */
        int n_msgs;
        int verbose, wordwrap, format_json, history;
        char *history_path;
        int wrote_history;
        /* readline callback state */
        char *line;
        int got_line, eof;
        struct mu_buf multi;        /* """ block being read */
        int in_multi;
        /* word wrap state: the cursor's column, the usable width, and the
         * current word (already on screen, so it can be moved down whole) */
        int col, width, word_cols;
        struct mu_buf word;
        struct mu_buf reply;        /* the answer being generated */
        struct mu_spinner spin;     /* while the prompt is processed */
};

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
        (void)sig;
        got_sigint = 1;
        mu_interrupted = 1;
}

static struct repl *cur;

static void line_cb(char *line)
{
        cur->line = line;
        cur->got_line = 1;
        if (!line)
                cur->eof = 1;
        rl_callback_handler_remove();
}

/* Read one line with readline's callback API.  Returns NULL on EOF (Ctrl-D
 * on an empty line); sets *interrupted on Ctrl-C. */
static char *read_line(struct repl *re, const char *prompt, int *interrupted)
{
        *interrupted = 0;
        cur = re;
        re->got_line = re->eof = 0;
        re->line = NULL;
        rl_callback_handler_install(prompt, line_cb);
        while (!re->got_line) {
                fd_set fds;
                FD_ZERO(&fds);
                FD_SET(0, &fds);
                int n = select(1, &fds, NULL, NULL, NULL);
                if (n < 0 && errno == EINTR) {
                        if (got_sigint) {
                                int empty = rl_end == 0;
                                got_sigint = 0;
                                mu_interrupted = 0;
                                rl_replace_line("", 0);
                                rl_crlf();
                                if (empty && !re->in_multi)
                                        printf("Use Ctrl + d or /bye to exit.\n");
                                if (re->in_multi) {
                                        re->in_multi = 0;
                                        mu_buf_reset(&re->multi);
                                }
                                rl_callback_handler_remove();
                                *interrupted = 1;
                                return NULL;
                        }
                        continue;
                }
                if (n > 0)
                        rl_callback_read_char();
        }
        return re->line;
}

static int term_width(void)
{
        struct winsize ws;

        if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

/* ---- output with word wrap -------------------------------------------------- */

static void word_reset(struct repl *re)
{
        re->word_cols = 0;
        mu_buf_reset(&re->word);
}

/* Print text, wrapping at word boundaries: characters go out as they come;
 * when a word reaches the right edge it is erased and reprinted at the start
 * of the next line (a word wider than the line is broken).  The last column
 * is never used, so the cursor never sits in the terminal's pending-wrap
 * state and moving back over the word is exact.  Columns are UTF-8 code
 * points. */
static void put_wrapped(struct repl *re, const char *text, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c == '\n') {
                        fputc('\n', stdout);
                        re->col = 0;
                        word_reset(re);
                } else if (c == ' ' || c == '\t') {
                        int next = c == '\t' ? (re->col / 8 + 1) * 8 : re->col + 1;
                        word_reset(re);
                        if (next > re->width) {
                                fputc('\n', stdout);
                                re->col = 0;
                        } else {
                                fputc(c, stdout);
                                re->col = next;
                        }
                } else {
                        int lead = (c & 0xc0) != 0x80;
                        if (lead && re->col + 1 > re->width) {
                                if (re->word_cols > 0 && re->word_cols < re->width) {
                                        printf("\033[%dD\033[K\n", re->word_cols);
                                        fwrite(re->word.data, 1, re->word.len, stdout);
                                        re->col = re->word_cols;
                                } else {
                                        fputc('\n', stdout);
                                        re->col = 0;
                                        word_reset(re);
                                }
                        }
                        fputc(c, stdout);
                        mu_buf_addc(&re->word, (char)c);
                        if (lead) {
                                re->col++;
                                re->word_cols++;
                        }
                }
        }
}

static int on_piece(void *ud, const char *text, size_t len)
{
        struct repl *re = ud;

        mu_spinner_stop(&re->spin);
        mu_buf_add(&re->reply, text, len);
        if (re->wordwrap) {
                put_wrapped(re, text, len);
        } else {
                fwrite(text, 1, len, stdout);
                if (len)
                        re->col = text[len - 1] == '\n' ? 0 : re->col + 1;
        }
        fflush(stdout);
        return 0;
}

/* ---- conversation ---------------------------------------------------- */

static void add_msg(struct repl *re, const char *role, const char *content)
{
        re->msgs = mu_xrealloc(re->msgs, (size_t)(re->n_msgs + 1) * sizeof(*re->msgs));
        re->msgs[re->n_msgs].role = mu_xstrdup(role);
        re->msgs[re->n_msgs].content = mu_xstrdup(content);
        re->n_msgs++;
}

static void drop_msgs(struct repl *re, int from, int count)
{
        for (int i = from; i < from + count; i++) {
                free((char *)re->msgs[i].role);
                free((char *)re->msgs[i].content);
        }
        if (re->n_msgs - from - count > 0)
                memmove(re->msgs + from, re->msgs + from + count,
                        (size_t)(re->n_msgs - from - count) * sizeof(*re->msgs));
        re->n_msgs -= count;
}

static void clear_msgs(struct repl *re)
{
        drop_msgs(re, 0, re->n_msgs);
}

static int load_model(struct repl *re, const char *ref, struct mu_err *err)
{
        char *path = NULL;
        struct store_model *sm = NULL;
        struct runner *r = NULL;
        struct runner_options o;
        int rc = cli_resolve_model(re->cfg, ref, &path, &sm, err);

        if (rc)
                return rc;
        runner_options_init(&o);
        if (sm && sm->params_json && (rc = runner_options_apply_json(&o, sm->params_json, err)))
                goto fail;
        rc = runner_open(&r, path, &o, 1, err);
        if (rc)
                goto fail;
        runner_close(re->r);
        store_model_free(re->sm);
        free(re->path);
        free(re->ref);
        runner_options_release(&re->o);
        re->r = r;
        re->sm = sm;
        re->path = path;
        re->ref = mu_xstrdup(ref);
        re->o = o;
        free(re->system);
        re->system = sm && sm->system ? mu_xstrdup(sm->system) : NULL;
        clear_msgs(re);
        if (sm && sm->messages_json) {
                struct chat_msg *h = NULL;
                int n = 0;
                cli_history_from_json(sm->messages_json, &h, &n);
                for (int i = 0; i < n; i++) {
                        add_msg(re, h[i].role, h[i].content);
                        if (!strcmp(h[i].role, "user"))
                                printf(">>> %s\n", h[i].content);
                        else if (!strcmp(h[i].role, "assistant"))
                                printf("%s\n\n", h[i].content);
                }
                cli_history_free(h, n);
        }
        return 0;
fail:
        runner_options_release(&o);
        store_model_free(sm);
        free(path);
        return rc;
}

/* Drop the oldest turn: the first non-system message and what follows it
 * up to the next user message (system messages stay, and so does the last
 * message).  Returns the number of messages dropped. */
static int drop_oldest_turn(struct repl *re)
{
        int i = 0, n = 0;

        while (i < re->n_msgs && !strcmp(re->msgs[i].role, "system"))
                i++;
        if (i >= re->n_msgs - 1)
                return 0;
        drop_msgs(re, i, 1);
        n++;
        while (i < re->n_msgs - 1 && strcmp(re->msgs[i].role, "user")) {
                if (!strcmp(re->msgs[i].role, "system")) {
                        i++;
                        continue;
                }
                drop_msgs(re, i, 1);
                n++;
        }
        return n;
}

static int count_tokens(struct repl *re, const char *text, int32_t **toks, int *n,
                        struct mu_err *err)
{
        free(*toks);
        *toks = NULL;
        return runner_tokenize(re->r, text, toks, n, err);
}

/* Tokens the system prompt takes at the start of every rendered prompt: the
 * common prefix of two one-message conversations.  Context shifts while
 * generating keep at least these. */
static int system_tokens(struct repl *re)
{
        struct chat_msg m[64];
        char *pa = NULL, *pb = NULL;
        int32_t *ta = NULL, *tb = NULL;
        int na = 0, nb = 0, n = 0, common = 0;
        struct mu_err err = {0};

        while (n < re->n_msgs && n < 63 && !strcmp(re->msgs[n].role, "system")) {
                m[n] = re->msgs[n];
                n++;
        }
        if (!re->system && !n)
                return 0;
        m[n].role = "user";
        m[n].content = "a";
        if (!runner_render(re->r, re->sm ? re->sm->tmpl : NULL, re->system, m, n + 1, 0, &pa,
                           &err)) {
                m[n].content = "b";
                if (!runner_render(re->r, re->sm ? re->sm->tmpl : NULL, re->system, m, n + 1,
                                   0, &pb, &err) &&
                    !runner_tokenize(re->r, pa, &ta, &na, &err) &&
                    !runner_tokenize(re->r, pb, &tb, &nb, &err))
                        while (common < na && common < nb && ta[common] == tb[common])
                                common++;
        }
        free(pa);
        free(pb);
        free(ta);
        free(tb);
        return common;
}

static void say_dropped(int n)
{
        fflush(stdout);
        fprintf(stderr, "(context full: dropped the oldest %d message%s; system prompt "
                        "kept)\n", n, n == 1 ? "" : "s");
}

/* Render the conversation so that it fits the context with room for an
 * answer (num_predict, at most half the context; a quarter when unlimited),
 * dropping the oldest turns, and saying so.  *prompt: the rendered text. */
static int render_fitting(struct repl *re, char **prompt, struct mu_err *err)
{
        int32_t *toks = NULL;
        int rc, n_ctx, room, n = 0, dropped = 0;

        rc = runner_configure(re->r, &re->o, err);
        if (rc)
                return rc;
        n_ctx = runner_n_ctx(re->r);
        room = re->o.num_predict >= 0 && re->o.num_predict < n_ctx / 2 ? re->o.num_predict
                                                                        : n_ctx / 4;
        for (;;) {
                rc = runner_render(re->r, re->sm ? re->sm->tmpl : NULL, re->system, re->msgs,
                                   re->n_msgs, 0, prompt, err);
                if (rc || (rc = count_tokens(re, *prompt, &toks, &n, err)))
                        break;
                if (n + room <= n_ctx)
                        break;
                int d = drop_oldest_turn(re);
                if (!d)
                        break;  /* the last message alone: runner_generate decides */
                dropped += d;
                free(*prompt);
                *prompt = NULL;
        }
        free(toks);
        if (dropped)
                say_dropped(dropped);
        return rc;
}

/* Generate the assistant's reply to the conversation so far. */
static int answer(struct repl *re, struct mu_err *err)
{
        struct runner_stats st;
        struct runner_options o;
        char *prompt = NULL;
        int rc;

        for (;;) {
                rc = render_fitting(re, &prompt, err);
                if (rc) {
                        free(prompt);
                        return rc;
                }
                re->col = 0;
                re->width = term_width() - 1;
                if (re->width < 10)
                        re->width = 10;
                word_reset(re);
                mu_buf_reset(&re->reply);
                mu_interrupted = 0;
                runner_options_copy(&o, &re->o);
                int keep = system_tokens(re);
                if (keep > o.num_keep)
                        o.num_keep = keep;
                MU_LOG_DEBUG("context shifts keep the first %d tokens", o.num_keep);
                mu_spinner_start(&re->spin, "");
                rc = runner_generate(re->r, prompt, &o, re->format_json, &mu_interrupted,
                                     on_piece, re, &st, err);
                mu_spinner_stop(&re->spin);
                runner_options_release(&o);
                free(prompt);
                prompt = NULL;
                if (rc != MU_ERANGE)
                        break;
                /* still too long (the answer's room was a guess): drop more */
                int d = drop_oldest_turn(re);
                if (!d)
                        return rc;
                say_dropped(d);
        }
        if (rc)
                return rc;
        /* the answer, partial when interrupted, stays in the conversation */
        add_msg(re, "assistant", mu_buf_str(&re->reply));
        if (re->col)
                fputc('\n', stdout);
        fputc('\n', stdout);
        fflush(stdout);
        if (st.ctx_shifted)
                fprintf(stderr, "(context full: dropped %d old tokens to go on; system "
                                "prompt kept)\n", st.ctx_shifted);
        if (re->verbose)
                runner_stats_print(stderr, &st);
        return 0;
}

/* ---- slash commands -------------------------------------------------- */

static void help(void)
{
        printf("Available Commands:\n"
               "  /set            Set session variables\n"
               "  /show           Show model information\n"
               "  /load <model>   Load a session or model\n"
               "  /save <model>   Save your current session\n"
               "  /clear          Clear session context\n"
               "  /bye            Exit\n"
               "  /?, /help       Help for a command\n"
               "  /? shortcuts    Help for keyboard shortcuts\n\n"
               "Use \"\"\" to begin a multi-line message.\n\n");
}

static void help_set(void)
{
        printf("Available Commands:\n"
               "  /set parameter ...     Set a parameter\n"
               "  /set system <string>   Set system message\n"
               "  /set history           Enable history\n"
               "  /set nohistory         Disable history\n"
               "  /set wordwrap          Enable wordwrap\n"
               "  /set nowordwrap        Disable wordwrap\n"
               "  /set format json       Enable JSON mode\n"
               "  /set noformat          Disable formatting\n"
               "  /set verbose           Show LLM stats\n"
               "  /set quiet             Disable LLM stats\n\n");
}

/* Ollama's /show info: the model's facts, then its parameters and system. */
static void show_info(struct repl *re)
{
        struct gguf *g = NULL;
        struct model_info mi;
        struct mu_err err = {0};
        char params[32];

        if (gguf_open(&g, re->path, &err)) {
                printf("error: %s\n", err.msg);
                return;
        }
        model_info_get(&mi, g);
        model_info_human_count(mi.n_params, params, sizeof(params));
        printf("  Model\n    %-20s%s\n    %-20s%s\n    %-20s%lld\n    %-20s%lld\n"
               "    %-20s%s\n\n",
               "architecture", mi.arch ? mi.arch : runner_arch(re->r), "parameters", params,
               "context length", (long long)mi.ctx_len, "embedding length",
               (long long)mi.embd_len, "quantization", mi.quant ? mi.quant : "unknown");
        if (re->system)
                printf("  System\n    %s\n\n", re->system);
        if (re->sm && re->sm->n_licenses)
                printf("  License\n    %.*s\n\n", (int)strcspn(re->sm->licenses[0], "\n"),
                       re->sm->licenses[0]);
        model_info_release(&mi);
        gguf_close(g);
}

static void show_parameters(struct repl *re)
{
        const struct runner_options *o = &re->o;
        cJSON *p = re->sm && re->sm->params_json ? cJSON_Parse(re->sm->params_json) : NULL;
        cJSON *it;

        printf("Model defined parameters:\n");
        if (!p || !cJSON_GetArraySize(p))
                printf("  (none)\n");
        cJSON_ArrayForEach(it, p)
        {
                char *v = cJSON_PrintUnformatted(it);
                printf("  %-20s %s\n", it->string, v);
                cJSON_free(v);
        }
        cJSON_Delete(p);
        printf("\nIn effect:\n"
               "  %-20s %d\n  %-20s %d\n  %-20s %d\n  %-20s %g\n  %-20s %d\n"
               "  %-20s %g\n  %-20s %g\n  %-20s %g\n  %-20s %g\n  %-20s %d\n"
               "  %-20s %g\n  %-20s %g\n  %-20s %lld\n",
               "num_ctx", o->num_ctx ? o->num_ctx : runner_n_ctx(re->r), "num_predict", o->num_predict, "num_keep",
               o->num_keep, "temperature", o->temperature, "top_k", o->top_k, "top_p",
               o->top_p, "min_p", o->min_p, "typical_p", o->typical_p, "repeat_penalty",
               o->repeat_penalty, "repeat_last_n", o->repeat_last_n, "presence_penalty",
               o->presence_penalty, "frequency_penalty", o->frequency_penalty, "seed",
               (long long)o->seed);
        for (int i = 0; i < o->n_stop; i++)
                printf("  %-20s \"%s\"\n", "stop", o->stop[i]);
        printf("\n");
}

static void show(struct repl *re, const char *what)
{
        const struct store_model *sm = re->sm;

        if (!strcmp(what, "info")) {
                show_info(re);
        } else if (!strcmp(what, "license")) {
                if (sm && sm->n_licenses)
                        for (int i = 0; i < sm->n_licenses; i++)
                                printf("%s\n", sm->licenses[i]);
                else
                        printf("No license was specified for this model.\n");
        } else if (!strcmp(what, "system")) {
                printf("%s\n", re->system ? re->system : "No system message was specified "
                                                           "for this model.");
        } else if (!strcmp(what, "template")) {
                const char *t = sm && sm->tmpl ? sm->tmpl : runner_chat_template(re->r);
                printf("%s\n", t ? t : "No prompt template was specified for this model.");
        } else if (!strcmp(what, "parameters")) {
                show_parameters(re);
        } else if (!strcmp(what, "modelfile")) {
                struct mu_buf b = MU_BUF_INIT;

                mu_buf_adds(&b, "# Modelfile generated by \"mullama show\"\n");
                modelfile_add_line(&b, 0, re->path, "FROM");
                if (sm && sm->tmpl)
                        modelfile_add_line(&b, 1, sm->tmpl, "TEMPLATE");
                if (re->system)
                        modelfile_add_line(&b, 1, re->system, "SYSTEM");
                for (int i = 0; i < re->o.n_stop; i++)
                        modelfile_add_line(&b, 1, re->o.stop[i], "PARAMETER stop");
                fputs(b.data, stdout);
                mu_buf_release(&b);
        } else {
                printf("Unknown command '/show %s'. Type /? for help\n", what);
        }
}

/* /save NAME: a new model in the store: this model's layers plus the
 * conversation as MESSAGE layers (and /set system, /set parameter). */
static void save(struct repl *re, const char *name)
{
        struct modelfile mf;
        struct mu_buf text = MU_BUF_INIT;
        struct mu_err err = {0};

        modelfile_add_line(&text, 0, re->sm ? re->ref : re->path, "FROM");
        if (re->system)
                modelfile_add_line(&text, 1, re->system, "SYSTEM");
        for (int i = 0; i < re->n_msgs; i++)
                modelfile_add_line(&text, 1, re->msgs[i].content, "MESSAGE %s", re->msgs[i].role);
        memset(&mf, 0, sizeof(mf));
        if (modelfile_parse(&mf, "<session>", text.data, text.len, &err) ||
            store_create(re->cfg, name, &mf, &(struct store_create_opts){".", NULL, NULL},
                         &err))
                printf("error: %s\n", err.msg);
        else
                printf("Created new model '%s'\n", name);
        modelfile_release(&mf);
        mu_buf_release(&text);
}

/* Returns 1 to exit the REPL. */
static int command(struct repl *re, char *line)
{
        struct mu_err err = {0};
        char *args[4] = {0};
        int n = 0;
        char *save_ptr = NULL, *rest;

        /* "/set system ..." keeps the rest of the line verbatim */
        if (!strncmp(line, "/set system ", 12)) {
                free(re->system);
                re->system = mu_xstrdup(line + 12);
                printf("Set system message.\n");
                return 0;
        }
        for (char *t = strtok_r(line, " \t", &save_ptr); t;
             t = strtok_r(NULL, " \t", &save_ptr)) {
                args[n++] = t;
                if (n == 3)
                        break;
        }
        rest = save_ptr && *save_ptr ? save_ptr + strspn(save_ptr, " \t") : NULL;
        if (rest && !*rest)
                rest = NULL;
        if (!strcmp(args[0], "/bye") || !strcmp(args[0], "/exit"))
                return 1;
        if (!strcmp(args[0], "/?") || !strcmp(args[0], "/help")) {
                if (n > 1 && !strcmp(args[1], "set"))
                        help_set();
                else if (n > 1 && !strcmp(args[1], "shortcuts"))
                        printf("Available keyboard shortcuts:\n  Ctrl + a  Move to the "
                               "beginning of the line\n  Ctrl + e  Move to the end of the "
                               "line\n  Ctrl + l  Clear the screen\n  Ctrl + c  Stop the "
                               "model from responding\n  Ctrl + d  Exit (/bye)\n\n");
                else
                        help();
        } else if (!strcmp(args[0], "/clear")) {
                clear_msgs(re);
                runner_reset(re->r);
                printf("Cleared session context\n");
        } else if (!strcmp(args[0], "/set")) {
                if (n < 2) {
                        help_set();
                } else if (!strcmp(args[1], "parameter")) {
                        if (n < 3 || !rest) {
                                printf("Usage: /set parameter <name> <value>\n");
                        } else if (runner_options_set(&re->o, args[2], rest, &err)) {
                                printf("error: %s\n", err.msg);
                        } else {
                                printf("Set parameter '%s' to '%s'\n", args[2], rest);
                        }
                } else if (!strcmp(args[1], "verbose")) {
                        re->verbose = 1;
                        printf("Set 'verbose' mode.\n");
                } else if (!strcmp(args[1], "quiet")) {
                        re->verbose = 0;
                        printf("Set 'quiet' mode.\n");
                } else if (!strcmp(args[1], "wordwrap")) {
                        re->wordwrap = 1;
                        printf("Set 'wordwrap' mode.\n");
                } else if (!strcmp(args[1], "nowordwrap")) {
                        re->wordwrap = 0;
                        printf("Set 'nowordwrap' mode.\n");
                } else if (!strcmp(args[1], "history")) {
                        re->history = 1;
                        printf("Set 'history' mode.\n");
                } else if (!strcmp(args[1], "nohistory")) {
                        re->history = 0;
                        printf("Set 'nohistory' mode.\n");
                } else if (!strcmp(args[1], "format") && n > 2 && !strcmp(args[2], "json")) {
                        re->format_json = 1;
                        printf("Set format to 'json' mode.\n");
                } else if (!strcmp(args[1], "noformat")) {
                        re->format_json = 0;
                        printf("Disabled format.\n");
                } else {
                        printf("Unknown command '/set %s'. Type /? for help\n", args[1]);
                }
        } else if (!strcmp(args[0], "/show")) {
                if (n < 2)
                        printf("Usage: /show info|license|modelfile|parameters|system|"
                               "template\n");
                else
                        show(re, args[1]);
        } else if (!strcmp(args[0], "/load")) {
                if (n < 2) {
                        printf("Usage: /load <modelname>\n");
                } else {
                        printf("Loading model '%s'\n", args[1]);
                        if (load_model(re, args[1], &err))
                                printf("error: %s\n", err.msg);
                }
        } else if (!strcmp(args[0], "/save")) {
                if (n < 2)
                        printf("Usage: /save <modelname>\n");
                else
                        save(re, args[1]);
        } else {
                printf("Unknown command '%s'. Type /? for help\n", args[0]);
        }
        return 0;
}

#define HISTORY_MAX 1000

/* Add a line to the history and append it to ~/.mullama/history at once
 * (so lines typed before /set nohistory are kept, lines typed after it are
 * neither recalled nor saved, and a crash loses nothing). */
static void remember(struct repl *re, const char *line)
{
        /* the history file holds one entry a line: a multi-line message is
         * kept as one line */
        char *one = mu_xstrdup(line);
        for (char *p = one; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        add_history(one);
        free(one);
        if (!re->wrote_history) {
                char *dir = mu_xasprintf("%s/.mullama", mu_home_dir());
                mu_mkdir_p(dir, NULL);
                free(dir);
                int fd = open(re->history_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
                if (fd >= 0)
                        close(fd);
        }
        if (append_history(1, re->history_path) == 0)
                re->wrote_history = 1;
}

int repl_main(const struct mu_config *cfg, const char *ref, const char *path,
              struct store_model *sm, struct runner_options *o, int verbose,
              const char *system, int format_json, int wordwrap)
{
        struct repl re = {0};
        struct sigaction sa, old;
        struct mu_err err = {0};
        const char *nohist = getenv("MULLAMA_NOHISTORY");
        int rc = 0;

        (void)path;
        (void)sm;
        re.cfg = cfg;
        re.verbose = verbose;
        re.wordwrap = wordwrap;
        re.format_json = format_json;
        re.history = !(nohist && *nohist && strcmp(nohist, "0"));
        rc = load_model(&re, ref, &err);
        if (rc) {
                fprintf(stderr, "error: %s\n", err.msg);
                return mu_exit_code(rc);
        }
        /* command-line options win over the model's */
        runner_options_release(&re.o);
        runner_options_copy(&re.o, o);
        if (system) {
                free(re.system);
                re.system = mu_xstrdup(system);
        }
        re.history_path = mu_xasprintf("%s/.mullama/history", mu_home_dir());
        if (re.history)
                read_history(re.history_path);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old);
        rl_catch_signals = 0;

        for (;;) {
                int intr;
                char *line = read_line(&re, re.in_multi ? "... " : ">>> ", &intr);
                if (intr)
                        continue;
                if (!line) {
                        printf("\n");
                        break;
                }
                if (re.in_multi) {
                        char *end = strstr(line, "\"\"\"");
                        if (end) {
                                mu_buf_add(&re.multi, line, (size_t)(end - line));
                                re.in_multi = 0;
                                free(line);
                                line = mu_buf_detach(&re.multi);
                        } else {
                                mu_buf_adds(&re.multi, line);
                                mu_buf_addc(&re.multi, '\n');
                                free(line);
                                continue;
                        }
                } else if (!strncmp(line, "\"\"\"", 3)) {
                        char *rest = line + 3, *end = strstr(rest, "\"\"\"");
                        if (end) {
                                char *one = mu_xstrndup(rest, (size_t)(end - rest));
                                free(line);
                                line = one;
                        } else {
                                mu_buf_reset(&re.multi);
                                mu_buf_adds(&re.multi, rest);
                                if (*rest)
                                        mu_buf_addc(&re.multi, '\n');
                                re.in_multi = 1;
                                free(line);
                                continue;
                        }
                }
                if (!*line) {
                        free(line);
                        continue;
                }
                if (re.history)
                        remember(&re, line);
                if (line[0] == '/') {
                        int quit = command(&re, line);
                        free(line);
                        if (quit)
                                break;
                        continue;
                }
                add_msg(&re, "user", line);
                free(line);
                rc = answer(&re, &err);
                if (rc) {
                        fprintf(stderr, "error: %s\n", err.msg);
                        rc = 0;
                }
        }
        if (re.wrote_history)
                history_truncate_file(re.history_path, HISTORY_MAX);
        sigaction(SIGINT, &old, NULL);
        runner_close(re.r);
        runner_options_release(&re.o);
        store_model_free(re.sm);
        clear_msgs(&re);
        free(re.msgs);
        free(re.system);
        free(re.path);
        free(re.ref);
        free(re.history_path);
        mu_buf_release(&re.multi);
        mu_buf_release(&re.word);
        mu_buf_release(&re.reply);
        return 0;
}
