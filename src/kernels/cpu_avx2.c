/* cpu_avx2.c -- placeholder */
#include "kernels/quant_blocks.h"
#include "mullama/kernels.h"

const struct cpu_kernels cpu_kernels_avx2_raw = {.name = "avx2"};
