// Internal to the kernels: the few settings whose best value was measured to differ between the CPUs this
// project runs on (its machine has been an AMD EPYC on some days and an Intel Xeon on others, both with
// AVX-512 VNNI and two cores). Decided in one place, once; `JK_TUNING=amd|amd-zen5|intel` forces one, so
// they can be compared on one machine.
#ifndef JK_TUNING_H
#define JK_TUNING_H

typedef struct {
    const char *name;
    // The fewest bytes a q8 or q4 tile asks ahead of what it reads (tiled.c; 2 KB a batch row beyond).
    int tile_ahead_min;
    // Whether a lone batch row of a streamed 16-bit matrix goes through the three-row body, its row given
    // three times, to space its loads out (matvec_body.h); otherwise through the one-row body with one sum
    // a row. Either way its sums are those the row gets in a batch of three.
    int pace_lone_rows;
} jk_tuning_t;

const jk_tuning_t *jk_tuning(void);
#endif
