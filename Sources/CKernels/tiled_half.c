// f16 and bf16 weights in tiles of 16 outputs, for CPUs with AVX-512. In the file's row-major layout a
// thread reads four rows at once (matvec_body.h's rows4: each load of the inputs serves four rows), four
// streams a row's length apart that the prefetchers follow poorly where memory is fast. In a tile, input i's
// weights for the tile's 16 outputs are 32 bytes side by side: one conversion gives a vector of 16 outputs'
// weights, one multiply-add per batch row takes input i broadcast, and each thread's weights are one stream.
// On an AMD EPYC (2026-12-08), in turns with the probe over 1 GB of the upsampler's layer shapes: at batch 1
// 87% of the probe against the rows' 67% where memory read 60-77 GB/s, 97% against 80% at 40-47; at batch 3
// 95-97% against 72-75%.
//
// Layout (T = ceil(n_out / 16) tiles): tile t, input i: 16 halves, output 16t + l's weight in place l;
// outputs past n_out hold zeros. 2·16·n_in bytes a tile, no scales.
#include "jk_kernels.h"
#include "tiled_half.h"
#include "tuning.h"
#include "vnni.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

int jk_is_half(int format) { return format == JK_F16 || format == JK_BF16; }

size_t jk_half_tiled_bytes(int n_out, int n_in) { return (size_t)((n_out + 15) / 16) * 16 * (size_t)n_in * 2; }

static inline const uint16_t *tile_at(const jk_matrix *m, int t) {
    return (const uint16_t *)m->data + (size_t)t * 16 * (size_t)m->n_in;
}

static float half_value(int format, uint16_t h) {
    if (format == JK_F16) return jk_f16_to_f32(h);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void jk_half_tiled_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out) {
    for (int j = j0; j < j1; j++) {
        const uint16_t *tile = tile_at(m, j / 16) + j % 16;
        float *row = out + (size_t)(j - j0) * m->n_in;
        for (int i = 0; i < m->n_in; i++) row[i] = half_value(m->format, tile[(size_t)i * 16]);
    }
}

typedef struct {
    const jk_matrix *src;
    uint16_t *data;
} tile_job;

static void tile_part(void *ctx, int part, int parts) {
    tile_job *job = ctx;
    const jk_matrix *m = job->src;
    const uint16_t *src = m->data;
    int tiles = (m->n_out + 15) / 16, n_in = m->n_in;
    for (int t = tiles * part / parts; t < tiles * (part + 1) / parts; t++) {
        uint16_t *tile = job->data + (size_t)t * 16 * (size_t)n_in;
        // Sixty-four inputs of the tile's rows at a time, so the sixteen rows' reads stay in the first cache.
        for (int i0 = 0; i0 < n_in; i0 += 64) {
            int i1 = i0 + 64 < n_in ? i0 + 64 : n_in;
            for (int l = 0; l < 16; l++) {
                int j = 16 * t + l;
                for (int i = i0; i < i1; i++) tile[(size_t)i * 16 + l] = j < m->n_out ? src[(size_t)j * n_in + i] : 0;
            }
        }
    }
}

void jk_half_tile(const jk_matrix *m, uint16_t *data) {
    tile_job job = { m, data };
    jk_parallel(tile_part, &job);
}

#if defined(__x86_64__)
#define HALF_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

// Sixteen outputs' weights of one input as float32.
#define LOAD_HALVES(FORMAT, p) ((FORMAT) == JK_F16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p))) \
    : _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16)))

// A tile's 16 outputs for NB batch rows: four sums a row (inputs i mod 4), added in one order whatever the
// batch, so a row gets the same sums alone as in a batch.
#define DEFINE_HALF_TILE(NAME, FORMAT) \
HALF_TARGET static inline __attribute__((always_inline)) \
void NAME(const uint16_t *w, int n_in, const float *x, int ldx, const int NB, size_t ahead_min, int hint, __m512 out[4]) { \
    __m512 a[4][4]; \
    for (int b = 0; b < NB; b++) for (int k = 0; k < 4; k++) a[b][k] = _mm512_setzero_ps(); \
    const size_t ahead = jk_tile_ahead(ahead_min, NB); /* as the q8 and q4 tiles ask (tuning.h) */ \
    const char *pf = (const char *)w + ahead; \
    int i = 0; \
    for (; i + 4 <= n_in; i += 4) { \
        /* Four inputs are 128 bytes: both lines asked for ahead, as the q8 and q4 tiles ask. */ \
        JK_TILE_PREFETCH(pf + (size_t)i * 32, hint); \
        JK_TILE_PREFETCH(pf + (size_t)i * 32 + 64, hint); \
        const uint16_t *p = w + (size_t)i * 16; \
        __m512 w0 = LOAD_HALVES(FORMAT, p), w1 = LOAD_HALVES(FORMAT, p + 16); \
        __m512 w2 = LOAD_HALVES(FORMAT, p + 32), w3 = LOAD_HALVES(FORMAT, p + 48); \
        for (int b = 0; b < NB; b++) { \
            const float *xb = x + (size_t)b * ldx + i; \
            a[b][0] = _mm512_fmadd_ps(w0, _mm512_set1_ps(xb[0]), a[b][0]); \
            a[b][1] = _mm512_fmadd_ps(w1, _mm512_set1_ps(xb[1]), a[b][1]); \
            a[b][2] = _mm512_fmadd_ps(w2, _mm512_set1_ps(xb[2]), a[b][2]); \
            a[b][3] = _mm512_fmadd_ps(w3, _mm512_set1_ps(xb[3]), a[b][3]); \
        } \
    } \
    for (; i < n_in; i++) { \
        __m512 wi = LOAD_HALVES(FORMAT, w + (size_t)i * 16); \
        for (int b = 0; b < NB; b++) a[b][i % 4] = _mm512_fmadd_ps(wi, _mm512_set1_ps(x[(size_t)b * ldx + i]), a[b][i % 4]); \
    } \
    for (int b = 0; b < NB; b++) out[b] = _mm512_add_ps(_mm512_add_ps(a[b][0], a[b][1]), _mm512_add_ps(a[b][2], a[b][3])); \
}

DEFINE_HALF_TILE(f16_tile, JK_F16)
DEFINE_HALF_TILE(bf16_tile, JK_BF16)

#define DEFINE_HALF_ROWS(NAME, TILE) \
HALF_TARGET static void NAME(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias, float *y, int ldy, \
                             int j0, int j1) { \
    size_t ahead_min = (size_t)jk_tuning()->tile_ahead_min; \
    int hint = jk_tuning()->tile_hint; \
    for (int t = j0 / 16; t * 16 < j1; t++) { \
        const uint16_t *w = tile_at(m, t); \
        int first = t * 16, count = j1 - first < 16 ? j1 - first : 16; \
        __mmask16 keep = (__mmask16)((1u << count) - 1); \
        __m512 bj = bias ? _mm512_maskz_loadu_ps(keep, bias + first) : _mm512_setzero_ps(); \
        for (int b0 = 0; b0 < batch; b0 += 4) { \
            int nb = batch - b0 < 4 ? batch - b0 : 4; \
            const float *xb = x + (size_t)b0 * ldx; \
            __m512 acc[4]; \
            switch (nb) { \
            case 1: TILE(w, m->n_in, xb, ldx, 1, ahead_min, hint, acc); break; \
            case 2: TILE(w, m->n_in, xb, ldx, 2, ahead_min, hint, acc); break; \
            case 3: TILE(w, m->n_in, xb, ldx, 3, ahead_min, hint, acc); break; \
            default: TILE(w, m->n_in, xb, ldx, 4, ahead_min, hint, acc); break; \
            } \
            for (int b = 0; b < nb; b++) STORE_OUTPUTS(y + (size_t)(b0 + b) * ldy + first, count, keep, _mm512_add_ps(acc[b], bj)); \
        } \
    } \
}

DEFINE_HALF_ROWS(f16_tiled_rows, f16_tile)
DEFINE_HALF_ROWS(bf16_tiled_rows, bf16_tile)
#endif

void jk_half_tiled_rows(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias, float *y, int ldy,
                        int j0, int j1) {
#if defined(__x86_64__)
    if (jk_kernel_is_avx512()) {
        if (m->format == JK_F16) f16_tiled_rows(m, x, ldx, batch, bias, y, ldy, j0, j1);
        else bf16_tiled_rows(m, x, ldx, batch, bias, y, ldy, j0, j1);
        return;
    }
#endif
    // Without AVX-512 (JK_ISA set after tiling, say): the tiles' portable path, which reads 16-bit tiles too.
    jk_tiled_rows_generic(m, x, ldx, batch, bias, y, ldy, j0, j1);
}
