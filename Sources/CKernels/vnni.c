// The q4 and q8 kernels on CPUs with AVX-512 VNNI: the batch rows are quantized to int8 once per product
// (one scale per 32 values), and each group of weights meets them in integer dot products (vpdpbusd, 64
// multiply-adds an instruction). Converting every weight to float, the portable kernel's way, costs
// several times the instructions and leaves the product short of the memory bandwidth.
#include "jk_kernels.h"
#include "vnni.h"
#include <string.h>
#include <math.h>
#include <stdlib.h>

// 32 inputs as int8 with the scale that maps their largest magnitude to 127; returns their sum.
int jk_quantize_group(const float *v, int8_t q[32], float *scale) {
    float amax = 0;
    for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
    float d = amax / 127.0f, inv = d > 0 ? 1.0f / d : 0;
    int sum = 0;
    for (int i = 0; i < 32; i++) {
        int r = (int)lrintf(v[i] * inv);
        r = r > 127 ? 127 : (r < -127 ? -127 : r);
        q[i] = (int8_t)r;
        sum += r;
    }
    *scale = d;
    return sum;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))

int jk_vnni_available(void) {
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        const char *force = getenv("JK_ISA");
        known = (!force || strcmp(force, "avx512") == 0) && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
    }
    return known;
}


// Row b of x (n_in values, a whole number of groups: the caller pads) as int8 with one scale per 32 values. The bytes of each pair of groups are laid out as the
// kernel unpacks a pair of weight groups: [g0 0–15 | g1 0–15 | g0 16–31 | g1 16–31]. An odd last group
// fills its pair with zeros. offset[g] = 8·scale·Σq undoes the weights' −8 in one dot product per row.
void jk_q4_prepare(const float *x, int n_in, jk_int8_input *in) {
    int groups = n_in / 32, pairs = (groups + 1) / 2;
    memset(in->q, 0, (size_t)pairs * 64);
    memset(in->lanes, 0, sizeof(float) * 16 * (size_t)pairs);
    for (int g = 0; g < groups; g++) {
        int8_t q[32];
        float d;
        int sum = jk_quantize_group(x + 32 * g, q, &d);
        int8_t *out = in->q + 64 * (g / 2) + 16 * (g % 2);
        for (int i = 0; i < 32; i++) out[i < 16 ? i : i + 16] = q[i];
        in->scale[g] = d;
        in->offset[g] = 8.0f * d * (float)sum;
        // The scale in the lanes of the pair's dot products that hold this group (see jk_q4_vnni_rows).
        float *lanes = in->lanes + 16 * (g / 2) + 4 * (g % 2);
        for (int k = 0; k < 4; k++) { lanes[k] = d; lanes[k + 8] = d; }
    }
    if (groups % 2) for (int k = 0; k < 4; k++) { in->lanes[16 * (groups / 2) + 4 + k] = 0; in->lanes[16 * (groups / 2) + 12 + k] = 0; }
}

// One pair of weight groups (64 values) against NB batch rows: the nibbles unpacked once, one integer dot
// product per row, scaled by the weights' and the row's scales lane by lane.
#define Q4_PAIR(P, ACC) do { \
        __m256i raw_ = _mm256_loadu_si256((const __m256i *)(row + 32 * (P))); \
        __m512i w_ = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(raw_), _mm256_srli_epi16(raw_, 4), 1), low); \
        __m512 ws_ = _mm512_mask_blend_ps(0xF0F0, _mm512_set1_ps(sc[2 * (P)]), _mm512_set1_ps(sc[2 * (P) + 1])); \
        for (int b_ = 0; b_ < NB; b_++) { \
            __m512i d_ = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w_, _mm512_loadu_si512(xq[b_] + 64 * (P))); \
            ACC[b_] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d_), _mm512_mul_ps(ws_, _mm512_loadu_ps(xl[b_] + 16 * (P))), ACC[b_]); \
        } \
    } while (0)

VNNI_TARGET static inline __attribute__((always_inline))
void q4_row(const uint8_t *row, const float *sc, int groups, const jk_int8_input *in, const int NB, float *out) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    const int8_t *xq[4];
    const float *xl[4], *xo[4];
    for (int b = 0; b < NB; b++) { xq[b] = in[b].q; xl[b] = in[b].lanes; xo[b] = in[b].offset; }
    __m512 a0[4], a1[4];
    for (int b = 0; b < NB; b++) { a0[b] = _mm512_setzero_ps(); a1[b] = _mm512_setzero_ps(); }
    int pairs = groups / 2, p = 0;
    for (; p + 2 <= pairs; p += 2) {
        __builtin_prefetch(row + 32 * p + 2048, 0, 3);
        Q4_PAIR(p, a0);
        Q4_PAIR(p + 1, a1);
    }
    if (p < pairs) Q4_PAIR(p, a0);
    if (groups % 2) {
        // The last, unpaired group: [lo | 0 | hi | 0], the missing group's bytes zero as are the input's.
        int gl = groups - 1;
        __m128i raw = _mm_loadu_si128((const __m128i *)(row + 32 * pairs));
        __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(0x0f)), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f));
        __m512i w = _mm512_inserti64x4(_mm512_zextsi256_si512(_mm256_zextsi128_si256(lo)), _mm256_zextsi128_si256(hi), 1);
        for (int b = 0; b < NB; b++) {
            __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512(xq[b] + 64 * pairs));
            a1[b] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(sc[gl] * in[b].scale[gl]), a1[b]);
        }
    }
    for (int b = 0; b < NB; b++) {
        // Σ_g scale_g · 8·xscale_g·Σq undoes the nibbles' offset of 8.
        __m512 off = _mm512_setzero_ps();
        for (int k = 0; k < groups; k += 16) {
            __mmask16 m = groups - k >= 16 ? 0xFFFF : (__mmask16)((1u << (groups - k)) - 1);
            off = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, sc + k), _mm512_maskz_loadu_ps(m, xo[b] + k), off);
        }
        out[b] = _mm512_reduce_add_ps(_mm512_sub_ps(_mm512_add_ps(a0[b], a1[b]), off));
    }
}

// The rows of a quantized matrix against the prepared batch: each row's scales widened once, then the
// batch in fours through ROW (q4_row or q8_row) specialised for each count.
#define DEFINE_VNNI_ROWS(NAME, FORMAT, TYPE, ROW, ROW_BYTES) \
VNNI_TARGET \
void NAME(const jk_matrix *m, const jk_int8_input *in, int batch, const float *bias, float *y, int ldy, int j0, int j1) { \
    int n_in = jk_row_length(FORMAT, m->n_in), groups = n_in / 32; \
    float sc[JK_MAX_INPUTS / 32 + 16], out[4]; \
    for (int j = j0; j < j1; j++) { \
        const TYPE *row = (const TYPE *)m->data + (size_t)j * (size_t)(ROW_BYTES); \
        const uint16_t *s16 = m->scales + (size_t)j * groups; \
        for (int g = 0; g < groups; g += 16) { \
            __mmask16 mk = groups - g >= 16 ? 0xFFFF : (__mmask16)((1u << (groups - g)) - 1); \
            _mm512_mask_storeu_ps(sc + g, mk, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, s16 + g))); \
        } \
        float bj = bias ? bias[j] : 0.0f; \
        for (int b0 = 0; b0 < batch; b0 += 4) { \
            int nb = batch - b0 < 4 ? batch - b0 : 4; \
            switch (nb) { \
            case 1: ROW(row, sc, groups, in + b0, 1, out); break; \
            case 2: ROW(row, sc, groups, in + b0, 2, out); break; \
            case 3: ROW(row, sc, groups, in + b0, 3, out); break; \
            default: ROW(row, sc, groups, in + b0, 4, out); break; \
            } \
            for (int b = 0; b < nb; b++) y[(size_t)(b0 + b) * ldy + j] = out[b] + bj; \
        } \
    } \
}

DEFINE_VNNI_ROWS(jk_q4_vnni_rows, JK_Q4, uint8_t, q4_row, n_in / 2)

// Row b of x for the q8 kernel: as q4's, but in plain order (a pair of weight groups is 64 consecutive
// bytes) and offset by 128 into unsigned bytes, since the integer dot product multiplies unsigned by
// signed; the kernel takes 128·Σw back out. Lane scales: [g0 ×8 | g1 ×8].
void jk_q8_prepare(const float *x, int n_in, jk_int8_input *in) {
    int groups = n_in / 32, pairs = (groups + 1) / 2;
    memset(in->q, 128, (size_t)pairs * 64);
    memset(in->lanes, 0, sizeof(float) * 16 * (size_t)pairs);
    for (int g = 0; g < groups; g++) {
        int8_t q[32];
        float d;
        jk_quantize_group(x + 32 * g, q, &d);
        uint8_t *out = (uint8_t *)in->q + 32 * g;
        for (int i = 0; i < 32; i++) out[i] = (uint8_t)(q[i] + 128);
        in->scale[g] = d;
        for (int k = 0; k < 8; k++) in->lanes[16 * (g / 2) + 8 * (g % 2) + k] = d;
    }
}

VNNI_TARGET static inline __attribute__((always_inline))
void q8_row(const int8_t *row, const float *sc, int groups, const jk_int8_input *in, const int NB, float *out) {
    const __m512i ones = _mm512_set1_epi8(1);
    const uint8_t *xq[4];
    const float *xl[4];
    for (int b = 0; b < NB; b++) { xq[b] = (const uint8_t *)in[b].q; xl[b] = in[b].lanes; }
    __m512 a0[4], a1[4];
    for (int b = 0; b < NB; b++) { a0[b] = _mm512_setzero_ps(); a1[b] = _mm512_setzero_ps(); }
    int pairs = groups / 2;
    for (int p = 0; p <= pairs; p++) {
        __m512i w;
        __m512 ws;
        if (p < pairs) {
            __builtin_prefetch(row + 64 * p + 4096, 0, 3);
            w = _mm512_loadu_si512(row + 64 * p);
            ws = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(sc[2 * p]), _mm512_set1_ps(sc[2 * p + 1]));
        } else if (groups % 2) {
            // The last, unpaired group: its 32 bytes, then zero weights.
            w = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)(row + 64 * p)));
            ws = _mm512_set1_ps(sc[2 * p]);
        } else {
            break;
        }
        // 128·Σw per lane, to take the inputs' offset back out.
        __m512i offset = _mm512_slli_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, w), 7);
        for (int b = 0; b < NB; b++) {
            __m512i d = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(xq[b] + 64 * p), w), offset);
            __m512 *acc = (p & 1) ? a1 : a0;
            acc[b] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, _mm512_loadu_ps(xl[b] + 16 * p)), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[b] = _mm512_reduce_add_ps(_mm512_add_ps(a0[b], a1[b]));
}

DEFINE_VNNI_ROWS(jk_q8_vnni_rows, JK_Q8, int8_t, q8_row, n_in)
#else
int jk_vnni_available(void) { return 0; }
void jk_q4_prepare(const float *x, int n_in, jk_int8_input *in) { (void)x; (void)n_in; (void)in; }
void jk_q4_vnni_rows(const jk_matrix *m, const jk_int8_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1) { (void)m; (void)in; (void)batch; (void)bias; (void)y; (void)ldy; (void)j0; (void)j1; }
void jk_q8_prepare(const float *x, int n_in, jk_int8_input *in) { (void)x; (void)n_in; (void)in; }
void jk_q8_vnni_rows(const jk_matrix *m, const jk_int8_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1) { (void)m; (void)in; (void)batch; (void)bias; (void)y; (void)ldy; (void)j0; (void)j1; }
#endif
