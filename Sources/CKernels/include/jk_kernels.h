// Weight-streaming kernels for sampling: one matrix-vector kernel per weight format, run on a small
// persistent thread pool so that a token's few hundred products do not each pay a thread wake-up.
#ifndef JK_KERNELS_H
#define JK_KERNELS_H
#include <stdint.h>
#include <stddef.h>

/// Weight formats, in the order of WeightFormat's raw values on the Swift side.
enum { JK_F32 = 0, JK_F16 = 1, JK_BF16 = 2, JK_Q8 = 3, JK_Q4 = 4 };

/// Products with fewer weights than this run on the calling thread: the hand-off costs more than the work.
#define JK_SERIAL_WEIGHTS 32768
/// Values per scale in the quantized formats.
#define JK_GROUP 32
/// The most inputs a quantized matrix may have (the kernels keep a row's scales on the stack).
#define JK_MAX_INPUTS 65536

/// A weight matrix stored output-major: row j gives output j.
///   F32/F16/BF16  data: n_out × n_in elements
///   Q8            data: n_out × P int8;            scales: n_out × P/32 binary16, w = q·s
///   Q4            data: n_out × P/2 bytes;         scales as Q8, w = (q − 8)·s, where byte k of a
///                 group holds element k in its low nibble and element k+16 in its high nibble
/// where P is n_in rounded up to whole groups of 32 (jk_row_length), the padding holding zero weights.
/// With `tiled`, a Q8 or Q4 matrix is in the tiles of 16 outputs that jk_tile makes (tiled.c), an F16 or BF16
/// one in those of tiled_half.c.
typedef struct {
    int format;
    int n_out, n_in;
    const void *data;
    const uint16_t *scales;
    int tiled;
} jk_matrix;

/// y[b·ldy + j] = bias[j] + Σ_i W[j,i]·x[b·ldx + i] for b < batch and every output j, split over the pool's
/// threads. Bias may be NULL.
void jk_matvec_parallel(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                        float *y, int ldy);

/// What a product does to its outputs once they are computed, on the thread that computed them while they
/// are in its cache: y ← quick_gelu(y) (y·σ(1.702·y), the reference's MLP activation), then, with add_into,
/// add_into[b·ld_add + j] += y[b·ldy + j] (a residual connection). Saves a pass over the outputs on one thread.
/// With `next`, the product the caller runs after this one: each thread, done with its outputs, asks for the
/// first weights it will read of that one, so they arrive while the threads wait on each other.
typedef struct {
    int quick_gelu;
    float *add_into;
    int ld_add;
    const jk_matrix *next;
} jk_epilogue;

/// jk_matvec_parallel followed by the epilogue (NULL: none).
void jk_matvec_then(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias,
                    float *y, int ldy, const jk_epilogue *epilogue);
/// The epilogue on outputs [j0, j1) of `batch` rows of y.
void jk_apply_epilogue(const jk_epilogue *e, float *y, int ldy, int batch, int j0, int j1);
/// y·σ(1.702·y) in place, exp computed by a polynomial within 2 units in the last place of expf.
void jk_quick_gelu(float *y, int n);
/// The layer norm of one row of n: out = (x − mean)·(var + eps)^−½·gamma + beta (out may be x).
void jk_layer_norm(const float *x, int n, const float *gamma, const float *beta, float *out, float eps);

/// y[b·n_out + j] = bias[j] + Σ_i x[b·ldx + i]·w[i·n_out + j] for 1–4 batch rows through a float32 weight in the
/// reference's Conv1D layout (n_in × n_out), split by inputs over the pool (each thread streams its own block of
/// w's rows, every weight read once for the whole batch), then the epilogue (its `next` is not used). Only where
/// jk_rows_available() (AVX-512); callers use BLAS elsewhere and for more rows.
void jk_rows_product(const float *w, int n_in, int n_out, const float *x, int ldx, int batch, const float *bias,
                     float *y, const jk_epilogue *epilogue);
int jk_rows_available(void);
/// The kernels' thread-local scratch: *buffer grown to at least `need` bytes, 64-byte aligned, never shrunk.
void jk_grow_scratch(char **buffer, size_t *capacity, size_t need);

/// Rows [j0, j1) of W as float32, out[(j − j0)·n_in + i] (for products of many rows through sgemm).
void jk_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out);

/// Packs w (float32, n_in × n_out: the reference's Conv1D layout) into `format`, output-major.
/// data and scales must hold jk_packed_bytes / jk_scale_count entries. Runs on the pool.
void jk_pack(const float *w, int n_in, int n_out, int format, void *data, uint16_t *scales);
/// Random weights of standard deviation `std` already packed (benchmarks of shapes too large to pack).
void jk_random_packed(int format, int n_out, int n_in, float std, uint64_t seed, void *data, uint16_t *scales);
size_t jk_packed_bytes(int format, int n_out, int n_in);
/// Values stored per row: n_in, or for Q8 and Q4 n_in rounded up to a multiple of 32.
static inline int jk_row_length(int format, int n_in) {
    return (format == JK_Q8 || format == JK_Q4) ? (n_in + JK_GROUP - 1) / JK_GROUP * JK_GROUP : n_in;
}
size_t jk_scale_count(int format, int n_out, int n_in);

/// Whether this CPU computes tiled q8/q4 matrices (AVX-512 VNNI); only then are matrices worth tiling.
int jk_tiles_available(void);
/// Whether matrices of `format` are worth tiling here: q8 and q4 as above, f16 and bf16 where the kernels run
/// on AVX-512; never float32. JK_TILES=off turns tiles off.
int jk_tiles_available_for(int format);
/// Bytes and scales of a Q8, Q4, F16 or BF16 matrix in tiles of 16 outputs (n_out rounded up to 16; 16-bit
/// tiles have no scales).
size_t jk_tiled_bytes(int format, int n_out, int n_in);
size_t jk_tiled_scale_count(int format, int n_out, int n_in);
/// Rewrites a row-major matrix `m` into tiles (data, scales as sized above). Runs on the pool.
void jk_tile(const jk_matrix *m, void *data, uint16_t *scales);

/// Rows of a binary16 key/value cache: conversions, and one query's dot product and weighted sum.
void jk_to_half(const float *x, uint16_t *h, int n);
void jk_to_float(const uint16_t *h, float *x, int n);
float jk_dot_half(const float *a, const uint16_t *b, int n);
void jk_axpy_half(float alpha, const uint16_t *x, float *y, int n);

/// One piece of one query's attention over nk ≤ JK_PIECE_KEYS keys and values (rows `stride` elements apart):
/// m = the largest of scale·q·k, sum = Σ exp(scale·q·k − m), o[dh] = Σ exp(scale·q·k − m)·v.
#define JK_PIECE_KEYS 32
void jk_attend_piece_half(const float *q, const uint16_t *k, const uint16_t *v, int stride, int nk, int dh, float scale,
                          float *o, float *m, float *sum);
void jk_attend_piece_f32(const float *q, const float *k, const float *v, int stride, int nk, int dh, float scale,
                         float *o, float *m, float *sum);

/// binary16 conversions (round to nearest even).
uint16_t jk_f32_to_f16(float f);
float jk_f16_to_f32(uint16_t h);

/// The pool: `fn(ctx, part, parts)` runs once for each part on its own thread (part 0 on the caller).
typedef void (*jk_task)(void *ctx, int part, int parts);
/// A call from inside a running job runs `fn(ctx, 0, 1)` on the calling thread.
void jk_parallel(jk_task fn, void *ctx);
/// jk_parallel when the pool is free, returning 1; 0 without running anything when another caller's job holds
/// it or this thread is inside a job (the caller then splits the work its own way).
int jk_try_parallel(jk_task fn, void *ctx);
int jk_threads(void);
/// Called on a pool thread inside a job: `bytes` from `from` are asked into its caches, a line at a time,
/// while it waits for its next job (replacing what an earlier call left).
void jk_prefetch_while_idle(const void *from, size_t bytes);

/// Bytes per second of reading `bytes` bytes at `buffer`, on all of the pool's threads, best of `passes`.
double jk_read_bandwidth(const void *buffer, size_t bytes, int passes);

/// Which instruction set the kernels dispatched to ("avx512", "avx2", "generic").
const char *jk_kernel_isa(void);
/// 1 where they chose AVX-512 (the other kernels follow the same choice, so JK_ISA turns them down too).
int jk_kernel_is_avx512(void);
/// Which CPU's measured settings the kernels use ("amd", "amd-zen5" or "intel"; tuning.c).
const char *jk_tuning_name(void);

#endif
