// The kernels' per-CPU settings (tuning.h), each with what decided it.
#include "jk_kernels.h"
#include "tuning.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

// What a pool thread asks for while it waits between products. Measured on the family-26 EPYC only
// (2026-12-08, `bench prior --batch 1,3 --tokens 96`, with and without it in turns, memory at 46-54 GB/s):
// upsampler q4 91-93% of the roofline against 88-91% at batch 1, 81-83% against 76-77% at batch 3; q8 96%
// against 91% and 85% against 81%; 1b_lyrics q4 90 against 85, 78 against 74; f16 within a point; where memory
// read 68-73 GB/s, 1-3 points. 768 KB as 256 KB; 64 KB less. The other CPUs get the same: it only fills
// time a thread would spend waiting, with lines it reads next.
#define IDLE_PREFETCH (256 << 10)

// AMD EPYC (2026-12-06 and -07, memory at 30-60 GB/s): a lone row's q4 tiles streamed best 1.5-2 KB ahead
// (69% of the probe against 8 KB's 62% where memory was fast, 84% against 81% at 30-35 GB/s); the paced
// three-row body gave 16-bit rows 85-90% of the probe where the one-row body gave 62-70% (memory at 50-60
// GB/s) and was 1.03-1.07 times faster at 33-36.
static const jk_tuning_t amd = { "amd", 2048, 1, IDLE_PREFETCH, JK_HINT_T1 };
// Intel Xeon (2026-12-07, memory at 27-33 GB/s): tiles 2 KB ahead streamed 75-81% and 3-6 KB 85-90%;
// the paced body 72-77% and the one-row body with one sum a row 81-87% (f16 7680x1920 and 2048x2048, in
// turns). Other CPUs get these too: the two differ only in how far ahead and how spaced the loads go.
static const jk_tuning_t intel = { "intel", 4096, 0, IDLE_PREFETCH, JK_HINT_T1 };
// Where the tiles ask for their weights ahead: the second-level cache (T1) everywhere but on the family-26 EPYC,
// where asking without displacing the other levels (NTA) streamed a 256 MB q4 product at 91% of the probe
// against T1's 75% where memory read 68-85 GB/s (batch 1; batch 3 89 against 79; q8 96/90 against 84/74) and
// 98/95 against 91/93 where it read 40-48 (in turns in one process, 2026-12-08); T0 close to NTA. In the whole
// step (bench prior, in turns) batch 1 gained 3-10 points on the upsampler (q4, q8, f16) and batch 3 0-3;
// 1b_lyrics's q4 about the same where memory read 45-49 GB/s. On the older EPYC, asking into the first
// cache (T0) made a batch of 3 stream 9% slower than a batch of 1 (up to 27% where memory was fast).
// AMD EPYC of family 26 (Zen 5; 2026-12-08, memory at 40-80 GB/s), in turns with the probe over 1 GB of the
// upsampler's layer shapes: q4 tiles 4 KB ahead streamed 81-84% of the probe against 2 KB's 76-78% where
// memory read over 60 GB/s (17 blocks each), 96-99% against 95-96% where it read 40-47; 6 KB as 4 KB; q8
// within 1-2 points either way. The paced 16-bit rows 74-75% against the one-row body's 68-69% (fast
// memory), 92% against 88-90% (slow), as on the EPYC before.
static const jk_tuning_t amd_zen5 = { "amd-zen5", 4096, 1, IDLE_PREFETCH, JK_HINT_NTA };

static jk_tuning_t chosen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

// A setting given in the environment (JK_TILE_AHEAD=bytes, JK_PACE_LONE_ROWS=0|1, JK_IDLE_PREFETCH=bytes,
// JK_TILE_HINT=t1|t0|nta) replaces the CPU's, so
// that one value can be measured against another on a CPU these were not measured on.
static void override(const char *name, int *setting) {
    const char *given = getenv(name);
    if (given && *given) *setting = atoi(given);
}

// The CPU's family as cpuid reports it (base plus extended family); 0 where unknown.
static unsigned cpu_family(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xf;
    return family == 0xf ? family + ((a >> 20) & 0xff) : family;
#else
    return 0;
#endif
}

static void choose(void) {
    const jk_tuning_t *known[] = { &amd, &amd_zen5, &intel };
    const char *force = getenv("JK_TUNING");
    chosen = intel;
    if (force) {
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strcmp(force, known[k]->name) == 0) chosen = *known[k];
    } else {
#if defined(__x86_64__)
        __builtin_cpu_init();
        if (__builtin_cpu_is("amd")) chosen = cpu_family() >= 26 ? amd_zen5 : amd;
#endif
    }
    override("JK_TILE_AHEAD", &chosen.tile_ahead_min);
    override("JK_PACE_LONE_ROWS", &chosen.pace_lone_rows);
    override("JK_IDLE_PREFETCH", &chosen.idle_prefetch);
    const char *hint = getenv("JK_TILE_HINT");
    if (hint && strcmp(hint, "t1") == 0) chosen.tile_hint = JK_HINT_T1;
    if (hint && strcmp(hint, "t0") == 0) chosen.tile_hint = JK_HINT_T0;
    if (hint && strcmp(hint, "nta") == 0) chosen.tile_hint = JK_HINT_NTA;
}

const jk_tuning_t *jk_tuning(void) {
    pthread_once(&once, choose);
    return &chosen;
}

const char *jk_tuning_name(void) { return jk_tuning()->name; }
