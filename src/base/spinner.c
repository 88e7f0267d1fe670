/* spinner.c -- see spinner.h. */
#include <stdio.h>
#include <unistd.h>

#include "mullama/spinner.h"

static void *spin_main(void *arg)
{
        static const char *frames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
        struct mu_spinner *s = arg;
        int i = 0, shown = 0;

        for (int t = 0; !s->stop; t++) {
                usleep(100000);
                if (t < 10 || s->stop)
                        continue;
                fprintf(stderr, "\r%s %s", frames[i++ % 10], s->msg);
                shown = 1;
        }
        if (shown)
                fprintf(stderr, "\r\033[K");
        return NULL;
}

void mu_spinner_start(struct mu_spinner *s, const char *msg)
{
        s->stop = 0;
        s->msg = msg;
        s->started = isatty(2) && pthread_create(&s->th, NULL, spin_main, s) == 0;
}

void mu_spinner_stop(struct mu_spinner *s)
{
        if (!s->started)
                return;
        s->stop = 1;
        pthread_join(s->th, NULL);
        s->started = 0;
}
