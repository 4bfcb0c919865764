// Products of one to four batch rows with a float32 weight in the checkpoint's own layout (the reference's
// Conv1D: w is n_in × n_out, row i holding input i's weight to every output), memory-mapped and never
// transposed: a sampling step's float32 products.
#include "jk_kernels.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
#define ROWS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

// Split by inputs: each thread streams a contiguous block of rows of w (the order memory holds them, as the
// bandwidth probe reads) into sums of every output of its own, which the caller adds up. Four rows of w at a
// time, the next four asked for ahead; each weight read serves every batch row. OpenBLAS's sgemv (one row)
// and a kernel split by outputs (two to four rows, sixteen rows of w at a time into sums held in registers)
// streamed about 30–36 GB/s wherever the memory gave more: the upsampler's batch 1 reached 53–63% of its
// roofline where the memory read 39–44 GB/s, against 92–100% now (side by side, 2026-12-07).
typedef struct {
    const float *w;
    int n_in, n_out, stride;
    const float *x;
    int ldx, batch;
    float *partial;     // parts × batch × stride sums
    const float *bias;
    float *y;
    const jk_epilogue *epilogue;
    atomic_int done;    // parts whose sums are complete
} rows_job;

#define ROWS_BLOCK 4

#define ROWS_BODY(NB) do { \
    for (; i + ROWS_BLOCK <= i1; i += ROWS_BLOCK) { \
        const float *w = job->w + (size_t)i * n_out; \
        __m512 xb[NB][ROWS_BLOCK]; \
        for (int b = 0; b < NB; b++) for (int r = 0; r < ROWS_BLOCK; r++) xb[b][r] = _mm512_set1_ps(x[(size_t)b * ldx + i + r]); \
        int j = 0; \
        for (; j + 16 <= n_out; j += 16) { \
            __m512 acc[NB]; \
            for (int b = 0; b < NB; b++) acc[b] = _mm512_loadu_ps(y + (size_t)b * stride + j); \
            for (int r = 0; r < ROWS_BLOCK; r++) { \
                const float *row = w + (size_t)r * n_out + j; \
                __builtin_prefetch(row + (size_t)ROWS_BLOCK * n_out, 0, 2); \
                __m512 wv = _mm512_loadu_ps(row); \
                for (int b = 0; b < NB; b++) acc[b] = _mm512_fmadd_ps(wv, xb[b][r], acc[b]); \
            } \
            for (int b = 0; b < NB; b++) _mm512_storeu_ps(y + (size_t)b * stride + j, acc[b]); \
        } \
        for (; j < n_out; j++) \
            for (int b = 0; b < NB; b++) \
                for (int r = 0; r < ROWS_BLOCK; r++) y[(size_t)b * stride + j] += w[(size_t)r * n_out + j] * x[(size_t)b * ldx + i + r]; \
    } \
} while (0)

// Outputs [j0, j1) of every batch row: the bias and the parts' sums added in the parts' order (the same
// sums whichever thread adds them), then the epilogue.
static void add_parts(const rows_job *job, int parts, int j0, int j1) {
    for (int b = 0; b < job->batch; b++) {
        float *row = job->y + (size_t)b * job->n_out;
        for (int j = j0; j < j1; j++) {
            float s = job->bias ? job->bias[j] : 0.0f;
            for (int p = 0; p < parts; p++) s += job->partial[((size_t)p * job->batch + b) * job->stride + j];
            row[j] = s;
        }
    }
    if (job->epilogue) jk_apply_epilogue(job->epilogue, job->y, job->n_out, job->batch, j0, j1);
}

ROWS_TARGET
static void rows_part(void *ctx, int part, int parts) {
    rows_job *job = ctx;
    int n_out = job->n_out, stride = job->stride, batch = job->batch, ldx = job->ldx;
    const float *x = job->x;
    int i0 = job->n_in * part / parts, i1 = job->n_in * (part + 1) / parts;
    float *y = job->partial + (size_t)part * (size_t)batch * (size_t)stride;
    memset(y, 0, sizeof(float) * (size_t)batch * (size_t)stride);
    int i = i0;
    switch (batch) {
    case 1: ROWS_BODY(1); break;
    case 2: ROWS_BODY(2); break;
    case 3: ROWS_BODY(3); break;
    default: ROWS_BODY(4); break;
    }
    for (; i < i1; i++)
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < n_out; j++) y[(size_t)b * stride + j] += job->w[(size_t)i * n_out + j] * x[(size_t)b * ldx + i];
    // Every output needs every part's sums: once all are done, each thread adds up its own share of the
    // outputs (in units of 16, so no two write one cache line), where the caller alone did it after the job
    // while the other waited (float32 batch 3: 4% of the caller's time).
    if (parts > 1) {
        atomic_fetch_add_explicit(&job->done, 1, memory_order_acq_rel);
        while (atomic_load_explicit(&job->done, memory_order_acquire) < parts) _mm_pause();
    }
    int units = (n_out + 15) / 16, j0 = 16 * (units * part / parts), j1 = 16 * (units * (part + 1) / parts);
    add_parts(job, parts, j0, j1 < n_out ? j1 : n_out);
}
#endif

void jk_rows_product(const float *w, int n_in, int n_out, const float *x, int ldx, int batch, const float *bias,
                     float *y, const jk_epilogue *epilogue) {
#if defined(__x86_64__)
    static _Thread_local char *scratch;
    static _Thread_local size_t capacity;
    if (batch < 1 || batch > 4) abort();
    int parts = (size_t)n_in * (size_t)n_out < JK_SERIAL_WEIGHTS ? 1 : jk_threads();
    int stride = (n_out + 15) / 16 * 16;
    jk_grow_scratch(&scratch, &capacity, sizeof(float) * (size_t)parts * (size_t)batch * (size_t)stride);
    float *buffer = (float *)scratch;
    rows_job job = { w, n_in, n_out, stride, x, ldx, batch, buffer, bias, y, epilogue, 0 };
    atomic_init(&job.done, 0);
    if (parts == 1) rows_part(&job, 0, 1);
    else jk_parallel(rows_part, &job);
#else
    (void)w; (void)n_in; (void)n_out; (void)x; (void)ldx; (void)batch; (void)bias; (void)y; (void)epilogue;
#endif
}

// Where the matrix kernels chose AVX-512 (JK_ISA forcing a lesser set turns this kernel off too).
int jk_rows_available(void) {
#if defined(__x86_64__)
    return jk_kernel_is_avx512();
#else
    return 0;
#endif
}
