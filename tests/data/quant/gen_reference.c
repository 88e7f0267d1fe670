/* Dump llama.cpp reference quantizations of a fixed input. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>
typedef void (*qfn)(const float *, void *, int64_t);
typedef void (*dqfn)(const void *, float *, int64_t);
#define N 1024
void quantize_row_q8_0_ref(const float*, void*, int64_t);
void quantize_row_q4_0_ref(const float*, void*, int64_t);
void quantize_row_q4_1_ref(const float*, void*, int64_t);
void quantize_row_q5_0_ref(const float*, void*, int64_t);
void quantize_row_q5_1_ref(const float*, void*, int64_t);
void quantize_row_q2_K_ref(const float*, void*, int64_t);
void quantize_row_q3_K_ref(const float*, void*, int64_t);
void quantize_row_q4_K_ref(const float*, void*, int64_t);
void quantize_row_q5_K_ref(const float*, void*, int64_t);
void quantize_row_q6_K_ref(const float*, void*, int64_t);
void dequantize_row_q8_0(const void*, float*, int64_t);
void dequantize_row_q4_0(const void*, float*, int64_t);
void dequantize_row_q4_1(const void*, float*, int64_t);
void dequantize_row_q5_0(const void*, float*, int64_t);
void dequantize_row_q5_1(const void*, float*, int64_t);
void dequantize_row_q2_K(const void*, float*, int64_t);
void dequantize_row_q3_K(const void*, float*, int64_t);
void dequantize_row_q4_K(const void*, float*, int64_t);
void dequantize_row_q5_K(const void*, float*, int64_t);
void dequantize_row_q6_K(const void*, float*, int64_t);
static uint32_t st = 12345;
static float urand(void) { st = st * 1664525u + 1013904223u; return (float)(st >> 8) / 16777216.0f * 2 - 1; }
int main(void) {
  static float x[N];
  for (int i = 0; i < N; i++) {
    int b = i / 256;
    float u = urand(), v = urand(), w = urand();
    if (b == 0) x[i] = u;
    else if (b == 1) x[i] = 0.05f * (u + v + w);
    else if (b == 2) x[i] = 0.5f + 0.25f * u;
    else x[i] = (i % 37 == 0) ? 4.0f * u : 0.01f * (u + v);
  }
  FILE *f = fopen("input_f32.bin", "wb"); fwrite(x, 4, N, f); fclose(f);
  struct { const char *name; qfn q; dqfn dq; int bs, ts; } T[] = {
    {"q8_0", quantize_row_q8_0_ref, dequantize_row_q8_0, 32, 34},
    {"q4_0", quantize_row_q4_0_ref, dequantize_row_q4_0, 32, 18},
    {"q4_1", quantize_row_q4_1_ref, dequantize_row_q4_1, 32, 20},
    {"q5_0", quantize_row_q5_0_ref, dequantize_row_q5_0, 32, 22},
    {"q5_1", quantize_row_q5_1_ref, dequantize_row_q5_1, 32, 24},
    {"q2_k", quantize_row_q2_K_ref, dequantize_row_q2_K, 256, 84},
    {"q3_k", quantize_row_q3_K_ref, dequantize_row_q3_K, 256, 110},
    {"q4_k", quantize_row_q4_K_ref, dequantize_row_q4_K, 256, 144},
    {"q5_k", quantize_row_q5_K_ref, dequantize_row_q5_K, 256, 176},
    {"q6_k", quantize_row_q6_K_ref, dequantize_row_q6_K, 256, 210},
  };
  for (unsigned t = 0; t < sizeof T / sizeof T[0]; t++) {
    size_t sz = (size_t)N / T[t].bs * T[t].ts;
    void *q = calloc(1, sz); static float y[N];
    T[t].q(x, q, N); T[t].dq(q, y, N);
    char p[64];
    snprintf(p, sizeof p, "%s.bin", T[t].name); f = fopen(p, "wb"); fwrite(q, 1, sz, f); fclose(f);
    snprintf(p, sizeof p, "%s_dequant_f32.bin", T[t].name); f = fopen(p, "wb"); fwrite(y, 4, N, f); fclose(f);
    double e = 0, s = 0; for (int i = 0; i < N; i++) { e += (x[i]-y[i])*(x[i]-y[i]); s += x[i]*x[i]; }
    printf("%s nmse %.3g\n", T[t].name, e / s);
    free(q);
  }
  return 0;
}
