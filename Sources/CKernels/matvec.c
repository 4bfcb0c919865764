// Dispatch of the matrix-vector kernels (matvec_body.h) to the best instruction set this CPU has,
// their parallel split, and the bandwidth probe the benchmark prints beside them.
#include "jk_kernels.h"
#include "vnni.h"
#include "tiled_half.h"
#include "tuning.h"
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <stdatomic.h>
#include <pthread.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef float v16f __attribute__((ext_vector_type(16)));
typedef float v8f __attribute__((ext_vector_type(8)));
typedef int32_t v16i __attribute__((ext_vector_type(16)));
typedef uint32_t v16u __attribute__((ext_vector_type(16)));
typedef int8_t v16c __attribute__((ext_vector_type(16)));
typedef uint8_t v16uc __attribute__((ext_vector_type(16)));
typedef uint16_t v16h __attribute__((ext_vector_type(16)));

// Unaligned loads as macros: vector-valued helper functions would cross the targets' ABIs.
#define ld_f32(p) ({ v16f v_; memcpy(&v_, (p), 64); v_; })
#define ld_h(p) ({ v16h v_; memcpy(&v_, (p), 32); v_; })
#define ld_c(p) ({ v16c v_; memcpy(&v_, (p), 16); v_; })
#define ld_uc(p) ({ v16uc v_; memcpy(&v_, (p), 16); v_; })

#define hsum(v) ({ v16f s_ = (v); v8f a_ = s_.lo + s_.hi; \
    ((a_[0] + a_[4]) + (a_[1] + a_[5])) + ((a_[2] + a_[6]) + (a_[3] + a_[7])); })

// binary16 → float32 without F16C: move the exponent and mantissa into place and rebias by 2^112,
// which also gives subnormals and zero (infinities and NaN do not occur in weights).
#define cvt_f16_bits(h) ({ v16u u_ = __builtin_convertvector((h), v16u); \
    v16f mag_ = (v16f)((u_ & 0x7fffu) << 13) * 0x1p112f; \
    (v16f)((v16u)mag_ | ((u_ & 0x8000u) << 16)); })

// Scalar binary16 → float32 for the per-group scales (finite values), inlined into the kernels.
static inline __attribute__((always_inline)) float scale_f16(uint16_t h) {
    uint32_t m = (uint32_t)(h & 0x7fff) << 13, sign = (uint32_t)(h & 0x8000) << 16;
    float f;
    memcpy(&f, &m, 4);
    f *= 0x1p112f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits |= sign;
    memcpy(&f, &bits, 4);
    return f;
}

float jk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
    else {
        uint32_t m = (uint32_t)(h & 0x7fff) << 13;
        float f;
        memcpy(&f, &m, 4);
        f *= 0x1p112f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    }
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

uint16_t jk_f32_to_f16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    int exp = (int)((bits >> 23) & 0xff) - 127 + 15;
    uint32_t mant = bits & 0x7fffff;
    if (((bits >> 23) & 0xff) == 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
    if (exp >= 31) return sign | 0x7c00;
    if (exp <= 0) {
        if (exp < -10) return sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp), half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half & 1))) half++;
        return sign | (uint16_t)half;
    }
    uint32_t out = (uint32_t)exp << 10 | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (out & 1))) out++;
    return sign | (uint16_t)out;
}

// How far ahead the kernels ask for weights: the hardware prefetchers alone leave the dequantizing
// kernels at a third of the bandwidth (measured), waiting on loads.
#define PREFETCH_BYTES 8192
#define PREFETCH_ROWS 4
// Where the 16-bit kernel's weights of the next four rows are asked into: the second-level cache (a whole
// block ahead; asked into the first, bf16 1920×7680 streamed 21 against 32 GB/s at batch 3, 30 against 32 at 1).
#define ROW_LOCALITY 2
// How much of the next product the caller asks for as it finishes its share (16 KB: 3–7% a step; 64 KB no
// better); a pool thread asks for more from its wait loop (prefetch_run), or this much where idle_prefetch is 0.
#define NEXT_PREFETCH_BYTES 16384
// 16-bit matrices of at least this many bytes stream from memory whatever the model (a matrix of the 1B
// shapes is 7 MB, the last-level cache 32 MB); below it a matrix may stay in the caches between steps.
#define STREAMED_BYTES ((size_t)4 << 20)


#define V(name) name##_generic
#define ATTR
#define PACE_ONE_ROW 0
#define CVT_F16(h) cvt_f16_bits(h)
#include "matvec_body.h"
#undef V
#undef ATTR
#undef CVT_F16
#undef PACE_ONE_ROW

#if defined(__x86_64__)
#define V(name) name##_avx2
#define ATTR __attribute__((target("avx2,fma,f16c")))
#define PACE_ONE_ROW 0
#define CVT_F16(h) ({ v16h h_ = (h); v16f o_; \
    __m256 lo_ = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)&h_)); \
    __m256 hi_ = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)&h_ + 1)); \
    memcpy(&o_, &lo_, 32); memcpy((char *)&o_ + 32, &hi_, 32); o_; })
#include "matvec_body.h"
#undef V
#undef ATTR
#undef CVT_F16
#undef PACE_ONE_ROW

#define V(name) name##_avx512
#define ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define PACE_ONE_ROW 1
#define CVT_F16(h) ((v16f)_mm512_cvtph_ps((__m256i)(h)))
#include "matvec_body.h"
#undef V
#undef ATTR
#undef CVT_F16
#undef PACE_ONE_ROW
#endif

typedef void (*matvec_fn)(const jk_matrix *, const float *, int, int, const float *, float *, int, int, int);
typedef void (*dequantize_fn)(const jk_matrix *, int, int, float *);
typedef double (*read_fn)(const float *, size_t);

static matvec_fn chosen_matvec;
static dequantize_fn chosen_dequantize;
static read_fn chosen_read;
static const char *chosen_isa;
static int chosen_avx512;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

// JK_ISA=generic|avx2 forces a lesser variant (to test and compare them on one machine). Once per process:
// the first kernels of a step run on several threads at once, and a thread must never see the choice half made.
static void choose_now(void) {
    const char *force = getenv("JK_ISA");
    chosen_matvec = matvec_generic; chosen_dequantize = dequantize_generic; chosen_read = read_sum_generic;
    chosen_isa = "generic";
#if defined(__x86_64__)
    __builtin_cpu_init();
    int want512 = !force || strcmp(force, "avx512") == 0, want2 = !force || strcmp(force, "avx2") == 0 || want512;
    if (want512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        chosen_matvec = matvec_avx512; chosen_dequantize = dequantize_avx512; chosen_read = read_sum_avx512;
        chosen_isa = "avx512"; chosen_avx512 = 1;
    } else if (want2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
               && __builtin_cpu_supports("f16c")) {
        chosen_matvec = matvec_avx2; chosen_dequantize = dequantize_avx2; chosen_read = read_sum_avx2;
        chosen_isa = "avx2";
    }
#endif
}

static void choose(void) { pthread_once(&chosen_once, choose_now); }

const char *jk_kernel_isa(void) { choose(); return chosen_isa; }
int jk_kernel_is_avx512(void) { choose(); return chosen_avx512; }

// The batch rows padded with zeros to whole groups when a quantized matrix's inputs are not (the
// kernels then run over whole groups), in the caller's thread-local buffer; x itself otherwise.
static const float *padded_inputs(const jk_matrix *m, const float *x, int *ldx, int batch) {
    static _Thread_local float *buffer;
    static _Thread_local size_t capacity;
    int len = jk_row_length(m->format, m->n_in);
    if (len == m->n_in) return x;
    size_t need = (size_t)batch * (size_t)len;
    if (need > capacity) {
        free(buffer);
        buffer = malloc(sizeof(float) * need);
        if (!buffer) abort();
        capacity = need;
    }
    for (int b = 0; b < batch; b++) {
        memcpy(buffer + (size_t)b * len, x + (size_t)b * *ldx, sizeof(float) * (size_t)m->n_in);
        memset(buffer + (size_t)b * len + m->n_in, 0, sizeof(float) * (size_t)(len - m->n_in));
    }
    *ldx = len;
    return buffer;
}

// A thread-local scratch buffer at least `need` bytes long, 64-byte aligned (grown, never shrunk).
void jk_grow_scratch(char **buffer, size_t *capacity, size_t need) {
    if (need <= *capacity) return;
    free(*buffer);
    *capacity = (need + 63) / 64 * 64;
    *buffer = aligned_alloc(64, *capacity);
    if (!*buffer) abort();
}

// The batch rows prepared for the integer (q8, q4) kernels, in the caller's thread-local buffer (grown, never
// shrunk); NULL when that kernel does not apply.
static jk_int8_input *int8_inputs(const jk_matrix *m, const float *x, int ldx, int batch) {
    static _Thread_local char *buffer;
    static _Thread_local size_t capacity;
    if ((m->format != JK_Q4 && m->format != JK_Q8) || !jk_vnni_available()) return NULL;
    int len = jk_row_length(m->format, m->n_in), groups = len / 32, pairs = (groups + 1) / 2;
    size_t per_row = (size_t)pairs * 64 + 2 * sizeof(float) * (size_t)(groups + 16) + sizeof(float) * 16 * (size_t)pairs;
    size_t need = (size_t)batch * (per_row + sizeof(jk_int8_input)) + 64;
    jk_grow_scratch(&buffer, &capacity, need);
    jk_int8_input *in = (jk_int8_input *)buffer;
    char *p = buffer + ((size_t)batch * sizeof(jk_int8_input) + 63) / 64 * 64;
    for (int b = 0; b < batch; b++) {
        in[b].q = (int8_t *)p;
        in[b].scale = (float *)(p + (size_t)pairs * 64);
        in[b].offset = in[b].scale + groups + 16;
        in[b].lanes = in[b].offset + groups + 16;
        p += per_row;
        if (m->format == JK_Q4) jk_q4_prepare(x + (size_t)b * ldx, len, &in[b]);
        else jk_q8_prepare(x + (size_t)b * ldx, len, &in[b]);
    }
    return in;
}

// The batch rows prepared for the tiled kernels, in the caller's thread-local buffer; NULL when they do not apply.
static jk_tiled_input *tiled_inputs(const jk_matrix *m, const float *x, int ldx, int batch) {
    static _Thread_local char *buffer;
    static _Thread_local size_t capacity;
    if (!m->tiled || jk_is_half(m->format) || !jk_vnni_available()) return NULL;
    int len = jk_row_length(m->format, m->n_in), groups = len / 32;
    size_t per_row = ((size_t)len + 63) / 64 * 64 + (sizeof(float) + sizeof(int32_t)) * (size_t)(groups + 16);
    per_row = (per_row + 63) / 64 * 64;
    size_t need = (size_t)batch * (per_row + sizeof(jk_tiled_input)) + 64;
    jk_grow_scratch(&buffer, &capacity, need);
    jk_tiled_input *in = (jk_tiled_input *)buffer;
    char *p = buffer + ((size_t)batch * sizeof(jk_tiled_input) + 63) / 64 * 64;
    for (int b = 0; b < batch; b++) {
        in[b].q = (int8_t *)p;
        in[b].scale = (float *)(p + ((size_t)len + 63) / 64 * 64);
        in[b].zero = (int32_t *)(in[b].scale + groups + 16);
        p += per_row;
        jk_tiled_prepare(x + (size_t)b * ldx, len, m->format, &in[b]);
    }
    return in;
}

void jk_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out) {
    choose();
    if (m->tiled) jk_tiled_dequantize_rows(m, j0, j1, out);
    else chosen_dequantize(m, j0, j1, out);
}

// Each thread owns a contiguous run of the outputs (in units of 16, so no two threads write one cache line
// of y) and claims it from its front, a quarter of what is left at a time, so that its weights are one
// forward stream the prefetchers keep running from one claim to the next; a thread whose run is empty
// takes the back half of what is left of another's, so that one thread the memory system or the
// hypervisor slows does not leave the other waiting. A run packs its front (low 32 bits) and back (high) into one word.
// Fixed shares of four fifths, the rest claimed in fortieths, started every claimed chunk with its
// prefetchers cold: q4 products of 2048×512 and 2048×2048 streamed 65-70% and 72-78% of the probe, against
// 71-73% and 77-82% in owned runs (in turns, memory at 29-32 GB/s).
#define MAX_PARTS 64
typedef struct {
    _Alignas(64) atomic_ullong units;
} owned_run;

// What one product computes (its inputs prepared for its kernel).
typedef struct {
    const jk_matrix *m;
    const float *x, *bias;
    float *y;
    int ldx, ldy, batch;
    const jk_int8_input *int8;
    const jk_tiled_input *tiled;
    const jk_epilogue *epilogue;
} product;

// A product split over the pool. Only the runs in use are written: the whole array (4 KB) zeroed for every
// product would be a memset on every one of a step's hundreds of products.
typedef struct {
    product p;
    int runs_made;           // one a pool thread; a job run on one thread alone (nested in another) takes them all
    owned_run runs[MAX_PARTS];
} matvec_job;

static void products(const product *p, int j0, int j1) {
    if (p->m->tiled && jk_is_half(p->m->format)) jk_half_tiled_rows(p->m, p->x, p->ldx, p->batch, p->bias, p->y, p->ldy, j0, j1);
    else if (p->m->tiled) {
        if (!p->tiled) jk_tiled_rows_generic(p->m, p->x, p->ldx, p->batch, p->bias, p->y, p->ldy, j0, j1);
        else if (p->m->format == JK_Q4) jk_q4_tiled_rows(p->m, p->tiled, p->batch, p->bias, p->y, p->ldy, j0, j1);
        else jk_q8_tiled_rows(p->m, p->tiled, p->batch, p->bias, p->y, p->ldy, j0, j1);
    } else if (p->int8 && p->m->format == JK_Q4) jk_q4_vnni_rows(p->m, p->int8, p->batch, p->bias, p->y, p->ldy, j0, j1);
    else if (p->int8) jk_q8_vnni_rows(p->m, p->int8, p->batch, p->bias, p->y, p->ldy, j0, j1);
    else chosen_matvec(p->m, p->x, p->ldx, p->batch, p->bias, p->y, p->ldy, j0, j1);
    if (p->epilogue) jk_apply_epilogue(p->epilogue, p->y, p->ldy, p->batch, j0, j1);
}

static unsigned long long run_of(unsigned front, unsigned back) { return (unsigned long long)back << 32 | front; }

// The first of the run's units and the front moved past a quarter of what is left (at least one unit, their
// number in *count); -1 when the run is empty. Each claim is a locked compare-and-swap, which waits for the
// thread's loads in flight: claimed a unit at a time it was 70% of the claim loop's samples, 4% of a q4
// step's. A quarter keeps what a thief can still take large until the run's last units. In turns with
// unit claims (a harness of 1b_lyrics's layer products, 2026-12-08, AMD EPYC of family 26): q4 at batch 1
// 96% of the probe against 95.5% where memory read 40-50 GB/s, 84% against 77% over 60 (few blocks); q8
// 94.5% against 92%; f16 rows and q4 at batch 3 the same within a point.
static int claim_front(atomic_ullong *run, int *count) {
    unsigned long long v = atomic_load_explicit(run, memory_order_relaxed);
    for (;;) {
        unsigned front = (unsigned)v, back = (unsigned)(v >> 32);
        if (front >= back) return -1;
        unsigned take = (back - front) / 4 > 1 ? (back - front) / 4 : 1;
        if (atomic_compare_exchange_weak_explicit(run, &v, run_of(front + take, back), memory_order_relaxed, memory_order_relaxed)) {
            *count = (int)take;
            return (int)front;
        }
    }
}

// The back half (rounded up) of what is left of the run, taken: its first unit, and its length in *count.
static int claim_back_half(atomic_ullong *run, int *count) {
    unsigned long long v = atomic_load_explicit(run, memory_order_relaxed);
    for (;;) {
        unsigned front = (unsigned)v, back = (unsigned)(v >> 32);
        if (front >= back) return -1;
        unsigned take = (back - front + 1) / 2;
        if (atomic_compare_exchange_weak_explicit(run, &v, run_of(front, back - take), memory_order_relaxed, memory_order_relaxed)) {
            *count = (int)take;
            return (int)(back - take);
        }
    }
}

// The first bytes of the run of `m` this part will own, asked for ahead: a thread done with one product
// starts the next one's weights coming while it waits for the other thread and the serial work between
// products, instead of starting each product with a pipeline empty of loads. The caller asks for a few
// lines now (it goes on to that serial work: norms, the next inputs' preparation); a pool thread hands
// more to its wait loop, which asks for them a line at a time until the next job comes (jk_tuning's
// idle_prefetch), so the memory keeps streaming weights while the caller works alone.
static void prefetch_run(const jk_matrix *m, int part, int parts) {
    size_t unit = m->tiled ? jk_tiled_bytes(m->format, 16, m->n_in) : jk_packed_bytes(m->format, 16, m->n_in);
    int units = (m->n_out + 15) / 16, u0 = units * part / parts, u1 = units * (part + 1) / parts;
    const char *first = (const char *)m->data + unit * (size_t)u0;
    size_t bytes = unit * (size_t)(u1 - u0), idle = (size_t)jk_tuning()->idle_prefetch;
    if (part > 0 && idle > 0) {
        jk_prefetch_while_idle(first, bytes < idle ? bytes : idle);
        return;
    }
    if (bytes > NEXT_PREFETCH_BYTES) bytes = NEXT_PREFETCH_BYTES;
    for (size_t c = 0; c < bytes; c += 64) __builtin_prefetch(first + c, 0, 2);
}

static void run_units(const product *p, int u, int count) {
    int j1 = (u + count) * 16;
    products(p, u * 16, j1 > p->m->n_out ? p->m->n_out : j1);
}

static void matvec_part(void *ctx, int part, int parts) {
    matvec_job *job = ctx;
    int u, count, runs = job->runs_made;
    const jk_epilogue *e = job->p.epilogue;
    if (part > 0) jk_prefetch_while_idle(NULL, 0);   // this job is what was asked for: nothing left to ask
    while ((u = claim_front(&job->runs[part].units, &count)) >= 0) run_units(&job->p, u, count);
    for (int k = 1; k < runs; k++)
        while ((u = claim_back_half(&job->runs[(part + k) % runs].units, &count)) >= 0) run_units(&job->p, u, count);
    if (e && e->next && e->next->n_out * (size_t)e->next->n_in >= JK_SERIAL_WEIGHTS) prefetch_run(e->next, part, parts);
}

void jk_matvec_parallel(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                        float *y, int ldy) {
    jk_matvec_then(m, x, ldx, batch, bias, y, ldy, NULL);
}

void jk_matvec_then(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                    float *y, int ldy, const jk_epilogue *epilogue) {
    choose();
    x = padded_inputs(m, x, &ldx, batch);
    product p = { m, x, bias, y, ldx, ldy, batch, m->tiled ? NULL : int8_inputs(m, x, ldx, batch),
                  tiled_inputs(m, x, ldx, batch), epilogue };
    if ((size_t)m->n_out * (size_t)m->n_in < JK_SERIAL_WEIGHTS) {
        products(&p, 0, m->n_out);
        return;
    }
    int units = (m->n_out + 15) / 16, parts = jk_threads() < MAX_PARTS ? jk_threads() : MAX_PARTS;
    matvec_job job;
    job.p = p;
    job.runs_made = parts;
    for (int p = 0; p < parts; p++)
        atomic_init(&job.runs[p].units, run_of((unsigned)(units * p / parts), (unsigned)(units * (p + 1) / parts)));
    jk_parallel(matvec_part, &job);
}

typedef struct {
    const char *buffer;
    size_t bytes;
    double sums[64];
} read_job;

static void read_part(void *ctx, int part, int parts) {
    read_job *job = ctx;
    size_t chunk = job->bytes / (size_t)parts / 256 * 256;
    job->sums[part % 64] += chosen_read((const float *)(job->buffer + chunk * (size_t)part), chunk / 4);
}

double jk_read_bandwidth(const void *buffer, size_t bytes, int passes) {
    choose();
    read_job job;
    memset(&job, 0, sizeof job);
    job.buffer = buffer;
    job.bytes = bytes;
    double best = 0;
    for (int p = 0; p < passes; p++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        jk_parallel(read_part, &job);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
        double rate = (double)(bytes / (size_t)jk_threads() / 256 * 256 * (size_t)jk_threads()) / s;
        if (rate > best) best = rate;
    }
    // The sums keep the reads from being optimised away.
    return job.sums[0] == -1.0 ? 0 : best;
}
