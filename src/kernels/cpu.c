/* cpu.c -- CPU feature detection and kernel table selection. */
#include "mullama/kernels.h"

const char *mu_backends(void)
{
        return "cpu";
}
