// Packing float32 weights into the sampling formats, and random packed weights for benchmarks.
#include "jk_kernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t jk_packed_bytes(int format, int n_out, int n_in) {
    size_t n = (size_t)n_out * (size_t)jk_row_length(format, n_in);
    switch (format) {
    case JK_F32: return 4 * n;
    case JK_F16: case JK_BF16: return 2 * n;
    case JK_Q8: return n;
    default: return n / 2;
    }
}

size_t jk_scale_count(int format, int n_out, int n_in) {
    return (format == JK_Q8 || format == JK_Q4) ? (size_t)n_out * (size_t)(jk_row_length(format, n_in) / JK_GROUP) : 0;
}

static uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); // NaN stays NaN
    u += 0x7fff + ((u >> 16) & 1);                                             // round to nearest even
    return (uint16_t)(u >> 16);
}

// Q8: the scale maps the group's largest magnitude to 127.
static void pack_q8_group(const float *v, int8_t *q, uint16_t *scale) {
    float amax = 0;
    for (int i = 0; i < JK_GROUP; i++) amax = fmaxf(amax, fabsf(v[i]));
    uint16_t h = jk_f32_to_f16(amax / 127.0f);
    float d = jk_f16_to_f32(h);
    *scale = h;
    for (int i = 0; i < JK_GROUP; i++) {
        float r = d > 0 ? roundf(v[i] / d) : 0;
        q[i] = (int8_t)(r > 127 ? 127 : (r < -127 ? -127 : r));
    }
}

static float q4_error(const float *v, float d) {
    float err = 0;
    for (int i = 0; i < JK_GROUP; i++) {
        float r = d != 0 ? roundf(v[i] / d) : 0;
        r = r > 7 ? 7 : (r < -8 ? -8 : r);
        float e = v[i] - r * d;
        err += e * e;
    }
    return err;
}

// Q4: sixteen levels −8…7 times a scale. The scale that puts the largest magnitude at −8 (its sign
// chosen so) is a good start; a few nearby scales are tried and the one with least squared error kept.
static void pack_q4_group(const float *v, uint8_t *q, uint16_t *scale) {
    float amax = 0, peak = 0;
    for (int i = 0; i < JK_GROUP; i++) if (fabsf(v[i]) > amax) { amax = fabsf(v[i]); peak = v[i]; }
    uint16_t best_h = jk_f32_to_f16(peak / -8.0f);
    float best_err = q4_error(v, jk_f16_to_f32(best_h));
    for (int k = -6; k <= 6; k++) {
        for (int side = 0; side < 2; side++) {
            float base = side == 0 ? peak / -8.0f : peak / 7.0f;
            uint16_t h = jk_f32_to_f16(base * (1.0f + 0.025f * (float)k));
            float err = q4_error(v, jk_f16_to_f32(h));
            if (err < best_err) { best_err = err; best_h = h; }
        }
    }
    float d = jk_f16_to_f32(best_h);
    *scale = best_h;
    uint8_t nib[JK_GROUP];
    for (int i = 0; i < JK_GROUP; i++) {
        float r = d != 0 ? roundf(v[i] / d) : 0;
        r = r > 7 ? 7 : (r < -8 ? -8 : r);
        nib[i] = (uint8_t)((int)r + 8);
    }
    for (int k = 0; k < JK_GROUP / 2; k++) q[k] = (uint8_t)(nib[k] | (nib[k + JK_GROUP / 2] << 4));
}

typedef struct {
    const float *w;
    int n_in, n_out, format;
    void *data;
    uint16_t *scales;
} pack_job;

enum { TILE = 32 };

static void pack_part(void *ctx, int part, int parts) {
    pack_job *job = ctx;
    int n_in = job->n_in, n_out = job->n_out, len = jk_row_length(job->format, n_in), groups = len / JK_GROUP;
    int tiles = (n_out + TILE - 1) / TILE;
    // Rows of `len` values: the quantized formats' padding up to whole groups is zero.
    float *rows = calloc((size_t)TILE * (size_t)len, sizeof(float));
    if (!rows) abort();
    for (int t = tiles * part / parts; t < tiles * (part + 1) / parts; t++) {
        int j0 = t * TILE, j1 = j0 + TILE < n_out ? j0 + TILE : n_out;
        // Gather the tile's columns as rows (the input is n_in × n_out).
        for (int i = 0; i < n_in; i++)
            for (int j = j0; j < j1; j++) rows[(size_t)(j - j0) * len + i] = job->w[(size_t)i * n_out + j];
        for (int j = j0; j < j1; j++) {
            const float *r = rows + (size_t)(j - j0) * len;
            size_t base = (size_t)j * (size_t)len;
            switch (job->format) {
            case JK_F32: memcpy((float *)job->data + base, r, sizeof(float) * (size_t)n_in); break;
            case JK_F16: for (int i = 0; i < n_in; i++) ((uint16_t *)job->data)[base + i] = jk_f32_to_f16(r[i]); break;
            case JK_BF16: for (int i = 0; i < n_in; i++) ((uint16_t *)job->data)[base + i] = f32_to_bf16(r[i]); break;
            case JK_Q8:
                for (int g = 0; g < groups; g++)
                    pack_q8_group(r + JK_GROUP * g, (int8_t *)job->data + base + JK_GROUP * g,
                                  job->scales + (size_t)j * groups + g);
                break;
            default:
                for (int g = 0; g < groups; g++)
                    pack_q4_group(r + JK_GROUP * g, (uint8_t *)job->data + base / 2 + JK_GROUP / 2 * g,
                                  job->scales + (size_t)j * groups + g);
                break;
            }
        }
    }
    free(rows);
}

void jk_pack(const float *w, int n_in, int n_out, int format, void *data, uint16_t *scales) {
    pack_job job = { w, n_in, n_out, format, data, scales };
    jk_parallel(pack_part, &job);
}

typedef struct {
    int format, n_out, n_in;
    float std;
    uint64_t seed;
    void *data;
    uint16_t *scales;
} random_job;

static inline uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Uniform values of the given standard deviation (benchmarks measure speed, not what weights say).
static void random_part(void *ctx, int part, int parts) {
    random_job *job = ctx;
    int len = jk_row_length(job->format, job->n_in), groups = len / JK_GROUP;
    for (int j = job->n_out * part / parts; j < job->n_out * (part + 1) / parts; j++) {
        uint64_t s = job->seed * 0x100000001b3ull + (uint64_t)j;
        size_t base = (size_t)j * (size_t)len;
        float half_width = job->std * 1.7320508f;
        switch (job->format) {
        case JK_Q8: case JK_Q4: {
            size_t bytes = job->format == JK_Q8 ? (size_t)len : (size_t)len / 2;
            uint8_t *p = (uint8_t *)job->data + (job->format == JK_Q8 ? base : base / 2);
            for (size_t k = 0; k < bytes; k += 8) {
                uint64_t r = splitmix(&s);
                size_t n = bytes - k < 8 ? bytes - k : 8;
                memcpy(p + k, &r, n);
            }
            // Q8 bytes are uniform over −128…127; Q4 nibbles over 0…15 (−8…7 after the offset).
            float d = job->format == JK_Q8 ? half_width / 128.0f : half_width / 8.0f;
            for (int g = 0; g < groups; g++) job->scales[(size_t)j * groups + g] = jk_f32_to_f16(d);
            break;
        }
        default:
            for (int i = 0; i < job->n_in; i++) {
                float u = (float)(splitmix(&s) >> 40) * 0x1p-24f * 2.0f - 1.0f, v = u * half_width;
                if (job->format == JK_F32) ((float *)job->data)[base + i] = v;
                else if (job->format == JK_F16) ((uint16_t *)job->data)[base + i] = jk_f32_to_f16(v);
                else ((uint16_t *)job->data)[base + i] = f32_to_bf16(v);
            }
        }
    }
}

void jk_random_packed(int format, int n_out, int n_in, float std, uint64_t seed, void *data, uint16_t *scales) {
    random_job job = { format, n_out, n_in, std, seed, data, scales };
    jk_parallel(random_part, &job);
}
