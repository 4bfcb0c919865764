// A persistent thread pool for the sampling step's many short products. Workers spin briefly on a
// generation counter (a token's products come microseconds apart) and sleep on a condition variable
// when none arrives, so an idle process costs nothing.
#include "jk_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define MAX_THREADS 64
#define SPIN_NS 200000L

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t dispatch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int cores = 1;            // threads started (including the caller), each taking part in every job
static int sleepers = 0;
static atomic_uint generation;
static atomic_int pending;
static jk_task job_fn;
// Set on the pool's threads and on a caller while its job runs: a product or loop started from inside a
// job runs there, on that thread alone (the pool is busy with the job that asked).
static _Thread_local int in_job;
static void *job_ctx;
static int job_parts;
// Bytes a pool thread asks into its caches, a line at a time, while it waits for the next job.
static _Thread_local const char *idle_from;
static _Thread_local size_t idle_left;

void jk_prefetch_while_idle(const void *from, size_t bytes) {
    idle_from = from;
    idle_left = bytes;
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *worker(void *arg) {
    int part = (int)(intptr_t)arg;
    in_job = 1;
    unsigned seen = 0;  // the generation at start(): a thread that starts late still sees the first job
    for (;;) {
        long start = now_ns();
        int spins = 0;
        while (atomic_load_explicit(&generation, memory_order_acquire) == seen) {
            if (idle_left > 0) {
                __builtin_prefetch(idle_from, 0, 2);
                idle_from += 64;
                idle_left = idle_left > 64 ? idle_left - 64 : 0;
            } else cpu_relax();
            if (++spins % 1024 == 0 && now_ns() - start > SPIN_NS) {
                pthread_mutex_lock(&lock);
                sleepers++;
                while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &lock);
                sleepers--;
                pthread_mutex_unlock(&lock);
            }
        }
        seen = atomic_load(&generation);
        job_fn(job_ctx, part, job_parts);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_release);
    }
    return NULL;
}

static void start(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cores = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
    for (int p = 1; p < cores; p++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, (void *)(intptr_t)p) != 0) { cores = p; break; }
        pthread_attr_destroy(&attr);
    }
}

int jk_threads(void) {
    pthread_once(&once, start);
    return cores;
}

// Runs the job on every thread; the caller holds dispatch_lock.
static void run_job(jk_task fn, void *ctx) {
    int parts = cores;
    in_job = 1;
    if (parts <= 1) {
        fn(ctx, 0, 1);
        in_job = 0;
        return;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_parts = parts;
    atomic_store(&pending, cores - 1);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_mutex_lock(&lock);
    if (sleepers > 0) pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    fn(ctx, 0, parts);
    while (atomic_load_explicit(&pending, memory_order_acquire) > 0) cpu_relax();
    in_job = 0;
}

void jk_parallel(jk_task fn, void *ctx) {
    pthread_once(&once, start);
    if (in_job) { fn(ctx, 0, 1); return; }
    // One job at a time: callers on several threads (the studio's engine and its renders) take turns.
    pthread_mutex_lock(&dispatch_lock);
    run_job(fn, ctx);
    pthread_mutex_unlock(&dispatch_lock);
}

int jk_try_parallel(jk_task fn, void *ctx) {
    pthread_once(&once, start);
    if (in_job || pthread_mutex_trylock(&dispatch_lock) != 0) return 0;
    run_job(fn, ctx);
    pthread_mutex_unlock(&dispatch_lock);
    return 1;
}
