// The kernels' per-CPU settings (tuning.h), each with what decided it.
#include "jk_kernels.h"
#include "tuning.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// AMD EPYC (2026-12-06 and -07, memory at 30-60 GB/s): a lone row's q4 tiles streamed best 1.5-2 KB ahead
// (69% of the probe against 8 KB's 62% where memory was fast, 84% against 81% at 30-35 GB/s); the paced
// three-row body gave 16-bit rows 85-90% of the probe where the one-row body gave 62-70% (memory at 50-60
// GB/s) and was 1.03-1.07 times faster at 33-36.
static const jk_tuning_t amd = { "amd", 2048, 1 };
// Intel Xeon (2026-12-07, memory at 27-33 GB/s): tiles 2 KB ahead streamed 75-81% and 3-6 KB 85-90%;
// the paced body 72-77% and the one-row body with one sum a row 81-87% (f16 7680x1920 and 2048x2048, in
// turns). Other CPUs get these too: the two differ only in how far ahead and how spaced the loads go.
static const jk_tuning_t intel = { "intel", 4096, 0 };

static const jk_tuning_t *chosen;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const char *force = getenv("JK_TUNING");
    if (force) {
        chosen = strcmp(force, "amd") == 0 ? &amd : &intel;
        return;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    chosen = __builtin_cpu_is("amd") ? &amd : &intel;
#else
    chosen = &intel;
#endif
}

const jk_tuning_t *jk_tuning(void) {
    pthread_once(&once, choose);
    return chosen;
}

const char *jk_tuning_name(void) { return jk_tuning()->name; }
