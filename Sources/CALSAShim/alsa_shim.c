#include "alsa_shim.h"

#include <alsa/asoundlib.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_message[512];

// Called by ALSA instead of printing: "file:line: (function) message", kept for the status line.
static void silent_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    char text[400];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    pthread_mutex_lock(&last_lock);
    if (err != 0) {
        snprintf(last_message, sizeof last_message, "%s: %s", text, snd_strerror(err));
    } else {
        snprintf(last_message, sizeof last_message, "%s", text);
    }
    (void)file; (void)line; (void)function;
    pthread_mutex_unlock(&last_lock);
}

void jukebox_alsa_silence_errors(void) {
    snd_lib_error_set_handler(silent_handler);
}

size_t jukebox_alsa_last_error(char *buffer, size_t size) {
    if (size == 0) return 0;
    pthread_mutex_lock(&last_lock);
    snprintf(buffer, size, "%s", last_message);
    pthread_mutex_unlock(&last_lock);
    return strlen(buffer);
}

void jukebox_alsa_clear_error(void) {
    pthread_mutex_lock(&last_lock);
    last_message[0] = 0;
    pthread_mutex_unlock(&last_lock);
}
