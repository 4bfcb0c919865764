// What a product does to its outputs while they are still in the computing thread's cache: the MLP's
// activation and the residual additions, which otherwise ran on one thread between products while the
// other waited.
#include "jk_kernels.h"
#include <string.h>

typedef float v16f __attribute__((ext_vector_type(16)));
typedef int32_t v16i __attribute__((ext_vector_type(16)));

// exp(x) for the activation: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its degree-6 Taylor-like
// minimax polynomial, 2^n put into the exponent bits. Below −87 it gives e^−87 (the activation is then y
// itself either way), above 88.72 infinity (as expf: the activation is then −0).
#define EXP16(x_) ({ \
    v16f x0 = (x_), x = x0; \
    x = x < -87.0f ? -87.0f : x; \
    x = x > 88.0f ? 88.0f : x; \
    v16f n = __builtin_elementwise_roundeven(x * 1.44269504088896341f); \
    v16f r = x - n * 0.693359375f; \
    r = r + n * 2.12194440e-4f; \
    v16f p = 1.9875691500e-4f; \
    p = p * r + 1.3981999507e-3f; \
    p = p * r + 8.3334519073e-3f; \
    p = p * r + 4.1665795894e-2f; \
    p = p * r + 1.6666665459e-1f; \
    p = p * r + 5.0000001201e-1f; \
    p = p * (r * r) + r + 1.0f; \
    v16i e = (__builtin_convertvector(n, v16i) + 127) << 23; \
    v16f s; memcpy(&s, &e, 64); \
    x0 > 88.72f ? (v16f)__builtin_inff() : p * s; })

#define GELU_BODY(y, n) do { \
    int i = 0; \
    for (; i + 16 <= (n); i += 16) { \
        v16f v; memcpy(&v, (y) + i, 64); \
        v = v / (1.0f + EXP16(-1.702f * v)); \
        memcpy((y) + i, &v, 64); \
    } \
    if (i < (n)) { \
        v16f v = 0; memcpy(&v, (y) + i, sizeof(float) * (size_t)((n) - i)); \
        v = v / (1.0f + EXP16(-1.702f * v)); \
        memcpy((y) + i, &v, sizeof(float) * (size_t)((n) - i)); \
    } \
} while (0)

static void gelu_generic(float *y, int n) { GELU_BODY(y, n); }

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,fma")))
static void gelu_avx512(float *y, int n) { GELU_BODY(y, n); }
#endif

void jk_quick_gelu(float *y, int n) {
#if defined(__x86_64__)
    // The instruction set the matrix kernels chose (JK_ISA forces a lesser one for both).
    if (jk_kernel_is_avx512()) { gelu_avx512(y, n); return; }
#endif
    gelu_generic(y, n);
}

void jk_apply_epilogue(const jk_epilogue *e, float *y, int ldy, int batch, int j0, int j1) {
    for (int b = 0; b < batch; b++) {
        float *row = y + (size_t)b * ldy;
        if (e->quick_gelu) jk_quick_gelu(row + j0, j1 - j0);
        if (e->add_into) {
            float *dst = e->add_into + (size_t)b * e->ld_add;
            for (int j = j0; j < j1; j++) dst[j] += row[j];
        }
    }
}
