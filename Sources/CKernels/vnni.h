// Internal to the kernels: the q8 and q4 products through integer dot products (vnni.c).
#ifndef JK_VNNI_H
#define JK_VNNI_H
#include "jk_kernels.h"

/// One batch row prepared for the integer kernels: int8 values (pair-interleaved), a scale and an offset per group.
typedef struct {
    int8_t *q;       // 64 bytes per pair of groups
    float *scale;    // per group
    float *offset;   // per group: 8·scale·Σq
    float *lanes;    // 16 per pair of groups: each dot-product lane's input scale
} jk_int8_input;

int jk_vnni_available(void);
/// 32 inputs as int8 with the scale that maps their largest magnitude to 127 (the portable rounding the
/// vector paths reproduce); returns their sum.
int jk_quantize_group(const float *v, int8_t q[32], float *scale);
void jk_q4_prepare(const float *x, int n_in, jk_int8_input *in);
void jk_q4_vnni_rows(const jk_matrix *m, const jk_int8_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1);
/// The same for q8 weights (inputs prepared by jk_q8_prepare: plain order, offset by 128).
void jk_q8_prepare(const float *x, int n_in, jk_int8_input *in);
void jk_q8_vnni_rows(const jk_matrix *m, const jk_int8_input *in, int batch, const float *bias, float *y, int ldy,
                     int j0, int j1);

/// One batch row prepared for the tiled kernels (tiled.c): int8 values in plain order, per group its scale
/// and the weights' zero point times the sum of its values.
typedef struct {
    int8_t *q;       // P values, 64-byte aligned
    float *scale;    // per group
    int32_t *zero;   // per group: z·Σq
} jk_tiled_input;

void jk_tiled_prepare(const float *x, int n_in, int format, jk_tiled_input *in);
void jk_q8_tiled_rows(const jk_matrix *m, const jk_tiled_input *in, int batch, const float *bias, float *y, int ldy,
                      int j0, int j1);
void jk_q4_tiled_rows(const jk_matrix *m, const jk_tiled_input *in, int batch, const float *bias, float *y, int ldy,
                      int j0, int j1);
void jk_tiled_rows_generic(const jk_matrix *m, const float *x, int ldx, int batch, const float *bias, float *y, int ldy,
                           int j0, int j1);
void jk_tiled_dequantize_rows(const jk_matrix *m, int j0, int j1, float *out);
#endif
