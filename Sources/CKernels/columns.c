// Products of a few batch rows with a float32 weight in the checkpoint's own layout (the reference's Conv1D:
// w is n_in × n_out, row i holding input i's weight to every output), memory-mapped and never transposed.
// Sixteen rows of w at a time, each a run of 64 outputs long, are multiplied into every batch row's 64 sums
// held in registers, so the sums go to memory once per sixteen inputs and each weight read from memory
// serves the whole batch. Measured side by side on the upsampler's shapes: a batch of 3 in 0.55–0.6 of
// OpenBLAS's sgemm time (which re-reads the weights per panel of rows); at batch 1 OpenBLAS's sgemv streams
// faster (1.2–1.4×) and is kept. Each run asks for the same run sixteen rows down, the next block's, into the
// second-level cache: a whole block ahead, so the sixteen runs stream in as those the loop reads (the upsampler's
// batch of 3: 23–24 tokens/s against 20–22 without, side by side). Prefetches a few lines ahead in the same run
// were all slower than the hardware prefetchers alone.
#include "jk_kernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define IN_BLOCK 16
#define OUT_BLOCK 64

typedef struct {
    const float *w;
    int n_in, n_out;
    const float *x;
    int ldx, batch;
    const float *bias;
    float *y;
    int ldy;
    const jk_epilogue *epilogue;
} columns_job;

#if defined(__x86_64__)
#define COLUMNS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// Outputs [j, j + 64) (masked past n_out) of NB batch rows from b0, over inputs [i0, i0 + ni).
#define COLUMN_BLOCK(NB) do { \
        __m512 acc[4][4]; \
        for (int b = 0; b < NB; b++) for (int k = 0; k < 4; k++) \
            acc[b][k] = _mm512_maskz_loadu_ps(mask[k], y + (size_t)(b0 + b) * ldy + j + 16 * k); \
        for (int ii = 0; ii < ni; ii++) { \
            const float *row = w + (size_t)(i0 + ii) * n_out + j; \
            for (int k = 0; k < 4; k++) __builtin_prefetch(row + (size_t)IN_BLOCK * n_out + 16 * k, 0, 2); \
            __m512 wv[4]; \
            for (int k = 0; k < 4; k++) wv[k] = _mm512_maskz_loadu_ps(mask[k], row + 16 * k); \
            for (int b = 0; b < NB; b++) { \
                __m512 xb = _mm512_set1_ps(x[(size_t)(b0 + b) * ldx + i0 + ii]); \
                for (int k = 0; k < 4; k++) acc[b][k] = _mm512_fmadd_ps(wv[k], xb, acc[b][k]); \
            } \
        } \
        for (int b = 0; b < NB; b++) for (int k = 0; k < 4; k++) \
            _mm512_mask_storeu_ps(y + (size_t)(b0 + b) * ldy + j + 16 * k, mask[k], acc[b][k]); \
    } while (0)

COLUMNS_TARGET
static void columns_range(const columns_job *job, int j0, int j1) {
    const float *w = job->w, *x = job->x;
    float *y = job->y;
    int n_in = job->n_in, n_out = job->n_out, ldx = job->ldx, ldy = job->ldy, batch = job->batch;
    for (int b = 0; b < batch; b++) {
        float *row = y + (size_t)b * ldy;
        if (job->bias) memcpy(row + j0, job->bias + j0, sizeof(float) * (size_t)(j1 - j0));
        else memset(row + j0, 0, sizeof(float) * (size_t)(j1 - j0));
    }
    for (int i0 = 0; i0 < n_in; i0 += IN_BLOCK) {
        int ni = n_in - i0 < IN_BLOCK ? n_in - i0 : IN_BLOCK;
        for (int j = j0; j < j1; j += OUT_BLOCK) {
            __mmask16 mask[4];
            for (int k = 0; k < 4; k++) {
                int left = j1 - (j + 16 * k);
                mask[k] = left >= 16 ? (__mmask16)0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
            }
            for (int b0 = 0; b0 < batch; b0 += 4) {
                switch (batch - b0 < 4 ? batch - b0 : 4) {
                case 1: COLUMN_BLOCK(1); break;
                case 2: COLUMN_BLOCK(2); break;
                case 3: COLUMN_BLOCK(3); break;
                default: COLUMN_BLOCK(4); break;
                }
            }
        }
    }
    if (job->epilogue) jk_apply_epilogue(job->epilogue, y, ldy, batch, j0, j1);
}

static void columns_part(void *ctx, int part, int parts) {
    const columns_job *job = ctx;
    // Whole 16-output lines to each thread, so no two write one cache line of y.
    int units = (job->n_out + 15) / 16;
    int j0 = units * part / parts * 16, j1 = units * (part + 1) / parts * 16;
    if (j1 > job->n_out) j1 = job->n_out;
    if (j0 < j1) columns_range(job, j0, j1);
}
#endif

// Where the matrix kernels chose AVX-512 (JK_ISA forcing a lesser set turns this kernel off too).
int jk_columns_available(void) {
#if defined(__x86_64__)
    return strcmp(jk_kernel_isa(), "avx512") == 0;
#else
    return 0;
#endif
}

void jk_columns_product(const float *w, int n_in, int n_out, const float *x, int ldx, int batch, const float *bias,
                        float *y, int ldy, const jk_epilogue *epilogue) {
#if defined(__x86_64__)
    columns_job job = { w, n_in, n_out, x, ldx, batch, bias, y, ldy, epilogue };
    if ((size_t)n_in * (size_t)n_out < JK_SERIAL_WEIGHTS) columns_part(&job, 0, 1);
    else jk_parallel(columns_part, &job);
#else
    (void)w; (void)n_in; (void)n_out; (void)x; (void)ldx; (void)batch; (void)bias; (void)y; (void)ldy; (void)epilogue;
#endif
}
