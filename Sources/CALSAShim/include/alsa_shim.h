#ifndef JUKEBOX_ALSA_SHIM_H
#define JUKEBOX_ALSA_SHIM_H

#include <stddef.h>

// ALSA reports errors by printing to stderr through a variadic callback, which Swift cannot write.
// These install a handler that prints nothing (stderr is the curses screen) and keeps the last message.

/// Installs the silent handler; safe to call more than once.
void jukebox_alsa_silence_errors(void);

/// Copies the last message ALSA reported (empty when none) into `buffer`; returns its length.
size_t jukebox_alsa_last_error(char *buffer, size_t size);

/// Forgets the last message (so a later read tells about a later failure only).
void jukebox_alsa_clear_error(void);

#endif
