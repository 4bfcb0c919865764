#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

// Function-like macros do not reach Swift; these small wrappers do.
static inline int studio_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int studio_a_normal(void) { return (int)A_NORMAL; }
static inline int studio_a_bold(void) { return (int)A_BOLD; }
static inline int studio_a_dim(void) { return (int)A_DIM; }
static inline int studio_a_reverse(void) { return (int)A_REVERSE; }
static inline int studio_a_underline(void) { return (int)A_UNDERLINE; }
static inline int studio_key_f(int n) { return KEY_F(n); }
