// One piece of one query's attention: a run of at most JK_PIECE_KEYS keys and their values, float32 or
// binary16 rows `stride` elements apart. The piece returns its largest scaled score m, the sum of
// exp(score − m) and o = Σ exp(score − m)·v; the caller rescales pieces to a common maximum and adds them.
// Four keys share each load of the query, and the weighted sum keeps up to 128 outputs in registers over
// all the piece's keys: one dot product and one y += a·x call a key, each reloading and storing the
// outputs, ran at a fifth of the memory's speed (the keys come from memory: a layer's weights push them out).
#include "jk_kernels.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static void piece_generic(const float *q, const void *k, const void *v, int half, int stride, int nk, int dh,
                          float scale, float *o, float *m_out, float *sum_out) {
    float s[JK_PIECE_KEYS];
    float m = -INFINITY;
    for (int j = 0; j < nk; j++) {
        float acc = 0;
        for (int i = 0; i < dh; i++) {
            size_t at = (size_t)j * stride + i;
            acc += q[i] * (half ? jk_f16_to_f32(((const uint16_t *)k)[at]) : ((const float *)k)[at]);
        }
        s[j] = acc * scale;
        if (s[j] > m) m = s[j];
    }
    float sum = 0;
    for (int j = 0; j < nk; j++) { s[j] = expf(s[j] - m); sum += s[j]; }
    memset(o, 0, sizeof(float) * (size_t)dh);
    for (int j = 0; j < nk; j++)
        for (int i = 0; i < dh; i++) {
            size_t at = (size_t)j * stride + i;
            o[i] += s[j] * (half ? jk_f16_to_f32(((const uint16_t *)v)[at]) : ((const float *)v)[at]);
        }
    *m_out = m;
    *sum_out = sum;
}

#if defined(__x86_64__)
#define PIECE_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

// Sixteen elements of a row from element i, the lanes past the row's end (mask) zero.
#define LOAD_HALF(p, i, mask) _mm512_cvtph_ps(_mm256_maskz_loadu_epi16((mask), (const uint16_t *)(p) + (i)))
#define LOAD_F32(p, i, mask) _mm512_maskz_loadu_ps((mask), (const float *)(p) + (i))

#define DEFINE_PIECE(NAME, ELEM, LOAD) \
PIECE_TARGET static void NAME(const float *q, const ELEM *k, const ELEM *v, int stride, int nk, int dh, float scale, \
                              float *o, float *m_out, float *sum_out) { \
    float s[JK_PIECE_KEYS]; \
    const int vecs = (dh + 15) / 16; \
    const __mmask16 tail = dh % 16 ? (__mmask16)((1u << (dh % 16)) - 1) : (__mmask16)0xffff; \
    /* The values are read after every score: asked for while the keys are read. */ \
    for (int j = 0; j < nk; j++) \
        for (size_t b = 0; b < (size_t)dh * sizeof(ELEM); b += 64) _mm_prefetch((const char *)(v + (size_t)j * stride) + b, _MM_HINT_T1); \
    float m = -INFINITY; \
    int j = 0; \
    for (; j + 4 <= nk; j += 4) { \
        const ELEM *k0 = k + (size_t)j * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride; \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
        for (int c = 0; c < vecs; c++) { \
            __mmask16 mk = c + 1 < vecs ? (__mmask16)0xffff : tail; \
            __m512 qc = _mm512_maskz_loadu_ps(mk, q + 16 * c); \
            a0 = _mm512_fmadd_ps(qc, LOAD(k0, 16 * c, mk), a0); \
            a1 = _mm512_fmadd_ps(qc, LOAD(k1, 16 * c, mk), a1); \
            a2 = _mm512_fmadd_ps(qc, LOAD(k2, 16 * c, mk), a2); \
            a3 = _mm512_fmadd_ps(qc, LOAD(k3, 16 * c, mk), a3); \
        } \
        s[j] = _mm512_reduce_add_ps(a0) * scale; \
        s[j + 1] = _mm512_reduce_add_ps(a1) * scale; \
        s[j + 2] = _mm512_reduce_add_ps(a2) * scale; \
        s[j + 3] = _mm512_reduce_add_ps(a3) * scale; \
    } \
    for (; j < nk; j++) { \
        const ELEM *kj = k + (size_t)j * stride; \
        __m512 a = _mm512_setzero_ps(); \
        for (int c = 0; c < vecs; c++) { \
            __mmask16 mk = c + 1 < vecs ? (__mmask16)0xffff : tail; \
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, q + 16 * c), LOAD(kj, 16 * c, mk), a); \
        } \
        s[j] = _mm512_reduce_add_ps(a) * scale; \
    } \
    for (j = 0; j < nk; j++) if (s[j] > m) m = s[j]; \
    float sum = 0; \
    for (j = 0; j < nk; j++) { s[j] = expf(s[j] - m); sum += s[j]; } \
    for (int c0 = 0; c0 < vecs; c0 += 8) { \
        __m512 acc[8]; \
        __mmask16 mk[8]; \
        for (int c = 0; c < 8; c++) { \
            acc[c] = _mm512_setzero_ps(); \
            mk[c] = c0 + c + 1 < vecs ? (__mmask16)0xffff : (c0 + c + 1 == vecs ? tail : (__mmask16)0); \
        } \
        for (j = 0; j < nk; j++) { \
            __m512 e = _mm512_set1_ps(s[j]); \
            const ELEM *vj = v + (size_t)j * stride + 16 * c0; \
            for (int c = 0; c < 8; c++) acc[c] = _mm512_fmadd_ps(e, LOAD(vj, 16 * c, mk[c]), acc[c]); \
        } \
        for (int c = 0; c < 8; c++) _mm512_mask_storeu_ps(o + 16 * (c0 + c), mk[c], acc[c]); \
    } \
    *m_out = m; \
    *sum_out = sum; \
}

DEFINE_PIECE(piece_half_avx512, uint16_t, LOAD_HALF)
DEFINE_PIECE(piece_f32_avx512, float, LOAD_F32)
#endif

static int use_avx512(void) {
#if defined(__x86_64__)
    return jk_kernel_is_avx512();
#else
    return 0;
#endif
}

void jk_attend_piece_half(const float *q, const uint16_t *k, const uint16_t *v, int stride, int nk, int dh, float scale,
                          float *o, float *m, float *sum) {
#if defined(__x86_64__)
    if (use_avx512()) { piece_half_avx512(q, k, v, stride, nk, dh, scale, o, m, sum); return; }
#endif
    piece_generic(q, k, v, 1, stride, nk, dh, scale, o, m, sum);
}

void jk_attend_piece_f32(const float *q, const float *k, const float *v, int stride, int nk, int dh, float scale,
                         float *o, float *m, float *sum) {
#if defined(__x86_64__)
    if (use_avx512()) { piece_f32_avx512(q, k, v, stride, nk, dh, scale, o, m, sum); return; }
#endif
    piece_generic(q, k, v, 0, stride, nk, dh, scale, o, m, sum);
}
