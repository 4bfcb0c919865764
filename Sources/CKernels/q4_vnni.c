// The q4 kernel on CPUs with AVX-512 VNNI: the batch rows are quantized to int8 once per product (one
// scale per 32 values), and each group of weights meets them in integer dot products (vpdpbusd, 64
// multiply-adds an instruction). Converting every weight to float, the portable kernel's way, costs
// four times the instructions and leaves the q4 product short of the memory bandwidth.
#include "jk_kernels.h"
#include "q4_vnni.h"
#include <string.h>
#include <math.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))

int jk_q4_vnni_available(void) {
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
void jk_q4_prepare(const float *x, int n_in, jk_q4_input *in) {
    int groups = n_in / 32, pairs = (groups + 1) / 2;
    memset(in->q, 0, (size_t)pairs * 64);
    memset(in->lanes, 0, sizeof(float) * 16 * (size_t)pairs);
    for (int g = 0; g < groups; g++) {
        const float *v = x + 32 * g;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(v[i]));
        float d = amax / 127.0f, inv = d > 0 ? 1.0f / d : 0;
        int sum = 0;
        int8_t *out = in->q + 64 * (g / 2) + 16 * (g % 2);
        for (int i = 0; i < 32; i++) {
            int q = (int)lrintf(v[i] * inv);
            q = q > 127 ? 127 : (q < -127 ? -127 : q);
            out[i < 16 ? i : i + 16] = (int8_t)q;
            sum += q;
        }
        in->scale[g] = d;
        in->offset[g] = 8.0f * d * (float)sum;
        // The scale in the lanes of the pair's dot products that hold this group (see jk_q4_vnni_rows).
        float *lanes = in->lanes + 16 * (g / 2) + 4 * (g % 2);
        for (int k = 0; k < 4; k++) { lanes[k] = d; lanes[k + 8] = d; }
    }
    if (groups % 2) for (int k = 0; k < 4; k++) { in->lanes[16 * (groups / 2) + 4 + k] = 0; in->lanes[16 * (groups / 2) + 12 + k] = 0; }
}

VNNI_TARGET
static inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

VNNI_TARGET
void jk_q4_vnni_rows(const jk_matrix *m, const jk_q4_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1) {
    int n_in = jk_row_length(JK_Q4, m->n_in), groups = n_in / 32, pairs = groups / 2;
    const __m256i low = _mm256_set1_epi8(0x0f);
    float sc[JK_MAX_INPUTS / 32 + 16];
    for (int j = j0; j < j1; j++) {
        const uint8_t *row = (const uint8_t *)m->data + (size_t)j * (size_t)(n_in / 2);
        const uint16_t *s16 = m->scales + (size_t)j * groups;
        int g = 0;
        for (; g + 16 <= groups; g += 16) _mm512_storeu_ps(sc + g, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s16 + g))));
        for (; g < groups; g++) sc[g] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(s16[g])));
        __builtin_prefetch(row + 2048, 0, 3);
        for (int b0 = 0; b0 < batch; b0 += 4) {
            int nb = batch - b0 < 4 ? batch - b0 : 4;
            __m512 acc[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps() };
            for (int p = 0; p < pairs; p++) {
                __builtin_prefetch(row + 32 * p + 2048, 0, 3);
                __m256i raw = _mm256_loadu_si256((const __m256i *)(row + 32 * p));
                __m256i lo = _mm256_and_si256(raw, low), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
                __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
                __m512 ws = _mm512_mask_blend_ps(0xF0F0, _mm512_set1_ps(sc[2 * p]), _mm512_set1_ps(sc[2 * p + 1]));
                for (int b = 0; b < nb; b++) {
                    const jk_q4_input *xb = in + b0 + b;
                    __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512(xb->q + 64 * p));
                    acc[b] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, _mm512_loadu_ps(xb->lanes + 16 * p)), acc[b]);
                }
            }
            if (groups % 2) {
                int p = pairs, gl = groups - 1;
                __m128i raw = _mm_loadu_si128((const __m128i *)(row + 32 * p));
                __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(0x0f)), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f));
                // [lo | 0 | hi | 0]: the missing group's bytes are zero, as are the input's.
                __m512i w = _mm512_inserti64x4(_mm512_zextsi256_si512(_mm256_zextsi128_si256(lo)), _mm256_zextsi128_si256(hi), 1);
                __m512 ws = _mm512_set1_ps(sc[gl]);
                for (int b = 0; b < nb; b++) {
                    const jk_q4_input *xb = in + b0 + b;
                    __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_loadu_si512(xb->q + 64 * p));
                    acc[b] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, _mm512_set1_ps(xb->scale[gl])), acc[b]);
                }
            }
            for (int b = 0; b < nb; b++) {
                const jk_q4_input *xb = in + b0 + b;
                __m512 off = _mm512_setzero_ps();
                int k = 0;
                for (; k + 16 <= groups; k += 16) off = _mm512_fmadd_ps(_mm512_loadu_ps(sc + k), _mm512_loadu_ps(xb->offset + k), off);
                float o = hsum512(off);
                for (; k < groups; k++) o += sc[k] * xb->offset[k];
                y[(size_t)(b0 + b) * ldy + j] = hsum512(acc[b]) - o + (bias ? bias[j] : 0.0f);
            }
        }
    }
}
#else
int jk_q4_vnni_available(void) { return 0; }
void jk_q4_prepare(const float *x, int n_in, jk_q4_input *in) { (void)x; (void)n_in; (void)in; }
void jk_q4_vnni_rows(const jk_matrix *m, const jk_q4_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1) { (void)m; (void)in; (void)batch; (void)bias; (void)y; (void)ldy; (void)j0; (void)j1; }
#endif
