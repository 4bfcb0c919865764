// Internal to the kernels: the few settings whose best value was measured to differ between the CPUs this
// project runs on (its machine has been an AMD EPYC on some days and an Intel Xeon on others, both with
// AVX-512 VNNI and two cores). Decided in one place, once; `JK_TUNING=amd|amd-zen5|intel` forces one, so
// they can be compared on one machine.
#ifndef JK_TUNING_H
#define JK_TUNING_H
#include <stddef.h>

typedef struct {
    const char *name;
    // The fewest bytes a tile asks ahead of what it reads (jk_tile_ahead).
    int tile_ahead_min;
    // Whether a lone batch row of a streamed 16-bit matrix goes through the three-row body, its row given
    // three times, to space its loads out (matvec_body.h); otherwise through the one-row body with one sum
    // a row. Either way its sums are those the row gets in a batch of three.
    int pace_lone_rows;
    // Bytes of the next product a pool thread asks for while it waits between products (matvec.c's prefetch_run).
    int idle_prefetch;
    // Into which cache the tiles ask for their weights ahead (JK_TILE_PREFETCH).
    int tile_hint;
} jk_tuning_t;

enum { JK_HINT_T1 = 0, JK_HINT_T0 = 1, JK_HINT_NTA = 2 };

// A line of tiled weights asked for ahead, into the cache the CPU's settings name: the second-level cache
// (T1), the first (T0), or the first without displacing what the other levels hold (NTA).
#define JK_TILE_PREFETCH(p, hint) do { \
        if ((hint) == JK_HINT_NTA) _mm_prefetch((const char *)(p), _MM_HINT_NTA); \
        else if ((hint) == JK_HINT_T0) _mm_prefetch((const char *)(p), _MM_HINT_T0); \
        else _mm_prefetch((const char *)(p), _MM_HINT_T1); \
    } while (0)

const jk_tuning_t *jk_tuning(void);

// How far ahead a tile's weights are asked for (q8 and q4 in tiled.c, f16 and bf16 in tiled_half.c): 2 KB
// per batch row, and at least the CPU's own minimum (2 KB on the older AMD EPYC, 4 KB on the Intel Xeon and
// the family-26 EPYC). A batch of 3 or 4 wants 6-16 KB (at 4 KB it streamed 61% of the probe against 70%
// where memory was fast); a lone row's best distance differs between the CPUs.
#define JK_TILE_AHEAD_PER_ROW 2048
static inline size_t jk_tile_ahead(size_t ahead_min, int rows) {
    size_t per_rows = (size_t)JK_TILE_AHEAD_PER_ROW * (size_t)rows;
    return per_rows < ahead_min ? ahead_min : per_rows;
}
#endif
