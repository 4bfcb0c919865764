// The matrix-vector kernels, written once and compiled per instruction set by matvec.c, which defines
// V(name) (the variant's suffix), ATTR (its target attribute) and CVT_F16 (binary16 → float32, v16h → v16f).
//
// Every format dequantizes one group of 32 weights into two float vectors and multiplies it into up to
// four batch rows, so a weight read from memory serves every row of the batch. Two groups go into
// separate accumulators, so the additions of one row do not wait on each other.

// Sixteen 16-bit weights at p as float32.
#define LOAD16(fmt, p) ((fmt) == JK_F16 ? CVT_F16(ld_h(p)) : (v16f)(__builtin_convertvector(ld_h(p), v16u) << 16))

static inline __attribute__((always_inline)) ATTR
void V(load_group)(int fmt, const jk_matrix *m, int j, int g, const float *sc, v16f *w0, v16f *w1) {
    size_t n_in = (size_t)jk_row_length(fmt, m->n_in);  // values stored per row
    switch (fmt) {
    case JK_F32: {
        const float *p = (const float *)m->data + (size_t)j * n_in + 32 * (size_t)g;
        *w0 = ld_f32(p); *w1 = ld_f32(p + 16);
        break;
    }
    case JK_F16:
    case JK_BF16: {
        const uint16_t *p = (const uint16_t *)m->data + (size_t)j * n_in + 32 * (size_t)g;
        *w0 = LOAD16(fmt, p); *w1 = LOAD16(fmt, p + 16);
        break;
    }
    case JK_Q8: {
        const int8_t *p = (const int8_t *)m->data + (size_t)j * n_in + 32 * (size_t)g;
        float s = sc[g];
        *w0 = __builtin_convertvector(ld_c(p), v16f) * s;
        *w1 = __builtin_convertvector(ld_c(p + 16), v16f) * s;
        break;
    }
    default: { // JK_Q4
        const uint8_t *p = (const uint8_t *)m->data + (size_t)j * (n_in / 2) + 16 * (size_t)g;
        float s = sc[g];
        v16u b = __builtin_convertvector(ld_uc(p), v16u);
        // A nibble q put in the mantissa of 2^23 is the float 2^23 + q: subtracting 2^23 + 8 gives q − 8
        // exactly, cheaper than an integer conversion.
        *w0 = ((v16f)((b & 15u) | 0x4B000000u) - 8388616.0f) * s;
        *w1 = ((v16f)((b >> 4) | 0x4B000000u) - 8388616.0f) * s;
        break;
    }
    }
}

static inline __attribute__((always_inline)) ATTR
float V(weight_at)(int fmt, const jk_matrix *m, int j, int i) {
    size_t k = (size_t)j * (size_t)m->n_in + (size_t)i;
    switch (fmt) {
    case JK_F32: return ((const float *)m->data)[k];
    case JK_F16: return jk_f16_to_f32(((const uint16_t *)m->data)[k]);
    default: { // BF16 (quantized rows are whole groups: they have no tails)
        uint32_t u = (uint32_t)((const uint16_t *)m->data)[k] << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    }
}

// The scales of a later row, asked for ahead (the values are prefetched as the row loop goes).
static inline __attribute__((always_inline)) ATTR
void V(prefetch_scales)(const jk_matrix *m, int j) {
    if (j >= m->n_out) return;
    size_t groups = (size_t)jk_row_length(m->format, m->n_in) / 32;
    const char *s = (const char *)(m->scales + (size_t)j * groups);
    for (size_t k = 0; k < 2 * groups; k += 64) __builtin_prefetch(s + k, 0, 3);
}

// Row j's scales as float32, converted sixteen at a time once per row (not once per group).
static inline __attribute__((always_inline)) ATTR
void V(row_scales)(const jk_matrix *m, int j, float *sc) {
    int groups = jk_row_length(m->format, m->n_in) / 32, g = 0;
    const uint16_t *s = m->scales + (size_t)j * groups;
    for (; g + 16 <= groups; g += 16) { v16f f = CVT_F16(ld_h(s + g)); memcpy(sc + g, &f, 64); }
    for (; g < groups; g++) sc[g] = scale_f16(s[g]);
}

// Outputs j of NB batch rows (sc: the row's scales, for q8 and q4).
static inline __attribute__((always_inline)) ATTR
void V(row)(int fmt, const jk_matrix *m, int j, const float *x, int ldx, int NB, const float *sc, float *out) {
    v16f acc[4][4];
    for (int b = 0; b < NB; b++) for (int k = 0; k < 4; k++) acc[b][k] = (v16f)0;
    // Quantized rows are whole groups (x padded with zeros to match); float rows end in a scalar tail.
    int groups = jk_row_length(fmt, m->n_in) / 32, g = 0;
    if (fmt == JK_Q8 || fmt == JK_Q4) V(prefetch_scales)(m, j + PREFETCH_ROWS);
    // Bytes of the row each pair of groups reads, and where they start: the loop asks for the line
    // PREFETCH_BYTES ahead of what it reads, past the end of the row into the next ones.
    const int pair_bytes = fmt == JK_F32 ? 256 : (fmt == JK_F16 || fmt == JK_BF16) ? 128 : fmt == JK_Q8 ? 64 : 32;
    const char *ahead = (const char *)m->data + (size_t)j * (size_t)jk_row_length(fmt, m->n_in) * (size_t)pair_bytes / 64
        + PREFETCH_BYTES;
    for (; g + 2 <= groups; g += 2) {
        v16f a0, a1, c0, c1;
        for (int k = 0; k < pair_bytes; k += 64) __builtin_prefetch(ahead + (size_t)g / 2 * pair_bytes + k, 0, 3);
        V(load_group)(fmt, m, j, g, sc, &a0, &a1);
        V(load_group)(fmt, m, j, g + 1, sc, &c0, &c1);
        for (int b = 0; b < NB; b++) {
            const float *xb = x + (size_t)b * ldx + 32 * g;
            acc[b][0] += a0 * ld_f32(xb);
            acc[b][1] += a1 * ld_f32(xb + 16);
            acc[b][2] += c0 * ld_f32(xb + 32);
            acc[b][3] += c1 * ld_f32(xb + 48);
        }
    }
    if (g < groups) {
        v16f a0, a1;
        V(load_group)(fmt, m, j, g, sc, &a0, &a1);
        for (int b = 0; b < NB; b++) {
            const float *xb = x + (size_t)b * ldx + 32 * g;
            acc[b][0] += a0 * ld_f32(xb);
            acc[b][1] += a1 * ld_f32(xb + 16);
        }
    }
    for (int b = 0; b < NB; b++) {
        float s = hsum((acc[b][0] + acc[b][1]) + (acc[b][2] + acc[b][3]));
        for (int i = groups * 32; i < m->n_in; i++) s += V(weight_at)(fmt, m, j, i) * x[(size_t)b * ldx + i];
        out[b] = s;
    }
}

// Outputs j … j+3 of NB batch rows for 16-bit weights: each load of a batch row's inputs serves four rows of
// weights. One row at a time, a batch of 3 spent more load slots on the inputs than on the weights and cost
// 1.5 times a batch of 1 (bf16 1920×7680 streamed 21 GB/s at batch 3 against 32 at batch 1).
// K sums per row and batch row: two keep enough independent additions in flight for one or two rows from
// the caches; one (as a batch of 3 or 4 has) gives a lone row the very sums it gets in a batch of three.
static inline __attribute__((always_inline)) ATTR
void V(rows4)(int fmt, const jk_matrix *m, int j, const float *x, int ldx, int NB, int K, float out[4][4]) {
    enum { R = 4 };
    v16f acc[R][4][2];
    for (int r = 0; r < R; r++) for (int b = 0; b < NB; b++) { acc[r][b][0] = (v16f)0; acc[r][b][1] = (v16f)0; }
    const size_t n = (size_t)m->n_in;
    const uint16_t *w = (const uint16_t *)m->data + (size_t)j * n;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        // The next four rows, a line a row per 16 inputs in the order memory holds them: one stream ahead
        // of the four this reads (each row asking ahead for itself, four streams, streamed a fifth slower).
        const char *ahead = (const char *)(w + (size_t)R * n) + 8 * i;
        for (int k = 0; k < 256; k += 64) __builtin_prefetch(ahead + k, 0, ROW_LOCALITY);
        v16f xa[4], xb[4];
        for (int b = 0; b < NB; b++) { xa[b] = ld_f32(x + (size_t)b * ldx + i); xb[b] = ld_f32(x + (size_t)b * ldx + i + 16); }
        for (int r = 0; r < R; r++) {
            v16f w0 = LOAD16(fmt, w + (size_t)r * n + i), w1 = LOAD16(fmt, w + (size_t)r * n + i + 16);
            for (int b = 0; b < NB; b++) { acc[r][b][0] += w0 * xa[b]; acc[r][b][K - 1] += w1 * xb[b]; }
        }
    }
    for (int r = 0; r < R; r++) for (int b = 0; b < NB; b++) {
        float s = hsum(acc[r][b][0] + acc[r][b][1]);
        for (size_t k = i; k < n; k++) s += V(weight_at)(fmt, m, j + r, (int)k) * x[(size_t)b * ldx + k];
        out[r][b] = s;
    }
}

static inline __attribute__((always_inline)) ATTR
void V(matvec_fmt)(int fmt, const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                   float *y, int ldy, int j0, int j1) {
    float out[4];
    float sc[JK_MAX_INPUTS / 32 + 16];
    int j = j0;
    if (fmt == JK_F16 || fmt == JK_BF16) {
        // A lone batch row of a matrix streamed from memory gets the sums it would get in a batch of three:
        // on AMD through the three-row body, its row given three times (ldx 0), which spaces its loads out:
        // the one-row body with two sums a row streamed 62-70% of the probe's bandwidth there where memory
        // read 50-60 GB/s, given three times 85-90%; on Intel the extra sums cost more than they gave, and
        // the one-row body with one sum a row streamed 81-87% against 72-77% (tuning.c). From the caches,
        // where the arithmetic counts, two sums a row are faster, hence only large matrices.
        const int streamed = (size_t)m->n_out * (size_t)m->n_in * 2 >= STREAMED_BYTES;
        const int paced = PACE_ONE_ROW && streamed && jk_tuning()->pace_lone_rows;
        for (; j + 4 <= j1; j += 4) {
            for (int b0 = 0; b0 < batch; b0 += 4) {
                int nb = batch - b0 < 4 ? batch - b0 : 4;
                const float *xb = x + (size_t)b0 * ldx;
                float o4[4][4];
                switch (nb) {
                case 1:
                    if (paced) V(rows4)(fmt, m, j, xb, 0, 3, 1, o4);
                    else if (streamed) V(rows4)(fmt, m, j, xb, ldx, 1, 1, o4);
                    else V(rows4)(fmt, m, j, xb, ldx, 1, 2, o4);
                    break;
                case 2: V(rows4)(fmt, m, j, xb, ldx, 2, 2, o4); break;
                case 3: V(rows4)(fmt, m, j, xb, ldx, 3, 1, o4); break;
                default: V(rows4)(fmt, m, j, xb, ldx, 4, 1, o4); break;
                }
                for (int r = 0; r < 4; r++)
                    for (int b = 0; b < nb; b++) y[(size_t)(b0 + b) * ldy + j + r] = o4[r][b] + (bias ? bias[j + r] : 0.0f);
            }
        }
    }
    for (; j < j1; j++) {
        float bj = bias ? bias[j] : 0.0f;
        if (fmt == JK_Q8 || fmt == JK_Q4) V(row_scales)(m, j, sc);
        for (int b0 = 0; b0 < batch; b0 += 4) {
            int nb = batch - b0 < 4 ? batch - b0 : 4;
            const float *xb = x + (size_t)b0 * ldx;
            switch (nb) {
            case 1: V(row)(fmt, m, j, xb, ldx, 1, sc, out); break;
            case 2: V(row)(fmt, m, j, xb, ldx, 2, sc, out); break;
            case 3: V(row)(fmt, m, j, xb, ldx, 3, sc, out); break;
            default: V(row)(fmt, m, j, xb, ldx, 4, sc, out); break;
            }
            for (int b = 0; b < nb; b++) y[(size_t)(b0 + b) * ldy + j] = out[b] + bj;
        }
    }
}

static ATTR void V(matvec)(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                           float *y, int ldy, int j0, int j1) {
    switch (m->format) {
    case JK_F32: V(matvec_fmt)(JK_F32, m, x, ldx, batch, bias, y, ldy, j0, j1); break;
    case JK_F16: V(matvec_fmt)(JK_F16, m, x, ldx, batch, bias, y, ldy, j0, j1); break;
    case JK_BF16: V(matvec_fmt)(JK_BF16, m, x, ldx, batch, bias, y, ldy, j0, j1); break;
    case JK_Q8: V(matvec_fmt)(JK_Q8, m, x, ldx, batch, bias, y, ldy, j0, j1); break;
    default: V(matvec_fmt)(JK_Q4, m, x, ldx, batch, bias, y, ldy, j0, j1); break;
    }
}

static ATTR void V(dequantize)(const jk_matrix *m, int j0, int j1, float *out) {
    int groups = m->n_in / 32;  // whole groups; a quantized row's last partial group comes after
    float sc[JK_MAX_INPUTS / 32 + 16];
    for (int j = j0; j < j1; j++) {
        float *o = out + (size_t)(j - j0) * m->n_in;
        if (m->format == JK_Q8 || m->format == JK_Q4) V(row_scales)(m, j, sc);
        for (int g = 0; g < groups; g++) {
            v16f w0, w1;
            switch (m->format) {
            case JK_F32: V(load_group)(JK_F32, m, j, g, sc, &w0, &w1); break;
            case JK_F16: V(load_group)(JK_F16, m, j, g, sc, &w0, &w1); break;
            case JK_BF16: V(load_group)(JK_BF16, m, j, g, sc, &w0, &w1); break;
            case JK_Q8: V(load_group)(JK_Q8, m, j, g, sc, &w0, &w1); break;
            default: V(load_group)(JK_Q4, m, j, g, sc, &w0, &w1); break;
            }
            memcpy(o + 32 * g, &w0, 64);
            memcpy(o + 32 * g + 16, &w1, 64);
        }
        if (groups * 32 < m->n_in && (m->format == JK_Q8 || m->format == JK_Q4)) {
            v16f w[2];
            if (m->format == JK_Q8) V(load_group)(JK_Q8, m, j, groups, sc, &w[0], &w[1]);
            else V(load_group)(JK_Q4, m, j, groups, sc, &w[0], &w[1]);
            memcpy(o + 32 * groups, w, sizeof(float) * (size_t)(m->n_in - 32 * groups));
            continue;
        }
        for (int i = groups * 32; i < m->n_in; i++) {
            switch (m->format) {
            case JK_F32: o[i] = V(weight_at)(JK_F32, m, j, i); break;
            case JK_F16: o[i] = V(weight_at)(JK_F16, m, j, i); break;
            default: o[i] = V(weight_at)(JK_BF16, m, j, i); break;
            }
        }
    }
}

static ATTR double V(read_sum)(const float *p, size_t n) {
    v16f a = (v16f)0, b = (v16f)0, c = (v16f)0, d = (v16f)0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        // The kernels' own software prefetch, so the probe measures what memory gives, not what the
        // hardware prefetcher alone reaches (which varies from run to run); into the second-level cache,
        // as the streaming kernels ask: 6% more than into the first (1 GB on both cores, in turns).
        for (int k = 0; k < 256; k += 64) __builtin_prefetch((const char *)(p + i) + k + 4096, 0, 2);
        a += ld_f32(p + i); b += ld_f32(p + i + 16); c += ld_f32(p + i + 32); d += ld_f32(p + i + 48);
    }
    return hsum((a + b) + (c + d));
}
