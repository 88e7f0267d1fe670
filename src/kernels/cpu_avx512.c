/* cpu_avx512.c -- placeholder */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

const struct cpu_kernels cpu_kernels_avx512_raw = {.name = "avx512"};
