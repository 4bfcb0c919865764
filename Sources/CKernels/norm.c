// The transformer's layer norm of one row. Its sums run in sixteen lanes: a plain loop's single chain of
// additions, one per input, ran on one thread while the other waited, and took a tenth of a q4 upsampler's
// sampling step. The same lanes and order on every instruction set (no fused multiply-adds), so a forced
// lesser set gives the same bits.
#include "jk_kernels.h"
#include <math.h>
#include <string.h>

#pragma clang fp contract(off)

typedef float v16f __attribute__((ext_vector_type(16)));

#define NORM_BODY(x, n, gamma, beta, out, eps) do { \
    v16f a = 0; \
    int i = 0; \
    for (; i + 16 <= (n); i += 16) { v16f v; memcpy(&v, (x) + i, 64); a += v; } \
    float s = 0; \
    for (int l = 0; l < 16; l++) s += a[l]; \
    for (int k = i; k < (n); k++) s += (x)[k]; \
    float mean = s / (float)(n); \
    v16f m = mean; \
    a = 0; \
    for (i = 0; i + 16 <= (n); i += 16) { v16f v; memcpy(&v, (x) + i, 64); v -= m; a += v * v; } \
    float var = 0; \
    for (int l = 0; l < 16; l++) var += a[l]; \
    for (int k = i; k < (n); k++) { float d = (x)[k] - mean; var += d * d; } \
    float inv = 1.0f / sqrtf(var / (float)(n) + (eps)); \
    for (i = 0; i + 16 <= (n); i += 16) { \
        v16f v, g, b; \
        memcpy(&v, (x) + i, 64); memcpy(&g, (gamma) + i, 64); memcpy(&b, (beta) + i, 64); \
        v = (v - m) * inv * g + b; \
        memcpy((out) + i, &v, 64); \
    } \
    for (int k = i; k < (n); k++) (out)[k] = ((x)[k] - mean) * inv * (gamma)[k] + (beta)[k]; \
} while (0)

static void norm_generic(const float *x, int n, const float *gamma, const float *beta, float *out, float eps) {
    NORM_BODY(x, n, gamma, beta, out, eps);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq")))
static void norm_avx512(const float *x, int n, const float *gamma, const float *beta, float *out, float eps) {
    NORM_BODY(x, n, gamma, beta, out, eps);
}
#endif

void jk_layer_norm(const float *x, int n, const float *gamma, const float *beta, float *out, float eps) {
#if defined(__x86_64__)
    if (jk_kernel_is_avx512()) { norm_avx512(x, n, gamma, beta, out, eps); return; }
#endif
    norm_generic(x, n, gamma, beta, out, eps);
}
