// q8 and q4 weights in tiles of 16 outputs, for CPUs with AVX-512 VNNI. In the row-major layout of a
// model file, one integer dot product of a row's bytes gives 16 partial sums of one row, which must be
// converted and scaled group by group for every row: more instructions than bytes, so the product falls
// short of the memory bandwidth and a batch row costs nearly what the first did. In a tile, the 16 lanes
// of a dot product are 16 outputs over the same 4 inputs: the batch row's 4 inputs are broadcast, a
// group's 32 inputs are 8 (q8) or 4 (q4) loads of 64 bytes, and one conversion and scaling per group
// serves 16 outputs at once. Files keep the row-major layout; a matrix is tiled when it is loaded.
//
// Layout (B = ceil(n_out / 16) tiles, G = P / 32 groups, outputs past n_out hold zero weights):
//   q8: tile t, group g, step c < 8: 64 bytes, byte 4·l + i = q(16t + l, 32g + 4c + i) + 128
//   q4: tile t, group g, step c < 4: 64 bytes, byte 4·l + i = the file's byte 4c + i of row 16t + l's
//       group g (low nibble: input 32g + 4c + i, high nibble: input 32g + 16 + 4c + i), values q + 8
//   scales: tile t, group g: 16 binary16, output 16t + l's scale in place l
// Both store unsigned values with a zero point z (128, 8): w = (u − z)·s, so Σ w·x = s·(Σ u·x − z·Σ x),
// and z·Σx is counted once per batch row and group when the row is prepared.
#include "jk_kernels.h"
#include "vnni.h"
#include "tiled_half.h"
#include "tuning.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static int zero_point(int format) { return format == JK_Q8 ? 128 : 8; }
static size_t group_bytes(int format) { return format == JK_Q8 ? 512 : 256; }
static size_t tile_bytes(int format, int groups) { return (size_t)groups * group_bytes(format); }

// Where byte b of output l's group g lies in its tile (b < 32 for q8, b < 16 for q4: the layout above).
static inline size_t tile_byte(int format, int g, int l, int b) {
    return (size_t)g * group_bytes(format) + (size_t)(b / 4) * 64 + 4 * (size_t)l + (size_t)(b % 4);
}

// JK_TILES=off keeps the file's layout (to compare the kernels of the two layouts on one machine).
static int tiles_turned_off(void) {
    const char *force = getenv("JK_TILES");
    return force && strcmp(force, "off") == 0;
}

int jk_tiles_available(void) { return jk_vnni_available() && !tiles_turned_off(); }

int jk_tiles_available_for(int format) {
    if (jk_is_half(format)) return jk_kernel_is_avx512() && !tiles_turned_off();
    return (format == JK_Q8 || format == JK_Q4) && jk_tiles_available();
}

size_t jk_tiled_bytes(int format, int n_out, int n_in) {
    if (jk_is_half(format)) return jk_half_tiled_bytes(n_out, n_in);
    int tiles = (n_out + 15) / 16, groups = jk_row_length(format, n_in) / JK_GROUP;
    return (size_t)tiles * tile_bytes(format, groups);
}

size_t jk_tiled_scale_count(int format, int n_out, int n_in) {
    if (jk_is_half(format)) return 0;
    return (size_t)((n_out + 15) / 16) * 16 * (size_t)(jk_row_length(JK_Q8, n_in) / JK_GROUP);
}

// The unsigned value of output j, input i of a tiled matrix.
static inline int tiled_value(const jk_matrix *m, int groups, int j, int i) {
    int t = j / 16, l = j % 16, g = i / 32, k = i % 32;
    const uint8_t *tile = (const uint8_t *)m->data + (size_t)t * tile_bytes(m->format, groups);
    if (m->format == JK_Q8) return tile[tile_byte(JK_Q8, g, l, k)];
    uint8_t byte = tile[tile_byte(JK_Q4, g, l, k % 16)];
    return k < 16 ? (byte & 15) : (byte >> 4);
}

static inline uint16_t tiled_scale(const jk_matrix *m, int groups, int j, int g) {
    return m->scales[((size_t)(j / 16) * groups + g) * 16 + j % 16];
}

void jk_tiled_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out) {
    if (jk_is_half(m->format)) { jk_half_tiled_dequantize_rows(m, j0, j1, out); return; }
    int n_in = jk_row_length(m->format, m->n_in), groups = n_in / JK_GROUP, z = zero_point(m->format);
    for (int j = j0; j < j1; j++) {
        float *row = out + (size_t)(j - j0) * m->n_in;
        for (int g = 0; g < groups; g++) {
            float s = jk_f16_to_f32(tiled_scale(m, groups, j, g));
            for (int k = 0; k < 32 && 32 * g + k < m->n_in; k++) row[32 * g + k] = (float)(tiled_value(m, groups, j, 32 * g + k) - z) * s;
        }
    }
}

typedef struct {
    const jk_matrix *src;
    void *data;
    uint16_t *scales;
} tile_job;

static void tile_part(void *ctx, int part, int parts) {
    tile_job *job = ctx;
    const jk_matrix *m = job->src;
    int n_in = jk_row_length(m->format, m->n_in), groups = n_in / JK_GROUP, tiles = (m->n_out + 15) / 16;
    for (int t = tiles * part / parts; t < tiles * (part + 1) / parts; t++) {
        uint8_t *tile = (uint8_t *)job->data + (size_t)t * tile_bytes(m->format, groups);
        uint16_t *scales = job->scales + (size_t)t * groups * 16;
        for (int l = 0; l < 16; l++) {
            int j = 16 * t + l;
            for (int g = 0; g < groups; g++) {
                scales[g * 16 + l] = j < m->n_out ? m->scales[(size_t)j * groups + g] : 0;
                if (m->format == JK_Q8) {
                    const int8_t *src = (const int8_t *)m->data + (size_t)j * n_in + 32 * g;
                    for (int k = 0; k < 32; k++) tile[tile_byte(JK_Q8, g, l, k)] = (uint8_t)((j < m->n_out ? src[k] : 0) + 128);
                } else {
                    const uint8_t *src = (const uint8_t *)m->data + (size_t)j * (n_in / 2) + 16 * g;
                    for (int k = 0; k < 16; k++) tile[tile_byte(JK_Q4, g, l, k)] = j < m->n_out ? src[k] : 0x88;
                }
            }
        }
    }
}

void jk_tile(const jk_matrix *m, void *data, uint16_t *scales) {
    if (jk_is_half(m->format)) { jk_half_tile(m, data); return; }
    tile_job job = { m, data, scales };
    jk_parallel(tile_part, &job);
}

#if defined(__x86_64__)
// The same quantization in vector registers (the same values: one product by 1/scale, rounded to nearest
// even): at batch 3 the scalar loop, on the caller's thread alone, cost a fifth of the product's time.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
static void tiled_prepare_avx512(const float *x, int groups, int z, jk_tiled_input *in) {
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int g = 0; g < groups; g++) {
        __m512 a = _mm512_loadu_ps(x + 32 * g), b = _mm512_loadu_ps(x + 32 * g + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(a, sign), _mm512_and_ps(b, sign)));
        float d = amax / 127.0f, inv = d > 0 ? 1.0f / d : 0;
        __m512 s = _mm512_set1_ps(inv), lim = _mm512_set1_ps(127.0f);
        __m512i qa = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(a, s), -lim), lim));
        __m512i qb = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(b, s), -lim), lim));
        _mm_storeu_si128((__m128i *)(in->q + 32 * g), _mm512_cvtsepi32_epi8(qa));
        _mm_storeu_si128((__m128i *)(in->q + 32 * g + 16), _mm512_cvtsepi32_epi8(qb));
        in->scale[g] = d;
        in->zero[g] = z * _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
    }
}
#endif

// Row b of x for the tiled kernels: int8 values in plain order with one scale per 32, and z·Σq per group.
void jk_tiled_prepare(const float *x, int n_in, int format, jk_tiled_input *in) {
    int groups = n_in / 32, z = zero_point(format);
#if defined(__x86_64__)
    if (jk_vnni_available()) { tiled_prepare_avx512(x, groups, z, in); return; }
#endif
    for (int g = 0; g < groups; g++) {
        in->zero[g] = z * jk_quantize_group(x + 32 * g, in->q + 32 * g, &in->scale[g]);
    }
}

// Without VNNI (or AVX-512 for 16-bit tiles; JK_ISA set after tiling, say): each tile's outputs
// dequantized, then plain dot products.
void jk_tiled_rows_generic(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias, float *y, int ldy,
                           int j0, int j1) {
    float *row = malloc(sizeof(float) * (size_t)(m->n_in > 0 ? m->n_in : 1));
    if (!row) abort();
    for (int j = j0; j < j1; j++) {
        jk_tiled_dequantize_rows(m, j, j + 1, row);
        for (int b = 0; b < batch; b++) {
            double acc = 0;
            for (int i = 0; i < m->n_in; i++) acc += (double)row[i] * x[(size_t)b * ldx + i];
            y[(size_t)b * ldy + j] = (float)acc + (bias ? bias[j] : 0.0f);
        }
    }
    free(row);
}

#if defined(__x86_64__)
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))

// One group of a tile against NB batch rows, then its 16 outputs scaled once: acc += s·xs·(Σ u·x − z·Σx).
// Each integer sum starts at −z·Σx, so no subtraction is left for the end; a single batch row gets a
// second sum for the odd steps, so its dot products do not all wait on each other (with more rows, the
// rows' sums interleave).
#define TILE_GROUP(FORMAT, NB) do { \
        __m512i i0[4], i1[4]; \
        for (int b = 0; b < NB; b++) { i0[b] = _mm512_set1_epi32(-in[b].zero[g]); i1[b] = _mm512_setzero_si512(); } \
        if (FORMAT == JK_Q8) { \
            const uint8_t *w = tile + (size_t)g * group_bytes(JK_Q8); \
            for (int c = 0; c < 8; c += 2) { \
                __m512i wa = _mm512_loadu_si512(w + 64 * c), wb = _mm512_loadu_si512(w + 64 * c + 64); \
                for (int b = 0; b < NB; b++) { \
                    i0[b] = _mm512_dpbusd_epi32(i0[b], wa, _mm512_set1_epi32(xq[b][8 * g + c])); \
                    if (NB == 1) i1[b] = _mm512_dpbusd_epi32(i1[b], wb, _mm512_set1_epi32(xq[b][8 * g + c + 1])); \
                    else i0[b] = _mm512_dpbusd_epi32(i0[b], wb, _mm512_set1_epi32(xq[b][8 * g + c + 1])); \
                } \
            } \
        } else { \
            const uint8_t *w = tile + (size_t)g * group_bytes(JK_Q4); \
            for (int c = 0; c < 4; c++) { \
                __m512i raw = _mm512_loadu_si512(w + 64 * c); \
                __m512i lo = _mm512_and_si512(raw, low), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low); \
                for (int b = 0; b < NB; b++) { \
                    i0[b] = _mm512_dpbusd_epi32(i0[b], lo, _mm512_set1_epi32(xq[b][8 * g + c])); \
                    if (NB == 1) i1[b] = _mm512_dpbusd_epi32(i1[b], hi, _mm512_set1_epi32(xq[b][8 * g + 4 + c])); \
                    else i0[b] = _mm512_dpbusd_epi32(i0[b], hi, _mm512_set1_epi32(xq[b][8 * g + 4 + c])); \
                } \
            } \
        } \
        __m512 ws = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + (size_t)g * 16))); \
        for (int b = 0; b < NB; b++) { \
            __m512i d = NB == 1 ? _mm512_add_epi32(i0[b], i1[b]) : i0[b]; \
            acc[b] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, _mm512_set1_ps(in[b].scale[g])), acc[b]); \
        } \
    } while (0)

#define DEFINE_TILE_KERNEL(NAME, FORMAT) \
VNNI_TARGET static inline __attribute__((always_inline)) \
void NAME(const uint8_t *tile, const uint16_t *scales, int groups, const jk_tiled_input *in, const int NB, size_t ahead_min, \
          int hint, __m512 acc[4]) { \
    const __m512i low = _mm512_set1_epi8(0x0f); \
    (void)low; \
    const int32_t *xq[4]; \
    const size_t ahead = jk_tile_ahead(ahead_min, NB); \
    for (int b = 0; b < NB; b++) { xq[b] = (const int32_t *)in[b].q; acc[b] = _mm512_setzero_ps(); } \
    for (int g = 0; g < groups; g++) { \
        /* Every line of the group ahead (the hardware's own prefetch leaves the loads waiting), into the */ \
        /* cache the CPU's settings name (tuning.c).                                                     */ \
        for (size_t c_ = 0; c_ < group_bytes(FORMAT); c_ += 64) \
            JK_TILE_PREFETCH(tile + (size_t)g * group_bytes(FORMAT) + c_ + ahead, hint); \
        TILE_GROUP(FORMAT, NB); \
    } \
}

DEFINE_TILE_KERNEL(q8_tile, JK_Q8)
DEFINE_TILE_KERNEL(q4_tile, JK_Q4)

#define DEFINE_TILED_ROWS(NAME, FORMAT, TILE) \
VNNI_TARGET \
void NAME(const jk_matrix *m, const jk_tiled_input *in, int batch, const float *bias, float *y, int ldy, int j0, int j1) { \
    int groups = jk_row_length(FORMAT, m->n_in) / 32; \
    size_t ahead_min = (size_t)jk_tuning()->tile_ahead_min; \
    int hint = jk_tuning()->tile_hint; \
    for (int t = j0 / 16; t * 16 < j1; t++) { \
        const uint8_t *tile = (const uint8_t *)m->data + (size_t)t * tile_bytes(FORMAT, groups); \
        const uint16_t *scales = m->scales + (size_t)t * groups * 16; \
        int first = t * 16, count = j1 - first < 16 ? j1 - first : 16; \
        __mmask16 keep = (__mmask16)((1u << count) - 1); \
        __m512 bj = bias ? _mm512_maskz_loadu_ps(keep, bias + first) : _mm512_setzero_ps(); \
        for (int b0 = 0; b0 < batch; b0 += 4) { \
            int nb = batch - b0 < 4 ? batch - b0 : 4; \
            __m512 acc[4]; \
            switch (nb) { \
            case 1: TILE(tile, scales, groups, in + b0, 1, ahead_min, hint, acc); break; \
            case 2: TILE(tile, scales, groups, in + b0, 2, ahead_min, hint, acc); break; \
            case 3: TILE(tile, scales, groups, in + b0, 3, ahead_min, hint, acc); break; \
            default: TILE(tile, scales, groups, in + b0, 4, ahead_min, hint, acc); break; \
            } \
            for (int b = 0; b < nb; b++) STORE_OUTPUTS(y + (size_t)(b0 + b) * ldy + first, count, keep, _mm512_add_ps(acc[b], bj)); \
        } \
    } \
}

DEFINE_TILED_ROWS(jk_q8_tiled_rows, JK_Q8, q8_tile)
DEFINE_TILED_ROWS(jk_q4_tiled_rows, JK_Q4, q4_tile)
#else
void jk_q8_tiled_rows(const jk_matrix *m, const jk_tiled_input *in, int batch, const float *bias, float *y, int ldy, int j0, int j1) {
    (void)m; (void)in; (void)batch; (void)bias; (void)y; (void)ldy; (void)j0; (void)j1;
}
void jk_q4_tiled_rows(const jk_matrix *m, const jk_tiled_input *in, int batch, const float *bias, float *y, int ldy, int j0, int j1) {
    (void)m; (void)in; (void)batch; (void)bias; (void)y; (void)ldy; (void)j0; (void)j1;
}
#endif
