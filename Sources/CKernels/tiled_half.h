// Internal to the kernels: f16 and bf16 matrices in tiles of 16 outputs (tiled_half.c). The public entry
// points (jk_tile, jk_tiled_bytes, jk_tiled_dequantize_rows, the products) reach these by the format.
#ifndef JK_TILED_HALF_H
#define JK_TILED_HALF_H
#include "jk_kernels.h"

int jk_is_half(int format);
size_t jk_half_tiled_bytes(int n_out, int n_in);
void jk_half_tile(const jk_matrix *m, uint16_t *data);
void jk_half_tiled_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out);
/// Outputs [j0, j1) of `batch` rows: y[b·ldy + j] = bias[j] + Σ_i W[j,i]·x[b·ldx + i].
void jk_half_tiled_rows(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias, float *y, int ldy,
                        int j0, int j1);

// A tile's 16 outputs of one batch row stored (either tile layout): a whole tile unmasked, since a masked
// store does not forward to later loads and the epilogue reads the outputs straight back (there its loads
// waited on the stores: 1-2% of a step); the last tile of a matrix whose outputs are not a multiple of 16, masked.
#define STORE_OUTPUTS(p, count, keep, v) do { \
        if ((count) == 16) _mm512_storeu_ps((p), (v)); \
        else _mm512_mask_storeu_ps((p), (keep), (v)); \
    } while (0)
#endif
