// Keys and values kept as binary16 (the compact formats' caches): conversion of rows in and out, and one
// query's dot products and weighted sums read straight from the 16-bit rows.
#include "jk_kernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define F16C_TARGET __attribute__((target("avx2,fma,f16c")))

static int has_f16c(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return known;
}

F16C_TARGET static void to_half_f16c(const float *x, uint16_t *h, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = jk_f32_to_f16(x[i]);
}

F16C_TARGET static void to_float_f16c(const uint16_t *h, float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) x[i] = jk_f16_to_f32(h[i]);
}

F16C_TARGET static float dot_f16c(const float *a, const uint16_t *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i))), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8))), s1);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i))), s0);
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    float out = _mm_cvtss_f32(r);
    for (; i < n; i++) out += a[i] * jk_f16_to_f32(b[i]);
    return out;
}

F16C_TARGET static void axpy_f16c(float alpha, const uint16_t *x, float *y, int n) {
    __m256 a = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * jk_f16_to_f32(x[i]);
}
#else
static int has_f16c(void) { return 0; }
#define to_half_f16c(x, h, n) ((void)0)
#define to_float_f16c(h, x, n) ((void)0)
#define dot_f16c(a, b, n) 0.0f
#define axpy_f16c(a, x, y, n) ((void)0)
#endif

void jk_to_half(const float *x, uint16_t *h, int n) {
    if (has_f16c()) { to_half_f16c(x, h, n); return; }
    for (int i = 0; i < n; i++) h[i] = jk_f32_to_f16(x[i]);
}

void jk_to_float(const uint16_t *h, float *x, int n) {
    if (has_f16c()) { to_float_f16c(h, x, n); return; }
    for (int i = 0; i < n; i++) x[i] = jk_f16_to_f32(h[i]);
}

float jk_dot_half(const float *a, const uint16_t *b, int n) {
    if (has_f16c()) return dot_f16c(a, b, n);
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * jk_f16_to_f32(b[i]);
    return s;
}

void jk_axpy_half(float alpha, const uint16_t *x, float *y, int n) {
    if (has_f16c()) { axpy_f16c(alpha, x, y, n); return; }
    for (int i = 0; i < n; i++) y[i] += alpha * jk_f16_to_f32(x[i]);
}
