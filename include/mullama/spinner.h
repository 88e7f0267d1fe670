/* spinner.h -- a progress spinner on stderr for waits that may exceed a
 * second (loading a model, processing a prompt).  Nothing is drawn for the
 * first second, nor when stderr is not a terminal; stopping erases it. */
#ifndef MULLAMA_SPINNER_H
#define MULLAMA_SPINNER_H

#include <pthread.h>

struct mu_spinner {
        pthread_t th;
        volatile int stop;
        const char *msg;  /* borrowed until mu_spinner_stop() */
        int started;
};

void mu_spinner_start(struct mu_spinner *s, const char *msg);
void mu_spinner_stop(struct mu_spinner *s);  /* no-op if not started */

#endif
